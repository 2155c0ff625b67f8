"""Monthly refresh: load the month's canonical files -> dbt build -> publish the serving file.

`cscw refresh` runs this flow; so does `python flows/monthly_refresh.py --input DIR`. Without a Prefect
server the run starts a temporary local one (~30 s). For a schedule, start a server
(`prefect server start`, then `export PREFECT_API_URL=http://127.0.0.1:4200/api`) and serve the flow:
`python flows/monthly_refresh.py --serve --cron "0 6 2 * *" --input data/incoming`.

Each task calls the same function as the CLI command of the same name (csc_warehouse.load / build /
publish). A failed step stops the run: the serving file is replaced only after a successful build.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

# First: importing the package turns telemetry off and sets PREFECT_HOME before prefect loads.
from csc_warehouse import settings

# isort: split
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE


@task(name="load", retries=0, cache_policy=NO_CACHE)
def load_files(input_dir: str, warehouse: str) -> dict[str, Any]:
    """Append the files to raw.*, quarantining bad rows; a file refused whole fails the run."""
    from csc_warehouse.load import load

    logger = get_run_logger()
    report = load(Path(input_dir), Path(warehouse))
    tables = []
    for item in report.tables:
        tables.append(
            {
                "table": item.table,
                "file": str(item.file),
                "rows_in": item.rows_in,
                "rows_loaded": item.rows_loaded,
                "rows_unchanged": item.rows_unchanged,
                "rows_quarantined": item.rows_quarantined,
            }
        )
        logger.info(
            "%s: %s rows in, %s loaded, %s unchanged, %s quarantined",
            item.table,
            f"{item.rows_in:,}",
            f"{item.rows_loaded:,}",
            f"{item.rows_unchanged:,}",
            f"{item.rows_quarantined:,}",
        )
    warnings = [str(w) for w in (report.warnings or [])]
    for warning in warnings:
        logger.warning(warning)
    return {
        "load_id": str(report.load_id),
        "rows_in": report.rows_in,
        "rows_loaded": report.rows_loaded,
        "rows_unchanged": report.rows_unchanged,
        "rows_quarantined": report.rows_quarantined,
        "tables": tables,
        "warnings": warnings,
    }


# Never cached: the same arguments must rebuild from whatever raw.* now holds.
@task(name="dbt build", retries=0, cache_policy=NO_CACHE)
def build_warehouse(warehouse: str) -> dict[str, Any]:
    """dbt build (seeds, models, tests); any failing node fails the run."""
    from csc_warehouse.build import build

    result = build(Path(warehouse))
    get_run_logger().info(
        "dbt build: %d models, %d tests passed (%d warned) in %.1f s",
        result.models_passed,
        result.tests_passed,
        result.tests_warned,
        result.seconds,
    )
    return result.as_dict()


@task(name="publish", retries=0, cache_policy=NO_CACHE)
def publish_serving(warehouse: str, serving: str) -> dict[str, Any]:
    """Copy marts and reference into the serving file (DuckDB 1.5 format) and swap it in atomically."""
    from csc_warehouse.publish import publish

    result = publish(Path(warehouse), Path(serving))
    get_run_logger().info("published %d tables to %s", len(result.tables), result.serving)
    return result.as_dict()


@flow(name="monthly-refresh")
def monthly_refresh(input_dir: str, warehouse: str, serving: str | None = None) -> dict[str, Any]:
    """Load `input_dir` into `warehouse`, build it with dbt, publish to `serving`; returns a summary."""
    serving = serving or str(settings.serving_next_to(Path(warehouse)))
    # Called in turn: a step that raises stops the run before the next one starts.
    loaded = load_files(input_dir, warehouse)
    built = build_warehouse(warehouse)
    published = publish_serving(warehouse, serving)
    return {
        "input_dir": str(input_dir),
        "warehouse": str(Path(warehouse).resolve()),
        "serving": published["serving"],
        "load": loaded,
        "build": built,
        "publish": published,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run or serve the monthly refresh flow.")
    parser.add_argument("--input", default=str(settings.DEFAULT_INPUT_DIR), help="folder of canonical files")
    parser.add_argument("--warehouse", default=str(settings.DEFAULT_WAREHOUSE))
    parser.add_argument("--serving", default=None, help="default: serving.duckdb beside the warehouse")
    parser.add_argument("--serve", action="store_true", help="serve on a schedule (needs a Prefect server)")
    parser.add_argument("--cron", default="0 6 2 * *", help="for --serve (default: 06:00 on the 2nd)")
    args = parser.parse_args(argv)
    parameters = {"input_dir": args.input, "warehouse": args.warehouse, "serving": args.serving}
    if args.serve:
        monthly_refresh.serve(name="monthly", cron=args.cron, parameters=parameters)
    else:
        print(monthly_refresh(**parameters))


if __name__ == "__main__":
    main()
