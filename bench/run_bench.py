"""Benchmark the full and the monthly refresh (load + dbt build) at the sizes people run them at.

`make bench` runs the everyday sizes; `make bench-national` runs England over ten years (by hand: about
50 minutes and 60 GB of free disk; --keep-input keeps the generated input for the next run). For each
size the input is generated (Parquet, not timed as part of the refresh) and split by recorded_at: the
history is loaded one recorded year at a time and built in full, then the last month's versions are
loaded and built incrementally. Load and build are timed separately (the functions the flow's tasks
call, without Prefect's start-up), with the peak memory of the whole process tree and the warehouse's
size. Each size writes bench/results/refresh_<size>.json with the machine.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from itertools import pairwise
from pathlib import Path

import duckdb
from tree_memory import PeakTreeMemory

from csc_warehouse import settings
from csc_warehouse.build import build
from csc_warehouse.generate import generate
from csc_warehouse.load import load

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Size:
    name: str
    profile: str
    years: int
    budget_seconds: float | None = None
    budget_of: str = "refresh"  # what budget_seconds bounds: "refresh" (load + build) or "build"
    budget_memory_gb: float | None = None


SIZES: dict[str, Size] = {
    s.name: s
    for s in (
        Size("small-unitary-1y", "small-unitary", 1),
        Size("large-county-10y", "large-county", 10, budget_seconds=30.0),
        Size("region-10y", "region", 10),
        Size(
            "england-10y", "england", 10, budget_seconds=20 * 60.0, budget_of="build", budget_memory_gb=16.0
        ),
    )
}
EVERYDAY = ("small-unitary-1y", "large-county-10y", "region-10y")


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
        "memory_limit": os.environ.get("CSCW_MEMORY_LIMIT", "8GB"),
    }


def rate(events: int, seconds: float) -> int:
    return round(events / seconds) if seconds > 0 else 0


@dataclass(frozen=True)
class Input:
    authorities: int
    children: int
    events: int
    seconds: float
    peak_memory_gb: float


def generate_input(size: Size, seed: int, folder: Path, keep: bool) -> Input:
    """Generate the size's Parquet input, or reuse what a kept earlier run generated with the same
    profile, years and seed (England over ten years takes ~20 minutes to generate)."""
    marker = folder / "input" / "generated.json"
    wanted = {"profile": size.profile, "years": size.years, "seed": seed}
    if keep and marker.exists():
        kept = json.loads(marker.read_text())
        if {k: kept.get(k) for k in wanted} == wanted:
            print(f"[{size.name}] reusing the input generated in {marker.parent}", flush=True)
            return Input(**{k: kept[k] for k in Input.__dataclass_fields__})
    shutil.rmtree(folder, ignore_errors=True)
    print(f"[{size.name}] generating {size.profile}, {size.years} years ...", flush=True)
    with PeakTreeMemory() as peak:
        summary = generate(
            folder / "input", profile=size.profile, years=size.years, seed=seed, file_format="parquet"
        )
    made = Input(summary.authorities, summary.children, summary.events, summary.seconds, peak.gb)
    marker.write_text(json.dumps(wanted | made.__dict__, indent=2) + "\n")
    return made


def rebuilt_share(warehouse: Path) -> float:
    """The share of the warehouse's children that the incremental build rebuilt."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        changed, children = con.execute(
            "select (select count(*) from intermediate.int_children_changed), "
            "(select count(distinct (la_code, child_id)) from staging.stg_case__events)"
        ).fetchone()
    finally:
        con.close()
    return round(100 * changed / children, 1) if children else 0.0


def split_by_recorded_at(folder: Path, history: Path, last: Path) -> tuple[str, list[Path], int, int]:
    """Split the input by recorded_at, as the warehouse would have been filled: the versions recorded
    before the last month of the data in one load per recorded year (`history/<year>`: bounded memory
    and spill however many years), the last month's (new events, late recordings, corrections,
    deletions) in `last`. All children and the population come with the first year. Returns the first
    day of the last month, the history folders and the event versions before and in the last month."""
    for part in (history, last):
        shutil.rmtree(part, ignore_errors=True)
        part.mkdir(parents=True)
    con = duckdb.connect(config=settings.duckdb_config(folder / "split.duckdb"))
    read = {
        t: f"read_parquet('{folder / 'input' / (t + '.parquet')}')"
        for t in ("events", "children", "population")
    }
    try:
        cutoff = con.execute(
            f"select date_trunc('month', max(recorded_at)) from {read['events']}"
        ).fetchone()[0]
        years = [
            year
            for (year,) in con.execute(
                f"select distinct year(recorded_at) from {read['events']} where recorded_at < ? order by 1",
                [cutoff],
            ).fetchall()
        ]
        batches = []
        for index, year in enumerate(years):
            batch = history / str(year)
            batch.mkdir()
            first = index == 0
            parts = {
                "events": f"year(recorded_at) = {year} and recorded_at < '{cutoff}'",
                "children": f"recorded_at < '{cutoff}'" if first else "false",
                "population": "true" if first else "false",
            }
            for table, where in parts.items():
                con.execute(
                    f"copy (select * from {read[table]} where {where}) to '{batch / (table + '.parquet')}'"
                )
            batches.append(batch)
        last_parts = {
            "events": f"recorded_at >= '{cutoff}'",
            "children": f"recorded_at >= '{cutoff}'",
            "population": "false",
        }
        for table, where in last_parts.items():
            con.execute(
                f"copy (select * from {read[table]} where {where}) to '{last / (table + '.parquet')}'"
            )
        before, during = con.execute(
            f"select count(*) filter (where recorded_at < ?), count(*) filter (where recorded_at >= ?) "
            f"from {read['events']}",
            [cutoff, cutoff],
        ).fetchone()
    finally:
        con.close()
    return str(cutoff)[:10], batches, before, during


def run_size(size: Size, seed: int, work: Path, keep: bool = False) -> dict:
    folder = work / size.name
    summary = generate_input(size, seed, folder, keep)
    warehouse = folder / "warehouse.duckdb"
    warehouse.unlink(missing_ok=True)
    os.environ.setdefault("CSCW_TEMP_DIR", str(folder / "duckdb_tmp"))
    cutoff, batches, first_events, last_events = split_by_recorded_at(
        folder, folder / "history", folder / "last_month"
    )
    print(
        f"[{size.name}] {summary.events:,} events: load ({len(batches)} yearly loads) and full dbt build of "
        f"the {first_events:,} recorded before {cutoff}, then load and incremental build of the last "
        f"month's {last_events:,} ...",
        flush=True,
    )
    # As the monthly refresh builds: without dbt's unit tests (fixtures, not data; `make test` runs them).
    with PeakTreeMemory() as peak:
        started = time.perf_counter()
        rows_loaded = sum(load(batch, warehouse).rows_loaded for batch in batches)
        load_s = time.perf_counter() - started
        started = time.perf_counter()
        built = build(warehouse, unit_tests=False)
        build_s = time.perf_counter() - started
    with PeakTreeMemory() as incremental_peak:
        started = time.perf_counter()
        load(folder / "last_month", warehouse)
        incremental_load_s = time.perf_counter() - started
        started = time.perf_counter()
        build(warehouse, unit_tests=False)
        incremental_build_s = time.perf_counter() - started
    children_rebuilt = rebuilt_share(warehouse)
    total_s = load_s + build_s
    events = first_events
    budgeted_s = total_s if size.budget_of == "refresh" else build_s
    within = (size.budget_seconds is None or budgeted_s <= size.budget_seconds) and (
        size.budget_memory_gb is None or max(peak.gb, incremental_peak.gb) <= size.budget_memory_gb
    )
    result = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "size": size.name,
        "profile": size.profile,
        "years": size.years,
        "seed": seed,
        "authorities": summary.authorities,
        "children": summary.children,
        "events": events,  # loaded by the full build: all but the last month's versions
        "events_generated": summary.events,
        "rows_loaded": rows_loaded,
        "history_loads": len(batches),
        "last_month": {
            "recorded_from": cutoff,
            "event_versions": last_events,
            "children_rebuilt_pct": children_rebuilt,
            "load_seconds": round(incremental_load_s, 2),
            "build_seconds": round(incremental_build_s, 2),
            "build_vs_full_pct": round(100 * incremental_build_s / build_s, 1),
            "peak_tree_memory_gb": incremental_peak.gb,
        },
        "models": built.models_passed,
        "tests": built.tests_passed,
        "seconds": {
            "generate": round(summary.seconds, 2),
            "load": round(load_s, 2),
            "build": round(build_s, 2),
            "refresh": round(total_s, 2),
        },
        "events_per_second": {
            "generate": rate(events, summary.seconds),
            "load": rate(events, load_s),
            "build": rate(events, build_s),
            "refresh": rate(events, total_s),
        },
        "peak_tree_memory_gb": peak.gb,
        "generate_peak_tree_memory_gb": summary.peak_memory_gb,
        "warehouse_mb": round(warehouse.stat().st_size / 1024**2, 1),
        "budget": {"seconds": size.budget_seconds, "of": size.budget_of, "memory_gb": size.budget_memory_gb},
        "within_budget": within,
        "machine": machine(),
    }
    if keep:
        warehouse.unlink(missing_ok=True)
    else:
        shutil.rmtree(folder, ignore_errors=True)
    return result


def print_table(results: list[dict]) -> None:
    head = f"{'size':<18}{'events':>13}{'load s':>9}{'build s':>9}{'refresh s':>11}{'events/s':>11}"
    print()
    print(head + f"{'peak GB':>9}{'wh MB':>9}  budget")
    for r in results:
        budget = r["budget"]
        words = []
        if budget["seconds"]:
            words.append(f"{budget.get('of', 'refresh')} <{budget['seconds']:.0f} s")
        if budget["memory_gb"]:
            words.append(f"<{budget['memory_gb']:.0f} GB")
        verdict = ("within " if r["within_budget"] else "OVER ") + " ".join(words) if words else "-"
        s = r["seconds"]
        print(
            f"{r['size']:<18}{r['events']:>13,}{s['load']:>9.1f}{s['build']:>9.1f}{s['refresh']:>11.1f}"
            f"{r['events_per_second']['refresh']:>11,}{r['peak_tree_memory_gb']:>9.2f}{r['warehouse_mb']:>9,.0f}"
            f"  {verdict}"
        )
    print()
    print("the last month's versions, loaded and built incrementally:")
    for r in results:
        last = r.get("last_month")
        if last:
            print(
                f"{r['size']:<18}{last['event_versions']:>13,} versions: load {last['load_seconds']:.1f} s, "
                f"build {last['build_seconds']:.1f} s = {last['build_vs_full_pct']:.1f}% of the full build "
                f"({last['children_rebuilt_pct']:.1f}% of children rebuilt), "
                f"peak {last['peak_tree_memory_gb']:.2f} GB"
            )
    # Each size against the one before: below 1.0 per unit of data is better than linear (dbt's fixed
    # start-up of ~10 s dominates the small sizes).
    for base, r in pairwise(results):
        ratio_events = r["events"] / base["events"]
        ratio_time = r["seconds"]["refresh"] / base["seconds"]["refresh"]
        print(
            f"{r['size']} / {base['size']}: {ratio_events:.1f}x the events in {ratio_time:.1f}x the time "
            f"({ratio_time / ratio_events:.2f} per unit of data: 1.0 is linear)"
        )
    m = machine()
    print(
        f"machine: {m['nproc']} CPUs, {m['memory_gb']} GB, DuckDB {m['duckdb']}, "
        f"memory_limit {m['memory_limit']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default=",".join(EVERYDAY), help=f"comma-separated, of: {', '.join(SIZES)}"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--work-dir", type=Path, default=None, help="where to generate (default: a temp folder)"
    )
    parser.add_argument(
        "--keep-input",
        action="store_true",
        help="keep the generated input in --work-dir and reuse it on the next run (same size and seed)",
    )
    args = parser.parse_args(argv)
    if args.keep_input and args.work_dir is None:
        parser.error("--keep-input needs --work-dir")
    names = [n.strip() for n in args.sizes.split(",") if n.strip()]
    unknown = [n for n in names if n not in SIZES]
    if unknown:
        parser.error(f"unknown size(s) {', '.join(unknown)}; known: {', '.join(SIZES)}")

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    results = []
    with contextlib.ExitStack() as stack:
        if args.keep_input:
            work = args.work_dir
            work.mkdir(parents=True, exist_ok=True)
        else:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="cscw-bench-", dir=args.work_dir))
            work = Path(tmp)
        for name in names:
            result = run_size(SIZES[name], args.seed, work, args.keep_input)
            (RESULTS_DIR / f"refresh_{name}.json").write_text(json.dumps(result, indent=2) + "\n")
            results.append(result)
    print_table(results)
    return 0 if all(r["within_budget"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
