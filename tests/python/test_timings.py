"""Where a refresh's seconds go: csc_warehouse.timings, and the split of a dbt build (build.split_seconds)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from csc_warehouse import timings
from csc_warehouse.build import split_seconds


@pytest.fixture(autouse=True)
def fresh_record():
    timings.reset()
    yield
    timings.reset()


def test_phases_add_up_by_name_in_the_refresh_order():
    timings.record("reports", 0.5)
    timings.record("load", 2.0)
    timings.record("gates", 1.25)
    timings.record("gates", 0.75)  # the second gate adds to the first
    timings.record("something else", 0.1)

    # Refresh order first (load, gates, ..., reports), then any other name.
    assert timings.snapshot() == {"load": 2.0, "gates": 2.0, "reports": 0.5, "something else": 0.1}
    assert timings.summary()["phases_total_seconds"] == pytest.approx(4.6)


def test_a_phase_that_raises_still_counts_its_time():
    with pytest.raises(RuntimeError), timings.phase("load"):
        time.sleep(0.05)
        raise RuntimeError("refused")
    assert 0.05 <= timings.snapshot()["load"] < 1.0


def test_start_up_is_the_time_before_the_first_phase():
    assert timings.start_up_seconds() is None  # nothing recorded yet
    with timings.phase("load"):
        pass
    start_up = timings.start_up_seconds()
    started = timings._process_started_at()
    assert started is not None and start_up is not None
    # This process started before pytest collected the tests: at least a little, at most its age.
    assert 0.0 < start_up <= time.time() - started + 0.1


def test_write_beside_the_warehouse_and_read_back(tmp_path):
    timings.record("load", 1.5)
    path = timings.write(timings.timings_path(tmp_path / "warehouse.duckdb"))
    assert path == tmp_path / "refresh_timings.json"
    saved = timings.read(path)
    assert saved["phases"] == {"load": 1.5} and saved["phases_total_seconds"] == 1.5
    assert saved["pid"] == os.getpid()


def test_the_record_is_written_at_exit_when_asked(tmp_path):
    target = tmp_path / "timings.json"
    code = "from csc_warehouse import timings; timings.record('load', 1.5); timings.record('load', 0.5)"
    env = os.environ | {timings.TIMINGS_FILE_ENV: str(target)}
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    assert json.loads(target.read_text())["phases"] == {"load": 2.0}


def test_a_build_is_split_into_start_up_models_and_tests_by_wall_time():
    # 10 s in all: a model 0-4 s with a test beside it 3-5 s, a test 6-7 s, a seed 8-9 s.
    nodes = [("model", 0.0, 4.0), ("test", 3.0, 5.0), ("unit_test", 6.0, 7.0), ("seed", 8.0, 9.0)]
    start_up, models, tests = split_seconds(nodes, 10.0)
    # Models (and seeds) ran during 0-4 and 8-9: 5 s. Tests only, with no model running: 4-5 and 6-7:
    # 2 s. The rest (parse, hooks, gaps) is dbt's start-up: 3 s.
    assert (start_up, models, tests) == pytest.approx((3.0, 5.0, 2.0))


def test_two_models_running_at_once_count_once():
    start_up, models, tests = split_seconds([("model", 1.0, 3.0), ("model", 2.0, 4.0)], 5.0)
    assert (start_up, models, tests) == pytest.approx((2.0, 3.0, 0.0))
