"""Benchmark the generator on the `england` profile: 153 authorities streamed to Parquet.

Prints events, seconds, events per second and the peak memory of the whole process tree (the
generator's worker processes included), checks them against the budget (one year in under 3 minutes
and 4 GB on a 2-core machine) and writes bench/results/generate_england_<years>y.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from run_bench import machine
from tree_memory import PeakTreeMemory

from csc_warehouse.generate import generate

BUDGET_SECONDS = 180.0
BUDGET_GB = 4.0
RESULTS_DIR = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="england")
    parser.add_argument("--years", type=int, default=1)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)

    print(f"generating {args.profile}, {args.years} year(s), to Parquet ...", flush=True)
    with tempfile.TemporaryDirectory(prefix="cscw-bench-gen-") as tmp, PeakTreeMemory() as peak:
        started = time.perf_counter()
        summary = generate(
            Path(tmp), profile=args.profile, years=args.years, seed=args.seed, file_format="parquet"
        )
        seconds = time.perf_counter() - started
        size_mb = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 1024**2

    within = seconds <= BUDGET_SECONDS and peak.gb <= BUDGET_GB
    results = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "profile": args.profile,
        "years": args.years,
        "emitted_years": args.years + 1,  # one burn-in year before the reported window
        "seed": args.seed,
        "authorities": summary.authorities,
        "children": summary.children,
        "events": summary.events,
        "parquet_mb": round(size_mb, 1),
        "seconds": round(seconds, 1),
        "events_per_second": round(summary.events / seconds),
        "peak_tree_memory_gb": peak.gb,
        "budget": {"seconds": BUDGET_SECONDS, "memory_gb": BUDGET_GB},
        "within_budget": within,
        "machine": machine(),
    }
    out = RESULTS_DIR / f"generate_{args.profile}_{args.years}y.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(
        f"{summary.events:,} events, {summary.children:,} children, {summary.authorities} authorities: "
        f"{seconds:.1f} s, {results['events_per_second']:,} events/s, peak {peak.gb} GB (process tree), "
        f"{size_mb:,.0f} MB Parquet"
    )
    verdict = "within" if within else "OVER"
    print(f"{verdict} the budget of {BUDGET_SECONDS:.0f} s and {BUDGET_GB:.0f} GB; results in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
