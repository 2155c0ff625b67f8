"""Quarantine is idempotent and can be read back: re-loading files already loaded adds nothing anywhere
(raw, quarantine, the load log beyond a "nothing new" entry), and `cscw quarantine` counts, lists and
exports the rejected rows with their reasons.

The input is a generated authority with `--faults`: every bad row is labelled in fault_labels.csv (one
fault per row), which gives the expected counts independently of the loader.
"""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from csc_warehouse import cli
from csc_warehouse.load import load

# Fault label (csc_warehouse.faults) -> the reason code the loader gives it.
FAULT_CODES = {
    "child_bad_birth_month": "not_a_valid_date",
    "child_bad_sex": "sex_not_in_list",
    "child_duplicate_different_content": "duplicate_in_load",
    "child_required_empty": "required_empty",
    "event_bad_boolean": "not_a_valid_boolean",
    "event_bad_code": "code_not_in_list",
    "event_bad_number": "not_a_valid_double",
    "event_bad_timestamp": "not_a_valid_timestamp",
    "event_before_1990": "event_at_too_early",
    "event_duplicate_different_content": "duplicate_in_load",
    "event_end_before_start": "end_before_start",
    "event_end_without_episode": "end_without_episode_id",
    "event_end_without_start": "end_without_start",
    "event_in_future": "event_at_in_future",
    "event_malformed_csv_row": "malformed_csv_row",
    "event_required_empty": "required_empty",
    "event_unknown_child": "unknown_child",
    "population_age_out_of_range": "age_outside_0_17",
    "population_bad_sex": "sex_not_in_list",
    "population_negative_count": "count_negative",
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    from csc_warehouse.generate import generate

    folder = tmp_path_factory.mktemp("faulty")
    generate(folder, profile="small-unitary", seed=5, years=1, faults=0.01)
    return folder


def labels(folder: Path) -> list[dict[str, str]]:
    with (folder / "fault_labels.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def counts(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            table: con.sql(f"select count(*) from {table}").fetchall()[0][0]
            for table in ("raw.children", "raw.events", "raw.population", "quarantine.rows", "raw.loads")
        }


def test_loading_the_same_folder_twice_adds_nothing(generated, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    bad_rows = len(labels(generated))
    assert bad_rows > 50, "the faults give a real quarantine to count"

    first = load(generated, warehouse)
    after_first = counts(warehouse)
    second = load(generated, warehouse)
    after_second = counts(warehouse)

    # One quarantine row per labelled bad row (each has exactly one thing wrong).
    assert first.rows_quarantined == after_first["quarantine.rows"] == bad_rows
    files = len(first.tables)
    assert after_second == after_first | {"raw.loads": after_first["raw.loads"] + files}, (
        "nothing added to raw or quarantine; the load log has the second load's files, marked nothing new"
    )
    assert (second.rows_loaded, second.rows_quarantined) == (0, 0)
    assert second.rows_unchanged == second.rows_in == first.rows_in
    assert sum(t.rows_already_quarantined for t in second.tables) == bad_rows
    with duckdb.connect(str(warehouse), read_only=True) as con:
        statuses = con.sql(
            "select load_id, status, count(*) from raw.loads group by all order by all"
        ).fetchall()
    assert statuses == [
        (1, "loaded", 3),
        (1, "loaded_with_quarantine", 3),
        (2, "nothing_new", 6),
    ]
    assert any("nothing new" in w for w in second.warnings)


def test_a_new_bad_row_beside_old_ones_is_the_only_one_added(generated, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    load(generated, warehouse)
    before = counts(warehouse)["quarantine.rows"]
    folder = tmp_path / "again"
    shutil.copytree(generated, folder)
    with (folder / "events_faults.csv").open("a", encoding="utf-8") as fh:
        # An event of a child no children row knows: a new bad row.
        fh.write("NEW-1,E06000017,NOBODY,referral_received,2017-05-01,2017-05-02,R-NEW,,1A,,,false\n")

    again = load(folder, warehouse)

    assert counts(warehouse)["quarantine.rows"] == before + 1
    (faults,) = [t for t in again.tables if t.file == "events_faults.csv"]
    assert (faults.rows_quarantined, faults.rows_already_quarantined) == (1, faults.rows_in - 1)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        newest = con.sql(
            "select load_id, reason_code, column_name from quarantine.rows where load_id = 2"
        ).fetchall()
    assert newest == [(2, "unknown_child", "child_id")]


def test_cli_counts_lists_and_exports_by_reason(generated, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    load(generated, warehouse)
    load(generated, warehouse)  # nothing new: the counts below must not double
    expected = Counter(FAULT_CODES[label["fault"]] for label in labels(generated))
    out = tmp_path / "q" / "unknown_child.csv"
    runner = CliRunner()

    summary = runner.invoke(cli.app, ["quarantine", "--warehouse", str(warehouse)], env={"COLUMNS": "200"})
    one_reason = runner.invoke(
        cli.app,
        [
            "quarantine",
            "--warehouse",
            str(warehouse),
            "--load",
            "1",
            "--reason",
            "unknown_child",
            "--out",
            str(out),
        ],
        env={"COLUMNS": "200"},
    )
    second_load = runner.invoke(cli.app, ["quarantine", "--warehouse", str(warehouse), "--load", "2"])

    assert summary.exit_code == 0, summary.output
    total_line = next(line for line in summary.output.splitlines() if "Total" in line)
    assert f"{sum(expected.values()):,}" in total_line
    for code in expected:
        assert code in summary.output
    assert one_reason.exit_code == 0, one_reason.output
    with out.open(newline="", encoding="utf-8-sig") as fh:
        exported = list(csv.DictReader(fh))
    assert len(exported) == expected["unknown_child"] == 5
    assert {r["reason_code"] for r in exported} == {"unknown_child"}
    assert all("is in no children row" in r["reason"] and r["record_json"].startswith("{") for r in exported)
    assert f"Wrote {len(exported)} rows" in one_reason.output
    assert second_load.exit_code == 0 and "No quarantined rows for load 2" in second_load.output


def test_reason_words_filter_and_a_warehouse_never_loaded(tmp_path, generated):
    warehouse = tmp_path / "w.duckdb"
    load(generated, warehouse)
    runner = CliRunner()

    words = runner.invoke(
        cli.app,
        ["quarantine", "--warehouse", str(warehouse), "--reason", "in the future"],
        env={"COLUMNS": "200"},
    )
    # Wide enough that rich does not wrap the long temporary path inside the message.
    missing = runner.invoke(
        cli.app, ["quarantine", "--warehouse", str(tmp_path / "none.duckdb")], env={"COLUMNS": "400"}
    )

    assert words.exit_code == 0
    assert "event_at_in_future" in words.output and "unknown_child" not in words.output
    assert missing.exit_code == 1 and "not found" in missing.output


def test_cli_load_twice_says_the_rows_were_quarantined_before(generated, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    runner = CliRunner()
    args = ["load", str(generated), "--warehouse", str(warehouse)]

    runner.invoke(cli.app, args, env={"COLUMNS": "200"})
    again = runner.invoke(cli.app, args, env={"COLUMNS": "200"})

    bad_rows = len(labels(generated))
    assert again.exit_code == 0, again.output
    assert f"{bad_rows:,} of the unchanged rows were quarantined by an earlier load" in again.output
    assert "nothing new in" in again.output
