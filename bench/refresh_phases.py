"""Where every second of `cscw refresh` goes, at each everyday size, and the budgets of the refresh.

For each size the input is generated (Parquet, not timed) and split by recorded_at into the history
(everything recorded before the data's last month) and the last month. Then, on an empty warehouse:

- **as a user runs it**: `cscw refresh --input history` (the whole Prefect flow, in its own process),
  then `cscw refresh --input last_month` (the monthly refresh), each timed from outside, wall clock.
  The process writes its phases (csc_warehouse.timings, $CSCW_TIMINGS_FILE): the gates and dbt's
  start-up, models and tests are recorded by the library; load, publication of months, serving copy
  and reports once the flow wraps them in `timings.phase`, and until then each task's time is read
  from Prefect's log of the same run (from the previous task's end to its own), as is Prefect's start
  (from the launch, imports included, to the flow's first line).
- with `--phase-by-phase`, also the same two refreshes in this process, calling the functions the
  flow's tasks call, in order, each timed: the refresh without Prefect.

Prefect's fixed cost is also timed apart: a flow of one empty task, less the same imports alone.
"other" is what the user's run took beyond its phases (Prefect's bookkeeping around each task,
stopping its temporary server, the interpreter's exit). Budgets (issue 19; PASS or FAIL, printed at the end):
large county 10 years: whole refresh <= 3x its dbt models and < 60 s; small unitary: < 15 s;
publishing the months due on a fresh warehouse < 20% of the full dbt build; region, monthly refresh
(its phases, without Prefect's start) < 10% of the full dbt build.
Results: bench/results/phases_<size>.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
from run_bench import SIZES, generate_input, machine

from csc_warehouse import as_reported, settings, timings, validate
from csc_warehouse.build import build
from csc_warehouse.load import load
from csc_warehouse.report_files import write_scorecard_report
from csc_warehouse.serve import serve

RESULTS_DIR = Path(__file__).resolve().parent / "results"
EVERYDAY = ("small-unitary-1y", "large-county-10y", "region-10y")
COLUMNS = ("prefect start", *timings.PHASES[1:], "other")
BIN = Path(sys.executable).parent


def split_history(folder: Path) -> tuple[Path, Path, str, int, int]:
    """history/ (recorded before the last month of the data, with all population rows) and
    last_month/: (history, last month, first day of the last month, versions in each)."""
    history, last = folder / "history", folder / "last_month"
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
        for table, source in read.items():
            before = "true" if table == "population" else f"recorded_at < '{cutoff}'"
            con.execute(f"copy (select * from {source} where {before}) to '{history / (table + '.parquet')}'")
            if table != "population":
                con.execute(
                    f"copy (select * from {source} where recorded_at >= '{cutoff}') "
                    f"to '{last / (table + '.parquet')}'"
                )
        counts = con.execute(
            f"select count(*) filter (where recorded_at < ?), count(*) filter (where recorded_at >= ?) "
            f"from {read['events']}",
            [cutoff, cutoff],
        ).fetchone()
    finally:
        con.close()
    return history, last, str(cutoff)[:10], counts[0], counts[1]


def _run(args: list[str], env: dict[str, str] | None = None, log: Path | None = None) -> float:
    """Wall seconds of a command; its output goes to `log`; a failure stops the benchmark."""
    started = time.perf_counter()
    with open(log or os.devnull, "w") as out:
        done = subprocess.run(args, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        tail = log.read_text()[-3000:] if log else ""
        raise SystemExit(f"{' '.join(args)} failed (exit {done.returncode}):\n{tail}")
    return seconds


NOOP_FLOW = """
from csc_warehouse import settings
from prefect import flow, task
@task
def nothing():
    return 1
@flow
def noop():
    return nothing()
noop()
"""


def prefect_start_seconds(repeats: int) -> float:
    """Prefect's fixed cost: a flow of one empty task (its temporary server's start included) less the
    same imports alone; the minimum of `repeats` runs."""
    python = sys.executable
    imports = min(_run([python, "-c", "import csc_warehouse, prefect"]) for _ in range(repeats))
    flow = min(_run([python, "-c", NOOP_FLOW]) for _ in range(repeats))
    return max(flow - imports, 0.0)


# The flow's tasks (flows/monthly_refresh.py) and the phase each belongs to; the dbt build's own split
# and the gates' own time come from the timings the library records.
TASK_PHASES = {
    "load": "load",
    "validate events": "gates",
    "dbt build": "dbt",
    "validate marts": "gates",
    "publish months": "publish months",
    "publish": "serving copy",
    "report": "reports",
}
_LOG_LINE = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) \| \w+ +\| (Flow run|Task run) '([^']+)' - (.*)$")


def flow_log_seconds(log: Path, launched_at: float) -> dict[str, float]:
    """From Prefect's console log of a run: seconds from the launch to the flow's start ("prefect
    start"), and per task its seconds (from the previous task's end, or the flow's start, to its own
    end), summed by phase (TASK_PHASES)."""
    day = datetime.fromtimestamp(launched_at).replace(hour=0, minute=0, second=0, microsecond=0)
    found: dict[str, float] = {}
    previous: float | None = None
    for line in log.read_text(errors="replace").splitlines():
        match = _LOG_LINE.match(line.strip())
        if not match:
            continue
        hours, minutes, secs, millis, kind, name, message = match.groups()
        moment = (day + timedelta(hours=int(hours), minutes=int(minutes), seconds=int(secs))).timestamp()
        moment += int(millis) / 1000
        if moment < launched_at - 1:  # past midnight
            moment += 86400
        if kind == "Flow run" and message.startswith("Beginning flow run"):
            found["prefect start"] = moment - launched_at
            previous = moment
        elif kind == "Task run" and message.startswith("Finished in state") and previous is not None:
            task = name.rsplit("-", 1)[0]
            phase = TASK_PHASES.get(task, task)
            found[phase] = found.get(phase, 0.0) + moment - previous
            previous = moment
    return found


def user_refresh(input_dir: Path, warehouse: Path, name: str) -> dict:
    """`cscw refresh` as a user runs it: wall seconds, the phases the process recorded, and each task's
    seconds from Prefect's log."""
    record = warehouse.with_name(f"timings_{name}.json")
    log = warehouse.with_name(f"refresh_{name}.log")
    record.unlink(missing_ok=True)
    env = os.environ | {timings.TIMINGS_FILE_ENV: str(record)}
    args = [str(BIN / "cscw"), "refresh", "--input", str(input_dir), "--warehouse", str(warehouse)]
    launched_at = time.time()
    seconds = _run(args, env=env, log=log)
    recorded = timings.read(record) if record.exists() else {"phases": {}, "start_up_seconds": None}
    tasks = {k: round(v, 3) for k, v in flow_log_seconds(log, launched_at).items()}
    return {"seconds": round(seconds, 2), "tasks": tasks, **recorded}


def phase_by_phase(input_dir: Path, warehouse: Path, *, first: bool) -> dict:
    """The flow's steps called in this process, in order, each a phase (the gates and the dbt build
    record their own). The monthly refresh's events gate reads what the load changed."""
    timings.reset()
    serving = settings.serving_next_to(warehouse)
    started = time.perf_counter()
    with timings.phase("load"):
        load(input_dir, warehouse)
    validate.validate_gate(
        warehouse, "events", scope=validate.ALL if first else validate.AUTO, raise_on_stop=True
    )
    built = build(warehouse, unit_tests=False)
    validate.validate_gate(warehouse, "marts", raise_on_stop=True)
    with timings.phase("publish months"):
        months = as_reported.publish_due(warehouse)
    with timings.phase("serving copy"):
        serve(warehouse, serving)
    with timings.phase("reports"):
        write_scorecard_report(serving, warehouse.with_name("reports"))
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "phases": timings.snapshot(),
        "months_published": len(months.months),
        "dbt_build_seconds": round(built.seconds, 2),
        "models": built.models_passed,
        "tests": built.tests_passed,
    }


def breakdown(user: dict, replay: dict | None, prefect_s: float) -> dict[str, float]:
    """Seconds per column of the table, all from the user's run where it has them: the phases the
    process recorded (gates and dbt always; every phase once the flow wraps its steps in
    timings.phase), else each task's time from Prefect's log, else the phase-by-phase run; Prefect's
    start from the log (launch to the flow's first line), else the empty flow's. "other" is the rest of
    the user's wall time (Prefect's bookkeeping around each task, stopping its server, exit)."""
    recorded = dict(user.get("phases") or {})
    tasks = dict(user.get("tasks") or {})
    fallback = dict((replay or {}).get("phases") or {})
    row = {"prefect start": tasks.get("prefect start", prefect_s)}
    if "load" in recorded and user.get("start_up_seconds") is not None:
        row["prefect start"] = user["start_up_seconds"]
    for name in timings.PHASES[1:]:
        value = recorded.get(name, tasks.get(name, fallback.get(name, 0.0)))
        row[name] = value
    row = {name: round(value, 2) for name, value in row.items()}
    row["other"] = round(user["seconds"] - sum(row.values()), 2)
    return row


def merged_phases(user: dict, replay: dict | None) -> dict[str, float]:
    return dict((replay or {}).get("phases") or {}) | dict(user.get("phases") or {})


def models_alone(user: dict, replay: dict | None) -> float:
    """dbt's models alone: the wall time during which any model ran in the full build."""
    return float(merged_phases(user, replay).get("dbt models") or 0.0)


def run_size(
    name: str, seed: int, work: Path, keep: bool, prefect_s: float, also_phase_by_phase: bool = False
) -> dict:
    size = SIZES[name]
    folder = work / name
    summary = generate_input(size, seed, folder, keep)
    history, last, cutoff, before, during = split_history(folder)
    os.environ.setdefault("CSCW_TEMP_DIR", str(folder / "duckdb_tmp"))
    print(f"[{name}] {before:,} event versions before {cutoff}, {during:,} in the last month", flush=True)

    # From an empty warehouse, as the figures (a kept input keeps no warehouse of a run before).
    user_wh = folder / "user" / "warehouse.duckdb"
    shutil.rmtree(user_wh.parent, ignore_errors=True)
    user_wh.parent.mkdir(parents=True)
    user_full = user_refresh(history, user_wh, "full")
    print(f"[{name}] cscw refresh (full): {user_full['seconds']:.1f} s", flush=True)
    user_month = user_refresh(last, user_wh, "monthly")
    print(f"[{name}] cscw refresh (monthly): {user_month['seconds']:.1f} s", flush=True)

    replay_full = replay_month = None
    if also_phase_by_phase:
        replay_wh = folder / "replay" / "warehouse.duckdb"
        shutil.rmtree(replay_wh.parent, ignore_errors=True)
        replay_wh.parent.mkdir(parents=True)
        replay_full = phase_by_phase(history, replay_wh, first=True)
        replay_month = phase_by_phase(last, replay_wh, first=False)
        seconds = (replay_full["seconds"], replay_month["seconds"])
        print(f"[{name}] phase by phase: full {seconds[0]:.1f} s, monthly {seconds[1]:.1f} s", flush=True)

    full_row = breakdown(user_full, replay_full, prefect_s)
    month_row = breakdown(user_month, replay_month, prefect_s)
    models_s = models_alone(user_full, replay_full)
    dbt_full = sum(full_row[k] for k in ("dbt start-up", "dbt models", "dbt tests"))
    monthly_work = sum(v for k, v in month_row.items() if k not in ("prefect start", "other"))
    result = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "size": name,
        "seed": seed,
        "authorities": summary.authorities,
        "events_full": before,
        "events_last_month": during,
        "last_month_from": cutoff,
        "full": {"user": user_full, "phase_by_phase": replay_full, "breakdown": full_row},
        "monthly": {"user": user_month, "phase_by_phase": replay_month, "breakdown": month_row},
        "dbt_models_alone_seconds": round(models_s, 2),
        "whole_vs_models": round(user_full["seconds"] / models_s, 1) if models_s else None,
        "full_dbt_build_seconds": round(dbt_full, 2),
        "publish_months_vs_full_build_pct": round(100 * full_row["publish months"] / dbt_full, 1)
        if dbt_full
        else None,
        "monthly_work_vs_full_build_pct": round(100 * monthly_work / dbt_full, 1) if dbt_full else None,
        "load_average": os.getloadavg(),
        "machine": machine(),
    }
    if not keep:
        shutil.rmtree(folder, ignore_errors=True)
    return result


def budgets(results: dict[str, dict]) -> list[tuple[str, float | None, str, bool | None]]:
    """(budget, measured, limit, passed) for every budget a measured size has."""
    checks = []
    county = results.get("large-county-10y")
    if county:
        whole, ratio = county["full"]["user"]["seconds"], county["whole_vs_models"]
        checks.append(
            (
                "large county 10y: whole refresh / dbt models",
                ratio,
                "<= 3.0x",
                ratio is not None and ratio <= 3.0,
            )
        )
        checks.append(("large county 10y: whole refresh", whole, "< 60 s", whole < 60))
    small = results.get("small-unitary-1y")
    if small:
        whole = small["full"]["user"]["seconds"]
        checks.append(("small unitary 1y: whole refresh", whole, "< 15 s", whole < 15))
    for name, r in results.items():
        share = r["publish_months_vs_full_build_pct"]
        checks.append(
            (
                f"{name}: publishing the months due / full build (%)",
                share,
                "< 20%",
                share is not None and share < 20,
            )
        )
    region = results.get("region-10y")
    if region:
        share = region["monthly_work_vs_full_build_pct"]
        checks.append(
            ("region 10y: monthly refresh / full build (%)", share, "< 10%", share is not None and share < 10)
        )
    return checks


def print_tables(results: dict[str, dict], prefect_s: float) -> None:
    width = max(len(c) for c in COLUMNS)
    for kind in ("full", "monthly"):
        print(
            f"\n{'whole `cscw refresh`, ' + kind:<36}"
            + "".join(f"{r['size'][:18]:>20}" for r in results.values())
        )
        for column in (*COLUMNS, "whole (user's run)"):
            cells = []
            for r in results.values():
                value = (
                    r[kind]["user"]["seconds"] if column.startswith("whole") else r[kind]["breakdown"][column]
                )
                cells.append(f"{value:>19.1f}s")
            print(f"  {column:<{max(width, 34)}}" + "".join(cells))
    print()
    for r in results.values():
        print(
            f"{r['size']}: dbt models alone {r['dbt_models_alone_seconds']:.1f} s, whole refresh "
            f"{r['full']['user']['seconds']:.1f} s = {r['whole_vs_models']}x the models; "
            f"publishing months {r['publish_months_vs_full_build_pct']}% and the monthly refresh "
            f"{r['monthly_work_vs_full_build_pct']}% of the full dbt build "
            f"({r['full_dbt_build_seconds']:.1f} s)"
        )
    print(f"Prefect's start (an empty flow less its imports): {prefect_s:.1f} s")
    print("\nbudgets (issue 19):")
    for label, value, limit, passed in budgets(results):
        shown = "-" if value is None else f"{value:.1f}"
        print(f"  {'PASS' if passed else 'FAIL'}  {label}: {shown} (budget {limit})")
    load1, load5, _ = os.getloadavg()
    print(f"load average at the end: {load1:.1f} (1 min), {load5:.1f} (5 min) on {machine()['nproc']} CPUs")


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
        "--keep-input", action="store_true", help="keep and reuse the generated input (--work-dir)"
    )
    parser.add_argument(
        "--phase-by-phase",
        action="store_true",
        help="also run both refreshes step by step in this process, without Prefect (the flow's functions)",
    )
    parser.add_argument(
        "--prefect-repeats", type=int, default=3, help="runs of the empty flow (the minimum counts)"
    )
    args = parser.parse_args(argv)
    if args.keep_input and args.work_dir is None:
        parser.error("--keep-input needs --work-dir")
    names = [n.strip() for n in args.sizes.split(",") if n.strip()]
    unknown = [n for n in names if n not in SIZES]
    if unknown:
        parser.error(f"unknown size(s) {', '.join(unknown)}; known: {', '.join(SIZES)}")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    prefect_s = prefect_start_seconds(args.prefect_repeats)
    print(f"Prefect's start: {prefect_s:.1f} s", flush=True)
    results: dict[str, dict] = {}
    with contextlib.ExitStack() as stack:
        if args.keep_input:
            work = args.work_dir
            work.mkdir(parents=True, exist_ok=True)
        else:
            work = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="cscw-phases-", dir=args.work_dir))
            )
        for name in names:
            result = run_size(name, args.seed, work, args.keep_input, prefect_s, args.phase_by_phase) | {
                "prefect_start_seconds": round(prefect_s, 2)
            }
            (RESULTS_DIR / f"phases_{name}.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
            results[name] = result
    print_tables(results, prefect_s)
    return 0 if all(passed for *_, passed in budgets(results)) else 1


if __name__ == "__main__":
    sys.exit(main())
