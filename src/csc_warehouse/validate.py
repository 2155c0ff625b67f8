"""Great Expectations gates: on the loaded events (before dbt) and on the marts (before publish).

GX's SQL data source does not work on DuckDB (GX 1.24), so every suite validates a pandas frame read
from the warehouse opened read-only. Where a check over every event would be slow in pandas the frame
is prepared in DuckDB first: the latest version of each event (as the models see it), the start and
end date of each episode, the periods of care of each child with the end of the one before.

Each check has a name and a severity (`SEVERITY`, below): a failed **stop** check raises `GateFailed`
and the flow stops before dbt (events) or before publish (marts); a failed **warn** check is logged and
listed in the result, and the run goes on.

Two engines run the same checks (`validate_gate`, `engine`): **sql** counts each check in DuckDB
(csc_warehouse.gates_sql: one scan per suite, no GX import, no pandas), the refresh's default; **gx**
runs the GX suites and builds Data Docs, the default of `cscw validate`, and what the refresh falls back
to when a stop check fails, so the failure is in Data Docs. Both give the same counts (tested).

On a monthly refresh the events gate reads only the children that the new loads touch (`scope`,
`resolve_scope`); a first load, a full refresh and `cscw validate` read every event.

Suites are built in code and saved with `add_or_update` (only when they changed, so the JSON under
`gx/expectations/` stays as committed) in a GX file context at `gx/` in the project root (or
`$CSCW_GX_ROOT/gx`). Validation results and Data Docs (HTML) go to `gx/uncommitted/`, which git ignores.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from csc_warehouse import contract, settings

# --------------------------------------------------------------------------------------------------
# Severity of every check, as data. A name matches its own entry or the entry of its longest dotted
# prefix ("events.not_null.event_id" -> "events.not_null"); a check with no entry stops (fail safe).

STOP, WARN = "stop", "warn"

SEVERITY: dict[str, str] = {
    # raw.events, latest version of each event (tombstoned events left out, as the models do)
    "events.not_null": STOP,  # required columns of the contract
    "events.event_type_in_contract": WARN,  # adapters may add types; the models ignore them
    "events.code_in_closed_list": STOP,  # contract.CLOSED_CODES, one check per event type
    "events.event_at_not_in_future": STOP,
    "episodes.end_not_before_start": STOP,  # per la_code + episode type + episode_id, by date
    "cla_periods.no_overlap": WARN,  # a child's period of care starts before the previous one ended
    # marts.fct_kpi_monthly
    "kpi.not_empty": STOP,
    "kpi.pct_between_0_and_100": STOP,
    "kpi.counts_not_negative": STOP,  # value of count KPIs; numerators and denominators of all
    "kpi.every_kpi_every_month": STOP,  # every kpi_id of reference.dim_kpi for every la_code x month
}

# GX's own severity field, so Data Docs show the same thing.
_GX_SEVERITY = {STOP: "critical", WARN: "warning"}

GX_ROOT_ENV = "CSCW_GX_ROOT"
DATASOURCE = "cscw_frames"
BATCH_DEFINITION = "whole_frame"
RESULT_EXAMPLES = 5  # example rows named in a failure message


def severity_of(name: str) -> str:
    parts = name.split(".")
    while parts:
        found = SEVERITY.get(".".join(parts))
        if found:
            return found
        parts.pop()
    return STOP


def gx_project_root() -> Path:
    """The folder that holds `gx/`: $CSCW_GX_ROOT, else the project root."""
    return Path(os.environ.get(GX_ROOT_ENV) or settings.PROJECT_ROOT)


# --------------------------------------------------------------------------------------------------
# Checks and suites as data


@dataclass(frozen=True)
class Check:
    name: str  # also the key into SEVERITY
    expectation: str  # class name in great_expectations.expectations
    kwargs: dict[str, Any]
    description: str  # what a person reads in the failure message and in Data Docs
    where: tuple[str, str, Any] | None = None  # only rows where (column, "==" | "in", value or values)


@dataclass(frozen=True)
class Suite:
    name: str  # suite, data asset and validation definition name
    gate: str  # "events" (after load) or "marts" (after dbt build)
    sql: str  # the frame, read from the warehouse opened read-only
    index_columns: tuple[str, ...]  # identify an unexpected row in failure messages
    checks: tuple[Check, ...]
    category_columns: tuple[str, ...] = ()  # low-cardinality text: categorical is faster in pandas


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


REQUIRED_EVENT_COLUMNS = tuple(c.name for c in contract.EVENTS_COLUMNS if c.required)

LATEST_EVENTS_SQL = """
    select event_id, la_code, child_id, event_type, event_at, recorded_at, episode_id, code
    from raw.events
    where {where}
    qualify row_number() over (
        partition by la_code, event_id order by recorded_at desc, load_id desc) = 1
        and not is_deleted
"""

# The events gate validates the authorities in chunks of about this many event versions, so its pandas
# frames stay near a gigabyte however many authorities are loaded (England over ten years: ~150 M).
DEFAULT_CHUNK_ROWS = 4_000_000

_PAIRS = ", ".join(f"({_lit(end)}, {_lit(start)})" for end, start in contract.END_TO_START.items())

EPISODES_SQL = f"""
    with pairs (end_type, start_type) as (values {_PAIRS}),
    marks as (
        select e.la_code, replace(p.start_type, '_started', '') as episode_type, e.episode_id,
               min(case when e.event_type = p.start_type then cast(e.event_at as date) end) as started_on,
               min(case when e.event_type = p.end_type then cast(e.event_at as date) end) as ended_on
        from latest_events e
        join pairs p on e.event_type = p.start_type or e.event_type = p.end_type
        where e.episode_id is not null
        group by all
    )
    select * from marks where ended_on is not null
"""

CLA_PERIODS_SQL = """
    with periods as (
        select la_code, child_id, episode_id as period_id,
               min(case when event_type = 'cla_period_started' then cast(event_at as date) end) as started_on,
               min(case when event_type = 'cla_period_ended' then cast(event_at as date) end) as ended_on
        from latest_events
        where event_type in ('cla_period_started', 'cla_period_ended') and episode_id is not null
        group by all
    )
    select *,
        -- An open period (no end) before this one overlaps it: shown as 9999-12-31.
        lag(coalesce(ended_on, date '9999-12-31')) over (
            partition by la_code, child_id order by started_on, period_id) as previous_ended_on
    from periods
    where started_on is not null
"""

KPI_SQL = """
    select la_code, kpi_id, period_end, unit, numerator, denominator, value
    from marts.fct_kpi_monthly
"""

KPI_COVERAGE_SQL = """
    with months as (select distinct la_code, period_end from marts.fct_kpi_monthly),
    expected as (select m.la_code, m.period_end, k.kpi_id from months m cross join reference.dim_kpi k)
    select e.la_code, e.period_end, e.kpi_id, f.kpi_id as found_kpi_id
    from expected e
    left join marts.fct_kpi_monthly f
        on f.la_code = e.la_code and f.period_end = e.period_end and f.kpi_id = e.kpi_id
"""


def _event_checks() -> tuple[Check, ...]:
    checks = [
        Check(
            f"events.not_null.{column}",
            "ExpectColumnValuesToNotBeNull",
            {"column": column},
            f"required column {column} is never empty",
        )
        for column in REQUIRED_EVENT_COLUMNS
    ]
    checks.append(
        Check(
            "events.event_type_in_contract",
            "ExpectColumnValuesToBeInSet",
            {"column": "event_type", "value_set": list(contract.EVENT_TYPES)},
            "event_type is one of the contract's types (others load, but the models ignore them)",
        )
    )
    for event_type, codes in contract.CLOSED_CODES.items():
        checks.append(
            Check(
                f"events.code_in_closed_list.{event_type}",
                "ExpectColumnValuesToBeInSet",
                {"column": "code", "value_set": list(codes)},
                f"code of {event_type} is one of {', '.join(codes)}",
                where=("event_type", "==", event_type),
            )
        )
    checks.append(
        Check(
            "events.event_at_not_in_future",
            "ExpectColumnMaxToBeBetween",
            {"column": "event_at", "max_value": {"$PARAMETER": "now"}},
            "no event_at is later than the time of validation",
        )
    )
    return tuple(checks)


def _kpi_checks() -> tuple[Check, ...]:
    return (
        Check(
            "kpi.not_empty",
            "ExpectTableRowCountToBeBetween",
            {"min_value": 1},
            "marts.fct_kpi_monthly has rows",
        ),
        Check(
            "kpi.pct_between_0_and_100",
            "ExpectColumnValuesToBeBetween",
            {"column": "value", "min_value": 0, "max_value": 100},
            "every pct value is between 0 and 100",
            where=("unit", "==", "pct"),
        ),
        Check(
            "kpi.counts_not_negative.value",
            "ExpectColumnValuesToBeBetween",
            {"column": "value", "min_value": 0},
            "every count KPI's value is 0 or more",
            where=("unit", "==", "count"),
        ),
        Check(
            "kpi.counts_not_negative.numerator",
            "ExpectColumnValuesToBeBetween",
            {"column": "numerator", "min_value": 0},
            "every numerator of a count, pct or rate10k KPI is 0 or more",
            where=("unit", "in", ["count", "pct", "rate10k"]),
        ),
        Check(
            "kpi.counts_not_negative.denominator",
            "ExpectColumnValuesToBeBetween",
            {"column": "denominator", "min_value": 0},
            "every denominator is 0 or more",
        ),
    )


SUITES: tuple[Suite, ...] = (
    Suite(
        "raw_events",
        "events",
        "select event_id, la_code, child_id, event_type, event_at, recorded_at, code from latest_events",
        ("la_code", "event_id"),
        _event_checks(),
        category_columns=("la_code", "event_type", "code"),
    ),
    Suite(
        "raw_episodes",
        "events",
        EPISODES_SQL,
        ("la_code", "episode_type", "episode_id"),
        (
            Check(
                "episodes.end_not_before_start",
                "ExpectColumnPairValuesAToBeGreaterThanB",
                {
                    "column_A": "ended_on",
                    "column_B": "started_on",
                    "or_equal": True,
                    "ignore_row_if": "either_value_is_missing",
                },
                "no episode ends (first end event) before it starts (first start event)",
            ),
        ),
    ),
    Suite(
        "raw_cla_periods",
        "events",
        CLA_PERIODS_SQL,
        ("la_code", "child_id", "period_id"),
        (
            Check(
                "cla_periods.no_overlap",
                "ExpectColumnPairValuesAToBeGreaterThanB",
                {
                    "column_A": "started_on",
                    "column_B": "previous_ended_on",
                    "or_equal": True,
                    "ignore_row_if": "either_value_is_missing",
                },
                "a child's period of care starts on or after the end of the previous one",
            ),
        ),
    ),
    Suite(
        "marts_kpi_monthly",
        "marts",
        KPI_SQL,
        ("la_code", "kpi_id", "period_end"),
        _kpi_checks(),
        category_columns=("la_code", "kpi_id", "unit"),
    ),
    Suite(
        "marts_kpi_coverage",
        "marts",
        KPI_COVERAGE_SQL,
        ("la_code", "period_end", "kpi_id"),
        (
            Check(
                "kpi.every_kpi_every_month",
                "ExpectColumnValuesToNotBeNull",
                {"column": "found_kpi_id"},
                "every kpi_id of reference.dim_kpi has a row for every la_code and period_end",
            ),
        ),
    ),
)

GATES: tuple[str, ...] = ("events", "marts")


def suites_of(gate: str) -> tuple[Suite, ...]:
    if gate not in GATES:
        raise ValueError(f"unknown gate {gate!r}: one of {', '.join(GATES)}")
    return tuple(s for s in SUITES if s.gate == gate)


# --------------------------------------------------------------------------------------------------
# Results


@dataclass
class CheckResult:
    name: str
    severity: str  # stop | warn
    suite: str
    expectation: str  # GX expectation type, e.g. expect_column_values_to_be_in_set
    description: str
    success: bool
    element_count: int | None = None
    unexpected_count: int | None = None
    observed_value: Any = None
    examples: list[Any] = field(default_factory=list)
    error: str | None = None  # GX raised instead of evaluating

    def describe(self) -> str:
        """One line a person can act on: which check, what was expected, what was found."""
        text = f"{self.name} [{self.severity}] ({self.expectation}): expected {self.description}"
        if self.error:
            return f"{text}; the check itself failed: {self.error}"
        if self.unexpected_count is not None:
            of = f" of {self.element_count:,}" if self.element_count is not None else ""
            text += f"; {self.unexpected_count:,}{of} rows do not"
        elif self.observed_value is not None:
            text += f"; found {self.observed_value}"
        if self.examples:
            text += ", e.g. " + "; ".join(_example_text(e) for e in self.examples[:RESULT_EXAMPLES])
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "severity": self.severity,
            "suite": self.suite,
            "expectation": self.expectation,
            "success": self.success,
            "element_count": self.element_count,
            "unexpected_count": self.unexpected_count,
            "observed_value": None if self.observed_value is None else str(self.observed_value),
            "message": None if self.success else self.describe(),
        }


def _example_text(example: Any) -> str:
    if isinstance(example, dict):
        return ", ".join(f"{k}={_plain(v)}" for k, v in example.items())
    return _plain(example)


def _plain(value: Any) -> str:
    if hasattr(value, "isoformat"):
        text = value.isoformat()
        return text[:10] if text.endswith("T00:00:00") else text
    if isinstance(value, tuple | list):
        return "(" + ", ".join(_plain(v) for v in value) + ")"
    if hasattr(value, "item"):  # numpy scalars
        return str(value.item())
    return str(value)


@dataclass
class ValidationResult:
    gate: str  # events | marts
    warehouse: Path
    checks: list[CheckResult] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)  # suite -> rows in its frame
    seconds: float = 0.0
    docs: str | None = None  # Data Docs index (file:// URL), when built
    engine: str = "gx"  # sql (DuckDB counts) or gx (Great Expectations suites)
    scope: str = "every event"  # what the events gate read (resolve_scope)

    @property
    def failures(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.success]

    @property
    def stops(self) -> list[CheckResult]:
        return [c for c in self.failures if c.severity == STOP]

    @property
    def warnings(self) -> list[CheckResult]:
        return [c for c in self.failures if c.severity == WARN]

    @property
    def ok(self) -> bool:
        """No failed stop check (warnings allowed)."""
        return not self.stops

    def raise_for_stops(self) -> None:
        if self.stops:
            raise GateFailed(self)

    def as_dict(self) -> dict[str, Any]:
        return {
            "gate": self.gate,
            "warehouse": str(self.warehouse),
            "ok": self.ok,
            "checks": len(self.checks),
            "stops": [c.describe() for c in self.stops],
            "warnings": [c.describe() for c in self.warnings],
            "failed": [c.name for c in self.failures],
            "rows": dict(self.rows),
            "seconds": round(self.seconds, 2),
            "docs": self.docs,
            "engine": self.engine,
            "scope": self.scope,
        }


class GateFailed(RuntimeError):
    """A stop check failed: the run stops here. The message names every failed stop check."""

    def __init__(self, result: ValidationResult):
        self.result = result
        self.failed = [c.name for c in result.stops]
        lines = "\n".join(f"  - {c.describe()}" for c in result.stops)
        text = (
            f"validation gate '{result.gate}' failed on {result.warehouse.name}: "
            f"{len(result.stops)} stop check(s) failed ({', '.join(self.failed)}):\n{lines}"
        )
        if result.warnings:
            text += f"\n{len(result.warnings)} warning(s): " + ", ".join(c.name for c in result.warnings)
        if result.docs:
            text += f"\nData Docs: {result.docs}"
        super().__init__(text)

    def __reduce__(self):  # pickled by Prefect when a task fails
        return (GateFailed, (self.result,))


class ValidationError(RuntimeError):
    """The validation could not run (no warehouse, nothing loaded, marts not built)."""


# --------------------------------------------------------------------------------------------------
# Reading the frames


def _relation_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    sql = (
        "select count(*) from duckdb_tables() where schema_name = ? and table_name = ? "
        "and database_name = current_database()"
    )
    return con.execute(sql, [schema, name]).fetchall()[0][0] > 0


def chunk_rows() -> int:
    return int(os.environ.get("CSCW_GX_CHUNK_ROWS") or DEFAULT_CHUNK_ROWS)


def _authority_chunks(con: duckdb.DuckDBPyConnection, limit: int) -> list[list[str]]:
    """The loaded authorities in groups of at most `limit` event versions (an authority is never split:
    its episodes and periods of care are checked together)."""
    sql = "select la_code, count(*) from raw.events group by la_code order by la_code"
    sizes = con.execute(sql).fetchall()
    chunks: list[list[str]] = []
    current: list[str] = []
    rows = 0
    for la_code, count in sizes:
        if current and rows + count > limit:
            chunks.append(current)
            current, rows = [], 0
        current.append(la_code)
        rows += count
    return [*chunks, current] if current else chunks or [[]]


# What the events gate reads on a monthly refresh: every event of the children that an event version
# of the new loads belongs to (or belonged to, before a correction moved it), so their episodes and
# periods of care are checked whole.
SCOPED_EVENTS_SQL = """
    (la_code, event_id) in (
        select la_code, event_id from raw.events
        where (la_code, child_id) in (
            select la_code, child_id from raw.events
            where (la_code, event_id) in (select la_code, event_id from raw.events where load_id > {after})
        )
    )
"""

AUTO, ALL = "auto", "all"


def built_from_load(con: duckdb.DuckDBPyConnection) -> int | None:
    """The load the models were last built from (stg_case__events' latest build, macros/incremental.sql);
    None when nothing was built yet or the last build was as known at a cut-off (-1)."""
    if not _relation_exists(con, "meta", "model_refreshes"):
        return None
    rows = con.execute(
        "select source_load_id from meta.model_refreshes where model_name = 'stg_case__events' "
        "order by refreshed_at desc limit 1"
    ).fetchall()
    if not rows or rows[0][0] is None or rows[0][0] < 0:
        return None
    return int(rows[0][0])


def resolve_scope(con: duckdb.DuckDBPyConnection, gate: str, scope: str | int) -> int | None:
    """The load id after which the events gate validates (None: every event).

    `auto`: the loads after the last build, so a monthly refresh checks what it loaded and a first
    load (or a warehouse last built as known at a cut-off) checks everything; `all`: everything (a full
    refresh, `cscw validate`, the tests); a number: the loads after that load id. The marts gate always
    reads the whole of fct_kpi_monthly (one row per authority x KPI x month: small)."""
    if gate != "events" or scope == ALL:
        return None
    if scope == AUTO:
        return built_from_load(con)
    if isinstance(scope, bool) or not isinstance(scope, int):
        raise ValueError(f"scope must be {AUTO!r}, {ALL!r} or a load id, not {scope!r}")
    return scope


def describe_scope(gate: str, after: int | None) -> str:
    if gate != "events":
        return "every row"
    return "every event" if after is None else f"the children of event versions loaded after load {after}"


@contextlib.contextmanager
def _open_gate(warehouse: Path, gate: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse opened read-only (memory limited as in dbt's profile), its gate's tables checked."""
    warehouse = Path(warehouse)
    if not warehouse.is_file():
        raise ValidationError(f"warehouse not found: {warehouse}")
    needed = {
        "events": [("raw", "events")],
        "marts": [("marts", "fct_kpi_monthly"), ("reference", "dim_kpi")],
    }
    config = {"access_mode": "read_only", **settings.duckdb_config(warehouse)}
    with duckdb.connect(str(warehouse), config=config) as con:
        for schema, name in needed[gate]:
            if not _relation_exists(con, schema, name):
                step = "load files first (cscw load)" if schema == "raw" else "run the dbt build first"
                raise ValidationError(f"{warehouse.name} has no {schema}.{name}: {step}")
        yield con


def _chunks(
    con: duckdb.DuckDBPyConnection, gate: str, after: int | None, limit: int | None
) -> Iterator[None]:
    """Per chunk of authorities (one chunk for the marts gate): temp table latest_events made ready."""
    chunks = _authority_chunks(con, limit or chunk_rows()) if gate == "events" else [[]]
    for chunk in chunks:
        if gate == "events":
            where = f"la_code in ({', '.join(_lit(code) for code in chunk)})" if chunk else "true"
            if after is not None:
                where += " and " + SCOPED_EVENTS_SQL.format(after=int(after))
            con.execute("drop table if exists latest_events")
            con.execute(f"create temp table latest_events as {LATEST_EVENTS_SQL.format(where=where)}")
        yield


def iter_frames(
    warehouse: Path, gate: str, limit: int | None = None, scope: str | int = ALL
) -> Iterator[dict[str, Any]]:
    """Per chunk of authorities (one chunk for the marts gate): suite name -> pandas frame, read with
    the warehouse opened read-only, DuckDB's memory limited as in dbt's profile."""
    with _open_gate(warehouse, gate) as con:
        after = resolve_scope(con, gate, scope)
        for _ in _chunks(con, gate, after, limit):
            frames = {}
            for suite in suites_of(gate):
                frame = con.sql(suite.sql).df()
                for column in suite.category_columns:
                    frame[column] = frame[column].astype("category")
                frames[suite.name] = frame
            yield frames


def merge_chunk_results(results: list[CheckResult]) -> CheckResult:
    """One check's results over several chunks of authorities, as if validated at once."""
    if len(results) == 1:
        return results[0]
    first = results[0]
    observed = [r.observed_value for r in results if r.observed_value is not None]
    if first.expectation == "expect_column_max_to_be_between" and observed:
        observed_value = max(observed, key=str)
    else:
        observed_value = observed[0] if len(observed) == 1 else (observed or None)
    examples = [example for r in results for example in r.examples][:RESULT_EXAMPLES]

    def total(attribute: str) -> int | None:
        values = [getattr(r, attribute) for r in results]
        return None if all(v is None for v in values) else sum(v or 0 for v in values)

    return CheckResult(
        name=first.name,
        severity=first.severity,
        suite=first.suite,
        expectation=first.expectation,
        description=first.description,
        success=all(r.success for r in results),
        element_count=total("element_count"),
        unexpected_count=total("unexpected_count"),
        observed_value=observed_value,
        examples=examples,
        error=next((r.error for r in results if r.error), None),
    )


# --------------------------------------------------------------------------------------------------
# The GX context and suites


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """GX's deprecation and user warnings stay off the console (its progress bars are turned off in the
    context's config, `get_context`)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _gx() -> Any:
    with _quiet():
        import great_expectations as gx
        import great_expectations.expectations
    for name in ("great_expectations", "great_expectations._docs_decorators"):
        logging.getLogger(name).setLevel(logging.ERROR)
    return gx


def get_context(project_root: Path | None = None) -> Any:
    """The GX file context at <project_root>/gx (created on first use), progress bars off."""
    gx = _gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    root = Path(project_root or gx_project_root())
    root.mkdir(parents=True, exist_ok=True)
    with _quiet():
        context = gx.get_context(mode="file", project_root_dir=str(root))
    bars = context.variables.progress_bars
    bars = bars.to_json_dict() if hasattr(bars, "to_json_dict") else dict(bars or {})
    if bars.get("globally") is not False or bars.get("metric_calculations") is not False:
        context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        context.variables.save()
    return context


def build_expectation(check: Check) -> Any:
    import great_expectations.expectations as gxe

    cls: Callable[..., Any] = getattr(gxe, check.expectation)
    severity = severity_of(check.name)
    kwargs = dict(check.kwargs)
    if check.where:
        from great_expectations.expectations.row_conditions import Column

        column, operator, value = check.where
        kwargs["row_condition"] = Column(column) == value if operator == "==" else Column(column).is_in(value)
    return cls(
        **kwargs,
        meta={"name": check.name, "gate_severity": severity},
        description=check.description,
        severity=_GX_SEVERITY[severity],
    )


def _comparable(expectation: Any) -> dict[str, Any]:
    config = expectation.configuration.to_json_dict()
    config.pop("id", None)
    return config


def ensure_suite(context: Any, suite: Suite) -> Any:
    """The GX suite for `suite`: saved with add_or_update only when its expectations changed."""
    gx = _gx()
    wanted = [build_expectation(c) for c in suite.checks]
    try:
        existing = context.suites.get(suite.name)
    except Exception:
        existing = None
    if existing is not None and [_comparable(e) for e in existing.expectations] == [
        _comparable(e) for e in wanted
    ]:
        return existing
    return context.suites.add_or_update(gx.ExpectationSuite(name=suite.name, expectations=wanted))


def _batch_definition(context: Any, name: str) -> Any:
    try:
        source = context.data_sources.get(DATASOURCE)
    except Exception:
        source = context.data_sources.add_pandas(DATASOURCE)
    try:
        asset = source.get_asset(name)
    except LookupError:
        asset = source.add_dataframe_asset(name)
    try:
        return asset.get_batch_definition(BATCH_DEFINITION)
    except (LookupError, KeyError):
        return asset.add_batch_definition_whole_dataframe(BATCH_DEFINITION)


def ensure_validation_definition(context: Any, suite: Suite) -> Any:
    gx = _gx()
    gx_suite = ensure_suite(context, suite)
    try:
        definition = context.validation_definitions.get(suite.name)
        if definition.suite.name == gx_suite.name and definition.data.data_asset.name == suite.name:
            definition.suite = gx_suite
            return definition
    except Exception:
        pass
    batch = _batch_definition(context, suite.name)
    return context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=suite.name, data=batch, suite=gx_suite)
    )


def sync_suites(project_root: Path | None = None) -> list[str]:
    """Write every suite and validation definition to the GX context; returns the suite names."""
    context = get_context(project_root)
    for suite in SUITES:
        ensure_validation_definition(context, suite)
    return [s.name for s in SUITES]


# --------------------------------------------------------------------------------------------------
# Running


def _check_result(suite: Suite, result: Any) -> CheckResult:
    config = result.expectation_config
    name = (config.meta or {}).get("name") or config.type
    check = next((c for c in suite.checks if c.name == name), None)
    details = result.result or {}
    examples = details.get("partial_unexpected_index_list") or details.get("partial_unexpected_list") or []
    error = None
    if result.exception_info and result.exception_info.get("raised_exception"):
        error = result.exception_info.get("exception_message") or "GX raised an exception"
    success, observed = bool(result.success), details.get("observed_value")
    if (
        config.type == "expect_column_max_to_be_between"
        and (observed is None or observed != observed)
        and not error
    ):
        # No rows (a monthly refresh that loaded no event): no maximum, so no limit broken (NaT != NaT).
        success, observed = True, None
    return CheckResult(
        name=name,
        severity=severity_of(name),
        suite=suite.name,
        expectation=config.type,
        description=check.description if check else config.type,
        success=success,
        element_count=details.get("element_count"),
        unexpected_count=details.get("unexpected_count"),
        observed_value=observed,
        examples=list(examples)[:RESULT_EXAMPLES],
        error=error,
    )


ENGINE_ENV = "CSCW_GATE_ENGINE"
SQL, GX = "sql", "gx"


def gate_engine(engine: str | None, docs: bool | None) -> str:
    """Which engine validates: the one asked for, else $CSCW_GATE_ENGINE, else GX when Data Docs are
    asked for (`cscw validate`) and SQL otherwise (the refresh)."""
    chosen = engine or os.environ.get(ENGINE_ENV) or (GX if docs else SQL)
    if chosen not in (SQL, GX):
        raise ValueError(f"unknown gate engine {chosen!r}: {SQL} or {GX}")
    return chosen


def validate_gate(
    warehouse: Path,
    gate: str,
    *,
    now: datetime | None = None,
    project_root: Path | None = None,
    docs: bool | None = None,
    raise_on_stop: bool = False,
    scope: str | int = AUTO,
    engine: str | None = None,
) -> ValidationResult:
    """Validate one gate's suites on `warehouse`; with raise_on_stop, a failed stop check raises GateFailed.

    `now` (local wall-clock time, like the files' timestamps) is the limit for event_at; default now.
    `scope` (events gate): `auto` validates the events of the loads since the last build (everything on
    a first load), `all` every event, a load id the loads after it (`resolve_scope`).
    `engine`: `sql` counts every check in DuckDB (no GX import, no pandas); `gx` runs the GX suites and
    builds Data Docs. By default (`gate_engine`) the SQL engine runs unless Data Docs are asked for
    (`docs=True`); when its result has a failed stop check and Data Docs were not refused
    (`docs=False`), the gate runs again in GX so the failure is in Data Docs.
    """
    from csc_warehouse import timings

    with timings.phase("gates"):
        chosen = gate_engine(engine, docs)
        if chosen == SQL:
            result = _validate_with_sql(warehouse, gate, now=now, scope=scope)
            if result.stops and docs is not False:
                result = _validate_with_gx(warehouse, gate, now=now, project_root=project_root, scope=scope)
        else:
            result = _validate_with_gx(
                warehouse, gate, now=now, project_root=project_root, docs=docs is not False, scope=scope
            )
    if raise_on_stop:
        result.raise_for_stops()
    return result


def _local_now(now: datetime | None) -> datetime:
    now = now or datetime.now()
    return now.astimezone().replace(tzinfo=None) if now.tzinfo else now


def _ordered(gate: str, by_check: dict[str, list[CheckResult]]) -> list[CheckResult]:
    """One result per check (chunks merged), in the order the suites list them."""
    order = {check.name: index for index, check in enumerate(c for s in suites_of(gate) for c in s.checks)}
    merged = [merge_chunk_results(results) for results in by_check.values()]
    return sorted(merged, key=lambda c: order.get(c.name, len(order)))


def _validate_with_sql(
    warehouse: Path, gate: str, *, now: datetime | None, scope: str | int
) -> ValidationResult:
    from csc_warehouse import gates_sql

    started = time.perf_counter()
    result = ValidationResult(gate=gate, warehouse=Path(warehouse), engine=SQL)
    parameters = {"now": _local_now(now)}
    by_check: dict[str, list[CheckResult]] = {}
    with _open_gate(warehouse, gate) as con:
        after = resolve_scope(con, gate, scope)
        result.scope = describe_scope(gate, after)
        for _ in _chunks(con, gate, after, None):
            for suite in suites_of(gate):
                rows, checks = gates_sql.run_suite(con, suite, parameters)
                result.rows[suite.name] = result.rows.get(suite.name, 0) + rows
                for check in checks:
                    by_check.setdefault(check.name, []).append(check)
    result.checks.extend(_ordered(gate, by_check))
    result.seconds = time.perf_counter() - started
    return result


def _validate_with_gx(
    warehouse: Path,
    gate: str,
    *,
    now: datetime | None,
    project_root: Path | None = None,
    docs: bool = True,
    scope: str | int = AUTO,
) -> ValidationResult:
    started = time.perf_counter()
    warehouse = Path(warehouse)
    result = ValidationResult(gate=gate, warehouse=warehouse, engine=GX)
    context = get_context(project_root)

    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    with _open_gate(warehouse, gate) as con:
        after = resolve_scope(con, gate, scope)
    result.scope = describe_scope(gate, after)
    now = _local_now(now)
    run_id = RunIdentifier(run_name=f"{gate}-{warehouse.stem}", run_time=datetime.now().astimezone())
    identifiers = []
    by_check: dict[str, list[CheckResult]] = {}
    for frames in iter_frames(warehouse, gate, scope=ALL if after is None else after):
        for suite in suites_of(gate):
            definition = ensure_validation_definition(context, suite)
            frame = frames[suite.name]
            result.rows[suite.name] = result.rows.get(suite.name, 0) + len(frame)
            result_format = {
                "result_format": "SUMMARY",
                "unexpected_index_column_names": list(suite.index_columns),
                "partial_unexpected_count": RESULT_EXAMPLES,
            }
            with _quiet():
                outcome = definition.run(
                    batch_parameters={"dataframe": frame},
                    expectation_parameters={"now": now},
                    result_format=result_format,
                    run_id=run_id,
                )
            for check in (_check_result(suite, r) for r in outcome.results):
                by_check.setdefault(check.name, []).append(check)
            identifiers.append(
                ValidationResultIdentifier(
                    expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite.name),
                    run_id=run_id,
                    batch_identifier=outcome.batch_id,
                )
            )
            del frame, outcome
    result.checks.extend(_ordered(gate, by_check))
    if docs:
        with _quiet():
            sites = context.build_data_docs(resource_identifiers=identifiers)
        result.docs = next(iter(sites.values()), None)
    result.seconds = time.perf_counter() - started
    return result


def validate_events(warehouse: Path, **kwargs: Any) -> ValidationResult:
    """The gate after the load: raw.events (latest versions), episodes, periods of care."""
    return validate_gate(warehouse, "events", **kwargs)


def validate_marts(warehouse: Path, **kwargs: Any) -> ValidationResult:
    """The gate after the dbt build: marts.fct_kpi_monthly against reference.dim_kpi."""
    return validate_gate(warehouse, "marts", **kwargs)


def docs_index(project_root: Path | None = None) -> Path:
    """Where Data Docs' index.html is (after a validation has built it)."""
    root = Path(project_root or gx_project_root())
    return root / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
