"""Entry point of the `monthly-refresh` flow for prefect.yaml and `python flows/monthly_refresh.py`.

The flow lives in the package (csc_warehouse.flows.monthly_refresh), so an installed `cscw` runs it
anywhere; this file only names it where Prefect's deployments look for it.
"""

from __future__ import annotations

from csc_warehouse.flows.monthly_refresh import CRON, TIMEZONE, main, monthly_refresh

__all__ = ["CRON", "TIMEZONE", "main", "monthly_refresh"]

if __name__ == "__main__":
    main()
