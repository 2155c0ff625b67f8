"""Run `dbt build` in-process against a warehouse file, and count what passed and failed."""

from __future__ import annotations

import gc
import json
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csc_warehouse import settings

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
            outcome = dbtRunner().invoke(args)
        finally:
            close_dbt_connections()
    seconds = time.perf_counter() - started

    results = list(getattr(outcome.result, "results", None) or [])
    summary, failures = _summarise(results, seconds)
    if not outcome.success:
        if not failures:
            reason = outcome.exception or "dbt reported failure without a failing node (see logs/dbt.log)"
            failures = [f"dbt: {reason}"]
        raise BuildFailed(failures, skipped=summary.skipped)
    return summary
