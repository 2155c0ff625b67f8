"""Reading quarantine.rows back: the rows a load rejected, with their reasons, counted by reason, listed,
and exported to CSV (`cscw quarantine`). Read-only: quarantine is append-only and the loader owns it."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import duckdb

__all__ = ["EXPORT_COLUMNS", "QuarantineError", "ReasonCount", "count_by_reason", "export_rows", "list_rows"]

# Rows quarantined before reason codes were kept have none: they are grouped under this word.
UNCLASSIFIED = "unclassified"
EXPORT_COLUMNS: tuple[str, ...] = (
    "load_id",
    "table_name",
    "file_name",
    "source_line",
    "column_name",
    "reason_code",
    "reason",
    "record_json",
)


class QuarantineError(ValueError):
    """The warehouse cannot be read as asked (no such file, or nothing loaded yet)."""


@dataclass(frozen=True)
class ReasonCount:
    table_name: str
    reason_code: str
    column_name: str | None
    rows: int  # quarantine rows (one per reason; a row with two problems counts in both)
    loads: str  # the loads they came from, e.g. "1" or "1-3"


def _where(load_id: int | None, reason: str | None) -> tuple[str, list[object]]:
    clauses, params = ["true"], []
    if load_id is not None:
        clauses.append("load_id = ?")
        params.append(load_id)
    if reason:
        # A reason code exactly, or words of the reason.
        clauses.append("(reason_code = ? or reason ilike ?)")
        params += [reason, f"%{reason}%"]
    return " and ".join(clauses), params


def _connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    if not Path(warehouse).is_file():
        raise QuarantineError(f"{warehouse} not found: load files first (`cscw load DIR --warehouse FILE`)")
    con = duckdb.connect(str(warehouse), read_only=True)
    found = con.execute(
        "select count(*) from duckdb_tables() where schema_name = 'quarantine' and table_name = 'rows'"
    ).fetchall()[0][0]
    if not found:
        con.close()
        raise QuarantineError(f"{warehouse} has no quarantine.rows: nothing has been loaded into it yet")
    return con


def _rows_sql(con: duckdb.DuckDBPyConnection) -> str:
    """quarantine.rows with a reason_code for every row (older warehouses have no such column)."""
    columns = {r[0] for r in con.execute("describe quarantine.rows").fetchall()}
    code = f"coalesce(reason_code, '{UNCLASSIFIED}')" if "reason_code" in columns else f"'{UNCLASSIFIED}'"
    return (
        "select load_id, table_name, file_name, source_line, column_name, reason, record_json, "
        f"{code} as reason_code from quarantine.rows"
    )


def count_by_reason(
    warehouse: Path, *, load_id: int | None = None, reason: str | None = None
) -> list[ReasonCount]:
    """Quarantine rows per table, reason code and column, most first."""
    con = _connect(warehouse)
    try:
        where, params = _where(load_id, reason)
        rows = con.execute(
            f"""select table_name, reason_code, column_name, count(*),
                       case when min(load_id) = max(load_id) then min(load_id)::varchar
                            else min(load_id)::varchar || '-' || max(load_id)::varchar end
                from ({_rows_sql(con)}) q
                where {where}
                group by all order by 4 desc, 1, 2, 3""",
            params,
        ).fetchall()
    finally:
        con.close()
    return [ReasonCount(*r) for r in rows]


def list_rows(
    warehouse: Path, *, load_id: int | None = None, reason: str | None = None, limit: int | None = None
) -> list[dict[str, object]]:
    """The quarantine rows themselves, in load, file and line order (at most `limit`)."""
    con = _connect(warehouse)
    try:
        where, params = _where(load_id, reason)
        sql = f"""select {", ".join(EXPORT_COLUMNS)} from ({_rows_sql(con)}) q where {where}
                  order by load_id, table_name, file_name, source_line, column_name"""
        if limit is not None:
            sql += f" limit {int(limit)}"
        result = con.execute(sql, params)
        names = [d[0] for d in result.description]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]
    finally:
        con.close()


def export_rows(warehouse: Path, out: Path, *, load_id: int | None = None, reason: str | None = None) -> int:
    """Write every matching quarantine row to `out` (UTF-8 CSV with a byte-order mark, for Excel);
    returns the number of rows written."""
    rows = list_rows(warehouse, load_id=load_id, reason=reason)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(EXPORT_COLUMNS), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)
