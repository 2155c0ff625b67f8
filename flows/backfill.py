"""Entry point of the `backfill` flow for prefect.yaml and `python flows/backfill.py`.

The flow lives in the package (csc_warehouse.flows.backfill), so an installed `cscw` runs it anywhere;
this file only names it where Prefect's deployments look for it.
"""

from __future__ import annotations

from csc_warehouse.flows.backfill import backfill, main, month_ends

__all__ = ["backfill", "main", "month_ends"]

if __name__ == "__main__":
    main()
