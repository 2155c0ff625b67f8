"""An incremental monthly refresh gives exactly what a full build gives.

Four years of a small synthetic authority are loaded as the versions recorded before March 2018 and
built in full. A second load then brings what was recorded in March 2018: the month's new events, the
generator's late recordings, corrections and deletions, plus two by hand that reach back a year: a
referral of February 2017 moved a week (into another R12M window boundary) and an assessment authorised
in April 2017 deleted. The incremental build of that load must equal, row for row, a full rebuild of the
same warehouse, in fct_kpi_monthly and in every incremental table before it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from csc_warehouse.build import build
from csc_warehouse.generate import generate
from csc_warehouse.load import load

CUTOFF = "2018-03-01"  # versions recorded before this are the first load
INCREMENTAL_TABLES = (
    "staging.stg_case__events",
    "intermediate.int_episode_milestones_deduplicated",
    "intermediate.int_episodes_built",
    "intermediate.int_cla_periods_built",
    "intermediate.int_placements_spanned",
    "intermediate.int_legal_statuses_spanned",
    "intermediate.int_adoption_journeys_built",
    "intermediate.int_reviews_sequenced",
    "intermediate.int_event_observations_unioned",
    "intermediate.int_cla_event_observations_unioned",
    "intermediate.int_episode_months_expanded",
    "intermediate.int_looked_after_months_expanded",
    "intermediate.int_month_end_observations_unioned",
    "intermediate.int_cla_month_end_observations_unioned",
    "marts.fct_child_month",
    "marts.rpt_population_breakdowns",
    "marts.fct_kpi_monthly",
)


def split_by_recorded_at(source: Path, first: Path, second: Path) -> tuple[str, str]:
    """Write the two loads; return the ids of the corrected and of the deleted event."""
    for folder in (first, second):
        folder.mkdir(parents=True)
        for name in ("children.csv", "population.csv"):
            shutil.copy(source / name, folder / name)
    con = duckdb.connect()
    events_csv = source / "events.csv"
    con.execute(f"create table events as select * from read_csv('{events_csv}', all_varchar = true)")
    first_sql = f"select * from events where recorded_at < '{CUTOFF}'"
    con.execute(f"copy ({first_sql}) to '{first}/events.csv' (header)")
    # The by-hand changes, recorded in March 2018: they reach back a year.
    con.execute(
        f"""
        create table by_hand as
        with moved as (
            select * from events
            where event_type = 'referral_received' and event_at between '2017-02-01' and '2017-02-28'
                and recorded_at < '{CUTOFF}'
            order by event_id limit 1
        ),
        deleted as (
            select * from events
            where event_type = 'assessment_authorised' and event_at between '2017-04-01' and '2017-04-30'
                and recorded_at < '{CUTOFF}'
            order by event_id limit 1
        )
        select * replace (
            strftime(cast(event_at as timestamp) + interval 7 day, '%Y-%m-%d %H:%M:%S') as event_at,
            '2018-03-15 10:00:00' as recorded_at
        ) from moved
        union all
        select * replace ('2018-03-16 10:00:00' as recorded_at, 'true' as is_deleted) from deleted
        """
    )
    by_hand = con.execute("select event_id from by_hand order by is_deleted").fetchall()
    moved, deleted = (row[0] for row in by_hand)
    con.execute(
        f"copy (select * from events where recorded_at >= '{CUTOFF}' union all select * from by_hand) "
        f"to '{second / 'events.csv'}' (header)"
    )
    return moved, deleted


def rows_differing(left: Path, right: Path, table: str) -> tuple[int, int, int]:
    """(rows, rows only in left, rows only in right), counting duplicates."""
    con = duckdb.connect()
    con.execute(f"attach '{left}' as left_wh (read_only)")
    con.execute(f"attach '{right}' as right_wh (read_only)")
    total = con.execute(f"select count(*) from right_wh.{table}").fetchone()[0]
    difference = "select count(*) from (select * from {}.{table} except all select * from {}.{table})"
    only_left = con.execute(difference.format("left_wh", "right_wh", table=table)).fetchone()[0]
    only_right = con.execute(difference.format("right_wh", "left_wh", table=table)).fetchone()[0]
    return total, only_left, only_right


@pytest.fixture(scope="module")
def builds(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("incremental")
    generate(root / "all", profile="small-unitary", years=4, seed=11)
    moved, deleted = split_by_recorded_at(root / "all", root / "first", root / "second")
    incremental = root / "incremental.duckdb"
    load(root / "first", incremental)
    build(incremental)
    before = root / "before.duckdb"
    shutil.copy(incremental, before)
    load(root / "second", incremental)
    full = root / "full.duckdb"
    shutil.copy(incremental, full)
    build(incremental)
    build(full, full_refresh=True)
    # A build as known at a cut-off fills the incremental tables with other figures; the next ordinary
    # build must rebuild all of them.
    as_of_then_latest = root / "as_of_then_latest.duckdb"
    shutil.copy(incremental, as_of_then_latest)
    build(as_of_then_latest, select="+fct_kpi_monthly", vars={"as_of": "2017-12-31"})
    build(as_of_then_latest, select="+fct_kpi_monthly")
    return {
        "incremental": incremental,
        "full": full,
        "before": before,
        "as_of_then_latest": as_of_then_latest,
        "moved": moved,
        "deleted": deleted,
    }


@pytest.mark.slow
@pytest.mark.parametrize("table", INCREMENTAL_TABLES)
def test_incremental_build_equals_full_build(builds, table):
    total, only_incremental, only_full = rows_differing(builds["incremental"], builds["full"], table)
    assert total > 0
    assert (only_incremental, only_full) == (0, 0)


@pytest.mark.slow
def test_the_second_build_was_incremental_and_reached_back_a_year(builds):
    con = duckdb.connect(str(builds["incremental"]), read_only=True)
    # Every incremental model's second build was a rebuild of its scope, not a full one.
    second = con.execute(
        "select model_name, is_full_refresh from meta.model_refreshes where source_load_id = 2"
    ).fetchall()
    assert sorted(name for name, _ in second) == sorted(t.split(".")[1] for t in INCREMENTAL_TABLES)
    assert not any(full for _, full in second)
    # Only some children were rebuilt, and the by-hand changes took their months back to 2017.
    changed, children, reach = con.execute(
        """
        select
            (select count(*) from intermediate.int_children_changed),
            (select count(distinct child_id) from staging.stg_case__events),
            (select min(changed_from_date) from intermediate.int_children_changed
             where child_id in (select child_id from raw.events where event_id in (?, ?)))
        """,
        [builds["moved"], builds["deleted"]],
    ).fetchone()
    assert 0 < changed < children / 5
    # The moved referral was dated in February 2017 before it moved: its changes reach back at least there.
    assert str(reach) <= "2017-02-28"
    # The deleted event is gone and the moved referral has its new date.
    deleted = con.execute(
        "select count(*) from staging.stg_case__events where event_id = ?", [builds["deleted"]]
    ).fetchone()[0]
    assert deleted == 0
    moved_date = con.execute(
        "select event_date from staging.stg_case__events where event_id = ?", [builds["moved"]]
    ).fetchone()[0]
    assert moved_date.month in (2, 3) and moved_date.year == 2017


@pytest.mark.slow
def test_the_second_load_changed_figures_a_year_back(builds):
    """The comparison is not vacuous: the late changes moved 2017 figures the first build had."""
    con = duckdb.connect()
    con.execute(f"attach '{builds['before']}' as before_wh (read_only)")
    con.execute(f"attach '{builds['incremental']}' as after_wh (read_only)")
    changed_2017 = con.execute(
        """
        select count(*)
        from before_wh.marts.fct_kpi_monthly as before
        inner join after_wh.marts.fct_kpi_monthly as after
            using (la_code, kpi_id, period_end)
        where period_end between date '2017-02-28' and date '2017-12-31'
            and before.numerator is distinct from after.numerator
        """
    ).fetchone()[0]
    assert changed_2017 > 0
    # March 2018 is a new month: the first build did not have it, the incremental one does.
    months = con.execute(
        """
        select
            (select max(period_end) from before_wh.marts.fct_kpi_monthly),
            (select max(period_end) from after_wh.marts.fct_kpi_monthly)
        """
    ).fetchone()
    assert [str(m) for m in months] == ["2018-02-28", "2018-03-31"]


@pytest.mark.slow
def test_a_build_as_known_at_a_cut_off_is_followed_by_a_whole_rebuild(builds):
    total, only_after, only_full = rows_differing(
        builds["as_of_then_latest"], builds["full"], "marts.fct_kpi_monthly"
    )
    assert total > 0
    assert (only_after, only_full) == (0, 0)
