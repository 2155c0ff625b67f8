"""Tests of the synthetic generator: the files keep the input contract and the volumes are calibrated.

A small authority (20,000 children, one reported year) keeps them fast; volumes scale with population.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from csc_warehouse.contract import CLOSED_CODES, END_TO_START, EVENT_TYPES, TABLES, Column
from csc_warehouse.generate import GenerateSummary, generate

POPULATION = 20_000
ARROW_TYPES = {
    "varchar": pa.string(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("s"),
    "boolean": pa.bool_(),
    "double": pa.float64(),
    "integer": pa.int32(),
}


def read_csv(path: Path, columns: tuple[Column, ...]) -> pd.DataFrame:
    """Reads a generated CSV with the contract's types, so a badly formatted value fails the test."""
    options = pa_csv.ConvertOptions(
        column_types={c.name: ARROW_TYPES[c.type] for c in columns},
        strings_can_be_null=True,
        timestamp_parsers=["%Y-%m-%d %H:%M:%S", "%Y-%m-%d"],
    )
    return pa_csv.read_csv(path, convert_options=options).to_pandas()


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[GenerateSummary, dict[str, pd.DataFrame]]:
    out = tmp_path_factory.mktemp("small")
    summary = generate(out, seed=7, years=1, population=POPULATION)
    tables = {name: read_csv(out / f"{name}.csv", cols) for name, cols in TABLES.items()}
    return summary, tables


@pytest.fixture(scope="module")
def events(small: tuple[GenerateSummary, dict[str, pd.DataFrame]]) -> pd.DataFrame:
    return small[1]["events"]


@pytest.fixture(scope="module")
def latest(events: pd.DataFrame) -> pd.DataFrame:
    """The latest view: per event_id the version with the greatest recorded_at, tombstones removed."""
    last = events.sort_values(["event_id", "recorded_at"]).groupby("event_id").tail(1)
    return last[~last["is_deleted"]]


def test_same_seed_same_bytes_and_other_seed_differs(tmp_path: Path) -> None:
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        generate(tmp_path / name, seed=seed, years=1, population=5_000)
    for table in TABLES:
        first = (tmp_path / "a" / f"{table}.csv").read_bytes()
        assert first == (tmp_path / "b" / f"{table}.csv").read_bytes(), table
    assert (tmp_path / "a" / "events.csv").read_bytes() != (tmp_path / "c" / "events.csv").read_bytes()


def test_csv_columns_match_the_contract_in_order(
    small: tuple[GenerateSummary, dict[str, pd.DataFrame]],
) -> None:
    summary, _ = small
    for name, columns in TABLES.items():
        header = (summary.out_dir / f"{name}.csv").read_text(encoding="utf-8").splitlines()[0]
        assert [h.strip('"') for h in header.split(",")] == [c.name for c in columns]


def test_csv_formats(small: tuple[GenerateSummary, dict[str, pd.DataFrame]]) -> None:
    summary, _ = small
    lines = (summary.out_dir / "events.csv").read_text(encoding="utf-8").splitlines()[1:200]
    row = lines[0].split(",")
    assert len(row[4]) == len("2017-01-01 00:00:00") and row[4][10] == " "
    assert row[-1] in ("true", "false")
    children = (summary.out_dir / "children.csv").read_text(encoding="utf-8").splitlines()[1].split(",")
    assert len(children[3]) == len("2017-01-01")


def test_parquet_has_the_contract_schema(tmp_path: Path) -> None:
    summary = generate(tmp_path, seed=3, years=1, population=5_000, file_format="parquet", progress=True)
    for name, columns in TABLES.items():
        schema = pq.read_schema(tmp_path / f"{name}.parquet")
        assert schema.names == [c.name for c in columns]
        for column in columns:
            actual, wanted = schema.field(column.name).type, ARROW_TYPES[column.type]
            # Parquet has no seconds unit: pyarrow stores timestamp[s] as milliseconds.
            assert actual == wanted or (pa.types.is_timestamp(actual) and pa.types.is_timestamp(wanted))
    assert pq.read_metadata(tmp_path / "events.parquet").num_rows == summary.events


def test_summary_matches_the_files(small: tuple[GenerateSummary, dict[str, pd.DataFrame]]) -> None:
    summary, tables = small
    assert summary.children == len(tables["children"])
    assert summary.events == len(tables["events"])
    assert summary.population_rows == len(tables["population"])
    assert summary.first_event_date == tables["events"]["event_at"].min().date()
    assert summary.last_event_date == tables["events"]["event_at"].max().date()


def test_default_window_ends_2018_03_31_with_a_burn_in_year(
    small: tuple[GenerateSummary, dict[str, pd.DataFrame]],
) -> None:
    summary, _ = small
    assert summary.last_event_date <= date(2018, 3, 31)
    assert summary.last_event_date >= date(2018, 3, 25)
    # One reported year from 2017-04-01, emitted from one burn-in year earlier.
    assert date(2016, 4, 1) <= summary.first_event_date <= date(2016, 4, 10)


def test_explicit_start(tmp_path: Path) -> None:
    summary = generate(tmp_path, years=2, start=date(2010, 1, 1), population=5_000)
    assert date(2009, 1, 1) <= summary.first_event_date <= date(2009, 1, 15)
    assert date(2011, 12, 20) <= summary.last_event_date <= date(2011, 12, 31)


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate(tmp_path, years=0)
    with pytest.raises(ValueError):
        generate(tmp_path, start=date(1989, 6, 1), years=1)
    with pytest.raises(ValueError):
        generate(tmp_path, start=date.today(), years=1)


def test_required_fields_and_constant_la_code(small: tuple[GenerateSummary, dict[str, pd.DataFrame]]) -> None:
    _, tables = small
    for name, columns in TABLES.items():
        frame = tables[name]
        for column in columns:
            if column.required:
                assert frame[column.name].notna().all(), (name, column.name)
        assert set(frame["la_code"]) == {"E10000015"}
    assert tables["events"]["is_deleted"].notna().all()


def test_event_types_and_closed_codes(events: pd.DataFrame) -> None:
    assert set(events["event_type"]) <= set(EVENT_TYPES)
    for event_type, codes in CLOSED_CODES.items():
        rows = events[events["event_type"] == event_type]
        assert set(rows["code"]) <= set(codes), event_type
    referrals = events[events["event_type"] == "referral_received"]
    assert set(referrals["code2"].dropna()) == {"nfa"}
    closures = events[events["event_type"] == "referral_closed"]
    assert closures["code"].str.fullmatch(r"RC[1-8]").all()


def test_every_end_has_its_start_and_is_not_before_it(events: pd.DataFrame, latest: pd.DataFrame) -> None:
    # Checked on every version (as a loader sees the rows) and on the latest view.
    for view in (events, latest):
        for end_type, start_type in END_TO_START.items():
            ends = view[view["event_type"] == end_type]
            if ends.empty:  # a type of a later stage (looked-after children, ...)
                continue
            starts = latest[latest["event_type"] == start_type].groupby("episode_id")["event_at"].min()
            start_at = ends["episode_id"].map(starts)
            assert start_at.notna().all(), f"{end_type} without {start_type}"
            assert (ends["event_at"].dt.normalize() >= start_at.dt.normalize()).all(), end_type


def test_versions_have_later_recorded_at(events: pd.DataFrame) -> None:
    assert (events["recorded_at"] >= events["event_at"]).all()
    assert not events.duplicated(["event_id", "recorded_at"]).any()
    versions = events.groupby("event_id")["recorded_at"].agg(["count", "min", "max"])
    assert (versions.loc[versions["count"] > 1, "max"] > versions.loc[versions["count"] > 1, "min"]).all()
    # A tombstone is the last version of its event.
    last = events.sort_values(["event_id", "recorded_at"]).groupby("event_id").tail(1)
    assert events["is_deleted"].sum() == last["is_deleted"].sum()
    # ~1% corrected, ~0.3% deleted: both present, neither widespread.
    revised = (versions["count"] > 1).mean()
    assert 0.005 < revised < 0.03
    tombstones = events[events["is_deleted"]]
    assert 0.0005 < len(tombstones) / versions.shape[0] < 0.01
    # A tombstone repeats the version it deletes, apart from recorded_at and is_deleted.
    content = ["child_id", "event_type", "event_at", "episode_id", "code"]
    before = events[~events["is_deleted"]].set_index("event_id").loc[tombstones["event_id"], content]
    after = tombstones.set_index("event_id")[content]
    pd.testing.assert_frame_equal(before, after)


def test_event_dates_within_the_window(small: tuple[GenerateSummary, dict[str, pd.DataFrame]]) -> None:
    _, tables = small
    ev = tables["events"]
    assert ev["event_at"].min() >= pd.Timestamp("2016-04-01")
    assert ev["event_at"].max() < pd.Timestamp("2018-04-01")
    assert ev["recorded_at"].max() < pd.Timestamp("2018-04-01")


def test_ids_are_unique_and_pseudonymous(small: tuple[GenerateSummary, dict[str, pd.DataFrame]]) -> None:
    _, tables = small
    children, ev = tables["children"], tables["events"]
    assert children["child_id"].is_unique
    assert children["child_id"].str.fullmatch(r"C\d{6,}").all()
    assert ev["event_id"].str.fullmatch(r"E\d{7,}").all()
    # An episode belongs to one child; its id says what kind of episode it is.
    assert (ev.groupby("episode_id")["child_id"].nunique() == 1).all()
    prefixes = {
        "contact_received": "CT",
        "referral_received": "R",
        "assessment_started": "A",
        "s47_started": "S",
        "cp_plan_started": "CP",
        "cin_plan_started": "CIN",
    }
    for event_type, prefix in prefixes.items():
        ids = ev.loc[ev["event_type"] == event_type, "episode_id"]
        assert ids.str.fullmatch(prefix + r"\d{6,}").all(), event_type
    work = ev[~ev["event_type"].isin(["contact_received", "contact_decision"])]
    assert work["referral_id"].str.fullmatch(r"R\d{6,}").all()


def test_children_match_the_events(small: tuple[GenerateSummary, dict[str, pd.DataFrame]]) -> None:
    _, tables = small
    children, ev = tables["children"], tables["events"]
    assert set(ev["child_id"]) == set(children["child_id"])
    first = ev.groupby("child_id").agg(first_at=("event_at", "min"), first_recorded=("recorded_at", "min"))
    kids = children.set_index("child_id").join(first)
    assert (kids["recorded_at"] <= kids["first_recorded"]).all()
    assert set(children["sex"]) <= {"M", "F", "U"}
    assert children["ethnicity"].str.fullmatch(r"[A-Z]{4}").all()
    assert 0.6 < (children["ethnicity"] == "WBRI").mean() < 0.9
    assert 0.02 < children["disabled"].mean() < 0.08
    # Month and year of birth only; aged 0-17 at the first contact.
    birth = pd.to_datetime(kids["birth_month"])
    assert (birth.dt.day == 1).all()
    assert (birth <= kids["first_at"]).all()
    assert (kids["first_at"] < birth + pd.DateOffset(years=18)).all()


def test_population_table(small: tuple[GenerateSummary, dict[str, pd.DataFrame]]) -> None:
    _, tables = small
    pop = tables["population"]
    assert sorted(pop["year"].unique()) == [2016, 2017, 2018]
    assert len(pop) == 3 * 18 * 2
    assert (pop.groupby("year")["count"].sum() == POPULATION).all()
    assert set(pop["age"]) == set(range(18)) and set(pop["sex"]) == {"M", "F"}
    by_sex = pop.groupby("sex")["count"].sum()
    assert by_sex["M"] > by_sex["F"]


def test_referral_volume_per_year(latest: pd.DataFrame) -> None:
    expected = POPULATION * 224 / 10_000
    referrals = latest[latest["event_type"] == "referral_received"]
    for year_start in ("2016-04-01", "2017-04-01"):
        start = pd.Timestamp(year_start)
        in_year = referrals["event_at"].between(start, start + pd.DateOffset(years=1), inclusive="left")
        assert abs(in_year.sum() - expected) <= 0.15 * expected, year_start


def test_volumes_scale_with_population(latest: pd.DataFrame) -> None:
    scale = POPULATION / 267_000
    year = latest[latest["event_at"] >= pd.Timestamp("2017-04-01")]
    counts = year["event_type"].value_counts()
    assert abs(counts["contact_received"] - 28_000 * scale) <= 0.15 * 28_000 * scale
    assert abs(counts["cp_plan_started"] - 730 * scale) <= 0.3 * 730 * scale
    decisions = year[year["event_type"] == "contact_decision"]
    assert 0.18 < (decisions["code"] == "referral").mean() < 0.26


def test_journeys_follow_the_front_door(latest: pd.DataFrame) -> None:
    by_type = latest.set_index("episode_id")
    contacts = by_type.loc[by_type["event_type"] == "contact_received", "event_at"]
    decisions = by_type.loc[by_type["event_type"] == "contact_decision", "event_at"]
    delay = decisions - contacts.reindex(decisions.index)
    assert (delay >= pd.Timedelta(0)).all()
    assert 0.78 < (delay <= pd.Timedelta(hours=24)).mean() < 0.92
    # Every CP plan follows an ICPC with outcome 'plan' in the same referral.
    plans = latest[latest["event_type"] == "cp_plan_started"]
    icpc = latest[(latest["event_type"] == "icpc_held") & (latest["code"] == "plan")]
    assert set(plans["referral_id"]) <= set(icpc["referral_id"])
    # Nearly every assessment has the child seen during it.
    seen = latest[(latest["event_type"] == "child_seen") & (latest["code"] == "assessment")]
    authorised = latest[latest["event_type"] == "assessment_authorised"]
    assert authorised["episode_id"].isin(seen["episode_id"]).mean() > 0.9


def test_generation_is_vectorised_and_fast(tmp_path: Path) -> None:
    # A per-event Python loop would take minutes here; the vectorised generator takes a few seconds.
    started = time.perf_counter()
    generate(tmp_path, years=2, population=100_000)
    assert time.perf_counter() - started < 20
