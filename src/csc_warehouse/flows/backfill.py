"""Backfill: publish past months as they would have been first reported.

For every month end M from `start` to `end` (inclusive) whose reporting cut-off the data have reached,
the flow runs the dbt models up to fct_kpi_monthly as known at M's cut-off (`as_of`: only the versions
recorded by the end of that day count) and appends M's rows to the publication log `raw.kpi_published`;
`marts.fct_kpi_published` and the reports built on it (rpt_kpi_revisions, rpt_scorecard) are then
rebuilt, and the serving file is written again so BI tools see the same published months as the
warehouse. The work is csc_warehouse.as_reported's, the same as the monthly refresh's "publish months"
step, which publishes the recent months by itself: backfill is for older months.

A month already published for an authority is left as it was (published figures are never overwritten)
unless `replace` is true: then a new publication of the month is appended and supersedes the old one,
and the result names the publication it replaced and how many figures differ. The dbt runs happen in a
scratch copy of the warehouse (removed afterwards), so the warehouse's own marts keep the latest view.

`dbt run`, not `dbt build`: the unit tests pin the latest view (as_of unset) and would fail under an
as_of. Run it with `cscw backfill --warehouse FILE --from 2017-01 --to 2017-12 [--replace]`, or
`python flows/backfill.py --from 2017-01 --to 2017-12` (the thin entry point prefect.yaml deploys).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

# First: importing the package turns telemetry off and sets PREFECT_HOME before prefect loads.
from csc_warehouse import settings
from csc_warehouse.as_reported import month_ends, parse_month
from csc_warehouse.flows.monthly_refresh import serve_warehouse

# isort: split
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from csc_warehouse.flows.console import quiet_worker_run

quiet_worker_run()  # a worker's terminal shows each failure's reason, not its traceback

__all__ = ["backfill", "month_ends", "parse_month", "publish_range", "serve_warehouse"]


@task(name="publish months", retries=0, cache_policy=NO_CACHE)
def publish_range(warehouse: str, start: str, end: str, replace: bool) -> dict[str, Any]:
    """Publish the months of the range not yet published (all of them with `replace`)."""
    from csc_warehouse import as_reported

    logger = get_run_logger()
    result = as_reported.publish_due(
        Path(warehouse),
        start=start,
        end=end,
        replace=replace,
        on_month=lambda month: logger.info("published %s", month.describe()),
    )
    if result.already_published:
        logger.warning(
            "already published, left as they were (use replace to publish again): %s",
            ", ".join(result.already_published),
        )
    if result.not_reached:
        logger.warning(
            "not published, the data do not reach their reporting cut-off: %s", ", ".join(result.not_reached)
        )
    return result.as_dict()


@flow(name="backfill")
def backfill(
    warehouse: str, start: str, end: str, replace: bool = False, serving: str | None = None
) -> dict[str, Any]:
    """Publish the months from `start` to `end` (YYYY-MM) as first reported into marts.fct_kpi_published,
    then serve the warehouse again (`serving`, default serving.duckdb beside it) when a month was
    published; returns what was published, replaced and left alone, and what was served."""
    month_ends(start, end)  # a bad range fails before anything runs
    result = publish_range(warehouse, start, end, replace)
    serving = serving or str(settings.serving_next_to(Path(warehouse)))
    if result.get("published"):
        result["serve"] = serve_warehouse(warehouse, serving)
    else:
        result["serve"] = None  # nothing changed: the serving file is already what the warehouse holds
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Publish past months as first reported (fct_kpi_published).")
    parser.add_argument("--warehouse", default=str(settings.DEFAULT_WAREHOUSE))
    parser.add_argument("--from", dest="start", required=True, help="first month, YYYY-MM")
    parser.add_argument("--to", dest="end", required=True, help="last month, YYYY-MM")
    parser.add_argument("--replace", action="store_true", help="publish already-published months again")
    parser.add_argument("--serving", default=None, help="default: serving.duckdb beside the warehouse")
    args = parser.parse_args(argv)
    print(backfill(args.warehouse, args.start, args.end, args.replace, args.serving))


if __name__ == "__main__":
    main()
