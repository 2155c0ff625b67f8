"""Monthly refresh: load -> validate events -> dbt build -> validate marts -> publish months -> serve
-> report.

`cscw refresh` runs this flow; so does `python flows/monthly_refresh.py --input DIR` (the thin entry point
prefect.yaml deploys). A running Prefect server is used when there is one (csc_warehouse.flows.server);
otherwise the run starts a temporary local one. The schedule (07:00 on the 3rd of each month,
Europe/London) is the deployment in prefect.yaml: see "## Operations" in README.md for how to serve it,
or `python flows/monthly_refresh.py --serve` for a quick served schedule on a running server.

Each task calls the same function as the CLI command of the same name (csc_warehouse.load / validate /
build / serve / report_files). "publish months" (csc_warehouse.as_reported) stores the figures as first
reported of every recent month whose reporting cut-off has passed and that is not published yet (at most
`publish_months`, default $CSCW_PUBLISH_MONTHS or 6; older months: `cscw backfill`), then rebuilds the
reports on them. "serve" writes the serving file BI tools read. A step that raises stops the run, so the
serving file is replaced only after a successful build and two passed gates. A gate (Great Expectations,
csc_warehouse.validate) fails on a failed "stop" check: the check is named in the run's log and in the
GateFailed exception; "warn" checks are logged and the run goes on.

Every output lands beside the warehouse: the serving file, reports/, and the gates' Data Docs in gx/
($CSCW_GX_ROOT overrides that).

Retries: none for load, dbt build and publish months (a load is one transaction, a month's publication
too, and a failed build is not transient: re-run by hand once the cause is fixed); two for the gates
(only when they could not run, e.g. the warehouse locked by another process, never for a failed check),
serve and report.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

# First: importing the package turns telemetry off and sets PREFECT_HOME before prefect loads.
from csc_warehouse import settings, timings

# isort: split
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from csc_warehouse.flows.console import quiet_worker_run

quiet_worker_run()  # a worker's terminal shows each failure's reason, not its traceback

CRON = "0 7 3 * *"  # 07:00 on the 3rd of every month (prefect.yaml holds the deployed schedule)
TIMEZONE = "Europe/London"
RETRIES = 2
RETRY_DELAY_SECONDS = 2


def retry_unless_gate_failed(task: Any, task_run: Any, state: Any) -> bool:
    """Retry a gate that could not run; never one whose checks failed (the data will not change)."""
    from csc_warehouse.validate import GateFailed

    try:
        state.result(raise_on_failure=True)
    except GateFailed:
        return False
    except BaseException:
        return True
    return True


@task(name="load", retries=0, cache_policy=NO_CACHE)
def load_files(input_dir: str, warehouse: str) -> dict[str, Any]:
    """Append the files to raw.*, quarantining bad rows; a file refused whole fails the run."""
    from csc_warehouse.load import load

    logger = get_run_logger()
    folder = Path(input_dir)
    if not folder.exists():
        # A fresh clone has no data/incoming/: make it, so the next run only needs the files.
        folder.mkdir(parents=True)
        logger.warning("created the empty input folder %s", folder.resolve())
    report = load(folder, Path(warehouse))
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


def _run_gate(gate: str, warehouse: str, scope: str = "auto") -> dict[str, Any]:
    """Validate one gate; log every failed check by name; raise GateFailed on a failed stop check."""
    from csc_warehouse import validate

    logger = get_run_logger()
    # Data Docs beside the warehouse, not in the project: each warehouse keeps its own.
    result = validate.validate_gate(
        Path(warehouse), gate, project_root=settings.gx_root_for(Path(warehouse)), scope=scope
    )
    for check in result.warnings:
        logger.warning("gate %s: warning %s", gate, check.describe())
    for check in result.stops:
        logger.error("gate %s: STOP %s", gate, check.describe())
    logger.info(
        "gate %s: %d checks on %s rows in %.1f s, %d stop(s), %d warning(s); Data Docs: %s",
        gate,
        len(result.checks),
        f"{sum(result.rows.values()):,}",
        result.seconds,
        len(result.stops),
        len(result.warnings),
        result.docs,
    )
    if result.stops:
        error = validate.GateFailed(result)
        logger.error("%s", error)
        raise error
    return result.as_dict()


@task(
    name="validate events",
    retries=RETRIES,
    retry_delay_seconds=RETRY_DELAY_SECONDS,
    retry_condition_fn=retry_unless_gate_failed,
    cache_policy=NO_CACHE,
)
def validate_events(warehouse: str, full_refresh: bool = False) -> dict[str, Any]:
    """The events gate (latest versions, episodes, periods of care): on a monthly refresh only the
    children its loads touched, on a full refresh every event."""
    return _run_gate("events", warehouse, scope="all" if full_refresh else "auto")


# Never cached: the same arguments must rebuild from whatever raw.* now holds.
@task(name="dbt build", retries=0, cache_policy=NO_CACHE)
def build_warehouse(warehouse: str, engine: str = "duckdb", full_refresh: bool = False) -> dict[str, Any]:
    """dbt build (seeds, models, tests); any failing node fails the run. Incremental on DuckDB unless
    `full_refresh`. On Spark (csc_warehouse.spark_engine, always a full build) raw.* goes to Spark as
    Parquet and the marts and reference tables come back into the warehouse."""
    if engine == "spark":
        from csc_warehouse.spark_engine import build_and_copy_back

        result = build_and_copy_back(Path(warehouse))
    else:
        from csc_warehouse.build import build

        # dbt's unit tests check the SQL on fixtures, not the data: `make test` runs them, not each refresh.
        result = build(Path(warehouse), full_refresh=full_refresh, unit_tests=False)
    get_run_logger().info(
        "dbt build on " + engine + ": %d models, %d tests passed (%d warned) in %.1f s",
        result.models_passed,
        result.tests_passed,
        result.tests_warned,
        result.seconds,
    )
    return result.as_dict()


@task(
    name="validate marts",
    retries=RETRIES,
    retry_delay_seconds=RETRY_DELAY_SECONDS,
    retry_condition_fn=retry_unless_gate_failed,
    cache_policy=NO_CACHE,
)
def validate_marts(warehouse: str) -> dict[str, Any]:
    """Great Expectations on marts.fct_kpi_monthly: ranges, signs, every KPI for every month."""
    return _run_gate("marts", warehouse)


@task(name="publish months", retries=0, cache_policy=NO_CACHE)
def publish_months(warehouse: str, recent_months: int | None = None) -> dict[str, Any]:
    """Store each recent month as first reported (fct_kpi_published) once its cut-off has passed."""
    from csc_warehouse import as_reported

    logger = get_run_logger()
    result = as_reported.publish_due(
        Path(warehouse),
        recent_months=recent_months,
        on_month=lambda month: logger.info("published %s", month.describe()),
    )
    if not result.months:
        logger.info("no month to publish: every recent month with its cut-off passed is published")
    return result.as_dict()


@task(name="serve", retries=RETRIES, retry_delay_seconds=RETRY_DELAY_SECONDS, cache_policy=NO_CACHE)
def serve_warehouse(warehouse: str, serving: str) -> dict[str, Any]:
    """Copy marts and reference into the serving file (DuckDB 1.5 format) and swap it in atomically."""
    from csc_warehouse.serve import serve

    result = serve(Path(warehouse), Path(serving))
    get_run_logger().info("served %d tables in %s", len(result.tables), result.serving)
    return result.as_dict()


@task(name="report", retries=RETRIES, retry_delay_seconds=RETRY_DELAY_SECONDS, cache_policy=NO_CACHE)
def write_report(serving: str, report_dir: str, notes: list[str]) -> dict[str, Any]:
    """The latest month's scorecard as CSV and Markdown, read from the file just published."""
    from csc_warehouse.report_files import write_scorecard_report

    files = write_scorecard_report(Path(serving), Path(report_dir), notes=notes)
    logger = get_run_logger()
    if files.rows:
        logger.info("report for %s: %s and %s", files.period_end, files.csv, files.markdown)
    else:
        logger.warning("no KPI rows in %s: no report written", serving)
    return files.as_dict()


@flow(name="monthly-refresh")
def monthly_refresh(
    input_dir: str,
    warehouse: str,
    serving: str | None = None,
    report_dir: str | None = None,
    publish_months_back: int | None = None,
    engine: str = "duckdb",
    full_refresh: bool = False,
) -> dict[str, Any]:
    """Load `input_dir` into `warehouse`, validate, build with dbt, validate, publish the months due as
    first reported (at most `publish_months_back` recent ones), serve them in `serving`, report.

    Defaults: `serving.duckdb` and `reports/` beside the warehouse. Returns a summary of every step.
    """
    from csc_warehouse.report_files import reports_next_to

    serving = serving or str(settings.serving_next_to(Path(warehouse)))
    report_dir = report_dir or str(reports_next_to(Path(warehouse)))
    timings.reset()
    # Called in turn: a step that raises stops the run before the next one starts. The gates and the
    # dbt build record their own phases.
    with timings.phase("load"):
        loaded = load_files(input_dir, warehouse)
    events_gate = validate_events(warehouse, full_refresh)
    built = build_warehouse(warehouse, engine, full_refresh)
    marts_gate = validate_marts(warehouse)
    if engine == "spark":
        # csc_warehouse.as_reported reruns models on DuckDB: publish months with a DuckDB refresh or backfill.
        months = {"months": [], "skipped": "publishing months as first reported runs on DuckDB only"}
    else:
        with timings.phase("publish months"):
            months = publish_months(warehouse, publish_months_back)
    with timings.phase("serving copy"):
        served = serve_warehouse(warehouse, serving)
    notes = list(events_gate.get("warnings", [])) + list(marts_gate.get("warnings", []))
    with timings.phase("reports"):
        report = write_report(served["serving"], report_dir, notes)
    timings.write(timings.timings_path(Path(warehouse)))
    return {
        "input_dir": str(input_dir),
        "warehouse": str(Path(warehouse).resolve()),
        "serving": served["serving"],
        "load": loaded,
        "validate_events": events_gate,
        "build": built,
        "validate_marts": marts_gate,
        "publish_months": months,
        "serve": served,
        "report": report,
        "timings": timings.summary(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run or serve the monthly refresh flow.")
    parser.add_argument("--input", default=str(settings.DEFAULT_INPUT_DIR), help="folder of canonical files")
    parser.add_argument("--warehouse", default=str(settings.DEFAULT_WAREHOUSE))
    parser.add_argument("--serving", default=None, help="default: serving.duckdb beside the warehouse")
    parser.add_argument("--reports", default=None, help="default: reports/ beside the warehouse")
    parser.add_argument(
        "--publish-months",
        type=int,
        default=None,
        help="publish at most this many recent months as first reported (default: $CSCW_PUBLISH_MONTHS or 6)",
    )
    parser.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb", help="where dbt runs")
    parser.add_argument(
        "--full-refresh", action="store_true", help="rebuild every incremental table (default: incremental)"
    )
    parser.add_argument("--serve", action="store_true", help="serve on a schedule (needs a Prefect server)")
    parser.add_argument("--cron", default=CRON, help=f"for --serve (default: {CRON}, {TIMEZONE})")
    args = parser.parse_args(argv)
    parameters = {
        "input_dir": args.input,
        "warehouse": args.warehouse,
        "serving": args.serving,
        "report_dir": args.reports,
        "publish_months_back": args.publish_months,
        "engine": args.engine,
        "full_refresh": args.full_refresh,
    }
    if args.serve:
        from prefect.schedules import Cron

        monthly_refresh.serve(
            name="monthly", schedule=Cron(args.cron, timezone=TIMEZONE), parameters=parameters
        )
    else:
        print(monthly_refresh(**parameters))


if __name__ == "__main__":
    main()
