"""Backfill: each month's KPIs as they would have been reported at that month's end.

For every month end M from `start` to `end` (inclusive) the flow runs the dbt models up to
fct_kpi_monthly with `--vars '{as_of: M}'` (only the versions recorded by the end of day M count: the
"as reported" view of the input contract, reporting cut-off = month end, 0 working days) and keeps
that run's rows for period_end = M in `marts.fct_kpi_backfill` of the warehouse:

    la_code, kpi_id, period_end, numerator, denominator, value, unit, period_type, as_of_date, backfilled_at

A month re-run replaces its own rows (delete + insert of that period_end and as_of_date in one
transaction), so backfilling twice gives the same table. The dbt runs happen in a scratch copy of the
warehouse (`.backfill/` beside it, removed afterwards), so the warehouse's own marts keep the latest
view throughout and a failed backfill leaves them as they were. The next publish copies
fct_kpi_backfill to the serving file with the other marts.

`dbt run`, not `dbt build`: the unit tests pin the latest view (as_of unset) and would fail under an
as_of. Run it with `cscw backfill --warehouse FILE --from 2017-01 --to 2017-12`, or
`python flows/backfill.py --from 2017-01 --to 2017-12`.
"""

from __future__ import annotations

import argparse
import calendar
import os
import shutil
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

# First: importing the package turns telemetry off and sets PREFECT_HOME before prefect loads.
from csc_warehouse import settings

# isort: split
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

BACKFILL_TABLE = "fct_kpi_backfill"
BACKFILL_SCHEMA = "marts"
SELECT = "+fct_kpi_monthly"
KPI_COLUMNS = ("la_code", "kpi_id", "period_end", "numerator", "denominator", "value", "unit", "period_type")


def parse_month(text: str) -> date:
    """'2017-03' or '2017-03-15' -> the month's first day."""
    text = str(text).strip()
    try:
        day = date.fromisoformat(text if len(text) > 7 else f"{text}-01")
    except ValueError as exc:
        raise ValueError(f"expected a month as YYYY-MM (or a date YYYY-MM-DD), got {text!r}") from exc
    return day.replace(day=1)


def month_ends(start: str, end: str) -> list[date]:
    """Every month end from start's month to end's month, inclusive."""
    first, last = parse_month(start), parse_month(end)
    if last < first:
        raise ValueError(f"the range ends ({end}) before it starts ({start})")
    out = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        out.append(date(year, month, calendar.monthrange(year, month)[1]))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def dbt_run_as_of(scratch: Path, as_of: date) -> float:
    """`dbt run --select +fct_kpi_monthly --vars {as_of: ...}` on the scratch copy; seconds taken."""
    from dbt.cli.main import dbtRunner

    from csc_warehouse.build import BuildFailed, close_dbt_connections, dbt_args, temporary_environment

    project_dir = settings.PROJECT_ROOT.resolve()
    args = dbt_args("run", project_dir=project_dir, select=SELECT, vars={"as_of": as_of.isoformat()})
    env = {
        "CSCW_WAREHOUSE": str(scratch),
        "DBT_PROFILES_DIR": str(project_dir),
        "CSCW_TEMP_DIR": os.environ.get("CSCW_TEMP_DIR") or str(scratch.parent / "duckdb_tmp"),
    }
    started = time.perf_counter()
    with temporary_environment(env):
        try:
            outcome = dbtRunner().invoke(args)
        finally:
            close_dbt_connections()
    if not outcome.success:
        failures = [
            f"{r.node.unique_id}: {' '.join(str(r.message or r.status).split())[:400]}"
            for r in (getattr(outcome.result, "results", None) or [])
            if str(getattr(r.status, "value", r.status)).lower() in {"error", "fail", "runtime error"}
        ] or [f"dbt: {outcome.exception or 'failed (see logs/dbt.log)'}"]
        raise BuildFailed(failures)
    return time.perf_counter() - started


def scratch_path(warehouse: Path) -> Path:
    # Same file name as the warehouse: dbt's views name their parents by the file's stem.
    return warehouse.parent / ".backfill" / warehouse.name


@task(name="copy warehouse", retries=0, cache_policy=NO_CACHE)
def make_scratch(warehouse: str) -> str:
    """A scratch copy of the warehouse (and its WAL, if a writer left one) to run the as_of models in."""
    source = Path(warehouse).resolve()
    if not source.is_file():
        raise FileNotFoundError(f"warehouse not found: {source}")
    scratch = scratch_path(source)
    shutil.rmtree(scratch.parent, ignore_errors=True)
    scratch.parent.mkdir(parents=True)
    shutil.copyfile(source, scratch)
    wal = source.with_name(source.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, scratch.with_name(scratch.name + ".wal"))
    return str(scratch)


@task(name="dbt run as_of", retries=0, cache_policy=NO_CACHE)
def run_month(scratch: str, month_end: date) -> float:
    seconds = dbt_run_as_of(Path(scratch), month_end)
    get_run_logger().info("dbt run as_of %s in %.1f s", month_end, seconds)
    return seconds


@task(name="store month", retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def store_month(scratch: str, warehouse: str, month_end: date) -> int:
    """Replace marts.fct_kpi_backfill's rows of `month_end` with the scratch run's; returns the rows."""
    import duckdb

    columns = ", ".join(KPI_COLUMNS)
    table = f"{BACKFILL_SCHEMA}.{BACKFILL_TABLE}"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"attach '{Path(scratch).resolve()}' as scratch (read_only)")
        try:
            con.execute("begin transaction")
            con.execute(f"create schema if not exists {BACKFILL_SCHEMA}")
            con.execute(
                f"""create table if not exists {table} (
                        la_code varchar, kpi_id varchar, period_end date, numerator double,
                        denominator double, value double, unit varchar, period_type varchar,
                        as_of_date date, backfilled_at timestamp)"""
            )
            con.execute(
                f"delete from {table} where period_end = ? and as_of_date = ?", [month_end, month_end]
            )
            con.execute(
                f"""insert into {table}
                    select {columns}, ?::date, ?::timestamp
                    from scratch.{BACKFILL_SCHEMA}.fct_kpi_monthly where period_end = ?""",
                [month_end, datetime.now().replace(microsecond=0), month_end],
            )
            rows = con.execute(
                f"select count(*) from {table} where period_end = ? and as_of_date = ?",
                [month_end, month_end],
            ).fetchall()[0][0]
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        finally:
            con.execute("detach scratch")
    logger = get_run_logger()
    if rows:
        logger.info("%s: %d KPI rows as reported at month end", month_end, rows)
    else:
        logger.warning("%s: no KPI rows (the data known by then do not reach this month's end)", month_end)
    return int(rows)


@flow(name="backfill")
def backfill(warehouse: str, start: str, end: str) -> dict[str, Any]:
    """Rebuild fct_kpi_monthly as known at each month end from `start` to `end` (YYYY-MM) into
    marts.fct_kpi_backfill; returns the rows stored per month."""
    months = month_ends(start, end)
    scratch = make_scratch(warehouse)
    stored: dict[str, int] = {}
    try:
        for month_end in months:
            run_month(scratch, month_end)
            stored[month_end.isoformat()] = store_month(scratch, warehouse, month_end)
    finally:
        shutil.rmtree(Path(scratch).parent, ignore_errors=True)
    return {
        "warehouse": str(Path(warehouse).resolve()),
        "table": f"{BACKFILL_SCHEMA}.{BACKFILL_TABLE}",
        "months": stored,
        "rows": sum(stored.values()),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Backfill marts.fct_kpi_backfill for a range of months.")
    parser.add_argument("--warehouse", default=str(settings.DEFAULT_WAREHOUSE))
    parser.add_argument("--from", dest="start", required=True, help="first month, YYYY-MM")
    parser.add_argument("--to", dest="end", required=True, help="last month, YYYY-MM")
    args = parser.parse_args(argv)
    print(backfill(args.warehouse, args.start, args.end))


if __name__ == "__main__":
    main()
