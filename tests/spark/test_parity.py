"""Parity: `dbt build --target spark` gives the same fct_kpi_monthly as DuckDB, row for row.

Three small authorities over three years (tests/spark/parity.yaml; the generator's corrections and
tombstones included) are generated, loaded into DuckDB (which quarantines bad rows) and built there;
raw.* is exported to Parquet and the same models are built on Spark in local mode. Every row of Spark's
fct_kpi_monthly must match DuckDB's: the same keys, unit and period type, counts exact, and numerators,
denominators and values within 1e-9 (sums of doubles may be added in another order).

Run by `make test-spark` (not by `make test`: it needs Java 17+ and .venv-spark). The timings of both
builds are written to <work dir>/timings.json and printed.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from csc_warehouse import spark_engine
from csc_warehouse.build import build
from csc_warehouse.generate import generate
from csc_warehouse.load import load

PROFILE = Path(__file__).with_name("parity.yaml")
YEARS = 3
SELECT = "+fct_kpi_monthly"
KEYS = ("la_code", "kpi_id", "period_end")
LABELS = ("unit", "period_type", "as_of_date")
FIGURES = ("numerator", "denominator", "value")
TOLERANCE = 1e-9


@dataclass
class Parity:
    work: Path
    warehouse: Path
    dirs: spark_engine.SparkDirs
    timings: dict[str, float]


@pytest.fixture(scope="module")
def parity() -> Iterator[Parity]:
    try:
        spark_engine.check_java()
        spark_engine.dbt_executable()
    except spark_engine.SparkUnavailable as exc:
        pytest.fail(str(exc))
    work = Path(tempfile.mkdtemp(prefix="spark-parity-"))
    warehouse = work / "warehouse.duckdb"
    dirs = spark_engine.SparkDirs(work / "spark")
    timings: dict[str, float] = {}

    started = time.perf_counter()
    summary = generate(work / "input", profile=PROFILE, years=YEARS, file_format="parquet")
    timings["generate_s"] = time.perf_counter() - started
    started = time.perf_counter()
    load(work / "input", warehouse)
    timings["load_s"] = time.perf_counter() - started
    timings["duckdb_build_s"] = build(warehouse, select=SELECT).seconds
    started = time.perf_counter()
    spark_result = spark_engine.build(warehouse, dirs=dirs, select=SELECT)
    timings["spark_build_s"] = time.perf_counter() - started  # includes the Parquet export
    timings["spark_dbt_s"] = spark_result.seconds
    timings["events"] = summary.events
    timings["children"] = summary.children
    (work / "timings.json").write_text(json.dumps(timings, indent=2))
    print(f"\nparity dataset and timings ({work}):\n{json.dumps(timings, indent=2)}")
    yield Parity(work, warehouse, dirs, timings)
    shutil.rmtree(work, ignore_errors=True)


def _rows(con: duckdb.DuckDBPyConnection, relation: str) -> dict[tuple, dict]:
    columns = (*KEYS, *LABELS, *FIGURES)
    query = f"select {', '.join(columns)} from {relation}"
    return {row[: len(KEYS)]: dict(zip(columns, row, strict=True)) for row in con.execute(query).fetchall()}


def _same(left: float | None, right: float | None) -> bool:
    if left is None or right is None:
        return left is None and right is None
    return math.isclose(left, right, rel_tol=TOLERANCE, abs_tol=TOLERANCE)


def test_fct_kpi_monthly_is_identical_on_spark(parity: Parity) -> None:
    con = duckdb.connect(str(parity.warehouse), read_only=True)
    try:
        duck = _rows(con, "marts.fct_kpi_monthly")
        spark = _rows(con, spark_engine.parquet_scan(parity.dirs, "marts", "fct_kpi_monthly"))
    finally:
        con.close()

    assert len(duck) > 1000, "the parity dataset is too small to mean anything"
    only_duck, only_spark = set(duck) - set(spark), set(spark) - set(duck)
    assert not only_duck and not only_spark, (
        f"keys differ: {len(only_duck)} only on DuckDB, {len(only_spark)} only on Spark"
    )
    mismatches = []
    for key, row in duck.items():
        other = spark[key]
        for column in LABELS:
            if row[column] != other[column]:
                mismatches.append((key, column, row[column], other[column]))
        for column in FIGURES:
            if not _same(row[column], other[column]):
                mismatches.append((key, column, row[column], other[column]))
        # Counts are whole numbers on both engines: no tolerance for them.
        if row["unit"] in ("count", "pct", "rate10k") and row["numerator"] != other["numerator"]:
            mismatches.append((key, "numerator (count)", row["numerator"], other["numerator"]))
    assert not mismatches, f"{len(mismatches)} mismatches, first: {mismatches[:10]}"


def test_every_kpi_has_figures(parity: Parity) -> None:
    """Parity on zeros proves little: every KPI must have a non-zero numerator in some month."""
    con = duckdb.connect(str(parity.warehouse), read_only=True)
    try:
        empty = con.execute(
            """select kpi_id from marts.fct_kpi_monthly group by kpi_id
               having coalesce(max(abs(numerator)), 0) = 0 order by kpi_id"""
        ).fetchall()
        tombstones = con.execute("select count(*) from raw.events where is_deleted").fetchall()[0][0]
        corrections = con.execute(
            "select count(*) from (select la_code, event_id from raw.events group by all having count(*) > 1)"
        ).fetchall()[0][0]
    finally:
        con.close()
    assert tombstones > 0 and corrections > 0, "the dataset must hold corrections and tombstones"
    assert not empty, f"KPIs without any figure: {[kpi for (kpi,) in empty]}"
