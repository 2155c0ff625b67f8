"""The semantic layer gives a BI tool the report's numbers: `mf query` of the headline metrics on DuckDB
equals fct_kpi_monthly, for one authority per month and pooled over two (sums of numerators and
denominators, as the national average is)."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from csc_warehouse import settings
from csc_warehouse.build import build
from csc_warehouse.generate import generate
from csc_warehouse.load import load

METRICS = ["cla_rate_per_10k", "re_referral_12m_pct", "cla_count", "assessment_45wd_pct", "cp_rate_per_10k"]


def test_every_headline_metric_names_a_kpi_of_dim_kpi() -> None:
    spec = yaml.safe_load(
        (settings.PROJECT_ROOT / "models" / "semantic" / "_semantic__models.yml").read_text()
    )
    kpis = {
        row.split(",")[0]
        for row in (settings.PROJECT_ROOT / "seeds" / "dim_kpi.csv").read_text().splitlines()
    }
    named = [m["name"] for m in spec["metrics"] if not m["name"].endswith("_sum")]
    assert len(named) >= 10
    assert set(named) <= kpis, "a metric is named after the KPI it computes"


@pytest.mark.slow
def test_mf_query_equals_fct_kpi_monthly(tmp_path: Path) -> None:
    profile = tmp_path / "two.yaml"
    profile.write_text(
        "authorities:\n  - {la_code: S1, population: 15000}\n  - {la_code: S2, population: 9000}\n"
    )
    generate(tmp_path / "in", profile=profile, years=1, seed=4, file_format="parquet")
    warehouse = tmp_path / "warehouse.duckdb"
    load(tmp_path / "in", warehouse)
    build(warehouse, select="+fct_kpi_monthly +metricflow_time_spine")

    mf = shutil.which("mf", path=str(Path(sys.executable).parent)) or "mf"
    env = {**os.environ, "CSCW_WAREHOUSE": str(warehouse), "DBT_PROFILES_DIR": str(settings.PROJECT_ROOT),
           "CSCW_TEMP_DIR": str(tmp_path / "tmp")}  # fmt: skip

    def query(out: Path, *extra: str) -> list[dict[str, str]]:
        subprocess.run(
            [mf, "query", "--metrics", ",".join(METRICS), "--group-by", "metric_time__month", *extra,
             "--start-time", "2017-04-01", "--end-time", "2018-03-31", "--csv", str(out)],
            cwd=settings.PROJECT_ROOT, env=env, check=True, capture_output=True, timeout=300,
        )  # fmt: skip
        return list(csv.DictReader(out.open()))

    one = query(tmp_path / "s1.csv", "--where", "{{ Dimension('kpi_month__la_code') }} = 'S1'")
    pooled = query(tmp_path / "all.csv")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        expected_one = {
            (str(p)[:7], k): v
            for k, p, v in con.execute(
                "select kpi_id, period_end, value from marts.fct_kpi_monthly where la_code = 'S1'"
            ).fetchall()
        }
        # Pooled: numerators and denominators summed over both authorities, then the unit applied.
        expected_pooled = {
            (str(p)[:7], k): v
            for k, p, v in con.execute(
                """select f.kpi_id, f.period_end,
                          case k.unit when 'count' then sum(f.numerator)
                                      when 'pct' then 100 * sum(f.numerator) / nullif(sum(f.denominator), 0)
                                      else 10000 * sum(f.numerator) / nullif(sum(f.denominator), 0) end
                   from marts.fct_kpi_monthly f join reference.dim_kpi k using (kpi_id)
                   group by f.kpi_id, f.period_end, k.unit"""
            ).fetchall()
        }
    for rows, expected in ((one, expected_one), (pooled, expected_pooled)):
        assert len(rows) == 12
        for row in rows:
            month = row["metric_time__month"][:7]
            for metric in METRICS:
                want = expected[(month, metric)]
                assert float(row[metric]) == pytest.approx(want, rel=1e-9, abs=1e-9), (month, metric)
