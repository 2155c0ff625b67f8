"""Run `dbt build` in-process against a warehouse file, and count what passed and failed.

dbt's parse is paid once: within a process the parsed manifest is kept and passed to the next
invocation (`parsed_manifest`); between processes dbt's partial parsing reuses target/partial_parse.msgpack,
which dbt throws away whenever the profile's values (the warehouse path, its temp folder) or the vars
differ from the last parse, so one saved copy is kept per warehouse and vars (`partial_parse_state`)
and a test warehouse or a scratch copy no longer costs the next build of the real one a full parse.
The build's time is split into dbt's start-up, its models and its tests from the nodes' own timings
(`split_seconds`) and recorded as phases of the refresh (csc_warehouse.timings).
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csc_warehouse import settings, timings

_FAILED = {"error", "fail", "runtime error"}
_MODEL_TYPES = {"model", "snapshot"}
_TEST_TYPES = {"test", "unit_test"}


class BuildFailed(RuntimeError):
    """dbt build did not succeed; `failures` names each failing node with dbt's message."""

    def __init__(self, failures: list[str], skipped: int = 0):
        self.failures = failures
        self.skipped = skipped
        lines = "\n".join(f"  - {f}" for f in failures) or "  - (dbt gave no failing node)"
        extra = f"\n{skipped} node(s) skipped because of them." if skipped else ""
        super().__init__(f"dbt build failed:\n{lines}{extra}")


@dataclass
class BuildResult:
    models_passed: int = 0
    models_failed: int = 0
    tests_passed: int = 0
    tests_warned: int = 0
    tests_failed: int = 0
    seeds_passed: int = 0
    seeds_failed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    # The build's seconds split (split_seconds): dbt's start-up (parse, hooks, catalog), the time any
    # seed, model or snapshot ran, the time only tests ran.
    startup_seconds: float = 0.0
    models_seconds: float = 0.0
    tests_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "models_passed": self.models_passed,
            "models_failed": self.models_failed,
            "tests_passed": self.tests_passed,
            "tests_warned": self.tests_warned,
            "tests_failed": self.tests_failed,
            "seeds_passed": self.seeds_passed,
            "seeds_failed": self.seeds_failed,
            "skipped": self.skipped,
            "seconds": round(self.seconds, 2),
            "warnings": list(self.warnings),
            "startup_seconds": round(self.startup_seconds, 2),
            "models_seconds": round(self.models_seconds, 2),
            "tests_seconds": round(self.tests_seconds, 2),
        }


@contextmanager
def temporary_environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for one dbt invocation and restore the previous values afterwards."""
    previous = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def close_dbt_connections() -> None:
    """dbt-duckdb keeps the file open after an in-process run; release it so other processes can write."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # pragma: no cover - adapter always installed with the lock
        return
    env = getattr(DuckDBConnectionManager, "_ENV", None)
    if env is not None and hasattr(env, "close"):
        env.close()
    DuckDBConnectionManager.close_all_connections()
    gc.collect()


def _status(result: Any) -> str:
    status = getattr(result, "status", "")
    return str(getattr(status, "value", status)).lower()


def summarise_nodes(
    nodes: Iterable[tuple[str, str, str, str | None]], seconds: float
) -> tuple[BuildResult, list[str]]:
    """Passes and failures of a dbt invocation from (resource type, status, node name, message) per node:
    the in-process runner's result objects and the run_results.json of a subprocess give the same."""
    summary = BuildResult(seconds=seconds)
    failures: list[str] = []
    for kind, status, name, message in nodes:
        if status == "skipped":
            summary.skipped += 1
        elif status in _FAILED:
            # dbt's message is "<kind> Error in <node> (<path>)" then the cause: keep both, on one line.
            failures.append(f"{name}: {' '.join((message or status).split())[:400]}")
            if kind in _MODEL_TYPES:
                summary.models_failed += 1
            elif kind in _TEST_TYPES:
                summary.tests_failed += 1
            elif kind == "seed":
                summary.seeds_failed += 1
        elif kind in _MODEL_TYPES:
            summary.models_passed += 1
        elif kind in _TEST_TYPES:
            if status == "warn":
                summary.tests_warned += 1
                summary.warnings.append(f"{name}: {(message or 'warn').strip()}")
            else:
                summary.tests_passed += 1
        elif kind == "seed":
            summary.seeds_passed += 1
    return summary, failures


def _summarise(results: list[Any], seconds: float) -> tuple[BuildResult, list[str]]:
    return summarise_nodes(
        (
            (
                str(getattr(r.node.resource_type, "value", r.node.resource_type)),
                _status(r),
                getattr(r.node, "unique_id", getattr(r.node, "name", "?")),
                getattr(r, "message", None),
            )
            for r in results
        ),
        seconds,
    )


def dbt_args(
    command: str,
    *,
    project_dir: Path,
    select: str | None = None,
    vars: dict | None = None,
    full_refresh: bool = False,
) -> list[str]:
    """The argument list for one dbt invocation of this project."""
    # The console shows warnings and errors only; logs/dbt.log keeps every node's line.
    args = [
        "--log-level",
        "warn",
        command,
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(project_dir),
    ]
    if select:
        args += ["--select", select]
        if command in ("build", "test"):
            # A partial build tests only what it built: a test that also reads a model left out (a
            # relationship to another mart) would run against a table that may not exist yet.
            args += ["--indirect-selection", "cautious"]
    if vars:
        args += ["--vars", json.dumps(vars, default=str)]
    if full_refresh:
        args.append("--full-refresh")
    return args


# --------------------------------------------------------------------------------------------------
# Where a build's seconds go


def _union(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for begin, end in sorted(intervals):
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((begin, end))
    return merged


def _length(intervals: list[tuple[float, float]]) -> float:
    return sum(end - begin for begin, end in intervals)


def _overlap(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> float:
    """Seconds two sorted, disjoint interval lists share."""
    total, i, j = 0.0, 0, 0
    while i < len(a) and j < len(b):
        total += max(0.0, min(a[i][1], b[j][1]) - max(a[i][0], b[j][0]))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return total


def split_seconds(nodes: list[tuple[str, float, float]], seconds: float) -> tuple[float, float, float]:
    """(start-up, models, tests) seconds of a dbt invocation of `seconds` from (resource type, start,
    end) per node. Two threads run a model beside a test: wall time while any seed, model or snapshot
    runs is the models'; while only tests run, the tests'; the rest (parse, hooks, the catalog, between
    nodes) is dbt's start-up. The three add up to `seconds`."""
    models = _union([(b, e) for kind, b, e in nodes if kind in _MODEL_TYPES or kind == "seed"])
    tests = _union([(b, e) for kind, b, e in nodes if kind in _TEST_TYPES])
    models_s = _length(models)
    tests_s = _length(tests) - _overlap(models, tests)
    return max(seconds - models_s - tests_s, 0.0), models_s, tests_s


def _node_spans(results: list[Any]) -> list[tuple[str, float, float]]:
    """(resource type, start, end) of each node from its timing entries (compile and execute)."""
    spans = []
    for r in results:
        moments = [
            moment.timestamp()
            for t in (getattr(r, "timing", None) or [])
            for moment in (getattr(t, "started_at", None), getattr(t, "completed_at", None))
            if moment is not None
        ]
        if moments:
            kind = str(getattr(r.node.resource_type, "value", r.node.resource_type))
            spans.append((kind, min(moments), max(moments)))
    return spans


def record_phases(summary: BuildResult) -> None:
    """The build's split as phases of the refresh (csc_warehouse.timings)."""
    timings.record("dbt start-up", summary.startup_seconds)
    timings.record("dbt models", summary.models_seconds)
    timings.record("dbt tests", summary.tests_seconds)


# --------------------------------------------------------------------------------------------------
# dbt's parse, paid once

_PROJECT_SOURCES = ("models", "macros", "seeds", "tests", "snapshots", "analyses")
_PROJECT_FILES = ("dbt_project.yml", "profiles.yml", "packages.yml", "selectors.yml")
_MANIFESTS: dict[tuple[str, ...], Any] = {}
PARTIAL_PARSE_FILE = "partial_parse.msgpack"
PARTIAL_PARSE_STATES = 8  # saved copies kept (the most recently used): one per warehouse and vars


def _sources_signature(project_dir: Path) -> str:
    """Path, size and modification time of every file dbt parses: a changed model or macro gives another
    signature, so a manifest kept in this process is parsed again."""
    digest = hashlib.sha256()
    for name in _PROJECT_FILES:
        path = project_dir / name
        if path.is_file():
            info = path.stat()
            digest.update(f"{name}:{info.st_size}:{info.st_mtime_ns};".encode())
    for folder in _PROJECT_SOURCES:
        for root, dirs, files in os.walk(project_dir / folder):
            dirs.sort()
            for name in sorted(files):
                path = Path(root, name)
                info = path.stat()
                digest.update(f"{path.relative_to(project_dir)}:{info.st_size}:{info.st_mtime_ns};".encode())
    return digest.hexdigest()


def _parse_key(env: dict[str, str], vars: dict | None) -> str:
    """What dbt's partial-parse check compares (the profile's values and the vars), as a short hash."""
    names = ("CSCW_WAREHOUSE", "CSCW_TEMP_DIR", "CSCW_MEMORY_LIMIT", "CSCW_TARGET", "CSCW_THREADS")
    values = {name: env.get(name, os.environ.get(name, "")) for name in names}
    text = json.dumps([values, vars or {}], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@contextmanager
def partial_parse_state(project_dir: Path, key: str) -> Iterator[None]:
    """target/partial_parse.msgpack as the last parse with this profile and these vars left it.

    dbt keeps one saved parse and discards it for a full parse (10-15 s on two busy cores) when the
    warehouse path or the vars change; a saved copy per key (target/partial_parse/<key>.msgpack) is
    put in place before dbt runs and saved again after."""
    target = project_dir / "target"
    current = target / PARTIAL_PARSE_FILE
    saved_dir = target / "partial_parse"
    saved = saved_dir / f"{key}.msgpack"
    if saved.is_file():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(saved, current)
    try:
        yield
    finally:
        if current.is_file():
            saved_dir.mkdir(parents=True, exist_ok=True)
            partial = saved.with_name(f".{saved.name}.{os.getpid()}.tmp")
            shutil.copyfile(current, partial)
            os.replace(partial, saved)
            states = sorted(saved_dir.glob("*.msgpack"), key=lambda p: p.stat().st_mtime, reverse=True)
            for stale in states[PARTIAL_PARSE_STATES:]:
                stale.unlink(missing_ok=True)


def parsed_manifest(project_dir: Path, env: dict[str, str], vars: dict | None = None) -> Any:
    """The project's parsed manifest for this warehouse and vars, parsed at most once per process while
    the project's files are unchanged (dbtRunner(manifest=...) then skips parsing). Call inside
    `temporary_environment(env)`."""
    from dbt.cli.main import dbtRunner

    database = Path(env.get("CSCW_WAREHOUSE", "")).stem  # dbt-duckdb names the catalog after the file
    key = (
        str(project_dir),
        database,
        json.dumps(vars or {}, sort_keys=True, default=str),
        _sources_signature(project_dir),
    )
    manifest = _MANIFESTS.get(key)
    if manifest is None:
        with partial_parse_state(project_dir, _parse_key(env, vars)):
            parsed = dbtRunner().invoke(dbt_args("parse", project_dir=project_dir, vars=vars))
        if not parsed.success:
            raise BuildFailed([f"dbt parse: {parsed.exception or 'failed (see logs/dbt.log)'}"])
        manifest = parsed.result
        _MANIFESTS.clear()  # one project and warehouse at a time: keep memory flat
        _MANIFESTS[key] = manifest
    return manifest


def build(
    warehouse: Path,
    *,
    select: str | None = None,
    vars: dict | None = None,
    full_refresh: bool = False,
    project_dir: Path | None = None,
    unit_tests: bool = True,
) -> BuildResult:
    """Run `dbt build` (seeds, models, snapshots, tests) into `warehouse`; raise BuildFailed on any failure.

    `unit_tests=False` leaves out dbt's unit tests: they test the models' SQL on fixtures, not the data,
    so the monthly refresh need not repeat them (`make test` and `cscw build` run them).
    The DuckDB file is closed again before returning, also when the build fails.
    """
    from dbt.cli.main import dbtRunner

    project_dir = Path(project_dir or settings.PROJECT_ROOT).resolve()
    warehouse = Path(warehouse).resolve()
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    env = {
        "CSCW_WAREHOUSE": str(warehouse),
        "DBT_PROFILES_DIR": str(project_dir),
        # profiles.yml defaults to a cwd-relative temp dir; keep spills beside the warehouse instead.
        "CSCW_TEMP_DIR": os.environ.get("CSCW_TEMP_DIR") or str(warehouse.parent / "duckdb_tmp"),
    }
    # Figures as known at a cut-off replace the incremental tables' latest ones: always a full build
    # (and the next ordinary build rebuilds them all again, macros/incremental.sql).
    full_refresh = full_refresh or bool(vars and (vars.get("as_of") or vars.get("reporting_months_from")))
    args = dbt_args("build", project_dir=project_dir, select=select, vars=vars, full_refresh=full_refresh)
    if not unit_tests:
        args += ["--exclude-resource-type", "unit_test"]
    started = time.perf_counter()
    with temporary_environment(env):
        try:
            manifest = parsed_manifest(project_dir, env, vars)
            outcome = dbtRunner(manifest=manifest).invoke(args)
        finally:
            close_dbt_connections()
    seconds = time.perf_counter() - started

    results = list(getattr(outcome.result, "results", None) or [])
    summary, failures = _summarise(results, seconds)
    summary.startup_seconds, summary.models_seconds, summary.tests_seconds = split_seconds(
        _node_spans(results), seconds
    )
    record_phases(summary)
    if not outcome.success:
        if not failures:
            reason = outcome.exception or "dbt reported failure without a failing node (see logs/dbt.log)"
            failures = [f"dbt: {reason}"]
        raise BuildFailed(failures, skipped=summary.skipped)
    return summary
