"""Benchmark the monthly refresh on 5 years of the default synthetic authority.

Generates the input into a temporary folder, then times load, dbt build and publish separately (the
same functions the flow's tasks call, without Prefect's start-up) and compares the refresh with the
60 s budget. Writes bench/results/refresh_5y.json with the machine's CPUs and memory.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from csc_warehouse.build import build
from csc_warehouse.generate import generate
from csc_warehouse.load import load
from csc_warehouse.publish import publish

BUDGET_SECONDS = 60.0
RESULTS = Path(__file__).resolve().parent / "results" / "refresh_5y.json"


def machine() -> dict:
    memory_gb = None
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    memory_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
                    break
    except OSError:
        pass
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "nproc": cpus,
        "memory_gb": memory_gb,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "duckdb": version("duckdb"),
        "dbt_core": version("dbt-core"),
        "dbt_duckdb": version("dbt-duckdb"),
        "threads": int(os.environ.get("CSCW_THREADS", "2")),
    }


def timed(label: str, func, *args, **kwargs):
    print(f"{label} ...", flush=True)
    started = time.perf_counter()
    result = func(*args, **kwargs)
    return result, time.perf_counter() - started


def rate(events: int, seconds: float) -> float:
    return round(events / seconds) if seconds > 0 else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="cscw-bench-") as tmp:
        folder = Path(tmp)
        summary, generate_s = timed(
            f"generating {args.years} years", generate, folder / "input", seed=args.seed, years=args.years
        )
        warehouse = folder / "warehouse.duckdb"
        report, load_s = timed("load", load, folder / "input", warehouse)
        built, build_s = timed("dbt build", build, warehouse)
        published, publish_s = timed("publish", publish, warehouse, folder / "serving.duckdb")

    events = summary.events
    total_s = load_s + build_s + publish_s
    results = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "years": args.years,
        "seed": args.seed,
        "children": summary.children,
        "events": events,
        "rows_in": report.rows_in,
        "rows_loaded": report.rows_loaded,
        "rows_quarantined": report.rows_quarantined,
        "models": built.models_passed,
        "tests": built.tests_passed,
        "published_tables": len(published.tables),
        "seconds": {
            "generate": round(generate_s, 2),
            "load": round(load_s, 2),
            "build": round(build_s, 2),
            "publish": round(publish_s, 2),
            "refresh_total": round(total_s, 2),
        },
        "events_per_second": {
            "generate": rate(events, generate_s),
            "load": rate(events, load_s),
            "build": rate(events, build_s),
            "refresh_total": rate(events, total_s),
        },
        "budget_seconds": BUDGET_SECONDS,
        "within_budget": total_s <= BUDGET_SECONDS,
        "machine": machine(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")

    m = results["machine"]
    print()
    print(f"{events:,} events, {summary.children:,} children, {args.years} years", end=" ")
    print(f"(generated in {generate_s:.1f} s, {rate(events, generate_s):,.0f} events/s)")
    print(f"{'step':<10}{'seconds':>10}{'events/s':>14}")
    for step, seconds in (("load", load_s), ("build", build_s), ("publish", publish_s), ("total", total_s)):
        print(f"{step:<10}{seconds:>10.1f}{rate(events, seconds):>14,.0f}")
    verdict = "within" if results["within_budget"] else "OVER"
    print(f"refresh (load + build + publish) {total_s:.1f} s: {verdict} the {BUDGET_SECONDS:.0f} s budget")
    print(f"machine: {m['nproc']} CPUs, {m['memory_gb']} GB; results in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
