"""Silent damage is caught at the load: a generated authority's real files broken the way an analyst breaks
them (a column dropped from the extract, a column blanked, an events file with only its header).

- a missing optional column the KPIs read loads, with a warning naming those KPIs (seeds/dim_kpi.csv);
- a column that is empty for every row of an event type that needs it refuses the load, and nothing of it
  is loaded;
- a file with only a header loads nothing of it, with a warning.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from csc_warehouse import cli, contract, settings
from csc_warehouse.load import ColumnsEmpty, LoadRefused, load


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """One year of the small unitary, as `cscw generate` writes it (no faults)."""
    from csc_warehouse.generate import generate

    folder = tmp_path_factory.mktemp("generated")
    generate(folder, profile="small-unitary", seed=11, years=1)
    return folder


def copy_of(generated: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    shutil.copytree(generated, folder)
    return folder


def rewrite_events(folder: Path, change) -> list[dict[str, str]]:
    """Read events.csv, let `change(rows, columns)` edit it in place, write it back; returns the rows."""
    path = folder / "events.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        columns, rows = list(reader.fieldnames or []), list(reader)
    columns = change(rows, columns) or columns
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return rows


def live_rows(rows: list[dict[str, str]], event_type: str) -> int:
    """Rows of the type that are not tombstones, counted from the file itself."""
    return sum(1 for r in rows if r["event_type"] == event_type and r.get("is_deleted", "") != "true")


def test_the_generated_files_load_without_contract_warnings(generated, tmp_path):
    report = load(generated, tmp_path / "w.duckdb")
    assert report.rows_quarantined == 0
    assert not [w for w in report.warnings if "column" in w], report.warnings


def test_dropping_code2_warns_naming_the_kpi_it_feeds(generated, tmp_path):
    """The finding of issue 16: events.csv without code2 loaded with no word; suitable accommodation
    went from 83.3% to 0.0%. code2 feeds one KPI (contract.EVENT_COLUMN_NEEDS)."""
    folder = copy_of(generated, tmp_path)
    rows = rewrite_events(folder, lambda rows, columns: [c for c in columns if c != "code2"])

    report = load(folder, tmp_path / "w.duckdb")

    (warning,) = [w for w in report.warnings if "code2" in w]
    assert warning.startswith("events.csv has no code2 column")
    # code2 feeds the accommodation KPIs (18-21 and 17-18) and the early-help ones (measure eh_ended).
    for kpi in (
        "Care leavers in suitable accommodation (care_leaver_suitable_accom_pct)",
        "care_leaver_17_18_suitable_accom_pct",
        "eh_stepped_up_pct_r12m",
        "eh_episodes_ended",
    ):
        assert kpi in warning
    assert warning.count("(") == 4, "and no other KPI"
    assert report.rows_loaded == report.rows_in and sum(
        t.rows_in for t in report.tables if t.table == "events"
    ) == len(rows)


def test_dropping_value_warns_naming_the_sdq_kpi_and_the_cli_prints_it(generated, tmp_path):
    folder = copy_of(generated, tmp_path)
    rewrite_events(folder, lambda rows, columns: [c for c in columns if c != "value"])

    result = CliRunner().invoke(
        cli.app, ["load", str(folder), "--warehouse", str(tmp_path / "w.duckdb")], env={"COLUMNS": "300"}
    )

    assert result.exit_code == 0, result.output
    assert "events.csv has no value column" in result.output
    assert "Mean SDQ score (cla_sdq_mean_r12m)" in result.output


@pytest.mark.parametrize(
    ("event_type", "column", "kpis"),
    [
        ("care_leaver_contact", "code2", ["care_leaver_suitable_accom_pct"]),
        ("sdq_recorded", "value", ["cla_sdq_mean_r12m"]),
        ("cla_period_ended", "code", ["cla_exit_adoption_pct_r12m", "cla_exit_sgo_pct_r12m"]),
    ],
)
def test_a_column_blank_for_a_whole_event_type_refuses_the_load(
    generated, tmp_path, event_type, column, kpis
):
    folder = copy_of(generated, tmp_path)

    def blank(rows, columns):
        for row in rows:
            if row["event_type"] == event_type:
                row[column] = ""

    rows = rewrite_events(folder, blank)
    expected_rows = live_rows(rows, event_type)
    assert expected_rows > 0, f"the generated year has {event_type} rows to break"
    warehouse = tmp_path / "w.duckdb"

    with pytest.raises(ColumnsEmpty) as refused:
        load(folder, warehouse)

    message = str(refused.value)
    assert f"{column} is empty in all {expected_rows:,} {event_type} rows of events.csv" in message
    for kpi in kpis:
        assert f"({kpi})" in message
    assert message.startswith("nothing of this load was loaded")
    assert isinstance(refused.value, LoadRefused), "the CLI and the flow report it as a refused load"
    assert not warehouse.exists(), "a refused first load leaves no warehouse behind"


def test_a_blank_column_on_a_second_load_leaves_the_warehouse_as_it_was(generated, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    load(generated, warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        before = con.sql(
            "select (select count(*) from raw.events), (select count(*) from raw.loads)"
        ).fetchall()
    folder = copy_of(generated, tmp_path)

    def blank_and_add(rows, columns):
        for row in rows:
            if row["event_type"] == "care_leaver_contact":
                row["code2"] = ""
                row["recorded_at"] = row["recorded_at"][:4] + "-12-31 23:00:00"  # a new version of each

    rewrite_events(folder, blank_and_add)
    result = CliRunner().invoke(
        cli.app, ["load", str(folder), "--warehouse", str(warehouse)], env={"COLUMNS": "300"}
    )

    assert result.exit_code == 1
    assert "load refused: nothing of this load was loaded: code2 is empty in all" in result.output
    with duckdb.connect(str(warehouse), read_only=True) as con:
        after = con.sql(
            "select (select count(*) from raw.events), (select count(*) from raw.loads)"
        ).fetchall()
    assert after == before


def test_tombstones_and_a_partly_filled_column_are_not_a_broken_extract(generated, tmp_path):
    """Only a column blank in every live row of the type refuses: one filled row is enough."""
    folder = copy_of(generated, tmp_path)
    kept: list[str] = []

    def blank_all_but_one(rows, columns):
        for row in rows:
            if row["event_type"] == "care_leaver_contact":
                if not kept and row["code2"]:
                    kept.append(row["event_id"])
                else:
                    row["code2"] = ""

    rewrite_events(folder, blank_all_but_one)
    report = load(folder, tmp_path / "w.duckdb")
    assert kept and report.rows_quarantined == 0


def test_an_events_file_with_only_a_header_warns(generated, tmp_path):
    folder = copy_of(generated, tmp_path)
    header = (folder / "events.csv").read_text(encoding="utf-8").splitlines()[0]
    (folder / "events.csv").write_text(header + "\n", encoding="utf-8")

    report = load(folder, tmp_path / "w.duckdb")

    (events,) = [t for t in report.tables if t.table == "events"]
    assert (events.rows_in, events.rows_loaded) == (0, 0)
    assert "events.csv: the file has a header but no rows; nothing of it was loaded" in report.warnings


def test_the_column_needs_name_real_measures_event_types_and_optional_columns():
    with (settings.PROJECT_ROOT / "seeds" / "dim_kpi.csv").open(newline="", encoding="utf-8") as fh:
        measures = {row["measure_id"] for row in csv.DictReader(fh)}
    optional = {c.name for c in contract.EVENTS_COLUMNS if not c.required}
    for event_type, needs in contract.EVENT_COLUMN_NEEDS.items():
        assert event_type in contract.EVENT_TYPES
        for column, needed_by in needs.items():
            assert column in optional, (event_type, column)
            assert set(needed_by) <= measures, (event_type, column, set(needed_by) - measures)
    for column, needed_by in contract.CHILD_COLUMN_NEEDS.items():
        assert column in {c.name for c in contract.CHILDREN_COLUMNS if not c.required}
        assert set(needed_by) <= measures
    for event_type, column in contract.BLANK_ALLOWED:
        assert column in contract.EVENT_COLUMN_NEEDS[event_type]
    # code2: the care-leaver accommodation KPIs and the early-help step-up KPI, each measure once.
    assert contract.column_measures("events", "code2") == (
        "care_leaver_suitable_accom",
        "care_leaver_17_18_suitable_accom",
        "eh_ended",
    )
    assert contract.column_measures("events", "referral_id") == ()
