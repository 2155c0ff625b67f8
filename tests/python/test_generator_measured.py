"""The direct counts calibration uses for the v2 rates, on hand-made events with every figure worked
out by hand from the rules of kpis.md (v2). Month end: 2018-03-31; its R12M window 2017-04-01..2018-03-31.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from csc_warehouse.generator.context import add_months, add_working_days
from csc_warehouse.generator.measured import (
    allocated,
    bank_holidays,
    chains_in_timescale,
    episodes,
    held_on_time,
    initial_health,
    periods_of_care,
    placed_far,
    reviews_with_due,
    stepped_up,
)

PE = "2018-03-31"
HOLIDAYS = bank_holidays(2016, 2019)


def day(iso: str) -> int:
    return (date.fromisoformat(iso) - date(1970, 1, 1)).days


WINDOW = (day("2017-04-01"), day(PE))


def events(*rows: tuple) -> pd.DataFrame:
    """Rows of (event_type, child_id, iso day, episode_id, code, code2, value)."""
    frame = pd.DataFrame(
        rows, columns=["event_type", "child_id", "day", "episode_id", "code", "code2", "value"]
    )
    frame["day"] = frame["day"].map(day)
    frame["la_code"] = "E1"
    frame["event_id"] = [f"E{i:07d}" for i in range(1, len(frame) + 1)]
    return frame


def test_month_arithmetic_is_clamped_and_working_days_skip_bank_holidays() -> None:
    got = add_months(np.asarray([day("2023-08-31"), day("2024-02-29"), day("2017-12-31")]), 6)
    assert list(got) == [day("2024-02-29"), day("2024-08-29"), day("2018-06-30")]
    assert add_months(np.asarray([day("2024-02-29")]), -12)[0] == day("2023-02-28")
    # Friday 22 December 2017: 25, 26 December and 1 January are bank holidays, so the 20th working day
    # after it is Wednesday 24 January 2018 (27, 28, 29 Dec, 2-5 Jan, 8-12, 15-19, 22-24 Jan).
    assert add_working_days(np.asarray([day("2017-12-22")]), 20, HOLIDAYS)[0] == day("2018-01-24")
    assert add_working_days(np.asarray([day("2017-12-23")]), 0, HOLIDAYS)[0] == day("2017-12-23")


@pytest.fixture()
def cp_case() -> pd.DataFrame:
    return events(
        # P1: due 2017-04-15 met on the day (recorded twice: one date), due 2017-10-15 missed by a day,
        # due 2018-04-16 met early: held 2 of 3 on time; the chain stays missed.
        ("cp_plan_started", "C1", "2017-01-15", "P1", "N", None, None),
        ("cp_review", "C1", "2017-04-15", "P1", None, None, None),
        ("cp_review", "C1", "2017-04-15", "P1", None, None, None),
        ("cp_review", "C1", "2017-10-16", "P1", None, None, None),
        ("cp_review", "C1", "2018-03-01", "P1", None, None, None),
        # P2: first due 2017-12-31 + 3 months = 2018-03-31, the month end itself, with no review: missed.
        ("cp_plan_started", "C2", "2017-12-31", "P2", "N", None, None),
        # P3: first due 2018-04-10, after the month end: not in the cohort.
        ("cp_plan_started", "C3", "2018-01-10", "P3", "E", None, None),
        # P4: due 2017-09-30 met on 09-29, next due 2018-03-29 met on the day: in timescale.
        ("cp_plan_started", "C4", "2017-06-30", "P4", "E", None, None),
        ("cp_review", "C4", "2017-09-29", "P4", None, None, None),
        ("cp_review", "C4", "2018-03-29", "P4", None, None, None),
        # P5: ended 2017-05-01 after one review before its end: not open at the month end; its review
        # dated after the end does not count.
        ("cp_plan_started", "C5", "2017-01-02", "P5", "P", None, None),
        ("cp_review", "C5", "2017-04-01", "P5", None, None, None),
        ("cp_plan_ended", "C5", "2017-05-01", "P5", None, None, None),
        ("cp_review", "C5", "2017-06-01", "P5", None, None, None),
    )


def test_cp_reviews_held_on_time_and_chains(cp_case: pd.DataFrame) -> None:
    plans = episodes(cp_case, "cp_plan_started", "cp_plan_ended")
    due1 = add_months(plans["start"].to_numpy(dtype=np.int64), 3)
    reviews = reviews_with_due(cp_case, plans, "cp_review", due1, 6)
    # In the window: P1 x3 (2 on time), P4 x2 (both), P5's 2017-04-01 (due 2017-04-02: on time) = 5 of 6.
    assert held_on_time(reviews, WINDOW) == (5.0, 6.0)
    # Open at the month end with the first review due by then: P1, P2, P4; only P4 in timescale.
    assert chains_in_timescale(plans, due1, reviews, day(PE)) == (1.0, 3.0)
    # A month earlier (2018-02-28): P2 not yet due; P4's next due 2018-03-29 still ahead: P4 of P1, P4.
    assert chains_in_timescale(plans, due1, reviews, day("2018-02-28")) == (1.0, 2.0)


def test_cla_first_review_over_christmas_and_initial_health() -> None:
    case = events(
        # L1 starts Friday 2017-12-22: first review due 2018-01-24, held the day after: late.
        ("cla_period_started", "C1", "2017-12-22", "L1", "C1", "U4", 10.0),
        ("cla_review", "C1", "2018-01-25", "L1", None, None, None),
        ("health_assessment", "C1", "2018-01-24", None, None, None, None),
        # L2 starts 2017-06-01 (due 2017-06-29): reviews 06-29 and 09-28 (due 09-29): both on time.
        ("cla_period_started", "C2", "2017-06-01", "L2", "V2", "U1", 32.19),
        ("cla_review", "C2", "2017-06-29", "L2", None, None, None),
        ("cla_review", "C2", "2017-09-28", "L2", None, None, None),
        ("health_assessment", "C2", "2017-07-14", None, None, None, None),  # after 2017-06-29: late
        # L3 starts 2018-03-20: add_wd(start, 20) is after the month end, out of the IHA cohort.
        ("cla_period_started", "C3", "2018-03-20", "L3", "C1", "K2", 32.2),
        # A short break (V3 throughout) has no reviews and is not looked after.
        ("cla_period_started", "C4", "2018-03-30", "L4", "V3", "K2", 99.0),
        # L5 looked after with no distance recorded: left out of the distance figure.
        ("cla_period_started", "C5", "2016-01-04", "L5", "C2", "U4", None),
    )
    periods = periods_of_care(case)
    assert sorted(periods["episode_id"]) == ["L1", "L2", "L3", "L5"]
    due1 = add_working_days(periods["start"].to_numpy(dtype=np.int64), 20, HOLIDAYS)
    reviews = reviews_with_due(case, periods, "cla_review", due1, 3)
    assert held_on_time(reviews, WINDOW) == (2.0, 3.0)
    # Periods started in the window with add_wd(start, 20) by the month end: L1 (in time), L2 (late).
    assert initial_health(case, periods, HOLIDAYS, WINDOW) == (1.0, 2.0)
    # Looked after with a distance: L1 10 km, L2 32.19 km (not more than 20 miles), L3 32.2 km.
    assert placed_far(case, periods, day(PE)) == (1.0, 3.0)


def test_allocation_on_or_after_the_latest_open_referral() -> None:
    case = events(
        ("referral_received", "C1", "2018-02-01", "R1", None, None, None),
        ("worker_allocated", "C1", "2018-01-31", "WA1", "W0001", None, None),  # the day before: no
        ("referral_received", "C2", "2018-01-10", "R2", None, None, None),
        ("worker_allocated", "C2", "2018-01-10", "WA2", "W0002", None, None),  # the same day: yes
        ("referral_received", "C3", "2017-05-01", "R3", None, None, None),
        ("referral_closed", "C3", "2017-09-01", "R3", None, None, None),  # closed: not counted
        ("referral_received", "C4", "2018-03-30", "R4", None, None, None),  # not yet allocated: no
        ("worker_allocated", "C4", "2018-04-03", "WA3", "W0001", None, None),
    )
    assert allocated(case, day(PE)) == (1.0, 3.0)


def test_early_help_stepped_up_share_of_episodes_ended_in_the_window() -> None:
    case = events(
        ("early_help_started", "C1", "2017-01-05", "EH1", None, None, None),
        ("early_help_ended", "C1", "2017-06-01", "EH1", None, "step_up", None),
        ("early_help_started", "C2", "2017-02-01", "EH2", None, None, None),
        ("early_help_ended", "C2", "2017-08-01", "EH2", None, None, None),
        ("early_help_started", "C3", "2016-09-01", "EH3", None, None, None),
        ("early_help_ended", "C3", "2017-03-01", "EH3", None, "step_up", None),  # before the window
    )
    assert stepped_up(case, WINDOW) == (1.0, 2.0)
