"""Months as first reported in one build equal the direct way of computing them, month by month.

The direct way is the definition (case-events.md "Snapshots and revisions"): build every model from the
event versions recorded by the end of the month's cut-off day (var as_of) and read that month's row.
The warehouse instead computes every due month in one incremental build from the revised children
(as_reported.py). On a generated authority, whose late recordings, corrections and deletions reach
back over several months, both must give the same numerator, denominator and value for every KPI of
every published month.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from csc_warehouse import as_reported
from csc_warehouse import generate as generating
from csc_warehouse.build import build
from csc_warehouse.load import load

MONTHS = 3


def figures(warehouse: Path, sql: str) -> set[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {tuple(row) for row in con.execute(sql).fetchall()}


@pytest.mark.slow
def test_one_build_equals_a_build_as_known_at_each_cut_off(tmp_path):
    inputs = tmp_path / "inputs"
    generating.generate(inputs, seed=11, years=1, population=6_000)
    warehouse = tmp_path / "warehouse.duckdb"
    load(inputs, warehouse)
    build(warehouse, unit_tests=False)
    months = as_reported.due(warehouse, recent_months=MONTHS)
    assert len(months) == MONTHS

    result = as_reported.publish(warehouse, months)
    assert result.rows > 0
    published = figures(
        warehouse,
        "select la_code, kpi_id, period_end, numerator, denominator, value from marts.fct_kpi_published",
    )

    # Late versions exist, so the months' figures as first reported differ from the latest ones.
    latest = figures(
        warehouse,
        "select la_code, kpi_id, period_end, numerator, denominator, value from marts.fct_kpi_monthly "
        f"where period_end in ({', '.join(repr(m.period_end.isoformat()) for m in months)})",
    )
    assert published != latest

    expected: set[tuple] = set()
    for month in months:
        known_then = tmp_path / f"as_of_{month.period_end:%Y%m}" / "warehouse.duckdb"
        known_then.parent.mkdir()
        shutil.copyfile(warehouse, known_then)
        build(
            known_then,
            select="stg_case__events+,+fct_kpi_monthly",
            vars={
                "as_of": month.cutoff_date.isoformat(),
                "reporting_months_from": month.period_end.isoformat(),
            },
            full_refresh=True,
            unit_tests=False,
        )
        expected |= figures(
            known_then,
            "select la_code, kpi_id, period_end, numerator, denominator, value from marts.fct_kpi_monthly "
            f"where period_end = '{month.period_end.isoformat()}'",
        )
    assert len(expected) == len(published)
    assert published == expected
