"""Tests of the loader (csc_warehouse.load) on tiny files written per test."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from factories import event_row

from csc_warehouse import contract
from csc_warehouse.load import LoadRefused, load

NOW = datetime(2026, 11, 23, 12, 0)
LA = "E10000015"


# --------------------------------------------------------------------------------------------------
# Fixture helpers


def write_csv(path: Path, rows: list[dict[str, Any]], columns: list[str] | None = None) -> Path:
    """Write rows as CSV; columns default to the first row's keys (None is empty; other keys are left out)."""
    columns = columns or list(rows[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def child(child_id: str = "C1", **overrides: Any) -> dict[str, Any]:
    row = {
        "la_code": LA,
        "child_id": child_id,
        "sex": "F",
        "birth_month": "2015-03-01",
        "ethnicity": "WBRI",
        "disabled": "false",
        "recorded_at": "2025-01-01 09:00:00",
    }
    return row | overrides


def event(event_id: str, event_type: str, event_at: str, **overrides: Any) -> dict[str, Any]:
    return event_row(event_id, event_type, event_at, **({"is_deleted": "false"} | overrides))


def population_row(age: int = 0, sex: str = "M", count: Any = 100, year: Any = 2025) -> dict[str, Any]:
    return {"la_code": LA, "year": year, "age": age, "sex": sex, "count": count}


def base_children() -> list[dict[str, Any]]:
    return [child("C1"), child("C2", sex="M")]


def base_events() -> list[dict[str, Any]]:
    # Line numbers in the file: header = 1, so these are lines 2..6.
    return [
        event("ev1", "referral_received", "2025-01-10", episode_id="R1", code="1A"),
        event("ev2", "assessment_started", "2025-01-11", episode_id="A1", referral_id="R1"),
        event("ev3", "assessment_authorised", "2025-01-20 15:30:00", episode_id="A1", code="cin"),
        event("ev4", "contact_received", "2025-02-01", child_id="C2", episode_id="K1", code="police"),
        event("ev5", "referral_closed", "2025-03-01", episode_id="R1", code="RC1"),
    ]


def base_population() -> list[dict[str, Any]]:
    return [population_row(0, "M", 100), population_row(0, "F", 90)]


def make_load(
    folder: Path,
    events: list[dict[str, Any]] | None = None,
    children: list[dict[str, Any]] | None = None,
    population: list[dict[str, Any]] | None = None,
) -> Path:
    """A load folder with the base data unless told otherwise; population=[] writes no file."""
    write_csv(folder / "children.csv", base_children() if children is None else children, _cols("children"))
    write_csv(folder / "events.csv", base_events() if events is None else events, _cols("events"))
    population = base_population() if population is None else population
    if population:
        write_csv(folder / "population.csv", population, _cols("population"))
    return folder


def _cols(table: str) -> list[str]:
    return [c.name for c in contract.TABLES[table]]


def query(warehouse: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def table_counts(warehouse: Path) -> dict[str, int]:
    tables = ["raw.loads", "raw.children", "raw.events", "raw.population", "quarantine.rows"]
    return {t: query(warehouse, f"select count(*) from {t}")[0][0] for t in tables}


def quarantined(warehouse: Path, table: str = "events") -> list[tuple[Any, ...]]:
    """(source_line, column_name, reason, record_json) of one table's quarantined rows."""
    return query(
        warehouse,
        "select source_line, column_name, reason, record_json from quarantine.rows "
        f"where table_name = '{table}' order by source_line, column_name",
    )


def report_for(report: Any, table: str) -> Any:
    (found,) = [t for t in report.tables if t.table == table]
    return found


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


# --------------------------------------------------------------------------------------------------
# Happy path and re-loads


def test_happy_path_counts_add_up(tmp_path: Path, warehouse: Path) -> None:
    report = load(make_load(tmp_path / "in"), warehouse, now=NOW)

    assert report.load_id == 1
    assert [(t.table, t.file) for t in report.tables] == [
        ("children", "children.csv"),
        ("events", "events.csv"),
        ("population", "population.csv"),
    ]
    assert (report.rows_in, report.rows_loaded, report.rows_unchanged, report.rows_quarantined) == (
        9,
        9,
        0,
        0,
    )
    for t in report.tables:
        assert t.rows_in == t.rows_loaded + t.rows_unchanged + t.rows_quarantined
    assert table_counts(warehouse) == {
        "raw.loads": 3,
        "raw.children": 2,
        "raw.events": 5,
        "raw.population": 2,
        "quarantine.rows": 0,
    }
    # Lines are 1-based with the header as line 1; every row is tagged with its load.
    assert query(warehouse, "select event_id, source_line, load_id from raw.events order by 2") == [
        ("ev1", 2, 1),
        ("ev2", 3, 1),
        ("ev3", 4, 1),
        ("ev4", 5, 1),
        ("ev5", 6, 1),
    ]
    # A plain date is midnight; types follow the contract.
    assert query(warehouse, "select event_at, is_deleted from raw.events where event_id = 'ev1'") == [
        (datetime(2025, 1, 10), False)
    ]
    loads = query(warehouse, "select table_name, rows_in, rows_loaded, status, file_sha256 from raw.loads")
    assert {(r[0], r[1], r[2], r[3]) for r in loads} == {
        ("children", 2, 2, "loaded"),
        ("events", 5, 5, "loaded"),
        ("population", 2, 2, "loaded"),
    }
    assert all(len(r[4]) == 64 for r in loads)


def test_reload_changes_nothing(tmp_path: Path, warehouse: Path) -> None:
    folder = make_load(tmp_path / "in")
    load(folder, warehouse, now=NOW)
    before = query(warehouse, "select * from raw.events order by event_id")

    again = load(folder, warehouse, now=NOW)

    assert again.load_id == 2
    assert again.rows_loaded == 0 and again.rows_quarantined == 0
    assert again.rows_unchanged == again.rows_in == 9
    assert query(warehouse, "select * from raw.events order by event_id") == before
    assert table_counts(warehouse)["raw.children"] == 2
    assert table_counts(warehouse)["raw.population"] == 2
    assert query(
        warehouse, "select table_name, rows_loaded, rows_unchanged from raw.loads where load_id = 2"
    ) == [
        ("children", 0, 2),
        ("events", 0, 5),
        ("population", 0, 2),
    ]


def test_split_files_and_later_load_without_population(tmp_path: Path, warehouse: Path) -> None:
    load(make_load(tmp_path / "first"), warehouse, now=NOW)
    folder = tmp_path / "second"
    write_csv(folder / "children_a.csv", [child("C3")])
    write_csv(folder / "children_b.csv", [child("C4")])
    write_csv(folder / "events_1.csv", [event("ev10", "contact_received", "2025-05-01", child_id="C3")])
    # The end's start is in the other events file of the same load.
    write_csv(
        folder / "events_2.csv",
        [event("ev11", "missing_ended", "2025-05-03", child_id="C4", episode_id="M1")],
    )
    write_csv(
        folder / "events_3.csv",
        [event("ev12", "missing_started", "2025-05-02", child_id="C4", episode_id="M1", code="away")],
    )

    report = load(folder, warehouse, now=NOW)

    assert [(t.file, t.rows_loaded) for t in report.tables] == [
        ("children_a.csv", 1),
        ("children_b.csv", 1),
        ("events_1.csv", 1),
        ("events_2.csv", 1),
        ("events_3.csv", 1),
    ]
    assert report.rows_quarantined == 0


def test_identical_repeat_in_file_is_unchanged(tmp_path: Path, warehouse: Path) -> None:
    events = [*base_events(), base_events()[0]]
    report = load(make_load(tmp_path / "in", events=events), warehouse, now=NOW)

    ev = report_for(report, "events")
    assert (ev.rows_in, ev.rows_loaded, ev.rows_unchanged, ev.rows_quarantined) == (6, 5, 1, 0)
    assert query(warehouse, "select count(*) from raw.events where event_id = 'ev1'") == [(1,)]


# --------------------------------------------------------------------------------------------------
# Versions


def test_new_version_of_event_loads_as_new_row(tmp_path: Path, warehouse: Path) -> None:
    load(make_load(tmp_path / "first"), warehouse, now=NOW)
    corrected = event(
        "ev4", "contact_received", "2025-02-02", child_id="C2", episode_id="K1", code="school",
        recorded_at="2025-07-01 08:00:00",
    )  # fmt: skip
    report = load(make_load(tmp_path / "second", events=[corrected], population=[]), warehouse, now=NOW)

    assert report_for(report, "events").rows_loaded == 1
    assert query(
        warehouse, "select code, load_id from raw.events where event_id = 'ev4' order by recorded_at"
    ) == [
        ("police", 1),
        ("school", 2),
    ]


def test_tombstone_loads(tmp_path: Path, warehouse: Path) -> None:
    load(make_load(tmp_path / "first"), warehouse, now=NOW)
    tombstone = event(
        "ev4", "contact_received", "2025-02-01", child_id="C2", episode_id="K1", code="police",
        recorded_at="2025-08-01 00:00:00", is_deleted="true",
    )  # fmt: skip
    report = load(make_load(tmp_path / "second", events=[tombstone], population=[]), warehouse, now=NOW)

    assert report_for(report, "events").rows_loaded == 1
    assert query(
        warehouse, "select is_deleted from raw.events where event_id = 'ev4' order by recorded_at"
    ) == [
        (False,),
        (True,),
    ]


def test_unknown_event_type_loads_and_is_counted(tmp_path: Path, warehouse: Path) -> None:
    events = [
        *base_events(),
        event("ev9", "family_group_conference", "2025-04-01"),
        event("ev8", "family_group_conference", "2025-04-02"),
    ]
    report = load(make_load(tmp_path / "in", events=events), warehouse, now=NOW)

    ev = report_for(report, "events")
    assert ev.rows_loaded == 7 and ev.rows_quarantined == 0
    assert ev.unknown_event_types == {"family_group_conference": 2}
    assert any("family_group_conference (2)" in w for w in report.warnings)


def test_end_with_start_in_earlier_load_is_accepted(tmp_path: Path, warehouse: Path) -> None:
    start = event("ev20", "cp_plan_started", "2025-03-01", episode_id="CP1", code="N")
    load(make_load(tmp_path / "first", events=[*base_events(), start]), warehouse, now=NOW)
    # The start is deleted later: it still shows the episode existed.
    tombstone = start | {"recorded_at": "2025-09-01 00:00:00", "is_deleted": "true"}
    load(make_load(tmp_path / "second", events=[tombstone], population=[]), warehouse, now=NOW)

    end = event("ev21", "cp_plan_ended", "2025-09-30", episode_id="CP1")
    report = load(make_load(tmp_path / "third", events=[end], population=[]), warehouse, now=NOW)

    assert report_for(report, "events").rows_loaded == 1
    assert quarantined(warehouse) == []


def test_parquet_input(tmp_path: Path, warehouse: Path) -> None:
    csv_folder = make_load(tmp_path / "csv")
    folder = tmp_path / "parquet"
    folder.mkdir()
    with duckdb.connect() as con:
        for table in contract.TABLES:
            con.execute(
                f"copy (select * from read_csv('{csv_folder / table}.csv')) "
                f"to '{folder / table}.parquet' (format parquet)"
            )
        # Typed columns (timestamps, booleans, integers) as a Parquet writer makes them; a bad row
        # is reported by row number (from 1).
        con.execute(
            f"copy (select 'E1' as la_code, 2025 as year, 20 as age, 'M' as sex, 5 as count) "
            f"to '{folder / 'population_extra'}.parquet' (format parquet)"
        )

    report = load(folder, warehouse, now=NOW)

    assert [(t.file, t.rows_loaded, t.rows_quarantined) for t in report.tables] == [
        ("children.parquet", 2, 0),
        ("events.parquet", 5, 0),
        ("population.parquet", 2, 0),
        ("population_extra.parquet", 0, 1),
    ]
    assert query(warehouse, "select min(source_line), max(source_line) from raw.events") == [(1, 5)]
    [(line, column, reason, _)] = quarantined(warehouse, "population")
    assert (line, column) == (1, "age") and reason.startswith("row 1: age 20")


def test_birth_month_reduced_to_first_of_month(tmp_path: Path, warehouse: Path) -> None:
    children = [child("C1", birth_month="2015-03-17"), child("C2", birth_month="2016-07-01")]
    report = load(make_load(tmp_path / "in", children=children), warehouse, now=NOW)

    assert report.rows_quarantined == 0
    assert query(warehouse, "select child_id, birth_month::varchar from raw.children order by 1") == [
        ("C1", "2015-03-01"),
        ("C2", "2016-07-01"),
    ]
    assert any("children.csv: 1 birth_month" in w for w in report.warnings)


# --------------------------------------------------------------------------------------------------
# Quarantine: one reason each; the reason names the column and the row's line


def events_with(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The base events with `row` appended: it is line 7 of the file."""
    return [*base_events(), row]


def assert_one_quarantined(
    warehouse: Path, report: Any, table: str, line: int, column: str | None, *phrases: str
) -> str:
    t = report_for(report, table)
    assert t.rows_quarantined == 1
    assert t.rows_in == t.rows_loaded + t.rows_unchanged + t.rows_quarantined
    rows = quarantined(warehouse, table)
    assert [(r[0], r[1]) for r in rows] == [(line, column)]
    reason = rows[0][2]
    assert reason.startswith(f"line {line}: ")
    for phrase in phrases:
        assert phrase in reason
    json.loads(rows[0][3])  # the raw row is kept as JSON
    return reason


def test_required_field_empty(tmp_path: Path, warehouse: Path) -> None:
    row = event("", "contact_received", "2025-04-01", code="police")
    report = load(make_load(tmp_path / "in", events=events_with(row)), warehouse, now=NOW)
    assert_one_quarantined(warehouse, report, "events", 7, "event_id", "required field event_id is empty")


def test_value_that_does_not_cast(tmp_path: Path, warehouse: Path) -> None:
    row = event("ev9", "sdq_recorded", "2025-04-01", value="twelve")
    report = load(make_load(tmp_path / "in", events=events_with(row)), warehouse, now=NOW)
    reason = assert_one_quarantined(warehouse, report, "events", 7, "value", "value twelve", "number")
    # The raw row is kept whole, text as it came.
    assert json.loads(quarantined(warehouse)[0][3])["value"] == "twelve", reason


def test_event_in_the_future(tmp_path: Path, warehouse: Path) -> None:
    row = event("ev9", "contact_received", "2031-01-02", code="police")
    report = load(make_load(tmp_path / "in", events=events_with(row)), warehouse, now=NOW)
    assert_one_quarantined(
        warehouse,
        report,
        "events",
        7,
        "event_at",
        "event_at 2031-01-02 is in the future (load date 2026-11-23)",
    )


def test_event_before_1990(tmp_path: Path, warehouse: Path) -> None:
    row = event("ev9", "contact_received", "1989-12-31", code="police")
    report = load(make_load(tmp_path / "in", events=events_with(row)), warehouse, now=NOW)
    assert_one_quarantined(warehouse, report, "events", 7, "event_at", "event_at 1989-12-31", "1990-01-01")


def test_code_not_in_closed_list(tmp_path: Path, warehouse: Path) -> None:
    row = event("ev9", "contact_received", "2025-04-01", code="neighbour")
    report = load(make_load(tmp_path / "in", events=events_with(row)), warehouse, now=NOW)
    assert_one_quarantined(
        warehouse, report, "events", 7, "code", "code neighbour", "contact_received", "police"
    )


def test_child_sex_not_known_code(tmp_path: Path, warehouse: Path) -> None:
    children = [*base_children(), child("C3", sex="X")]
    report = load(make_load(tmp_path / "in", children=children), warehouse, now=NOW)
    assert_one_quarantined(warehouse, report, "children", 4, "sex", "sex X", "M, F, U")


def test_event_of_unknown_child(tmp_path: Path, warehouse: Path) -> None:
    row = event("ev9", "contact_received", "2025-04-01", child_id="C99", code="police")
    report = load(make_load(tmp_path / "in", events=events_with(row)), warehouse, now=NOW)
    assert_one_quarantined(warehouse, report, "events", 7, "child_id", "child_id C99", "no children row")


def test_end_without_start(tmp_path: Path, warehouse: Path) -> None:
    row = event("ev9", "cin_plan_ended", "2025-04-01", episode_id="P9")
    report = load(make_load(tmp_path / "in", events=events_with(row)), warehouse, now=NOW)
    assert_one_quarantined(
        warehouse, report, "events", 7, "episode_id", "episode_id P9", "no cin_plan_started"
    )


def test_end_before_start(tmp_path: Path, warehouse: Path) -> None:
    row = event("ev9", "referral_closed", "2025-01-09", episode_id="R1", code="RC2")
    report = load(make_load(tmp_path / "in", events=events_with(row)), warehouse, now=NOW)
    assert_one_quarantined(
        warehouse, report, "events", 7, "event_at", "event_at 2025-01-09", "referral_received on 2025-01-10"
    )


def test_duplicate_in_file_with_different_content(tmp_path: Path, warehouse: Path) -> None:
    row = base_events()[3] | {"code": "school"}  # ev4 again, same recorded_at
    report = load(make_load(tmp_path / "in", events=events_with(row)), warehouse, now=NOW)
    assert_one_quarantined(
        warehouse, report, "events", 7, None, "duplicate of events.csv line 5", "event_id ev4"
    )
    assert query(warehouse, "select code from raw.events where event_id = 'ev4'") == [("police",)]


def test_duplicate_of_warehouse_version_with_different_content(tmp_path: Path, warehouse: Path) -> None:
    load(make_load(tmp_path / "first"), warehouse, now=NOW)
    changed = base_events()[3] | {"code": "school"}
    events = [base_events()[0], changed]
    report = load(make_load(tmp_path / "second", events=events, population=[]), warehouse, now=NOW)
    assert_one_quarantined(
        warehouse, report, "events", 3, None, "event_id ev4", "already in the warehouse (load 1)"
    )
    assert report_for(report, "events").rows_unchanged == 1


def test_children_duplicate_with_different_content(tmp_path: Path, warehouse: Path) -> None:
    children = [*base_children(), child("C1", sex="M")]
    report = load(make_load(tmp_path / "in", children=children), warehouse, now=NOW)
    assert_one_quarantined(
        warehouse, report, "children", 4, None, "duplicate of children.csv line 2", "child_id C1"
    )


@pytest.mark.parametrize(
    ("row", "column", "phrase"),
    [
        (population_row(age=18), "age", "age 18 is outside 0-17"),
        (population_row(sex="U"), "sex", "sex U is not one of M, F"),
        (population_row(age=3, count=-1), "count", "count -1 is negative"),
        (population_row(age=3, count="2.5"), "count", "count 2.5 is not a valid whole number"),
    ],
    ids=["age", "sex", "negative-count", "fractional-count"],
)
def test_population_bad_values(
    tmp_path: Path, warehouse: Path, row: dict[str, Any], column: str, phrase: str
) -> None:
    population = [*base_population(), row]
    report = load(make_load(tmp_path / "in", population=population), warehouse, now=NOW)
    assert_one_quarantined(warehouse, report, "population", 4, column, phrase)


def test_population_duplicate_with_different_count(tmp_path: Path, warehouse: Path) -> None:
    population = [*base_population(), population_row(0, "F", 91)]
    report = load(make_load(tmp_path / "in", population=population), warehouse, now=NOW)
    assert_one_quarantined(warehouse, report, "population", 4, None, "duplicate of population.csv line 3")


def test_several_problems_of_one_row_are_all_reported(tmp_path: Path, warehouse: Path) -> None:
    row = event("ev9", "contact_received", "2031-01-02", code="neighbour", value="x")
    report = load(make_load(tmp_path / "in", events=events_with(row)), warehouse, now=NOW)

    assert report_for(report, "events").rows_quarantined == 1
    assert [(r[0], r[1]) for r in quarantined(warehouse)] == [(7, "code"), (7, "event_at"), (7, "value")]


def test_malformed_csv_row_is_quarantined_and_lines_stay_true(tmp_path: Path, warehouse: Path) -> None:
    folder = make_load(tmp_path / "in")
    path = folder / "events.csv"
    lines = path.read_text().splitlines()
    lines.insert(2, "only,three,fields")  # becomes line 3; ev2 moves to line 4
    path.write_text("\n".join(lines) + "\n")

    report = load(folder, warehouse, now=NOW)

    ev = report_for(report, "events")
    assert (ev.rows_in, ev.rows_loaded, ev.rows_quarantined) == (6, 5, 1)
    [(line, column, reason, record)] = quarantined(warehouse)
    assert (line, column) == (3, None) and "not a well-formed CSV row" in reason
    assert json.loads(record) == {"csv_line": "only,three,fields"}
    assert query(warehouse, "select event_id, source_line from raw.events order by 2") == [
        ("ev1", 2),
        ("ev2", 4),
        ("ev3", 5),
        ("ev4", 6),
        ("ev5", 7),
    ]


# --------------------------------------------------------------------------------------------------
# Refused files: nothing of the load is written


def refuse_second_load(tmp_path: Path, warehouse: Path, spoil: Any) -> str:
    """Load the base data, then a folder spoiled by `spoil(folder)`; returns the refusal message."""
    load(make_load(tmp_path / "first"), warehouse, now=NOW)
    before = table_counts(warehouse)
    folder = make_load(tmp_path / "second", events=[event("ev30", "contact_received", "2025-04-01")])
    spoil(folder)
    with pytest.raises(LoadRefused) as refused:
        load(folder, warehouse, now=NOW)
    assert table_counts(warehouse) == before
    return str(refused.value)


def test_refused_missing_column(tmp_path: Path, warehouse: Path) -> None:
    def spoil(folder: Path) -> None:
        columns = [c for c in _cols("events") if c != "event_at"]
        write_csv(folder / "events.csv", [event("ev30", "contact_received", "2025-04-01")], columns)

    message = refuse_second_load(tmp_path, warehouse, spoil)
    assert "events.csv" in message and "missing required columns event_at" in message
    assert "Expected" in message and "found: event_id, la_code" in message


def test_refused_utf16(tmp_path: Path, warehouse: Path) -> None:
    def spoil(folder: Path) -> None:
        path = folder / "children.csv"
        path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))

    message = refuse_second_load(tmp_path, warehouse, spoil)
    assert "children.csv" in message and "UTF-16" in message


def test_refused_not_csv(tmp_path: Path, warehouse: Path) -> None:
    def spoil(folder: Path) -> None:
        (folder / "events.csv").write_bytes(
            b"PAR1\x15\x04\x15\x10\x15\x14L\x15\x02\x15\x00\x12\x00\x00\xff\xfe"
        )

    message = refuse_second_load(tmp_path, warehouse, spoil)
    assert "events.csv" in message and "not UTF-8" in message


def test_refused_invalid_utf8_late_in_file_rolls_back(tmp_path: Path, warehouse: Path) -> None:
    # Found only while reading, after children were written in the transaction.
    def spoil(folder: Path) -> None:
        with (folder / "events.csv").open("ab") as fh:
            fh.write(b"ev31,E10000015,C1,contact_received,2025-04-01,2025-06-01,,,caf\xe9,,,false\n")

    message = refuse_second_load(tmp_path, warehouse, spoil)
    assert "events.csv" in message and "line 3 is not valid UTF-8" in message


def test_refused_first_load_leaves_no_warehouse(tmp_path: Path, warehouse: Path) -> None:
    folder = make_load(tmp_path / "in")
    write_csv(folder / "population.csv", [{"la_code": LA, "year": 2025, "age": 0, "sex": "M", "persons": 1}])
    with pytest.raises(LoadRefused, match="unexpected columns 'persons'"):
        load(folder, warehouse, now=NOW)
    assert not warehouse.exists()


def test_refused_first_load_without_population(tmp_path: Path, warehouse: Path) -> None:
    with pytest.raises(LoadRefused, match="no population"):
        load(make_load(tmp_path / "in", population=[]), warehouse, now=NOW)
    assert not warehouse.exists()


def test_refused_broken_quote(tmp_path: Path, warehouse: Path) -> None:
    def spoil(folder: Path) -> None:
        with (folder / "events.csv").open("a") as fh:
            fh.write('ev32,E10000015,C1,"contact_received,2025-04-01,2025-06-01,,,,,,false\n')

    message = refuse_second_load(tmp_path, warehouse, spoil)
    assert "events.csv" in message and "not readable as CSV" in message and "unterminated quote" in message


def test_utf8_bom_and_crlf_load(tmp_path: Path, warehouse: Path) -> None:
    # What a spreadsheet saving "CSV UTF-8" writes.
    folder = make_load(tmp_path / "in")
    path = folder / "events.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))

    report = load(folder, warehouse, now=NOW)

    assert report_for(report, "events").rows_loaded == 5
    assert query(warehouse, "select max(source_line) from raw.events") == [(6,)]


# --------------------------------------------------------------------------------------------------
# Re-loads of quarantined rows, reason codes, and warehouses from before reason codes


def test_reload_of_quarantined_rows_adds_nothing_and_a_fixed_row_loads(
    tmp_path: Path, warehouse: Path
) -> None:
    """Two bad rows (an unknown child; a future date): quarantined once, counted unchanged on a re-load;
    sent again fixed, the first loads and leaves its old quarantine row as the record of the first try."""
    bad = [
        event("ev6", "contact_received", "2025-02-02", child_id="NOBODY", episode_id="K9", code="police"),
        event("ev7", "contact_received", "2099-01-01", episode_id="K8", code="police"),
    ]
    folder = make_load(tmp_path / "in", events=base_events() + bad)
    first = load(folder, warehouse, now=NOW)
    again = load(folder, warehouse, now=NOW)

    assert (first.rows_quarantined, report_for(first, "events").rows_already_quarantined) == (2, 0)
    events = report_for(again, "events")
    # 5 good rows + 2 rows quarantined before = 7 unchanged, none new.
    assert (events.rows_in, events.rows_unchanged, events.rows_quarantined) == (7, 7, 0)
    assert events.rows_already_quarantined == 2
    assert table_counts(warehouse)["quarantine.rows"] == 2
    assert query(warehouse, "select distinct status from raw.loads where load_id = 2") == [("nothing_new",)]
    assert query(warehouse, "select reason_code, column_name from quarantine.rows order by source_line") == [
        ("unknown_child", "child_id"),
        ("event_at_in_future", "event_at"),
    ]

    fixed = make_load(tmp_path / "fixed", events=[{**bad[0], "child_id": "C2"}], population=[])
    third = load(fixed, warehouse, now=NOW)
    assert (third.rows_loaded, third.rows_quarantined) == (1, 0)
    assert table_counts(warehouse)["quarantine.rows"] == 2


def test_a_warehouse_from_before_reason_codes_gains_the_column(tmp_path: Path, warehouse: Path) -> None:
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema quarantine")
        con.execute(
            """create table quarantine.rows (load_id integer not null, table_name varchar not null,
               file_name varchar not null, source_line bigint, column_name varchar, reason varchar not null,
               record_json varchar)"""
        )
        con.execute(
            "insert into quarantine.rows values (1, 'events', 'old.csv', 2, null, 'line 2: old', '{}')"
        )

    load(
        make_load(tmp_path / "in", events=events_with(event("ev9", "referral_closed", "2025-03-02"))),
        warehouse,
        now=NOW,
    )

    assert query(warehouse, "select reason_code from quarantine.rows order by load_id, source_line") == [
        (None,),
        ("end_without_episode_id",),
    ]
