"""`cscw export`: every served table as a CSV Excel opens cleanly, or as Parquet, with every row."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from csc_warehouse.exports import ExportError, export_tables


def serving(tmp_path: Path) -> Path:
    path = tmp_path / "serving.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts; create schema reference")
        con.execute(
            "create table marts.fct_kpi_monthly as select 'E1' as la_code, 'cla_count' as kpi_id, 3.0 as v"
        )
        con.execute("insert into marts.fct_kpi_monthly values ('E2', 'cla_count', 5.0)")
        con.execute(
            "create table reference.dim_kpi as select 'cla_count' as kpi_id, 'Looked after £' as kpi_name"
        )
    return path


def test_csv_export_has_a_bom_a_header_and_every_row(tmp_path: Path) -> None:
    written = export_tables(serving(tmp_path), tmp_path / "out")
    assert [p.name for p in written] == ["marts.fct_kpi_monthly.csv", "reference.dim_kpi.csv"]
    raw = written[0].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.decode("utf-8-sig").splitlines() == [
        "la_code,kpi_id,v",
        "E1,cla_count,3.0",
        "E2,cla_count,5.0",
    ]
    assert "Looked after £" in written[1].read_text(encoding="utf-8-sig")
    assert not list((tmp_path / "out").glob("*.tmp*"))


def test_parquet_export(tmp_path: Path) -> None:
    written = export_tables(serving(tmp_path), tmp_path / "out", file_format="parquet")
    assert pq.read_table(written[0]).to_pydict() == {
        "la_code": ["E1", "E2"],
        "kpi_id": ["cla_count"] * 2,
        "v": [3.0, 5.0],
    }


def test_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="run `cscw refresh` first"):
        export_tables(tmp_path / "nope.duckdb", tmp_path / "out")
    with pytest.raises(ExportError, match="format must be one of csv, parquet"):
        export_tables(serving(tmp_path), tmp_path / "out", file_format="xlsx")
