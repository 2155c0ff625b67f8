"""Figures as first reported: publish each month's KPIs as they stood at its reporting cut-off.

A month M's figures as first reported are those computed from the event versions recorded by the end of
its cut-off day (its last day plus `reporting_cutoff_working_days` working days: `marts.dim_month`;
case-events.md "Snapshots and revisions"). Every due month is computed in ONE incremental dbt run, in a
scratch copy of the warehouse (`.as_reported/` beside it, removed afterwards, so the warehouse's own
tables keep the latest view): every KPI is a sum over children, and only the children that versions
recorded after M's cut-off can change ("revised" children) figure differently then. Those children go
into the scratch copy's raw tables twice, as two stand-in authorities per month: `<la>@<month end>` with
their versions as known at the cut-off, `<la>#<month end>` with all their versions. The run rebuilds only
them, and `marts.fct_kpi_as_reported` takes the latest figure, less the second stand-in's, plus the
first's (macros/as_reported.sql). A child is revised for M when an event of theirs has a version recorded
after the cut-off and any version dated on or before M's end, or is one of the few types a figure of M
reads at any date (see `_REVISED_EVENTS`). Each month's rows are appended to the log `raw.kpi_published`
in one transaction, as one *publication*:

    publication_id, published_at, publication_reason, cutoff_date, cutoff_working_days,
    la_code, kpi_id, period_end, numerator, denominator, value, unit, period_type

The log is append-only. A month already published for an authority is never published again, unless
`replace=True` (`cscw backfill --replace`): then a new publication is appended, supersedes the old one
in `marts.fct_kpi_published`, and the result says which publication it replaced and how many figures
differ. After publishing, the models downstream of the log (fct_kpi_published, rpt_kpi_revisions,
rpt_scorecard, ...) are rebuilt in the warehouse.

Which months:
- `due(..., recent_months=K)` (the monthly refresh): of each authority's reporting months whose cut-off
  the data have reached (cut-off <= the latest `recorded_at` date of its event versions), the K most
  recent that are not published yet. A fresh warehouse gets its last K months; a refresh a month later
  gets one; a refresh that missed months catches up within K.
- `due(..., start=, end=)` (`cscw backfill`): every such month in the range.
"""

from __future__ import annotations

import calendar
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

from csc_warehouse import settings

LOG_TABLE = "raw.kpi_published"
SCRATCH_DIR = ".as_reported"
# The models between the events and the figures as first reported (the calendar and the seeds are
# already in the scratch copy; stg_case__children is a view). int_children_changed reads the versions,
# not stg_case__events: it tells the incremental models which children to rebuild (the stand-ins).
SELECT = "stg_case__event_versions+,+fct_kpi_as_reported"
DOWNSTREAM = "source:publications.kpi_published+"
KPI_COLUMNS = ("la_code", "kpi_id", "period_end", "numerator", "denominator", "value", "unit", "period_type")
REASONS = ("refresh", "backfill", "replace")


# Two quarters: the latest and the one before, whose revised figures a quarterly report marks.
DEFAULT_RECENT_MONTHS = 6


def recent_months_default() -> int:
    """How many recent months the monthly refresh publishes at most: $CSCW_PUBLISH_MONTHS, else 6."""
    return int(os.environ.get("CSCW_PUBLISH_MONTHS", str(DEFAULT_RECENT_MONTHS)))


class PublishMonthsFailed(RuntimeError):
    """The warehouse cannot be published from (not built, or no events)."""


@dataclass(frozen=True)
class DueMonth:
    period_end: date
    cutoff_date: date
    la_codes: tuple[str, ...]
    replacing: tuple[str, ...] = ()  # authorities whose month is already published (replace only)


@dataclass
class PublishedMonth:
    period_end: date
    cutoff_date: date
    publication_id: str
    rows: int
    la_codes: tuple[str, ...]
    seconds: float
    replaced: list[dict[str, Any]] = field(default_factory=list)

    def describe(self) -> str:
        text = (
            f"{self.period_end:%Y-%m} (cut-off {self.cutoff_date}): {self.rows:,} KPI rows for "
            f"{len(self.la_codes)} authorit{'y' if len(self.la_codes) == 1 else 'ies'} "
            f"in {self.seconds:.1f} s"
        )
        for old in self.replaced:
            text += (
                f"; replaced {old['la_code']}'s publication {old['publication_id']} of "
                f"{old['published_at']} ({old['reason']}, cut-off {old['cutoff_date']}): "
                f"{old['changed']} of {old['rows']} figures differ"
            )
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "period_end": self.period_end.isoformat(),
            "cutoff_date": self.cutoff_date.isoformat(),
            "publication_id": self.publication_id,
            "rows": self.rows,
            "la_codes": list(self.la_codes),
            "seconds": round(self.seconds, 2),
            "replaced": list(self.replaced),
        }


@dataclass
class PublishResult:
    warehouse: Path
    months: list[PublishedMonth] = field(default_factory=list)
    already_published: list[str] = field(default_factory=list)  # "YYYY-MM" in range, left as they were
    not_reached: list[str] = field(default_factory=list)  # "YYYY-MM" in range whose cut-off the data miss
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(month.rows for month in self.months)

    def as_dict(self) -> dict[str, Any]:
        return {
            "warehouse": str(self.warehouse),
            "table": LOG_TABLE,
            "months": {m.period_end.isoformat(): m.rows for m in self.months},
            "published": [m.as_dict() for m in self.months],
            "rows": self.rows,
            "already_published": list(self.already_published),
            "not_reached": list(self.not_reached),
            "seconds": round(self.seconds, 2),
        }


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


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    found = con.execute(
        "select count(*) from duckdb_tables() where database_name = current_database() "
        "and schema_name = ? and table_name = ?",
        [schema, table],
    ).fetchall()[0][0]
    return bool(found)


_CANDIDATES = """
with
months as (select distinct la_code, period_end from marts.fct_kpi_monthly),
horizon as (
    select la_code, max(cast(recorded_at as date)) as last_recorded_date from raw.events group by 1
),
published as (
    select la_code, period_end, count(distinct publication_id) as publications
    from raw.kpi_published group by 1, 2
)
select
    months.la_code,
    months.period_end,
    cal.reporting_cutoff_date,
    cal.reporting_cutoff_date <= horizon.last_recorded_date as cutoff_reached,
    coalesce(published.publications, 0) > 0 as is_published
from months
inner join marts.dim_month as cal on months.period_end = cal.month_end_date
inner join horizon on months.la_code = horizon.la_code
left join published on months.la_code = published.la_code and months.period_end = published.period_end
order by months.la_code, months.period_end
"""


def _candidates(warehouse: Path) -> list[tuple[str, date, date, bool, bool]]:
    if not warehouse.is_file():
        raise FileNotFoundError(f"warehouse not found: {warehouse}")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        missing = [
            f"{schema}.{table}"
            for schema, table in (
                ("marts", "fct_kpi_monthly"),
                ("marts", "dim_month"),
                ("raw", "events"),
                ("raw", "kpi_published"),
            )
            if not _has_table(con, schema, table)
        ]
        if missing:
            raise PublishMonthsFailed(
                f"{warehouse} has no {', '.join(missing)}: load the events and build the warehouse first "
                "(cscw refresh, or cscw load and cscw build)"
            )
        return [tuple(row) for row in con.execute(_CANDIDATES).fetchall()]  # type: ignore[misc]


def due(
    warehouse: Path,
    *,
    recent_months: int | None = None,
    start: str | None = None,
    end: str | None = None,
    replace: bool = False,
    result: PublishResult | None = None,
) -> list[DueMonth]:
    """The months to publish, oldest first (see the module docstring). With start/end, `result` (if
    given) collects the months of the range left alone: already published, or cut-off not reached."""
    warehouse = Path(warehouse).resolve()
    rows = _candidates(warehouse)
    ranged = bool(start or end)
    wanted: Callable[[str, date], bool]
    if ranged:
        ends = month_ends(start or "1990-01", end or "2100-12")
        first, last = ends[0], ends[-1]

        def wanted(la_code: str, day: date) -> bool:
            return first <= day <= last

    else:
        limit = recent_months_default() if recent_months is None else recent_months
        reached: dict[str, list[date]] = {}
        for la_code, period_end, _, is_reached, _ in rows:
            if is_reached:
                reached.setdefault(la_code, []).append(period_end)
        recent = {(la, d) for la, days in reached.items() for d in sorted(days)[-limit:] if limit > 0}

        def wanted(la_code: str, day: date) -> bool:
            return (la_code, day) in recent

    months: dict[date, dict[str, Any]] = {}
    for la_code, period_end, cutoff, reached, published in rows:
        if not wanted(la_code, period_end):
            continue
        label = f"{period_end:%Y-%m}"
        if not reached:
            if result is not None and ranged and label not in result.not_reached:
                result.not_reached.append(label)
            continue
        if published and not replace:
            if result is not None and ranged and label not in result.already_published:
                result.already_published.append(label)
            continue
        month = months.setdefault(period_end, {"cutoff": cutoff, "la_codes": [], "replacing": []})
        month["la_codes"].append(la_code)
        if published:
            month["replacing"].append(la_code)
    if result is not None:
        publishing = {f"{d:%Y-%m}" for d in months}
        result.already_published = [m for m in result.already_published if m not in publishing]
    return [
        DueMonth(day, info["cutoff"], tuple(info["la_codes"]), tuple(info["replacing"]))
        for day, info in sorted(months.items())
    ]


def scratch_path(warehouse: Path) -> Path:
    # Same file name as the warehouse: dbt's views name their parents by the file's stem.
    return warehouse.parent / SCRATCH_DIR / warehouse.name


@contextmanager
def _scratch_copy(warehouse: Path) -> Iterator[Path]:
    """A scratch copy of the warehouse (and its WAL, if a writer left one), removed afterwards."""
    scratch = scratch_path(warehouse)
    shutil.rmtree(scratch.parent, ignore_errors=True)
    scratch.parent.mkdir(parents=True)
    try:
        shutil.copyfile(warehouse, scratch)
        wal = warehouse.with_name(warehouse.name + ".wal")
        if wal.exists():
            shutil.copyfile(wal, scratch.with_name(scratch.name + ".wal"))
        yield scratch
    finally:
        shutil.rmtree(scratch.parent, ignore_errors=True)


class _Dbt:
    """dbt invocations of this project that share one parsed manifest (parsing is ~3 s each time)."""

    def __init__(self, project_dir: Path):
        self.project_dir = project_dir
        self.manifest: Any = None

    def _env(self, database: Path) -> dict[str, str]:
        return {
            "CSCW_WAREHOUSE": str(database),
            "DBT_PROFILES_DIR": str(self.project_dir),
            "CSCW_TEMP_DIR": os.environ.get("CSCW_TEMP_DIR") or str(database.parent / "duckdb_tmp"),
        }

    def invoke(
        self,
        database: Path,
        command: str,
        *,
        select: str,
        vars: dict | None = None,
        full_refresh: bool = False,
    ) -> Any:
        from dbt.cli.main import dbtRunner

        from csc_warehouse.build import (
            BuildFailed,
            close_dbt_connections,
            dbt_args,
            parsed_manifest,
            temporary_environment,
        )

        with temporary_environment(self._env(database)):
            try:
                if self.manifest is None:
                    # build.py's cache: parsed once per process, and dbt's partial-parse state kept per
                    # warehouse (the scratch copy has the warehouse's file name, so the same catalog).
                    self.manifest = parsed_manifest(self.project_dir, self._env(database))
                args = dbt_args(
                    command, project_dir=self.project_dir, select=select, vars=vars, full_refresh=full_refresh
                )
                outcome = dbtRunner(manifest=self.manifest).invoke(args)
            finally:
                close_dbt_connections()
        if not outcome.success:
            failures = [
                f"{r.node.unique_id}: {' '.join(str(r.message or r.status).split())[:400]}"
                for r in (getattr(outcome.result, "results", None) or [])
                if str(getattr(r.status, "value", r.status)).lower() in {"error", "fail", "runtime error"}
            ] or [f"dbt {command}: {outcome.exception or 'failed (see logs/dbt.log)'}"]
            raise BuildFailed(failures)
        return outcome


def _publication_id(period_end: date, published_at: datetime) -> str:
    return f"{period_end.isoformat()}/{published_at:%Y%m%dT%H%M%S%f}"


def _store(
    warehouse: Path,
    scratch: Path,
    month: DueMonth,
    *,
    reason: str,
    cutoff_working_days: int,
) -> tuple[str, int, list[dict[str, Any]]]:
    """Append the scratch run's rows of `month` for its authorities to the log, in one transaction."""
    published_at = datetime.now()
    publication_id = _publication_id(month.period_end, published_at)
    columns = ", ".join(KPI_COLUMNS)
    la_list = ", ".join("'" + code.replace("'", "''") + "'" for code in month.la_codes)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"attach '{scratch}' as scratch (read_only)")
        try:
            con.execute("begin transaction")
            replaced = []
            for la_code in month.replacing:
                old = con.execute(
                    f"""
                    with current as (
                        select * from {LOG_TABLE}
                        where la_code = ? and period_end = ?
                        qualify dense_rank() over (order by published_at desc, publication_id desc) = 1
                    )
                    select
                        any_value(current.publication_id), any_value(current.published_at),
                        any_value(current.publication_reason), any_value(current.cutoff_date), count(*),
                        count(*) filter (where
                            new.kpi_id is null
                            or current.numerator is distinct from new.numerator
                            or current.denominator is distinct from new.denominator
                            or current.value is distinct from new.value)
                    from current
                    left join scratch.marts.fct_kpi_as_reported as new
                        on current.la_code = new.la_code and current.kpi_id = new.kpi_id
                        and current.period_end = new.period_end
                    """,
                    [la_code, month.period_end],
                ).fetchall()[0]
                replaced.append(
                    {
                        "la_code": la_code,
                        "publication_id": old[0],
                        "published_at": str(old[1]),
                        "reason": old[2],
                        "cutoff_date": str(old[3]),
                        "rows": int(old[4]),
                        "changed": int(old[5]),
                    }
                )
            # Never a second publication of a month already published, unless it replaces it.
            guard = (
                ""
                if month.replacing
                else f"""and not exists (
                        select 1 from {LOG_TABLE} as log
                        where log.la_code = new.la_code and log.period_end = new.period_end)"""
            )
            con.execute(
                f"""
                insert into {LOG_TABLE} (
                    publication_id, published_at, publication_reason, cutoff_date, cutoff_working_days,
                    {columns})
                select ?, ?, ?, ?, ?, {", ".join("new." + c for c in KPI_COLUMNS)}
                from scratch.marts.fct_kpi_as_reported as new
                where new.period_end = ? and new.la_code in ({la_list}) {guard}
                """,
                [
                    publication_id,
                    published_at,
                    reason,
                    month.cutoff_date,
                    cutoff_working_days,
                    month.period_end,
                ],
            )
            rows = con.execute(
                f"select count(*) from {LOG_TABLE} where publication_id = ?", [publication_id]
            ).fetchall()[0][0]
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        finally:
            con.execute("detach scratch")
    return publication_id, int(rows), replaced


def _cutoff_working_days(warehouse: Path) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        found = con.execute("select max(reporting_cutoff_working_days) from marts.dim_month").fetchall()
    return int(found[0][0] or 0)


# Events a figure of month M reads whatever their date (kpis.md), beside those dated on or before M's end:
# the end of a child's earlier CP plan (repeat plans within two years: only a child with two plans started
# by then), a legal status change of a period that started as a short break, and an assessment started
# for a referral received in M (referrals leading to an assessment).
_REVISED_EVENTS = """
create or replace temp table revised_children as
with
versions as (
    select v.la_code, v.event_id, v.child_id, v.event_type, cast(v.event_at as date) as event_date,
        v.recorded_at, v.episode_id, v.referral_id, v.code
    from raw.events as v
    where v.la_code in (select la_code from publication_scopes)
),
late as (
    select distinct scopes.la_code, scopes.period_end, versions.event_id
    from publication_scopes as scopes
    inner join versions
        on versions.la_code = scopes.la_code and versions.recorded_at >= scopes.known_before
),
cp_children as (
    select scopes.la_code, scopes.period_end, versions.child_id
    from publication_scopes as scopes
    inner join versions
        on versions.la_code = scopes.la_code and versions.event_type = 'cp_plan_started'
        and versions.event_date <= scopes.period_end
    group by 1, 2, 3
    having count(distinct versions.episode_id) >= 2
),
short_break_periods as (
    select distinct scopes.la_code, scopes.period_end, versions.episode_id
    from publication_scopes as scopes
    inner join versions
        on versions.la_code = scopes.la_code and versions.event_type = 'cla_period_started'
        and versions.event_date <= scopes.period_end
    inner join reference.legal_statuses as statuses
        on versions.code = statuses.legal_status_code and statuses.is_short_break
),
month_referrals as (
    select distinct scopes.la_code, scopes.period_end, versions.episode_id
    from publication_scopes as scopes
    inner join versions
        on versions.la_code = scopes.la_code and versions.event_type = 'referral_received'
        and date_trunc('month', versions.event_date) = date_trunc('month', scopes.period_end)
),
qualifying as (
    select distinct late.la_code, late.period_end, late.event_id
    from late
    inner join versions
        on versions.la_code = late.la_code and versions.event_id = late.event_id
    left join cp_children
        on versions.event_type = 'cp_plan_ended' and cp_children.la_code = late.la_code
        and cp_children.period_end = late.period_end and cp_children.child_id = versions.child_id
    left join short_break_periods
        on versions.event_type = 'cla_legal_status_changed' and short_break_periods.la_code = late.la_code
        and short_break_periods.period_end = late.period_end
        and short_break_periods.episode_id = versions.episode_id
    left join month_referrals
        on versions.event_type = 'assessment_started' and month_referrals.la_code = late.la_code
        and month_referrals.period_end = late.period_end
        and month_referrals.episode_id = versions.referral_id
    where versions.event_date <= late.period_end
        or cp_children.child_id is not null
        or short_break_periods.episode_id is not null
        or month_referrals.episode_id is not null
)
select distinct qualifying.la_code, qualifying.period_end, versions.child_id
from qualifying
inner join versions
    on versions.la_code = qualifying.la_code and versions.event_id = qualifying.event_id
"""

# A child's figures read all their events, and an event moved between children changes both: the
# revised children grow until every version of every event of theirs belongs to one of them.
_CLOSE_REVISED_CHILDREN = """
insert into revised_children
select distinct their_events.la_code, their_events.period_end, versions.child_id
from (
    select distinct revised.la_code, revised.period_end, events.event_id
    from revised_children as revised
    inner join raw.events as events
        on events.la_code = revised.la_code and events.child_id = revised.child_id
) as their_events
inner join raw.events as versions
    on versions.la_code = their_events.la_code and versions.event_id = their_events.event_id
where not exists (
    select 1 from revised_children as known
    where known.la_code = their_events.la_code and known.period_end = their_events.period_end
        and known.child_id = versions.child_id
)
"""


def _stand_in(la_code: str, period_end: date, marker: str) -> str:
    # The same names as macros/as_reported.sql gives them.
    return f"{la_code}{marker}{period_end.isoformat()}"


def _add_stand_ins(scratch: Path, months: list[DueMonth]) -> int:
    """Write the revised children of every month into the scratch copy's raw tables as stand-in
    authorities (one new load, so the incremental build rebuilds only them); returns how many."""
    scopes = [(la, m.period_end, m.cutoff_date) for m in months for la in m.la_codes]
    with duckdb.connect(str(scratch)) as con:
        con.execute(
            "create or replace temp table publication_scopes "
            "(la_code varchar, period_end date, known_before timestamp)"
        )
        con.executemany(
            "insert into publication_scopes values (?, ?, cast(? as timestamp) + interval 1 day)", scopes
        )
        con.execute(_REVISED_EVENTS)
        while True:
            added = con.execute(_CLOSE_REVISED_CHILDREN).fetchall()
            if not added or not added[0][0]:
                break
        load_id = int(con.execute("select coalesce(max(load_id), 0) + 1 from raw.loads").fetchall()[0][0])
        stand_ins = """
            select revised.la_code, revised.period_end, revised.child_id, stand_in.marker,
                revised.la_code || stand_in.marker || cast(revised.period_end as varchar) as stand_in_code,
                scopes.known_before
            from revised_children as revised
            inner join publication_scopes as scopes
                on revised.la_code = scopes.la_code and revised.period_end = scopes.period_end
            cross join (values ('@'), ('#')) as stand_in(marker)
        """
        event_columns = [r[0] for r in con.execute("describe raw.events").fetchall()]
        child_columns = [r[0] for r in con.execute("describe raw.children").fetchall()]

        def projected(columns: list[str], table: str) -> str:
            named = {"la_code": "stand_ins.stand_in_code", "load_id": str(load_id)}
            return ", ".join(named.get(c, f"{table}.{c}") for c in columns)

        con.execute("begin transaction")
        con.execute(
            f"""
            insert into raw.events
            select {projected(event_columns, "versions")}
            from ({stand_ins}) as stand_ins
            inner join (
                select distinct la_code, event_id, child_id from raw.events
            ) as theirs
                on theirs.la_code = stand_ins.la_code and theirs.child_id = stand_ins.child_id
            inner join raw.events as versions
                on versions.la_code = theirs.la_code and versions.event_id = theirs.event_id
            where stand_ins.marker = '#' or versions.recorded_at < stand_ins.known_before
            -- an event of two revised children once per stand-in
            qualify row_number() over (
                partition by
                    stand_ins.stand_in_code, versions.event_id, versions.recorded_at, versions.load_id
                order by theirs.child_id
            ) = 1
            """
        )
        events = con.execute(f"select count(*) from raw.events where load_id = {load_id}").fetchall()[0][0]
        con.execute(
            f"""
            insert into raw.children
            select {projected(child_columns, "children")}
            from ({stand_ins}) as stand_ins
            inner join raw.children as children
                on children.la_code = stand_ins.la_code and children.child_id = stand_ins.child_id
            """
        )
        # The load the incremental models see as new: only the stand-ins are in it.
        con.execute(
            "insert into raw.loads values (?, current_timestamp, 'as reported', 'events', 'stand-ins', null, "
            "?, ?, 0, 0, 'loaded')",
            [load_id, int(events), int(events)],
        )
        con.execute("commit")
        revised = int(con.execute("select count(*) from revised_children").fetchall()[0][0])
    return revised


def publish(
    warehouse: Path,
    months: list[DueMonth],
    *,
    reason: str = "refresh",
    project_dir: Path | None = None,
    on_month: Callable[[PublishedMonth], None] | None = None,
    result: PublishResult | None = None,
) -> PublishResult:
    """Publish `months` (from `due`) into the log in one build, then rebuild the models downstream of it."""
    if reason not in REASONS:
        raise ValueError(f"reason must be one of {', '.join(REASONS)}, not {reason!r}")
    started = time.perf_counter()
    warehouse = Path(warehouse).resolve()
    result = result or PublishResult(warehouse=warehouse)
    if not months:
        result.seconds = time.perf_counter() - started
        return result
    dbt = _Dbt(Path(project_dir or settings.PROJECT_ROOT).resolve())
    working_days = _cutoff_working_days(warehouse)
    with _scratch_copy(warehouse) as scratch:
        _add_stand_ins(scratch, months)
        scopes = [
            {"la_code": la, "period_end": m.period_end.isoformat()} for m in months for la in m.la_codes
        ]
        dbt.invoke(scratch, "run", select=SELECT, vars={"as_reported_scopes": scopes})
        built = time.perf_counter() - started
        for month in months:
            month_started = time.perf_counter()
            why = "replace" if month.replacing else reason
            publication_id, rows, replaced = _store(
                warehouse, scratch, month, reason=why, cutoff_working_days=working_days
            )
            done = PublishedMonth(
                period_end=month.period_end,
                cutoff_date=month.cutoff_date,
                publication_id=publication_id,
                rows=rows,
                la_codes=month.la_codes,
                # The one build's time shared out over the months, plus each month's own append.
                seconds=built / len(months) + time.perf_counter() - month_started,
                replaced=replaced,
            )
            result.months.append(done)
            if on_month:
                on_month(done)
    rebuild_downstream(warehouse, dbt=dbt)
    result.seconds = time.perf_counter() - started
    return result


def rebuild_downstream(warehouse: Path, *, dbt: _Dbt | None = None, project_dir: Path | None = None) -> None:
    """`dbt build` of everything that reads the publication log (with its tests) in the warehouse."""
    dbt = dbt or _Dbt(Path(project_dir or settings.PROJECT_ROOT).resolve())
    dbt.invoke(Path(warehouse).resolve(), "build", select=DOWNSTREAM)


def publish_due(
    warehouse: Path,
    *,
    recent_months: int | None = None,
    start: str | None = None,
    end: str | None = None,
    replace: bool = False,
    reason: str | None = None,
    project_dir: Path | None = None,
    on_month: Callable[[PublishedMonth], None] | None = None,
) -> PublishResult:
    """`due` then `publish`: the monthly refresh (recent months) or a backfill (start/end)."""
    warehouse = Path(warehouse).resolve()
    result = PublishResult(warehouse=warehouse)
    months = due(warehouse, recent_months=recent_months, start=start, end=end, replace=replace, result=result)
    reason = reason or ("backfill" if (start or end) else "refresh")
    return publish(
        warehouse, months, reason=reason, project_dir=project_dir, on_month=on_month, result=result
    )
