"""Serve the warehouse: copy its `marts` and `reference` schemas into the file BI tools read, atomically.

("serve" is writing the serving file; "publish" is recording months as first reported, as_reported.py.)

The copy is written to a new file beside the serving path in DuckDB 1.5 storage format (most BI drivers
bundle DuckDB 1.5, which cannot open files written in the 2.0 format), checkpointed and closed, then
moved over the serving file with `os.replace`: readers see the old file or the new one, never a half
written one, and a reader already open keeps reading the old copy.

Child-level relations are never served: a table or view with a `child_id` column (fct_child_month) stays
in the warehouse for analysts. Everything served is aggregate (fct_kpi_monthly, fct_kpi_published,
rpt_scorecard, rpt_population_breakdowns, ...) or reference data.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

SERVED_SCHEMAS: tuple[str, ...] = ("marts", "reference")
CHILD_LEVEL_COLUMN = "child_id"  # a relation with this column holds one row per child: never served
STORAGE_COMPATIBILITY_VERSION = "v1.5.0"


class ServeFailed(RuntimeError):
    """Nothing was served; the serving file is as it was."""


@dataclass
class ServeResult:
    serving: Path
    tables: dict[str, int] = field(default_factory=dict)  # "schema.table" -> rows
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "serving": str(self.serving),
            "tables": dict(self.tables),
            "rows": sum(self.tables.values()),
            "seconds": round(self.seconds, 2),
        }


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _remove(*paths: Path) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _copy(con: duckdb.DuckDBPyConnection, source: str, schemas: tuple[str, ...]) -> dict[str, int]:
    target = con.sql("select current_database()").fetchall()[0][0]
    wanted = ", ".join(_literal(s) for s in schemas)
    db = _literal(source)
    child_level = f"""
        select schema_name, table_name from duckdb_columns()
        where database_name = {db} and column_name = {_literal(CHILD_LEVEL_COLUMN)}
    """
    relations = con.sql(
        f"""
        select schema_name, table_name, comment from duckdb_tables()
        where database_name = {db} and schema_name in ({wanted})
            and (schema_name, table_name) not in ({child_level})
        union all
        select schema_name, view_name, comment from duckdb_views()
        where database_name = {db} and schema_name in ({wanted}) and not internal
            and (schema_name, view_name) not in ({child_level})
        order by 1, 2
        """
    ).fetchall()
    if not relations:
        schemas_sql = f"select schema_name from duckdb_schemas() where database_name = {db}"
        present = sorted(row[0] for row in con.sql(schemas_sql).fetchall())
        raise ServeFailed(
            f"the warehouse has no table in schemas {', '.join(schemas)} (schemas present: "
            f"{', '.join(present) or 'none'}); run the dbt build first"
        )
    served = {(schema, table) for schema, table, _ in relations}
    column_comments = [
        row
        for row in con.sql(
            f"""
            select schema_name, table_name, column_name, comment from duckdb_columns()
            where database_name = {db} and schema_name in ({wanted}) and comment is not null and comment <> ''
            """
        ).fetchall()
        if (row[0], row[1]) in served
    ]

    copied: dict[str, int] = {}
    for schema in sorted({schema for schema, _, _ in relations}):
        con.execute(f"create schema {_ident(target)}.{_ident(schema)}")
    for schema, table, comment in relations:
        # Views become tables: the serving file holds no staging or intermediate models to point at.
        destination = f"{_ident(target)}.{_ident(schema)}.{_ident(table)}"
        origin = f"{_ident(source)}.{_ident(schema)}.{_ident(table)}"
        con.execute(f"create table {destination} as select * from {origin}")
        if comment:
            con.execute(f"comment on table {destination} is {_literal(comment)}")
        copied[f"{schema}.{table}"] = con.sql(f"select count(*) from {destination}").fetchall()[0][0]
    for schema, table, column, comment in column_comments:
        con.execute(
            f"comment on column {_ident(target)}.{_ident(schema)}.{_ident(table)}.{_ident(column)} "
            f"is {_literal(comment)}"
        )
    return copied


def serve(
    warehouse: Path,
    serving: Path,
    *,
    schemas: tuple[str, ...] = SERVED_SCHEMAS,
) -> ServeResult:
    """Copy every table (and view, as a table) of `schemas` from `warehouse` into `serving`, atomically."""
    started = time.perf_counter()
    warehouse = Path(warehouse).resolve()
    serving = Path(serving).resolve()
    if not warehouse.is_file():
        raise ServeFailed(f"warehouse not found: {warehouse}")
    if warehouse == serving:
        raise ServeFailed("the serving file must not be the warehouse itself")
    serving.parent.mkdir(parents=True, exist_ok=True)
    # Same folder as the serving file, so os.replace stays on one filesystem (atomic).
    staging = serving.with_name(f".{serving.stem}.{os.getpid()}.serving.duckdb")
    _remove(staging, _wal(staging))
    try:
        config = {"storage_compatibility_version": STORAGE_COMPATIBILITY_VERSION}
        con = duckdb.connect(str(staging), config=config)
        try:
            # Attached under its own name: dbt's views name their parents "<file stem>"."schema"."model".
            source = warehouse.stem
            con.execute(f"attach {_literal(str(warehouse))} as {_ident(source)} (read_only)")
            tables = _copy(con, source, schemas)
            con.execute(f"detach {_ident(source)}")
            con.execute("checkpoint")
        finally:
            con.close()
        if _wal(staging).exists():
            raise ServeFailed(f"{staging} still has a write-ahead log after checkpoint and close")
        # A stale WAL beside the serving file would be replayed onto the new file: drop it first.
        _remove(_wal(serving))
        os.replace(staging, serving)
    except BaseException:
        _remove(staging, _wal(staging))
        raise
    return ServeResult(serving=serving, tables=tables, seconds=time.perf_counter() - started)


def storage_version(path: Path) -> str:
    """The storage version tag DuckDB reports for a database file (e.g. 'v1.5.0+')."""
    con = duckdb.connect()
    try:
        con.execute(f"attach {_literal(str(Path(path).resolve()))} as f (read_only)")
        tags = con.sql("select tags from duckdb_databases() where database_name = 'f'").fetchall()[0][0]
        return dict(tags or {}).get("storage_version", "")
    finally:
        con.close()
