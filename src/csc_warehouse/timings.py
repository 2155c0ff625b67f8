"""Where a refresh's seconds go: named phases timed in the process and written as JSON beside the warehouse.

A step wraps its work in `with phase("load"):`; `record(name, seconds)` adds a time measured elsewhere
(build.py splits dbt's time into start-up, models and tests from the nodes' own timings). Times of the
same name add up, so a phase run twice (two gates) is one line. `start_up_seconds()` is the time from
the process's start to the first phase: imports and, in a Prefect flow, the start of its server.

`write(path)` saves what was recorded; `timings_path(warehouse)` is the file beside a warehouse. With
$CSCW_TIMINGS_FILE set the record is also written there when the process exits, so a benchmark can read
the phases of a `cscw refresh` it ran as a user does.
"""

from __future__ import annotations

import atexit
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

TIMINGS_FILE_ENV = "CSCW_TIMINGS_FILE"
TIMINGS_FILE_NAME = "refresh_timings.json"

# The phases of a refresh in the order they run (a benchmark prints them in this order; others follow).
PHASES: tuple[str, ...] = (
    "start-up",
    "load",
    "gates",
    "dbt start-up",
    "dbt models",
    "dbt tests",
    "publish months",
    "serving copy",
    "reports",
)

_lock = threading.Lock()
_seconds: dict[str, float] = {}
_first_phase_at: float | None = None  # time.time() when the first phase began


def _process_started_at() -> float | None:
    """The wall-clock time this process started (Linux /proc), or None where it cannot be read."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        with open("/proc/stat") as stat:
            boot = next(int(line.split()[1]) for line in stat if line.startswith("btime "))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def record(name: str, seconds: float) -> None:
    """Add `seconds` to phase `name`."""
    global _first_phase_at
    with _lock:
        if _first_phase_at is None:
            _first_phase_at = time.time() - max(seconds, 0.0)
        _seconds[name] = _seconds.get(name, 0.0) + max(seconds, 0.0)


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Time the block as phase `name` (also when it raises: a failed step still took its time)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        record(name, time.perf_counter() - started)


def start_up_seconds() -> float | None:
    """Seconds from the process's start to its first phase (None before any phase or off Linux)."""
    started = _process_started_at()
    if started is None or _first_phase_at is None:
        return None
    return max(_first_phase_at - started, 0.0)


def snapshot() -> dict[str, float]:
    """Phase -> seconds so far, in PHASES order, then any other phase in the order first recorded."""
    with _lock:
        seconds = dict(_seconds)
    ordered = {name: seconds.pop(name) for name in PHASES if name in seconds}
    return {name: round(value, 3) for name, value in (ordered | seconds).items()}


def reset() -> None:
    """Forget what was recorded (a new refresh in the same process, or a test)."""
    global _first_phase_at
    with _lock:
        _seconds.clear()
        _first_phase_at = None


def summary() -> dict[str, Any]:
    """What `write` saves: the phases, their total, and the time before the first phase."""
    phases = snapshot()
    start_up = start_up_seconds()
    return {
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "pid": os.getpid(),
        "start_up_seconds": None if start_up is None else round(start_up, 3),
        "phases": phases,
        "phases_total_seconds": round(sum(phases.values()), 3),
    }


def write(path: Path) -> Path:
    """Save `summary()` as JSON at `path` (through a temporary file, so a reader never sees half)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(json.dumps(summary(), indent=2) + "\n")
    os.replace(partial, path)
    return path


def timings_path(warehouse: Path) -> Path:
    """The timings file of a warehouse: refresh_timings.json in its folder."""
    return Path(warehouse).with_name(TIMINGS_FILE_NAME)


def read(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def _write_at_exit() -> None:
    target = os.environ.get(TIMINGS_FILE_ENV)
    if target and _seconds:
        write(Path(target))


atexit.register(_write_at_exit)
