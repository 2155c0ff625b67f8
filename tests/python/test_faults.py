"""Nothing lost, nothing doubled: refused files, re-loads, and processes killed with SIGKILL mid-load and
mid-build leave the warehouse and the serving file as if the failed step had never started.

The kill tests run the real `cscw` command in a subprocess, kill it with SIGKILL part-way through, then
check the files it was writing: a load is one DuckDB transaction, and dbt never touches the serving file.
"""

from __future__ import annotations

import csv
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from csc_warehouse import build as building
from csc_warehouse import serve as serving_module
from csc_warehouse.load import LoadRefused, load

RAW_TABLES = ("raw.children", "raw.events", "raw.population", "raw.loads", "quarantine.rows")
CSCW = Path(sys.executable).with_name("cscw")


# --------------------------------------------------------------------------------------------------
# Helpers


def snapshot(warehouse: Path) -> dict[str, tuple[int, int]]:
    """table -> (rows, checksum of every row); raw.loads without its wall-clock loaded_at."""
    out = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table in RAW_TABLES:
            source = f"(select * exclude (loaded_at) from {table})" if table == "raw.loads" else table
            rows, checksum = con.sql(
                f"select count(*), coalesce(sum(hash(t)::hugeint), 0) from {source} t"
            ).fetchall()[0]
            out[table] = (rows, int(checksum))
    return out


def generated(folder: Path, *, years: int, population: int | None = None) -> Path:
    generating = pytest.importorskip("csc_warehouse.generate")
    kwargs = {"population": population} if population else {}
    generating.generate(folder, seed=11, years=years, **kwargs)
    return folder


def copy_input(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def csv_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def write_rows(path: Path, header: list[str], rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def assert_accounts_add_up(warehouse: Path) -> None:
    """For every file of every load: rows in = loaded + unchanged + quarantined, and each figure is
    what the tables hold (loaded rows carry the load_id; quarantined rows are distinct lines)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        files = con.sql(
            """select load_id, table_name, file_name, rows_in, rows_loaded, rows_unchanged, rows_quarantined
               from raw.loads order by load_id, table_name"""
        ).fetchall()
        assert files
        for load_id, table, file_name, rows_in, loaded, unchanged, quarantined in files:
            assert rows_in == loaded + unchanged + quarantined, (load_id, file_name)
            in_table = con.execute(
                f"select count(*) from raw.{table} where load_id = ?", [load_id]
            ).fetchall()
            per_load = con.execute(
                "select coalesce(sum(rows_loaded), 0) from raw.loads where load_id = ? and table_name = ?",
                [load_id, table],
            ).fetchall()
            assert in_table == per_load, (load_id, table)
            lines = con.execute(
                """select count(distinct source_line) from quarantine.rows
                   where load_id = ? and table_name = ? and file_name = ?""",
                [load_id, table, file_name],
            ).fetchall()[0][0]
            assert lines == quarantined, (load_id, file_name)


@pytest.fixture(scope="module")
def small_input(tmp_path_factory) -> Path:
    return generated(tmp_path_factory.mktemp("small") / "in", years=1, population=5_000)


@pytest.fixture
def loaded(tmp_path, small_input) -> Path:
    warehouse = tmp_path / "warehouse.duckdb"
    load(small_input, warehouse)
    return warehouse


# --------------------------------------------------------------------------------------------------
# Refused files


@pytest.mark.parametrize(
    "corrupt",
    [
        pytest.param(lambda p: p.write_bytes(random.Random(1).randbytes(4096)), id="random-bytes"),
        pytest.param(lambda p: p.write_text(p.read_text()[:5000], encoding="utf-16"), id="utf-16"),
        pytest.param(
            lambda p: p.write_bytes(p.read_bytes()[:3000] + b'\n"unterminated,quote'), id="broken-quote"
        ),
        pytest.param(lambda p: p.write_bytes(b""), id="empty"),
    ],
)
def test_a_corrupt_file_is_refused_and_the_warehouse_is_unchanged(tmp_path, loaded, small_input, corrupt):
    before = snapshot(loaded)
    bad = copy_input(small_input, tmp_path / "bad")
    corrupt(bad / "events.csv")

    with pytest.raises(LoadRefused, match=r"events\.csv"):
        load(bad, loaded)

    assert snapshot(loaded) == before


def test_a_corrupt_parquet_file_is_refused_whole(tmp_path, loaded, small_input):
    before = snapshot(loaded)
    bad = copy_input(small_input, tmp_path / "bad")
    (bad / "events.csv").unlink()
    (bad / "events.parquet").write_bytes(b"PAR1" + random.Random(2).randbytes(2048))

    with pytest.raises(LoadRefused, match=r"not readable as Parquet"):
        load(bad, loaded)

    assert snapshot(loaded) == before


@pytest.mark.parametrize(
    ("rename", "problem"),
    [
        ({"event_at": "event_time"}, "missing required columns event_at"),
        ({"code2": "code_2"}, "unexpected columns 'code_2'"),
    ],
)
def test_wrong_columns_are_refused_and_nothing_loads(tmp_path, loaded, small_input, rename, problem):
    before = snapshot(loaded)
    bad = copy_input(small_input, tmp_path / "bad")
    header, rows = csv_rows(bad / "events.csv")
    renamed = [rename.get(c, c) for c in header]
    write_rows(bad / "events.csv", renamed, [{rename.get(k, k): v for k, v in r.items()} for r in rows])
    before_bytes = loaded.read_bytes()

    with pytest.raises(LoadRefused, match=problem):
        load(bad, loaded)

    assert snapshot(loaded) == before
    assert loaded.read_bytes() == before_bytes, "a header refusal does not even open the warehouse"


def test_a_refused_first_load_leaves_no_warehouse(tmp_path, small_input):
    bad = copy_input(small_input, tmp_path / "bad")
    (bad / "children.csv").write_bytes(b"\x00\x01\x02")
    warehouse = tmp_path / "new.duckdb"

    with pytest.raises(LoadRefused):
        load(bad, warehouse)

    assert not warehouse.exists() and not warehouse.with_name("new.duckdb.wal").exists()


# --------------------------------------------------------------------------------------------------
# Re-loads and accounting


def test_loading_the_same_files_twice_loads_them_once(tmp_path, loaded, small_input):
    before = snapshot(loaded)

    again = load(small_input, loaded)

    assert again.rows_loaded == 0 and again.rows_quarantined == 0
    assert again.rows_unchanged == again.rows_in > 0
    after = snapshot(loaded)
    for table in ("raw.children", "raw.events", "raw.population", "quarantine.rows"):
        assert after[table] == before[table], table
    assert after["raw.loads"][0] == before["raw.loads"][0] * 2, "the second load is recorded, with 0 loaded"
    assert_accounts_add_up(loaded)


def test_rows_in_equal_loaded_unchanged_and_quarantined_for_every_load(tmp_path, loaded, small_input):
    """A second load mixing unchanged rows, corrections, bad rows and in-file duplicates."""
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(small_input / "children.csv", folder / "children.csv")
    header, rows = csv_rows(small_input / "events.csv")
    unchanged = rows[:40]
    corrections = [r | {"recorded_at": "2025-12-01 09:00:00"} for r in rows[40:45]]
    first = rows[0]
    bad = [
        first | {"event_id": "bad-future", "event_at": "2099-01-01"},
        first | {"event_id": "bad-child", "child_id": "nobody"},
        first | {"event_id": "bad-type-date", "event_at": "not a date"},
        first | {"event_id": "bad-missing", "la_code": ""},
        first | {"event_id": "bad-code", "event_type": "contact_received", "code": "pigeon"},
        first | {"event_id": "dup", "recorded_at": "2025-12-02"},
        first | {"event_id": "dup", "recorded_at": "2025-12-02", "code2": "different"},
    ]
    repeated = [corrections[0]]  # identical to an earlier row of this file: unchanged
    write_rows(folder / "events.csv", header, unchanged + corrections + bad + repeated)
    in_file = len(unchanged + corrections + bad + repeated)

    report = load(folder, loaded)

    events = next(t for t in report.tables if t.table == "events")
    assert events.rows_in == in_file
    assert events.rows_loaded == len(corrections) + 1  # the corrections and the first "dup"
    assert events.rows_unchanged == len(unchanged) + len(repeated)
    assert events.rows_quarantined == len(bad) - 1
    assert report.rows_in == report.rows_loaded + report.rows_unchanged + report.rows_quarantined
    assert_accounts_add_up(loaded)


# --------------------------------------------------------------------------------------------------
# SIGKILL mid-load and mid-build


def run_cscw(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(CSCW), *args], capture_output=True, text=True, timeout=600)


def kill_part_way(args: list[str], *, started_when: Path, after: float) -> bool:
    """Start `cscw args`; once `started_when` exists, wait `after` s and SIGKILL it.
    True if it was still running when killed (it was killed mid-step)."""
    process = subprocess.Popen([str(CSCW), *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not started_when.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(after)
        running = process.poll() is None
        if running:
            os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
        return running and process.returncode == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.slow
def test_kill_9_during_a_load_then_reload_equals_one_clean_load(tmp_path):
    inputs = generated(tmp_path / "in", years=3)
    clean = tmp_path / "clean" / "warehouse.duckdb"
    started = time.monotonic()
    assert run_cscw("load", str(inputs), "--warehouse", str(clean)).returncode == 0
    seconds = time.monotonic() - started

    # Kill part-way (about half-way through the load's own work); shorter waits if it finished first.
    killed = tmp_path / "killed" / "warehouse.duckdb"
    for fraction in (0.5, 0.3, 0.15, 0.05):
        shutil.rmtree(killed.parent, ignore_errors=True)
        if kill_part_way(
            ["load", str(inputs), "--warehouse", str(killed)], started_when=killed, after=seconds * fraction
        ):
            break
    else:
        pytest.fail("the load always finished before it could be killed")

    rerun = run_cscw("load", str(inputs), "--warehouse", str(killed))

    assert rerun.returncode == 0, rerun.stderr
    assert snapshot(killed) == snapshot(clean), "nothing of the killed load survived, nothing is doubled"
    assert_accounts_add_up(killed)


@pytest.mark.slow
def test_kill_9_during_a_dbt_build_leaves_the_serving_file_and_a_rebuild_works(tmp_path, small_input):
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving.duckdb"
    load(small_input, warehouse)
    started = time.monotonic()
    building.build(warehouse)
    seconds = time.monotonic() - started
    serving_module.serve(warehouse, serving)
    served = serving.read_bytes()
    with duckdb.connect(str(serving), read_only=True) as con:
        kpi_rows = con.sql("select count(*) from marts.fct_kpi_monthly").fetchall()[0][0]
    raw_before = snapshot(warehouse)

    # dbt parses for a few seconds, then writes models: kill it while it writes them.
    wal = warehouse.with_name(warehouse.name + ".wal")
    assert kill_part_way(
        ["build", "--warehouse", str(warehouse)], started_when=wal, after=min(2.0, seconds / 4)
    )

    assert serving.read_bytes() == served, "dbt never writes the serving file"
    assert snapshot(warehouse) == raw_before, "the build does not touch raw.* or quarantine.*"
    rebuilt = run_cscw("build", "--warehouse", str(warehouse))
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    serving_module.serve(warehouse, serving)
    with duckdb.connect(str(serving), read_only=True) as con:
        assert con.sql("select count(*) from marts.fct_kpi_monthly").fetchall()[0][0] == kpi_rows
