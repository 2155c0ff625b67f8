"""Load canonical case-event files (contract v1) into the warehouse's append-only raw tables.

A load reads a folder of children / events / population files (CSV or Parquet), checks every row
against the contract in DuckDB SQL over whole files (never row by row in Python: a load is millions
of rows), writes the rows that pass to ``raw.*``, the rows that do not to ``quarantine.rows`` with a
reason a person can act on, and one ``raw.loads`` row per file. It all happens in one transaction, so
a refused file (not this format at all) leaves the warehouse as it was.

The SQL works in three steps per table, each a temp table:
``stg_<t>``      every input row as text, with its file and line (what quarantine shows back);
``typed_<t>``    the row cast to the contract's types, flagged if any field is bad (field checks);
``verdicts_<t>`` only the well-formed rows that are not loaded: unchanged, or why quarantined
                 (checks that need other rows: duplicates, versions, children, episode starts).
Every reason goes to ``q_<t>`` on the way and is written to quarantine.rows at the end.

``source_line`` is the CSV record number counting the header as line 1: the line in the file,
unless a quoted value spans lines (then later records count one per record, as DuckDB does).

Silent damage is caught too (contract.EVENT_COLUMN_NEEDS): a file without an optional column that KPIs
read loads with a warning naming those KPIs (from seeds/dim_kpi.csv), a load in which such a column is
empty for every row of an event type that needs it is refused, and a file with only a header warns.

Re-loading files already loaded adds nothing: rows already in raw.* are unchanged, and rows already in
quarantine.rows (same table, column and row content) are not quarantined again but counted unchanged;
a load that adds nothing is logged in raw.loads with status ``nothing_new``.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
from rich.console import Console

from csc_warehouse import contract, settings
from csc_warehouse.contract import Column

# Children first (events are checked against them), population last (nothing depends on it).
TABLE_ORDER: tuple[str, ...] = ("children", "events", "population")
FORMATS: dict[str, str] = {".csv": "csv", ".parquet": "parquet"}

# A version of a row is identified by these columns; two rows with the same key must be identical.
VERSION_KEYS: dict[str, tuple[str, ...]] = {
    "children": ("la_code", "child_id", "recorded_at"),
    "events": ("la_code", "event_id", "recorded_at"),
    "population": ("la_code", "year", "age", "sex"),
}

# How a failed cast is explained: the type as a person writing the file thinks of it.
TYPE_WORDS: dict[str, str] = {
    "timestamp": "date or timestamp (ISO 8601, e.g. 2024-05-01 or 2024-05-01 09:30:00)",
    "date": "date (ISO 8601, e.g. 2015-03-01)",
    "boolean": "boolean (true or false)",
    "double": "number",
    "integer": "whole number",
}

# Integers must be written as integers: DuckDB would round '3.5' to 4 (a trailing .0 is what
# Parquet writers produce for float columns, so that much is allowed).
INTEGER_PATTERN = r"[+-]?[0-9]+(\.0+)?"


class LoadRefused(Exception):
    """A file that is not the format at all; nothing of it (or of the load) is loaded."""


class ColumnsEmpty(LoadRefused):
    """A column the KPIs need is empty for every row of an event type: a broken extract; nothing loaded."""


@dataclass
class TableReport:
    table: str  # children | events | population
    file: str  # file name
    rows_in: int
    rows_loaded: int  # new rows written
    rows_unchanged: int  # rows identical to a version already in the warehouse (re-loads)
    rows_quarantined: int  # newly quarantined by this load
    unknown_event_types: dict[str, int] = field(default_factory=dict)  # loaded, but the models ignore them
    # Of rows_unchanged: rows an earlier load already quarantined (kept there once, not added again).
    rows_already_quarantined: int = 0
    # rows_in == rows_loaded + rows_unchanged + rows_quarantined always


@dataclass
class LoadReport:
    load_id: int
    tables: list[TableReport]
    warnings: list[str]

    @property
    def rows_in(self) -> int:
        return sum(t.rows_in for t in self.tables)

    @property
    def rows_loaded(self) -> int:
        return sum(t.rows_loaded for t in self.tables)

    @property
    def rows_unchanged(self) -> int:
        return sum(t.rows_unchanged for t in self.tables)

    @property
    def rows_quarantined(self) -> int:
        return sum(t.rows_quarantined for t in self.tables)


@dataclass
class SourceFile:
    """One input file, checked enough (header, encoding) to know it can be read."""

    ord: int  # unique within the load: ties a staged row to its file
    table: str
    path: Path
    fmt: str  # csv | parquet
    columns: list[str]  # the contract columns the file has, in file order

    @property
    def line_word(self) -> str:
        # Parquet has no lines; its rows are numbered from 1.
        return "line" if self.fmt == "csv" else "row"


# --------------------------------------------------------------------------------------------------
# SQL text helpers


def q(name: str) -> str:
    """A quoted identifier (contract names include words like count, value and year)."""
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def in_list(values: tuple[str, ...] | list[str]) -> str:
    return "(" + ", ".join(lit(v) for v in values) + ")"


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    # DuckDB 2.0 relations have no fetchone(); fetchall() also finishes the result, which
    # keeps the connection usable for the next statement.
    rows = con.execute(sql).fetchall()
    return rows[0][0] if rows else None


# --------------------------------------------------------------------------------------------------
# Schema


def _column_ddl(col: Column, table: str) -> str:
    if table == "events" and col.name == "is_deleted":
        return f"{q(col.name)} boolean not null default false"
    not_null = " not null" if col.required else ""
    return f"{q(col.name)} {col.type}{not_null}"


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create raw.* and quarantine.* if missing (never alters what exists: the tables are append-only)."""
    con.execute("create schema if not exists raw")
    con.execute("create schema if not exists quarantine")
    con.execute(
        """
        create table if not exists raw.loads (
            load_id integer not null, loaded_at timestamp not null, input_dir varchar,
            table_name varchar not null, file_name varchar not null, file_sha256 varchar,
            rows_in bigint, rows_loaded bigint, rows_unchanged bigint, rows_quarantined bigint,
            status varchar
        )"""
    )
    for table, columns in contract.TABLES.items():
        cols = ", ".join(_column_ddl(c, table) for c in columns)
        con.execute(
            f"create table if not exists raw.{table} ({cols}, load_id integer not null, source_line bigint)"
        )
    con.execute(
        """
        create table if not exists quarantine.rows (
            load_id integer not null, table_name varchar not null, file_name varchar not null,
            source_line bigint, column_name varchar, reason varchar not null, record_json varchar,
            reason_code varchar
        )"""
    )
    # Warehouses from before reason codes: the one column added, nothing else changes.
    con.execute("alter table quarantine.rows add column if not exists reason_code varchar")


# --------------------------------------------------------------------------------------------------
# Finding and inspecting files (before the warehouse is touched)


def find_files(input_dir: Path) -> dict[str, list[Path]]:
    """children*.csv|parquet, events*..., population*...: a table may be split over several files."""
    found: dict[str, list[Path]] = {}
    for table in TABLE_ORDER:
        paths = sorted(p for ext in FORMATS for p in input_dir.glob(f"{table}*{ext}") if p.is_file())
        if paths:
            found[table] = paths
    return found


def _refuse(path: Path, table: str, problem: str, found: list[str] | None = None) -> LoadRefused:
    columns = contract.TABLES[table]
    expected = ", ".join(c.name for c in columns)
    required = ", ".join(c.name for c in columns if c.required)
    found_text = ", ".join(found) if found is not None else "no readable header"
    return LoadRefused(
        f"{path.name} ({table}) refused, nothing of this load was loaded: {problem}. "
        f"Expected a UTF-8 CSV with a header, or Parquet, with columns: {expected} "
        f"(required: {required}); found: {found_text}."
    )


def read_csv_header(path: Path, table: str) -> list[str]:
    """The header's column names; refuses files that are not UTF-8 text with a header line."""
    with path.open("rb") as fh:
        head = fh.read(1 << 20)
    if not head:
        raise _refuse(path, table, "the file is empty")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _refuse(path, table, "it is UTF-16 encoded (byte-order mark), not UTF-8; save it as UTF-8")
    first, newline, _ = head.partition(b"\n")
    if b"\x00" in first:
        raise _refuse(path, table, "its first line contains NUL bytes: not UTF-8 text (UTF-16 or binary?)")
    if not newline and len(head) == 1 << 20:
        raise _refuse(path, table, "no header line in its first megabyte: not a CSV file")
    try:
        text = first.decode("utf-8-sig").rstrip("\r")
    except UnicodeDecodeError as exc:
        raise _refuse(path, table, f"its header is not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    return [name.strip() for name in next(csv.reader([text]))]


def read_parquet_columns(path: Path, table: str) -> list[str]:
    try:
        with duckdb.connect() as con:
            return list(con.sql(f"select * from read_parquet({lit(str(path))}) limit 0").columns)
    except duckdb.Error as exc:
        raise _refuse(path, table, f"it is not readable as Parquet ({exc})") from exc


def check_columns(path: Path, table: str, found: list[str]) -> None:
    """Refuse a header that is not a subset of the contract's columns holding every required one."""
    names = [c.name for c in contract.TABLES[table]]
    problems = []
    if duplicated := sorted({c for c in found if found.count(c) > 1}):
        problems.append("duplicated columns " + ", ".join(duplicated))
    if unexpected := [c for c in found if c not in names]:
        problems.append("unexpected columns " + ", ".join(repr(c) for c in unexpected))
    required = [c.name for c in contract.TABLES[table] if c.required]
    if missing := [c for c in required if c not in found]:
        problems.append("missing required columns " + ", ".join(missing))
    if problems:
        raise _refuse(path, table, "; ".join(problems), found)


def inspect_files(found: dict[str, list[Path]]) -> list[SourceFile]:
    files = []
    for table, paths in found.items():
        for path in paths:
            fmt = FORMATS[path.suffix.lower()]
            reader = read_csv_header if fmt == "csv" else read_parquet_columns
            columns = reader(path, table)
            check_columns(path, table, columns)
            files.append(SourceFile(len(files), table, path, fmt, columns))
    return files


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------------
# Step 1: stage every row as text with its file and line


def create_stage_tables(con: duckdb.DuckDBPyConnection, table: str) -> None:
    cols = ", ".join(f"{q(c.name)} varchar" for c in contract.TABLES[table])
    con.execute(f"create temp table stg_{table} (file_ord integer, source_line bigint, {cols})")
    # Every reason found, whatever the step; record_json only for rows that never reached stg_.
    con.execute(
        f"""create temp table q_{table} (file_ord integer, source_line bigint, column_name varchar,
            reason varchar, record_json varchar, reason_code varchar)"""
    )


def stage_parquet(con: duckdb.DuckDBPyConnection, f: SourceFile) -> None:
    cols = ", ".join(f"cast({q(c)} as varchar) as {q(c)}" for c in f.columns)
    con.execute(
        f"""insert into stg_{f.table} by name
            select {f.ord} as file_ord, file_row_number + 1 as source_line, {cols}
            from read_parquet({lit(str(f.path))}, file_row_number = true)"""
    )


def stage_csv(con: duckdb.DuckDBPyConnection, f: SourceFile) -> None:
    """Read the CSV as text (no type sniffing: the contract says what each column is).

    Lines with the wrong number of fields are set aside by DuckDB's reject store and quarantined;
    a broken quote or bytes that are not UTF-8 anywhere in the file refuse it.
    """
    spec = "{" + ", ".join(f"{lit(c)}: 'varchar'" for c in f.columns) + "}"
    rejects, scans = f"rej_{f.ord}", f"scan_{f.ord}"
    names = ", ".join(q(c) for c in f.columns)
    # row_number() over () follows file order (insertion order is preserved): record n is line n + 1.
    con.execute(
        f"""insert into stg_{f.table} (file_ord, source_line, {names})
            select {f.ord}, row_number() over () + 1, {names}
            from read_csv({lit(str(f.path))}, header = true, columns = {spec}, auto_detect = false,
                delim = ',', quote = '"', escape = '"', ignore_errors = true,
                store_rejects = true, rejects_table = {lit(rejects)}, rejects_scan = {lit(scans)})"""
    )
    refuse_unreadable(con, f, rejects)
    if scalar(con, f"select count(*) from {rejects}"):
        _renumber_around_rejects(con, f, rejects)
    con.execute(f"drop table {rejects}; drop table {scans}")


# Rows with the wrong number of fields are set aside exactly (every other line keeps its number);
# after a broken quote DuckDB cannot tell where records end, and skips or shifts what follows, so
# that file is not readable as CSV at all.
QUARANTINED_CSV_ERRORS: tuple[str, ...] = ("MISSING COLUMNS", "TOO MANY COLUMNS")


def refuse_unreadable(con: duckdb.DuckDBPyConnection, f: SourceFile, rejects: str) -> None:
    found = con.execute(
        f"""select line, error_type::varchar, error_message from {rejects}
            where error_type::varchar not in {in_list(QUARANTINED_CSV_ERRORS)}
            order by line limit 1"""
    ).fetchall()
    if not found:
        return
    line, error_type, message = found[0]
    if error_type == "INVALID ENCODING":
        raise _refuse(f.path, f.table, f"line {line} is not valid UTF-8", f.columns)
    raise _refuse(f.path, f.table, f"not readable as CSV from line {line} ({message.rstrip('.')})", f.columns)


def _renumber_around_rejects(con: duckdb.DuckDBPyConnection, f: SourceFile, rejects: str) -> None:
    """Give the good records their true line numbers, and quarantine the rejected lines.

    DuckDB numbers rejected lines (header = line 1) but the good records only by position, so each
    good record moves down by the number of rejected lines before it: the j-th rejected line L
    (1-based) comes before every good record whose 0-based index is at least L - 1 - j.
    """
    con.execute(
        f"""create temp table rej_lines as
            select line, row_number() over (order by line) as j,
                   line - 1 - row_number() over (order by line) as first_after,
                   lower(arg_min(error_type::varchar, column_idx)) as kinds,
                   arg_min(error_message, column_idx) as messages,
                   any_value(csv_line) as csv_line
            from {rejects} group by line"""
    )
    con.execute(
        f"""update stg_{f.table} s set source_line = s.source_line + m.shift
            from (select r.source_line, l.j as shift
                  from (select source_line from stg_{f.table} where file_ord = {f.ord}) r
                  asof join rej_lines l on r.source_line - 2 >= l.first_after) m
            where s.file_ord = {f.ord} and s.source_line = m.source_line"""
    )
    con.execute(
        f"""insert into q_{f.table}
            select {f.ord}, line, null,
                   format('is not a well-formed CSV row ({{}}: {{}})', kinds, messages),
                   to_json({{'csv_line': csv_line}}), 'malformed_csv_row'
            from rej_lines"""
    )
    con.execute("drop table rej_lines")


# --------------------------------------------------------------------------------------------------
# Step 2: cast to the contract's types and check each field on its own


@dataclass(frozen=True)
class FieldCheck:
    column: str
    condition: str  # SQL over the derived row (r_<col> = trimmed text, <col> = typed); true = bad
    reason: str  # SQL text expression
    kind: str = "bad_value"  # reason_code in quarantine.rows: what `cscw quarantine` groups by


def raw_ref(name: str) -> str:
    return q("r_" + name)


def typed_expr(col: Column) -> str:
    raw = raw_ref(col.name)
    if col.type == "varchar":
        return raw
    if col.type == "integer":
        number = f"try_cast(try_cast({raw} as double) as integer)"
        return f"case when regexp_full_match({raw}, {lit(INTEGER_PATTERN)}) then {number} end"
    return f"try_cast({raw} as {col.type})"


def trimmed_sql(value: str) -> str:
    """Empty is missing, and surrounding spaces go; trim() only where needed (it copies every string)."""
    return (
        f"case when {value} = '' then null when starts_with({value}, ' ') or ends_with({value}, ' ') "
        f"then nullif(trim({value}), '') else {value} end"
    )


def derived_sql(table: str) -> str:
    """stg_<table> with each column trimmed (r_<col>, empty = missing) and cast (<col>)."""
    columns = contract.TABLES[table]
    trimmed = ", ".join(f"{trimmed_sql(q(c.name))} as {raw_ref(c.name)}" for c in columns)
    typed = ", ".join(f"{typed_expr(c)} as {q(c.name)}" for c in columns)
    return f"""select *, {typed} from (
                   select file_ord, source_line, {trimmed} from stg_{table})"""


def generic_checks(table: str) -> list[FieldCheck]:
    checks = []
    for col in contract.TABLES[table]:
        raw = raw_ref(col.name)
        if col.required:
            checks.append(
                FieldCheck(
                    col.name, f"{raw} is null", lit(f"required field {col.name} is empty"), "required_empty"
                )
            )
        if col.type != "varchar":
            word = TYPE_WORDS[col.type]
            checks.append(
                FieldCheck(
                    col.name,
                    f"{raw} is not null and {q(col.name)} is null",
                    f"format('{{}} {{}} is not a valid {word}', {lit(col.name)}, {raw})",
                    "not_a_valid_" + col.type,
                )
            )
    return checks


def code_checks() -> list[FieldCheck]:
    """Codes of the types whose code list the contract spells out (a missing code is allowed)."""
    lists = " ".join(
        f"when {lit(event_type)} then [{', '.join(lit(c) for c in codes)}]"
        for event_type, codes in contract.CLOSED_CODES.items()
    )
    allowed = f"(case event_type {lists} end)"
    return [
        FieldCheck(
            "code",
            f"code is not null and not list_contains({allowed}, code)",
            f"format('code {{}} is not a {{}} code (one of: {{}})', code, event_type, "
            f"array_to_string({allowed}, ', '))",
            "code_not_in_list",
        )
    ]


def table_checks(table: str, now: datetime) -> list[FieldCheck]:
    checks = generic_checks(table)
    if table == "children":
        sexes = ", ".join(contract.SEX_CODES)
        checks.append(
            FieldCheck(
                "sex",
                f"sex not in {in_list(contract.SEX_CODES)}",
                f"format('sex {{}} is not one of {sexes}', sex)",
                "sex_not_in_list",
            )
        )
    elif table == "events":
        earliest = contract.EARLIEST_EVENT_DATE
        checks.append(
            FieldCheck(
                "event_at",
                f"event_at < timestamp {lit(earliest)}",
                f"format('event_at {{}} is before {earliest}, the earliest date accepted', r_event_at)",
                "event_at_too_early",
            )
        )
        checks.append(
            FieldCheck(
                "event_at",
                f"event_at > timestamp {lit(now.isoformat(sep=' '))}",
                f"format('event_at {{}} is in the future (load date {now.date().isoformat()})', r_event_at)",
                "event_at_in_future",
            )
        )
        checks.extend(code_checks())
    elif table == "population":
        sexes = ", ".join(contract.POPULATION_SEX_CODES)
        checks += [
            FieldCheck(
                "age",
                "age not between 0 and 17",
                "format('age {} is outside 0-17', r_age)",
                "age_outside_0_17",
            ),
            FieldCheck(
                "sex",
                f"sex not in {in_list(contract.POPULATION_SEX_CODES)}",
                f"format('sex {{}} is not one of {sexes}', sex)",
                "sex_not_in_list",
            ),
            FieldCheck("count", '"count" < 0', "format('count {} is negative', r_count)", "count_negative"),
        ]
    return checks


def final_value(col: Column, table: str) -> str:
    """The value written to raw: the typed value, with the contract's defaults and reductions."""
    if table == "events" and col.name == "is_deleted":
        return "coalesce(is_deleted, false)"
    if table == "children" and col.name == "birth_month":
        # Privacy: month of birth only, whatever the source sent.
        return "cast(date_trunc('month', birth_month) as date)"
    return q(col.name)


def type_rows(con: duckdb.DuckDBPyConnection, table: str, checks: list[FieldCheck]) -> None:
    """typed_<table>: every staged row cast, flagged if any field check fails; failures to q_<table>."""
    columns = contract.TABLES[table]
    values = ", ".join(f"{final_value(c, table)} as {q(c.name)}" for c in columns)
    bad = " or ".join(f"coalesce({c.condition}, false)" for c in checks)
    extra = ""
    if table == "children":
        extra = ", birth_month <> date_trunc('month', birth_month) as month_reduced"
    con.execute(
        f"""create temp table typed_{table} as
            select file_ord, source_line, {values}{extra}, ({bad}) as has_problem
            from ({derived_sql(table)})"""
    )
    # Second pass over the flagged rows only: a list of every problem of the row, one quarantine
    # row each, so the sender can fix them all at once.
    found = ", ".join(
        f"case when coalesce({c.condition}, false) "
        f"then {{'column_name': {lit(c.column)}, 'reason': {c.reason}, 'reason_code': {lit(c.kind)}}} end"
        for c in checks
    )
    con.execute(
        f"""insert into q_{table}
            select file_ord, source_line, p.column_name, p.reason, null, p.reason_code
            from (select file_ord, source_line, unnest(list_filter([{found}], lambda x: x is not null)) as p
                  from ({derived_sql(table)}) d
                  semi join (select file_ord, source_line from typed_{table} where has_problem)
                  using (file_ord, source_line))"""
    )


# --------------------------------------------------------------------------------------------------
# Step 3: checks that need other rows (versions, duplicates, children, episode starts)
#
# Most rows pass, so these checks only write the exceptions: verdicts_<table> holds one row per
# well-formed row that is NOT loaded (unchanged, or why it is quarantined). Everything else loads.
# This keeps each step a hash join or aggregate over the load rather than a sort of all of it.

# When a row fails several of these checks, the first in this list is the one reported.
VERDICT_ORDER: tuple[str, ...] = (
    "dup_wh",  # key in the warehouse with different content
    "unchanged",  # identical to a version in the warehouse
    "dup_load",  # key seen earlier in this load with different content
    "no_child",
    "end_no_episode",
    "end_no_start",
    "end_before_start",
    "same_load",  # identical to an earlier row of this load: unchanged, if that row passed
)


def content_sql(table: str, prefix: str = "") -> str:
    """The row's contract values as one struct: two versions are the same if these are equal."""
    fields = ", ".join(f"{q(c.name)} := {prefix}{q(c.name)}" for c in contract.TABLES[table])
    return f"struct_pack({fields})"


def key_join(table: str, left: str, right: str) -> str:
    return " and ".join(f"{left}.{q(k)} = {right}.{q(k)}" for k in VERSION_KEYS[table])


def create_verdict_table(con: duckdb.DuckDBPyConnection, table: str) -> None:
    con.execute(
        f"""create temp table parts_{table} (
                file_ord integer, source_line bigint, status varchar, first_file_ord integer,
                first_line bigint, wh_load_id integer, start_type varchar, first_start date)"""
    )


def version_verdicts(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Compare rows with the warehouse's versions of their key and with earlier rows of the load.

    Events and children: a key (id + recorded_at) already in the warehouse must come with the same
    content (a correction needs a later recorded_at); within the load, a later row with the key of
    an earlier one must be identical to the first. Population has no recorded_at: a count equal to
    any version in the warehouse is unchanged, a different one is a new estimate and loads.
    """
    same = " and ".join(f"t.{q(c.name)} is not distinct from w.{q(c.name)}" for c in contract.TABLES[table])
    if table == "population":
        wh_sql = f"""select t.file_ord, t.source_line, 'unchanged', w.load_id
                     from typed_{table} t join raw.{table} w on {key_join(table, "t", "w")} and {same}
                     where not t.has_problem"""
    else:
        # Column by column rather than as structs: on a re-load every row matches the warehouse.
        wh_sql = f"""select t.file_ord, t.source_line,
                            case when {same} then 'unchanged' else 'dup_wh' end, w.load_id
                     from typed_{table} t join raw.{table} w on {key_join(table, "t", "w")}
                     where not t.has_problem"""
    con.execute(f"insert into parts_{table} (file_ord, source_line, status, wh_load_id) {wh_sql}")
    load_duplicate_verdicts(con, table)


def load_duplicate_verdicts(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Rows whose key an earlier row of this load has: identical (same_load) or not (dup_load)."""
    key = ", ".join(q(k) for k in VERSION_KEYS[table])
    # Only the keys that repeat are sorted: most loads have few or none.
    con.execute(
        f"""insert into parts_{table} (file_ord, source_line, status, first_file_ord, first_line)
            select file_ord, source_line,
                   case when content is distinct from first_content then 'dup_load' else 'same_load' end,
                   first_file_ord, first_line
            from (select file_ord, source_line, content, row_number() over k as occ,
                         first_value(content) over k as first_content,
                         first_value(file_ord) over k as first_file_ord,
                         first_value(source_line) over k as first_line
                  from (select *, {content_sql(table)} as content
                        from typed_{table}
                        semi join (select {key} from typed_{table} where not has_problem
                                   group by all having count(*) > 1) using ({key})
                        where not has_problem)
                  window k as (partition by {key} order by file_ord, source_line))
            where occ > 1"""
    )


def child_verdicts(con: duckdb.DuckDBPyConnection) -> None:
    """Events of a child that no children row (this load's, already written, or earlier) knows."""
    con.execute(
        """insert into parts_events (file_ord, source_line, status)
           select t.file_ord, t.source_line, 'no_child'
           from typed_events t
           anti join (select distinct la_code, child_id from raw.children) ch
               on ch.la_code = t.la_code and ch.child_id = t.child_id
           where not t.has_problem"""
    )


def episode_verdicts(con: duckdb.DuckDBPyConnection) -> None:
    """An end event needs a start of its episode, on or before the end's date.

    Starts count from this load's rows that pass so far and from every version in the warehouse
    (a tombstoned start still shows the episode existed).
    """
    pairs = ", ".join(f"({lit(end)}, {lit(start)})" for end, start in contract.END_TO_START.items())
    con.execute(f"create temp table end_start as select * from (values {pairs}) t(end_type, start_type)")
    starts = in_list(sorted(set(contract.END_TO_START.values())))
    con.execute(
        f"""create temp table episode_starts as
            with ends as (
                select t.file_ord, t.source_line, t.la_code, t.episode_id, es.start_type
                from typed_events t join end_start es on es.end_type = t.event_type
                where not t.has_problem
            ),
            load_starts as (
                select t.la_code, t.episode_id, t.event_type, t.event_at
                from typed_events t
                anti join (select * from parts_events where status in ('dup_wh', 'dup_load', 'no_child')) p
                    using (file_ord, source_line)
                where not t.has_problem and t.event_type in {starts}
            )
            select la_code, episode_id, event_type, min(cast(event_at as date)) as first_start
            from (select * from load_starts
                  union all
                  select la_code, episode_id, event_type, event_at from raw.events
                  where event_type in {starts})
            semi join (select distinct la_code, episode_id from ends) using (la_code, episode_id)
            group by all"""
    )
    con.execute(
        """insert into parts_events (file_ord, source_line, status, start_type, first_start)
           select file_ord, source_line, status, start_type, first_start from (
               select t.file_ord, t.source_line, es.start_type, s.first_start,
                   case when t.episode_id is null then 'end_no_episode'
                        when s.first_start is null then 'end_no_start'
                        when cast(t.event_at as date) < s.first_start then 'end_before_start'
                   end as status
               from typed_events t
               join end_start es on es.end_type = t.event_type
               left join episode_starts s
                   on s.la_code = t.la_code and s.episode_id = t.episode_id and s.event_type = es.start_type
               where not t.has_problem)
           where status is not null"""
    )


def settle_verdicts(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """verdicts_<table>: one per row, the first of VERDICT_ORDER; a repeat that passed is unchanged."""
    ranking = VERDICT_ORDER
    if table == "population":
        # A count that differs from the one earlier in the file is an error even if the warehouse
        # has it: the file contradicts itself.
        ranking = ("dup_load", "unchanged", "same_load")
    order = " ".join(f"when {lit(s)} then {i}" for i, s in enumerate(ranking))
    # A hash aggregate, not a window: on a re-load every row has a verdict (unchanged).
    con.execute(
        f"""create temp table verdicts_{table} as
            select file_ord, source_line, unnest(arg_min(p, verdict_rank))
            from (select file_ord, source_line, case status {order} end as verdict_rank,
                         struct_pack(status := case status when 'same_load' then 'unchanged' else status end,
                                     first_file_ord, first_line, wh_load_id, start_type, first_start) as p
                  from parts_{table})
            group by file_ord, source_line"""
    )


def key_words(table: str) -> str:
    """SQL text naming a row's key, for reasons."""
    if table == "events":
        return "format('event_id {} (la_code {}) recorded_at {}', event_id, la_code, recorded_at)"
    if table == "children":
        return "format('child_id {} (la_code {}) recorded_at {}', child_id, la_code, recorded_at)"
    return "format('la_code {} year {} age {} sex {}', la_code, year, age, sex)"


# The reason_code quarantine.rows keeps for each verdict (what `cscw quarantine` groups by).
VERDICT_CODES: dict[str, str] = {
    "dup_wh": "conflicts_with_warehouse",
    "dup_load": "duplicate_in_load",
    "no_child": "unknown_child",
    "end_no_episode": "end_without_episode_id",
    "end_no_start": "end_without_start",
    "end_before_start": "end_before_start",
}


def verdict_reasons(table: str) -> list[tuple[str, str | None, str]]:
    """(status, column, reason SQL) for every verdict that quarantines a well-formed row."""
    what = "a different count" if table == "population" else "different content"
    reasons: list[tuple[str, str | None, str]] = [
        (
            "dup_wh",
            None,
            f"""format('{{}} is already in the warehouse (load {{}}) with different content; '
                       || 'send a correction with a later recorded_at', {key_words(table)}, wh_load_id)""",
        ),
        (
            "dup_load",
            None,
            f"""format('duplicate of {{}} {{}} {{}}: same {{}} but {what}',
                       first_file, first_word, first_line, {key_words(table)})""",
        ),
        (
            "no_child",
            "child_id",
            "format('child_id {} (la_code {}) is in no children row of this load or an earlier one', "
            "child_id, la_code)",
        ),
        (
            "end_no_episode",
            "episode_id",
            "format('{} has no episode_id, so it cannot be matched to its {}', event_type, start_type)",
        ),
        (
            "end_no_start",
            "episode_id",
            "format('{} of episode_id {} (la_code {}) has no {} in this load or the warehouse', "
            "event_type, episode_id, la_code, start_type)",
        ),
        (
            "end_before_start",
            "event_at",
            "format('event_at {} is before the start of episode_id {} ({} on {})', "
            "cast(event_at as date), episode_id, start_type, first_start)",
        ),
    ]
    if table != "events":
        return reasons[:2]
    return reasons


def quarantine_verdicts(con: duckdb.DuckDBPyConnection, table: str) -> None:
    cases = "\n".join(
        f"when {lit(status)} then {{'column_name': {lit(col) if col else 'null::varchar'}, 'reason': {sql}, "
        f"'reason_code': {lit(VERDICT_CODES[status])}}}"
        for status, col, sql in verdict_reasons(table)
    )
    con.execute(
        f"""insert into q_{table}
            select file_ord, source_line, p.column_name, p.reason, null, p.reason_code
            from (select file_ord, source_line, case status {cases} end as p
                  from (select t.*, v.* exclude (file_ord, source_line),
                               f.file_name as first_file, f.line_word as first_word
                        from (select * from verdicts_{table} where status <> 'unchanged') v
                        join typed_{table} t using (file_ord, source_line)
                        left join load_files f on f.file_ord = v.first_file_ord))"""
    )


def check_relations(con: duckdb.DuckDBPyConnection, table: str) -> None:
    create_verdict_table(con, table)
    version_verdicts(con, table)
    if table == "events":
        child_verdicts(con)
        episode_verdicts(con)
    settle_verdicts(con, table)
    quarantine_verdicts(con, table)


# --------------------------------------------------------------------------------------------------
# Writing


def write_rows(con: duckdb.DuckDBPyConnection, table: str, load_id: int) -> None:
    """Insert the rows that passed, then every quarantine reason with its file, line and raw row."""
    names = ", ".join(q(c.name) for c in contract.TABLES[table])
    con.execute(
        f"""insert into raw.{table} ({names}, load_id, source_line)
            select {names}, {load_id}, source_line
            from typed_{table} t anti join verdicts_{table} v using (file_ord, source_line)
            where not t.has_problem"""
    )
    stg_record = content_sql(table, "s.")
    con.execute(
        f"""create temp table qrows_{table} as
            select qq.file_ord, f.file_name, qq.source_line, qq.column_name,
                   format('{{}} {{}}: {{}}', f.line_word, qq.source_line, qq.reason) as reason,
                   coalesce(qq.record_json, to_json({stg_record})) as record_json, qq.reason_code
            from q_{table} qq
            join load_files f on f.file_ord = qq.file_ord
            left join stg_{table} s on s.file_ord = qq.file_ord and s.source_line = qq.source_line"""
    )
    # Quarantined by an earlier load already: the same row content (record_json) for the same column of
    # the same table. Not the reason's words: they name the line and the load date, which a re-load of
    # the same row may change, while the row and what is wrong with it have not.
    con.execute(
        f"""create temp table qknown_{table} as
            select n.file_ord, n.source_line, n.column_name, n.record_json
            from qrows_{table} n
            semi join (select column_name, record_json from quarantine.rows
                       where table_name = {lit(table)}) o
                on o.record_json = n.record_json and o.column_name is not distinct from n.column_name"""
    )
    con.execute(
        f"""insert into quarantine.rows
                (load_id, table_name, file_name, source_line, column_name, reason, record_json, reason_code)
            select {load_id}, {lit(table)}, n.file_name, n.source_line, n.column_name, n.reason,
                   n.record_json, n.reason_code
            from qrows_{table} n
            anti join qknown_{table} k
                on k.file_ord = n.file_ord and k.source_line = n.source_line
                and k.column_name is not distinct from n.column_name and k.record_json = n.record_json
            order by n.file_ord, n.source_line"""
    )


def already_quarantined(con: duckdb.DuckDBPyConnection, table: str) -> dict[int, int]:
    """file_ord -> rows every reason of which an earlier load quarantined already (nothing new in them)."""
    rows = con.execute(
        f"""select file_ord, count(*) from (
                select n.file_ord, n.source_line,
                       bool_and(k.source_line is not null) as is_known
                from qrows_{table} n
                left join qknown_{table} k
                    on k.file_ord = n.file_ord and k.source_line = n.source_line
                    and k.column_name is not distinct from n.column_name and k.record_json = n.record_json
                group by all)
            where is_known group by file_ord"""
    ).fetchall()
    return {r[0]: r[1] for r in rows}


def count_files(con: duckdb.DuckDBPyConnection, table: str) -> dict[int, tuple[int, int, int, int]]:
    """file_ord -> (rows_in, loaded, unchanged, quarantined), each counted from its own rows."""
    rows = con.execute(
        f"""with per_row as (
                select file_ord, 'in' as kind from stg_{table}
                union all select file_ord, 'in' from q_{table} where record_json is not null
                union all select file_ord, 'q' from q_{table} where record_json is not null
                union all select file_ord, 'q' from typed_{table} where has_problem
                union all select file_ord, case status when 'unchanged' then 'unchanged' else 'q' end
                          from verdicts_{table}
                union all select file_ord, 'load' from typed_{table} t
                          anti join verdicts_{table} v using (file_ord, source_line)
                          where not t.has_problem
            )
            select file_ord, count(*) filter (kind = 'in'), count(*) filter (kind = 'load'),
                   count(*) filter (kind = 'unchanged'), count(*) filter (kind = 'q')
            from per_row group by file_ord"""
    ).fetchall()
    return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}


def loaded_subset_counts(con: duckdb.DuckDBPyConnection, table: str, where: str, by: str) -> list[tuple]:
    """Counts of loaded rows matching `where`, grouped by file and `by` (for report details)."""
    return con.execute(
        f"""select file_ord, {by}, count(*) from typed_{table} t
            anti join verdicts_{table} v using (file_ord, source_line)
            where not t.has_problem and {where}
            group by all order by all"""
    ).fetchall()


def unknown_types(con: duckdb.DuckDBPyConnection) -> dict[int, dict[str, int]]:
    where = f"event_type not in {in_list(contract.EVENT_TYPES)}"
    out: dict[int, dict[str, int]] = {}
    for file_ord, event_type, n in loaded_subset_counts(con, "events", where, "event_type"):
        out.setdefault(file_ord, {})[event_type] = n
    return out


def reduced_months(con: duckdb.DuckDBPyConnection) -> dict[int, int]:
    rows = loaded_subset_counts(con, "children", "month_reduced", "true")
    return {file_ord: n for file_ord, _, n in rows}


# --------------------------------------------------------------------------------------------------
# The load


@dataclass
class LoadRun:
    """What one load needs as it goes through its files."""

    con: duckdb.DuckDBPyConnection
    load_id: int
    now: datetime
    console: Console | None
    reports: list[TableReport] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    def say(self, message: str) -> None:
        if self.console is not None:
            elapsed = time.perf_counter() - self.started
            self.console.print(f"[dim]{elapsed:6.1f}s[/dim] {message}", highlight=False)


# --------------------------------------------------------------------------------------------------
# Columns the KPIs read (contract.EVENT_COLUMN_NEEDS): missing is a warning, blank everywhere a refusal


def kpis_reading(measures: tuple[str, ...] | list[str]) -> list[str]:
    """'Name (kpi_id)' of every KPI of seeds/dim_kpi.csv built on one of `measures`; the measure ids
    themselves when the seed is not there (an installed package outside a checkout)."""
    seed = settings.PROJECT_ROOT / "seeds" / "dim_kpi.csv"
    if not seed.is_file():
        return [f"measure {m}" for m in measures]
    with seed.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [f"{r['kpi_name']} ({r['kpi_id']})" for r in rows if r["measure_id"] in measures]


def missing_column_warnings(files: list[SourceFile]) -> list[str]:
    """One warning per file and optional column the KPIs read that the file does not have."""
    warnings = []
    for f in files:
        for col in contract.TABLES[f.table]:
            measures = contract.column_measures(f.table, col.name)
            if col.required or col.name in f.columns or not measures:
                continue
            warnings.append(
                f"{f.path.name} has no {col.name} column, so these KPIs will count none of what it "
                f"records: {'; '.join(kpis_reading(measures))}"
            )
    return warnings


def empty_needed_columns(con: duckdb.DuckDBPyConnection, files: list[SourceFile]) -> list[str]:
    """Columns a file has but leaves blank in every non-deleted row of an event type that needs them."""
    problems = []
    for event_type, needs in contract.EVENT_COLUMN_NEEDS.items():
        for column, measures in needs.items():
            having = [f for f in files if column in f.columns]
            if not having or (event_type, column) in contract.BLANK_ALLOWED:
                continue  # no such column at all: a warning (missing_column_warnings)
            rows, filled = con.execute(
                f"""select count(*), count({q(column)}) from typed_events
                    where not has_problem and not is_deleted and event_type = {lit(event_type)}
                        and file_ord in ({", ".join(str(f.ord) for f in having)})"""
            ).fetchall()[0]
            if rows and not filled:
                names = ", ".join(f.path.name for f in having)
                problems.append(
                    f"{column} is empty in all {rows:,} {event_type} rows of {names}, and these KPIs "
                    f"need it: {'; '.join(kpis_reading(measures))}"
                )
    return problems


def load_table(run: LoadRun, table: str, files: list[SourceFile]) -> None:
    con = run.con
    create_stage_tables(con, table)
    for f in files:
        run.say(f"reading {f.path.name}")
        (stage_csv if f.fmt == "csv" else stage_parquet)(con, f)
    run.say(f"checking {table}")
    type_rows(con, table, table_checks(table, run.now))
    if table == "events" and (problems := empty_needed_columns(con, files)):
        raise ColumnsEmpty(
            "nothing of this load was loaded: "
            + " | ".join(problems)
            + ". A column left blank for a whole event type is a broken extract: send the files again "
            "with it filled in"
        )
    check_relations(con, table)
    write_rows(con, table, run.load_id)
    report_table(run, table, files)


def report_table(run: LoadRun, table: str, files: list[SourceFile]) -> None:
    counts = count_files(run.con, table)
    known = already_quarantined(run.con, table)
    unknown = unknown_types(run.con) if table == "events" else {}
    reduced = reduced_months(run.con) if table == "children" else {}
    for f in files:
        rows_in, loaded, unchanged, quarantined = counts.get(f.ord, (0, 0, 0, 0))
        # Rows quarantined before are nothing new: counted unchanged, so the totals still add up.
        seen = known.get(f.ord, 0)
        report = TableReport(
            table,
            f.path.name,
            rows_in,
            loaded,
            unchanged + seen,
            quarantined - seen,
            unknown.get(f.ord, {}),
            rows_already_quarantined=seen,
        )
        run.reports.append(report)
        if rows_in == 0:
            run.warnings.append(f"{f.path.name}: the file has a header but no rows; nothing of it was loaded")
        if reduced.get(f.ord):
            run.warnings.append(
                f"{f.path.name}: {reduced[f.ord]} birth_month value(s) were not the 1st of the month and "
                "were reduced to the month (month of birth only)"
            )
        if report.unknown_event_types:
            listed = ", ".join(f"{k} ({v})" for k, v in report.unknown_event_types.items())
            run.warnings.append(f"{f.path.name}: loaded event types the models ignore: {listed}")
        run.say(
            f"{f.path.name}: {rows_in:,} in, {loaded:,} loaded, {unchanged:,} unchanged, "
            f"{quarantined:,} quarantined"
        )


def record_loads(run: LoadRun, input_dir: Path, files: list[SourceFile], hashes: dict[int, str]) -> None:
    by_file = {r.file: r for r in run.reports}
    nothing_new = not any(r.rows_loaded or r.rows_quarantined for r in run.reports)
    for f in files:
        r = by_file[f.path.name]
        status = "loaded_with_quarantine" if r.rows_quarantined else "loaded"
        if nothing_new:
            status = "nothing_new"
        run.con.execute(
            "insert into raw.loads values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run.load_id,
                run.now,
                str(input_dir),
                f.table,
                f.path.name,
                hashes[f.ord],
                r.rows_in,
                r.rows_loaded,
                r.rows_unchanged,
                r.rows_quarantined,
                status,
            ],
        )


def plan_files(input_dir: Path) -> list[SourceFile]:
    """Every input file, inspected; refuses before anything is written."""
    put = (
        "put the files to load there: children*.csv and events*.csv (or .parquet) in the contract's "
        "columns, and population*.csv for the first load (README: Command line, docs/importing.md)"
    )
    if not input_dir.exists():
        raise LoadRefused(f"{input_dir} does not exist: create it and {put}")
    if not input_dir.is_dir():
        raise LoadRefused(f"{input_dir} is not a folder: {put}")
    found = find_files(input_dir)
    if not found:
        raise LoadRefused(f"{input_dir} holds no file to load; nothing was loaded: {put}")
    for table in ("children", "events"):
        if table not in found:
            raise LoadRefused(
                f"{input_dir} has no {table} file ({table}.csv, {table}.parquet or {table}*.csv ...); "
                "nothing was loaded"
            )
    return inspect_files(found)


def _as_local_naive(now: datetime | None) -> datetime:
    # Files carry local timestamps without zone, so "now" is compared as local wall-clock time.
    if now is None:
        return datetime.now()
    return now.astimezone().replace(tzinfo=None) if now.tzinfo else now


def run_load(run: LoadRun, input_dir: Path, files: list[SourceFile]) -> None:
    con = run.con
    tables = {f.table for f in files}
    if "population" not in tables and scalar(con, "select count(*) from raw.population") == 0:
        raise LoadRefused(
            f"{input_dir} has no population file and the warehouse has no population yet; "
            "the first load needs one (population.csv or population.parquet). Nothing was loaded"
        )
    con.execute(
        """create temp table load_files
           (file_ord integer, table_name varchar, file_name varchar, line_word varchar)"""
    )
    for f in files:
        con.execute("insert into load_files values (?, ?, ?, ?)", [f.ord, f.table, f.path.name, f.line_word])
    run.warnings.extend(missing_column_warnings(files))
    for table in TABLE_ORDER:
        table_files = [f for f in files if f.table == table]
        if table_files:
            load_table(run, table, table_files)


def _remove_database(warehouse: Path) -> None:
    for path in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
        path.unlink(missing_ok=True)


def load(
    input_dir: Path, warehouse: Path, *, now: datetime | None = None, progress: bool = False
) -> LoadReport:
    """Load one folder of contract files into the warehouse, all or nothing; see the module docstring."""
    input_dir, warehouse = Path(input_dir), Path(warehouse)
    files = plan_files(input_dir)
    hashes = {f.ord: sha256(f.path) for f in files}
    created = not warehouse.exists()
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    # Bounded memory: a national load spills to disk rather than taking the machine.
    con = duckdb.connect(str(warehouse), config=settings.duckdb_config(warehouse))
    try:
        con.execute("begin transaction")
        ensure_schema(con)
        load_id = int(scalar(con, "select coalesce(max(load_id), 0) + 1 from raw.loads"))
        run = LoadRun(con, load_id, _as_local_naive(now), Console(stderr=True) if progress else None)
        run.say(f"load {load_id} from {input_dir}")
        run_load(run, input_dir, files)
        record_loads(run, input_dir, files, hashes)
        if not any(r.rows_loaded or r.rows_quarantined for r in run.reports):
            run.warnings.append(
                f"nothing new in {input_dir}: every row is already in the warehouse or in quarantine "
                f"(load {load_id} is logged in raw.loads as nothing_new)"
            )
        con.execute("commit")
        run.say(f"load {load_id} committed")
    except BaseException:
        try:
            con.execute("rollback")
        finally:
            con.close()
        if created:
            # A refused first load leaves no empty warehouse file behind.
            _remove_database(warehouse)
        raise
    con.close()
    return LoadReport(load_id, run.reports, run.warnings)
