"""Exports of the served marts for people who work in Excel or load files: one CSV or Parquet file per
table of the serving file (the documented marts and reference tables, aggregate only), written with
DuckDB's COPY. CSVs are UTF-8 with a byte-order mark so Excel reads the accents and pound signs right."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

__all__ = ["ExportError", "export_tables"]

FORMATS = ("csv", "parquet")


class ExportError(ValueError):
    """The export cannot be made as asked."""


def export_tables(serving: Path, out_dir: Path, *, file_format: str = "csv") -> list[Path]:
    """Write <schema>.<table>.<csv|parquet> for every table of the serving file; returns the files."""
    if file_format not in FORMATS:
        raise ExportError(f"format must be one of {', '.join(FORMATS)}, not {file_format!r}")
    if not Path(serving).is_file():
        raise ExportError(f"{serving} not found: run `cscw refresh` first (it publishes the serving file)")
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with duckdb.connect(str(serving), read_only=True) as con:
        tables = con.execute(
            """select table_schema, table_name from information_schema.tables
               where table_catalog = current_database() order by 1, 2"""
        ).fetchall()
        for schema, table in tables:
            path = out_dir / f"{schema}.{table}.{file_format}"
            tmp = path.with_name(path.name + ".tmp")
            source = f'"{schema}"."{table}"'
            if file_format == "csv":
                # COPY writes no BOM: write it first, then append the CSV.
                con.execute(f"copy {source} to '{tmp}.body' (header, delimiter ',')")
                with tmp.open("wb") as f, open(f"{tmp}.body", "rb") as body:
                    f.write("\ufeff".encode())
                    f.write(body.read())
                os.remove(f"{tmp}.body")
            else:
                con.execute(f"copy {source} to '{tmp}' (format parquet, compression zstd)")
            os.replace(tmp, path)
            written.append(path)
    return written
