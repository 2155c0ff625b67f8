"""Tests of the synthetic generator: the files keep the input contract and the volumes are calibrated.

A small authority (20,000 children, one reported year) keeps them fast; volumes scale with population.
The looked-after checks use a mid-sized one (100,000 children, two reported years), where the stocks
are large enough to be compared with the large county's rates.
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
    referral_work = [
        "referral_received", "referral_closed", "assessment_started", "assessment_authorised",
        "strategy_discussion", "s47_started", "icpc_held", "icpc_not_required", "cin_plan_started",
        "cin_plan_ended", "cp_plan_started", "cp_review", "cp_plan_ended",
    ]  # fmt: skip
    work = ev[ev["event_type"].isin(referral_work)]
    assert work["referral_id"].str.fullmatch(r"R\d{6,}").all()
    # Periods of care carry their referral where the child has one; other looked-after events none.
    assert ev["referral_id"].dropna().str.fullmatch(r"R\d{6,}").all()
    more = {"cla_period_started": "CLA", "adoption_decision": "AD", "missing_started": "M"}
    for event_type, prefix in more.items():
        ids = ev.loc[ev["event_type"] == event_type, "episode_id"]
        assert not ids.empty and ids.str.fullmatch(prefix + r"\d{6,}").all(), event_type


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
    # Month and year of birth only; aged 0-17 at the first event, except young people known only as
    # care leavers (their contacts run to age 21).
    birth = pd.to_datetime(kids["birth_month"])
    assert (birth.dt.day == 1).all()
    assert (birth <= kids["first_at"]).all()
    leavers = set(ev.loc[ev["event_type"] == "care_leaver_contact", "child_id"])
    young = ~kids.index.isin(leavers)
    assert (kids.loc[young, "first_at"] < birth[young] + pd.DateOffset(years=18)).all()
    assert (kids["first_at"] < birth + pd.DateOffset(years=22)).all()


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


# --- looked-after children, permanence and care leavers ----------------------------------------------

LEGAL_STATUSES = {"C1", "C2", "E1", "J2", "L1", "L2", "V2", "V3", "V4"}
PLACEMENTS = {
    "A3", "A4", "A5", "A6", "H5", "K1", "K2", "P1", "P2", "R1", "R2", "R3", "R5", "S1", "Z1",
    "U1", "U2", "U3", "U4", "U5", "U6",
}  # fmt: skip
ACTIVITIES = {"F1", "P1", "F2", "P2", "F4", "P4", "F5", "P5", "G4", "G5", "G6", "0"}
EET = {"F1", "P1", "F2", "P2", "F4", "P4", "F5", "P5"}
COUNTY_POPULATION = 100_000


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Latest view of the events and the children of a mid-sized authority, two reported years."""
    out = tmp_path_factory.mktemp("county")
    generate(out, seed=11, years=2, population=COUNTY_POPULATION)
    events = read_csv(out / "events.csv", TABLES["events"])
    last = events.sort_values(["event_id", "recorded_at"]).groupby("event_id").tail(1)
    children = read_csv(out / "children.csv", TABLES["children"])
    children["birth_month"] = pd.to_datetime(children["birth_month"])
    return last[~last["is_deleted"]].reset_index(drop=True), children


def periods_of(ev: pd.DataFrame) -> pd.DataFrame:
    """One row per period of care: start, end (NaT while open), codes, and whether it is a short break."""
    start = ev[ev["event_type"] == "cla_period_started"].set_index("episode_id")
    end = ev[ev["event_type"] == "cla_period_ended"].set_index("episode_id")
    changes = ev[ev["event_type"] == "cla_legal_status_changed"]
    looked_after_change = changes[~changes["code"].isin(["V3", "V4"])]["episode_id"].unique()
    periods = pd.DataFrame(
        {
            "child_id": start["child_id"],
            "start": start["event_at"],
            "status": start["code"],
            "placement": start["code2"],
            "km": start["value"],
            "end": end["event_at"].reindex(start.index),
            "reason": end["code"].reindex(start.index),
        }
    )
    periods["short_break"] = periods["status"].isin(["V3", "V4"]) & ~periods.index.isin(looked_after_change)
    return periods


def looked_after_on(periods: pd.DataFrame, day: pd.Timestamp) -> pd.DataFrame:
    open_ = (periods["start"] <= day) & (periods["end"].isna() | (periods["end"] > day))
    return periods[open_ & ~periods["short_break"]]


def test_periods_of_care_keep_the_contract(latest: pd.DataFrame) -> None:
    periods = periods_of(latest)
    assert set(periods["status"]) <= LEGAL_STATUSES
    assert set(periods["placement"]) <= PLACEMENTS | {"K2", "U6"}
    assert (periods["km"].dropna() >= 0).all()
    assert periods["reason"].dropna().str.fullmatch(r"E(1[1-7]|[2-9]|4[1-8A-B])").all()
    # A child's periods never overlap.
    ordered = periods.sort_values(["child_id", "start"])
    previous_end = ordered.groupby("child_id")["end"].shift()
    assert (previous_end.isna() | (ordered["start"] >= previous_end)).all()
    assert (ordered.groupby("child_id")["end"].shift().notna() | ordered["start"].notna()).all()


def test_changes_are_dated_inside_their_period(events: pd.DataFrame, latest: pd.DataFrame) -> None:
    periods = periods_of(latest)
    # Checked on every version, as the warehouse sees them at any reporting date.
    for event_type, codes in (
        ("cla_legal_status_changed", LEGAL_STATUSES),
        ("cla_placement_changed", PLACEMENTS),
    ):
        changes = events[events["event_type"] == event_type]
        assert not changes.empty and set(changes["code"]) <= codes, event_type
        period = periods.reindex(changes["episode_id"])
        assert (changes["event_at"].to_numpy() > period["start"].to_numpy()).all(), event_type
        ends = period["end"].to_numpy()
        assert (pd.isna(ends) | (changes["event_at"].to_numpy() < ends)).all(), event_type
    moves = latest[latest["event_type"] == "cla_placement_changed"]
    assert moves["code2"].str.fullmatch(r"[A-Z]{5}").all()


def test_looked_after_stock_and_mixes(county: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    ev, children = county
    periods = periods_of(ev)
    scale = COUNTY_POPULATION / 10_000
    birth = children.set_index("child_id")["birth_month"]
    for day in ("2017-03-31", "2017-09-30", "2018-03-31"):
        stock = looked_after_on(periods, pd.Timestamp(day))
        # ~34 per 10,000 (903-939 of 267,000).
        assert 26 * scale <= len(stock) <= 43 * scale, day
        assert stock["child_id"].is_unique
    stock = looked_after_on(periods, pd.Timestamp("2018-03-31"))
    age = (pd.Timestamp("2018-03-31") - birth.reindex(stock["child_id"])).dt.days / 365.25
    assert (age < 18).all()
    assert 0.15 < (age >= 16).mean() < 0.40
    assert 0.30 < ((age >= 10) & (age < 16)).mean() < 0.55
    assert 0.02 < (age < 5).mean() < 0.30
    # UASC ~9.7% of the stock, aged 16+ almost all at entry.
    uasc = set(ev.loc[ev["event_type"] == "uasc_started", "child_id"])
    assert 0.04 < stock["child_id"].isin(uasc).mean() < 0.16
    starts = ev[ev["event_type"] == "uasc_started"]
    start_age = (starts["event_at"] - birth.reindex(starts["child_id"]).to_numpy()).dt.days / 365.25
    assert (start_age >= 13).all() and (start_age >= 16).mean() > 0.7
    # Starts and leavers: ~450-550 a year in the large county.
    year = periods[~periods["short_break"] & (periods["start"] >= pd.Timestamp("2017-04-01"))]
    assert 13 * scale <= len(year) <= 23 * scale
    left = periods[~periods["short_break"] & (periods["end"] >= pd.Timestamp("2017-04-01"))]
    assert 13 * scale <= len(left) <= 23 * scale
    adopted = left["reason"].isin(["E11", "E12"]).mean()
    sgo = left["reason"].str.fullmatch(r"E4[3-8]").mean()
    assert 0.06 < adopted < 0.20 and 0.07 < sgo < 0.21


def test_legal_statuses_and_placements(county: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    ev, _ = county
    periods = periods_of(ev)
    day = pd.Timestamp("2018-03-31")
    stock = looked_after_on(periods, day)
    changes = ev[(ev["event_type"] == "cla_legal_status_changed") & (ev["event_at"] <= day)]
    status = changes.sort_values("event_at").groupby("episode_id")["code"].last()
    status = status.reindex(stock.index).fillna(stock["status"])
    share = status.value_counts(normalize=True)
    # Full care orders ~59%, interim ~16%, s20 ~19%, placement orders ~6%.
    assert 0.45 < share["C2"] < 0.70 and 0.08 < share["C1"] < 0.25
    assert 0.10 < share["V2"] < 0.28 and 0.02 < share["E1"] < 0.14
    moves = ev[(ev["event_type"] == "cla_placement_changed") & (ev["event_at"] <= day)]
    placement = moves.sort_values("event_at").groupby("episode_id")["code"].last()
    placement = placement.reindex(stock.index).fillna(stock["placement"])
    foster = placement.str.startswith("U").mean()
    assert 0.58 < foster < 0.80
    assert 0.03 < placement.isin(["H5", "P2"]).mean() < 0.15
    assert 0.05 < placement.isin(["K1", "K2", "R1"]).mean() < 0.18
    # Legal status changes follow care proceedings: to C2 after an interim order, E1 with a placement order.
    assert {"C1", "C2", "E1"} <= set(ev.loc[ev["event_type"] == "cla_legal_status_changed", "code"])


def test_placement_moves(county: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    ev, _ = county
    periods = periods_of(ev)
    day = pd.Timestamp("2018-03-31")
    window = pd.Timestamp("2017-04-01")
    stock = looked_after_on(periods, day)
    bounds = pd.concat(
        [
            periods.loc[~periods["short_break"], ["child_id", "start"]].rename(columns={"start": "at"}),
            ev.loc[ev["event_type"] == "cla_placement_changed", ["child_id", "episode_id", "event_at"]]
            .set_index("episode_id")
            .rename(columns={"event_at": "at"}),
        ]
    ).reset_index(names="period")
    bounds = bounds.sort_values(["period", "at"])
    bounds["until"] = bounds.groupby("period")["at"].shift(-1)
    bounds["until"] = bounds["until"].fillna(bounds["period"].map(periods["end"]))
    counted = bounds[(bounds["at"] <= day) & (bounds["until"].isna() | (bounds["until"] > window))]
    counted = counted[counted["until"].isna() | (counted["until"] > counted["at"])]
    per_child = counted.groupby("child_id").size().reindex(stock["child_id"]).fillna(0)
    # ~12% of children looked after had 3+ placements in the year.
    assert 0.05 < (per_child >= 3).mean() < 0.20


def test_adoption_journeys(county: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    ev, _ = county
    kinds = ["adoption_decision", "placement_order", "adoption_match", "adoption_placed", "adoption_order"]
    journeys = ev[ev["event_type"].isin([*kinds, "adoption_plan_ceased"])]
    dates = journeys.pivot_table(index="episode_id", columns="event_type", values="event_at", aggfunc="min")
    assert (journeys.groupby("episode_id")["child_id"].nunique() == 1).all()
    full = dates.dropna(subset=kinds)
    assert len(full) > 0
    assert (full["placement_order"] > full["adoption_decision"]).all()
    assert (full["adoption_placed"] > full["adoption_match"]).all()
    assert (full["adoption_order"] > full["adoption_placed"] + pd.Timedelta(days=150)).all()
    # Ceased journeys have no order; ~15% of decisions are reversed.
    ceased = dates["adoption_plan_ceased"].notna()
    assert dates.loc[ceased, "adoption_order"].isna().all()
    assert 0.03 < ceased.mean() < 0.35
    # Placed for adoption: an A-type placement the same day; the period ends with the order.
    placed = journeys[journeys["event_type"] == "adoption_placed"]
    moves = ev[(ev["event_type"] == "cla_placement_changed") & ev["code"].str.match(r"A[3-6]")]
    # (or a period shown from the first emitted day that starts already placed for adoption)
    starts = ev[(ev["event_type"] == "cla_period_started") & ev["code2"].str.match(r"A[3-6]")]
    a_type = pd.concat([moves, starts])
    assert set(zip(placed["child_id"], placed["event_at"], strict=True)) <= set(
        zip(a_type["child_id"], a_type["event_at"], strict=True)
    )
    orders = journeys[journeys["event_type"] == "adoption_order"]
    ends = ev[ev["event_type"] == "cla_period_ended"]
    adopted = set(zip(ends["child_id"], ends["event_at"], ends["code"], strict=True))
    assert all(
        (c, d, "E11") in adopted or (c, d, "E12") in adopted
        for c, d in zip(orders["child_id"], orders["event_at"], strict=True)
    )
    # Some are matched before the placement order (early permanence: A2 counts 0 days).
    early = full["adoption_match"] <= full["placement_order"]
    assert 0 < early.mean() < 0.6


def test_short_breaks(county: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    ev, children = county
    periods = periods_of(ev)
    breaks = periods[periods["short_break"]]
    scale = COUNTY_POPULATION / 267_000
    # A few dozen children at a time in the large county, each with many short periods.
    recent = breaks[breaks["start"] >= pd.Timestamp("2018-01-01")]
    assert 15 * scale <= recent["child_id"].nunique() <= 70 * scale
    v3 = breaks[breaks["status"] == "V3"].dropna(subset=["end"])
    assert ((v3["end"] - v3["start"]).dt.days.between(1, 5)).all()
    assert v3.groupby("child_id").size().mean() > 3
    disabled = children.set_index("child_id")["disabled"]
    assert disabled.reindex(breaks["child_id"].unique()).all()
    # No visits, reviews or health events for a short break.
    looked_after_only = ev[ev["event_type"].isin(["cla_review", "child_seen"])]
    assert not looked_after_only["episode_id"].isin(breaks.index).any()


def test_looked_after_children_have_an_open_referral(county: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    ev, _ = county
    day = pd.Timestamp("2018-03-31")
    stock = looked_after_on(periods_of(ev), day)
    received = ev[(ev["event_type"] == "referral_received") & (ev["event_at"] <= day)].set_index("episode_id")
    closed = ev[ev["event_type"] == "referral_closed"].set_index("episode_id")["event_at"]
    open_ = received[
        closed.reindex(received.index).isna().to_numpy() | (closed.reindex(received.index) > day).to_numpy()
    ]
    # Those in care since before the data began have no referral in it.
    recent = stock[stock["start"] > pd.Timestamp("2016-04-01")]
    assert recent["child_id"].isin(open_["child_id"]).mean() > 0.9


def test_visits_health_and_missing(county: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    ev, _ = county
    periods = periods_of(ev)
    day = pd.Timestamp("2018-03-31")
    stock = looked_after_on(periods, day)
    seen = ev[(ev["event_type"] == "child_seen") & (ev["code"] == "cla")]
    recent = seen[seen["event_at"].between(day - pd.Timedelta(days=41), day)]
    seen_6w = stock["child_id"].isin(recent["child_id"]) | (stock["start"] >= day - pd.Timedelta(days=6))
    assert 0.8 < seen_6w.mean() < 0.97
    year = pd.Timestamp("2017-04-01")
    long_stay = stock[stock["start"] <= day - pd.DateOffset(years=1)]
    for event_type, low, high in (("health_assessment", 0.8, 0.97), ("dental_check", 0.75, 0.95)):
        done = ev[(ev["event_type"] == event_type) & ev["event_at"].between(year, day)]
        assert low < long_stay["child_id"].isin(done["child_id"]).mean() < high, event_type
    sdq = ev[ev["event_type"] == "sdq_recorded"]["value"]
    assert sdq.between(0, 40).all() and (sdq == sdq.round()).all()
    assert 12 < sdq.mean() < 16 and 4 < sdq.std() < 8
    reviews = ev[ev["event_type"] == "cla_review"]
    assert reviews["episode_id"].isin(periods.index).all()
    # Missing: ~10% of children looked after in the year, mostly 'missing', some 'away'.
    starts = ev[ev["event_type"] == "missing_started"]
    in_year = periods[~periods["short_break"] & (periods["end"].isna() | (periods["end"] >= year))]
    went = in_year["child_id"].isin(starts.loc[starts["event_at"] >= year, "child_id"]).mean()
    assert 0.04 < went < 0.2
    assert 0.6 < (starts["code"] == "missing").mean() < 0.95
    ends = ev[ev["event_type"] == "missing_ended"]
    pairs = starts.merge(ends, on="episode_id", suffixes=("", "_end"))
    assert len(pairs) == len(ends) and (pairs["child_id"] == pairs["child_id_end"]).all()
    assert (pairs["event_at_end"] >= pairs["event_at"]).all()
    assert (pairs["code_end"] == pairs["code"]).all()


def test_care_leavers(county: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    ev, children = county
    contacts = ev[ev["event_type"] == "care_leaver_contact"]
    assert set(contacts["code"]) <= ACTIVITIES
    assert contacts["code2"].str.fullmatch(r"[A-Z][12]|0").all()
    assert (contacts.loc[contacts["code"] == "0", "code2"] == "0").all()
    birth = children.set_index("child_id")["birth_month"].reindex(contacts["child_id"]).to_numpy()
    age = (contacts["event_at"].to_numpy() - birth) / pd.Timedelta(days=365.25)
    assert (age > 16.7).all() and (age < 22.2).all()
    # One contact a year around each birthday: never two within 8 months.
    gaps = contacts.sort_values("event_at").groupby("child_id")["event_at"].diff().dropna()
    assert (gaps > pd.Timedelta(days=240)).all()
    # Contacts come after the young person left care.
    last_end = ev[ev["event_type"] == "cla_period_ended"].groupby("child_id")["event_at"].max()
    still = contacts["child_id"].map(last_end)
    assert (still.isna() | (contacts["event_at"] > still)).all()
    # The KPI cohort: the latest contact of the year, aged 19-21 then. EET ~56%, suitable ~90%.
    year = contacts[contacts["event_at"] >= pd.Timestamp("2017-04-01")].copy()
    year["age"] = age[contacts["event_at"].to_numpy() >= pd.Timestamp("2017-04-01")]
    latest_contact = year.sort_values(["event_at", "event_id"]).groupby("child_id").tail(1)
    cohort = latest_contact[latest_contact["age"].between(19, 22, inclusive="left")]
    scale = COUNTY_POPULATION / 267_000
    assert 250 * scale < len(cohort) < 650 * scale
    assert 0.40 < cohort["code"].isin(EET).mean() < 0.70
    assert 0.80 < cohort["code2"].str.endswith("1").mean() < 0.97
