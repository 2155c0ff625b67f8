"""Where a build's time goes: per-model timings from dbt's run_results.json and DuckDB's EXPLAIN ANALYZE of
the slowest models, written to a folder (`cscw build --profile DIR`)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb

from csc_warehouse import settings

__all__ = ["ModelTiming", "write_profile"]


@dataclass(frozen=True)
class ModelTiming:
    unique_id: str
    name: str
    resource_type: str
    status: str
    seconds: float
    relation: str | None  # schema.name of a model's table or view
    compiled_sql: str | None


def read_timings(target_dir: Path) -> list[ModelTiming]:
    """Every node of the last dbt invocation, slowest first, with its compiled SQL where it has one."""
    results = json.loads((target_dir / "run_results.json").read_text())
    manifest = json.loads((target_dir / "manifest.json").read_text())
    nodes = manifest.get("nodes", {})
    out = []
    for result in results.get("results", []):
        uid = result["unique_id"]
        node = nodes.get(uid, {})
        relation = f"{node['schema']}.{node['alias']}" if node.get("resource_type") == "model" else None
        out.append(
            ModelTiming(
                unique_id=uid,
                name=node.get("name", uid.split(".")[-1]),
                resource_type=node.get("resource_type", uid.split(".")[0]),
                status=str(result.get("status")),
                seconds=float(result.get("execution_time") or 0.0),
                relation=relation,
                compiled_sql=node.get("compiled_code") or result.get("compiled_code"),
            )
        )
    return sorted(out, key=lambda t: t.seconds, reverse=True)


def write_profile(
    warehouse: Path, out_dir: Path, *, explain: int = 3, target_dir: Path | None = None
) -> Path:
    """Write timings.csv (every node) and explain_<model>.txt (EXPLAIN ANALYZE of the `explain` slowest
    models, re-run read-only on the built warehouse); returns timings.csv."""
    target_dir = target_dir or settings.PROJECT_ROOT / "target"
    timings = read_timings(target_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "timings.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(("name", "resource_type", "status", "seconds"))
        writer.writerows((t.name, t.resource_type, t.status, f"{t.seconds:.3f}") for t in timings)
    slowest = [t for t in timings if t.resource_type == "model" and t.compiled_sql][:explain]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for timing in slowest:
            plan = con.execute(f"explain analyze {timing.compiled_sql}").fetchall()
            text = "\n".join(str(row[-1]) for row in plan)
            (out_dir / f"explain_{timing.name}.txt").write_text(
                f"-- {timing.name}: {timing.seconds:.2f} s in the build\n{text}\n", encoding="utf-8"
            )
    return timings
