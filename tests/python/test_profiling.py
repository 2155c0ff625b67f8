"""`cscw build --profile DIR`: per-node timings, slowest first, and EXPLAIN ANALYZE of the slowest models."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb

from csc_warehouse.profiling import write_profile


def test_timings_sorted_and_slowest_models_explained(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts; create table marts.big as select range as n from range(1000)")
    target = tmp_path / "target"
    target.mkdir()
    nodes = {
        "model.p.fast": {"name": "fast", "resource_type": "model", "schema": "marts", "alias": "big",
                         "compiled_code": "select count(*) from marts.big"},
        "model.p.slow": {"name": "slow", "resource_type": "model", "schema": "marts", "alias": "big",
                         "compiled_code": "select sum(n) from marts.big"},
        "test.p.t": {"name": "t", "resource_type": "test", "schema": "marts", "alias": "t",
                     "compiled_code": "select 1"},
    }  # fmt: skip
    results = [
        {"unique_id": "model.p.fast", "status": "success", "execution_time": 0.5},
        {"unique_id": "model.p.slow", "status": "success", "execution_time": 2.25},
        {"unique_id": "test.p.t", "status": "pass", "execution_time": 1.0},
    ]
    (target / "manifest.json").write_text(json.dumps({"nodes": nodes}))
    (target / "run_results.json").write_text(json.dumps({"results": results}))

    timings = write_profile(warehouse, tmp_path / "profile", explain=1, target_dir=target)

    assert [t.name for t in timings] == ["slow", "t", "fast"]
    rows = list(csv.DictReader((tmp_path / "profile" / "timings.csv").open()))
    assert [(r["name"], r["seconds"]) for r in rows] == [("slow", "2.250"), ("t", "1.000"), ("fast", "0.500")]
    explained = sorted(p.name for p in (tmp_path / "profile").glob("explain_*.txt"))
    assert explained == ["explain_slow.txt"], "only the slowest model, and never a test"
    plan = (tmp_path / "profile" / "explain_slow.txt").read_text()
    assert plan.startswith("-- slow: 2.25 s in the build") and "Total Time" in plan
