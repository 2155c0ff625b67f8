"""KPI figures of a small hand-made authority, checked against values worked out by hand from kpis.md.

The scenario goes through the real path: canonical CSV -> loader -> dbt build -> fct_kpi_monthly. Each
child is one case with a comment giving the rule it exercises; the expected numerator and denominator
of every assertion are counted by hand from those comments (the calendar: Good Friday 30 March 2018 and
Easter Monday 2 April 2018 are bank holidays).
"""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import duckdb
import pytest
from factories import event_row

from csc_warehouse.build import build
from csc_warehouse.contract import TABLES
from csc_warehouse.load import load

LA = "S1"
_event_ids = itertools.count(1)


def event(
    event_type: str,
    child_id: str,
    at: str,
    episode_id: str | None = None,
    code: str | None = None,
    code2: str | None = None,
    value: float | None = None,
) -> dict[str, object]:
    """One canonical event; `at` is a date or 'YYYY-MM-DD HH:MM'; recorded the same moment."""
    event_at = at if " " in at else f"{at} 00:00:00"
    if len(event_at) == 16:
        event_at += ":00"
    return event_row(
        f"ev{next(_event_ids):04d}",
        event_type,
        event_at,
        la_code=LA,
        child_id=child_id,
        recorded_at=event_at,
        episode_id=episode_id,
        code=code,
        code2=code2,
        value=value,
    )


BIRTH_MONTHS = {
    "c20": "2008-01-01",
    "c21": "2010-05-01",
    "c22": "2012-06-01",
    "c23": "2009-01-01",
    "c24": "2002-03-01",  # 16 at 31 March 2018: not in the long-term stability cohort
    "c40": "1998-03-01",  # 20 at a contact on 1 March 2018
    "c41": "1999-03-01",  # exactly 19 on 1 March 2018
    "c42": "1996-04-01",  # 21 on 15 March 2018 (22 from 1 April)
    "c43": "1996-03-01",  # 22 on 15 March 2018
    "c44": "1999-04-01",  # 18 on 15 March 2018
    "c45": "1996-03-01",  # 21 on 1 Dec 2017, 22 at the latest contact
}


def scenario_events() -> list[dict[str, object]]:
    ev = event
    return [
        # --- front door (March 2018): 3 contacts, 2 decisions in March ---
        ev("contact_received", "c01", "2018-03-05 09:00", "K1", "police"),
        ev("contact_decision", "c01", "2018-03-06 09:00", "K1", "referral"),  # exactly 24h: in time
        ev("contact_received", "c02", "2018-03-05 09:00", "K2", "school"),
        ev("contact_decision", "c02", "2018-03-06 09:30", "K2", "advice"),  # 24h30: late
        ev("contact_received", "c03", "2018-03-30 10:00", "K3", "health"),
        ev("contact_decision", "c03", "2018-04-02 09:00", "K3", "nfa"),
        ev("contact_received", "c03", "2018-04-30 10:00", "K4", "health"),  # data reach 30 April
        # --- referrals: R2 exactly 12 months after R1 is a re-referral ---
        ev("referral_received", "c01", "2017-03-20", "R1", "1A"),
        ev("referral_closed", "c01", "2017-06-01", "R1", "RC1"),
        ev("referral_received", "c01", "2018-03-20", "R2", "1A"),
        ev("referral_received", "c02", "2018-03-07", "R3", "2A"),
        # --- assessments: add_wd(2 Jan 2018, 45) = 6 March; add_wd(26 Jan 2018, 45) = 3 April (Easter) ---
        ev("assessment_started", "c01", "2018-01-02", "A1"),
        ev("child_seen", "c01", "2018-01-02", "A1", "assessment"),
        ev("assessment_authorised", "c01", "2018-03-06", "A1", "cin"),
        ev("assessment_started", "c02", "2018-01-02", "A2"),
        ev("child_seen", "c02", "2018-03-08", "A2", "assessment"),  # after authorisation: not seen
        ev("assessment_authorised", "c02", "2018-03-07", "A2", "s47"),
        ev("assessment_started", "c03", "2018-01-26", "A3"),
        ev("assessment_authorised", "c03", "2018-04-03", "A3", "nfa"),  # 45th working day: in time
        ev("assessment_started", "c04", "2018-01-26", "A4"),
        ev("assessment_authorised", "c04", "2018-04-04", "A4", "nfa"),  # 46th: late
        ev("assessment_started", "c05", "2018-01-02", "A5"),  # open at 31 March, past 6 March
        # --- S47 / ICPC: add_wd(1 Feb, 15) = 22 Feb; add_wd(5 Feb, 15) = 26 Feb ---
        ev("s47_started", "c01", "2018-01-29", "S1"),
        ev("strategy_discussion", "c01", "2018-02-01", "S1"),  # the clock starts here, not at s47_started
        ev("icpc_held", "c01", "2018-02-22", "S1", "plan"),
        ev("s47_started", "c02", "2018-02-05", "S2"),
        ev("icpc_held", "c02", "2018-02-27", "S2", "plan"),
        # --- CP plans at 31 March 2018 (sub_wd(31 Mar, 10) = 16 March) ---
        ev("cp_plan_started", "c01", "2015-03-01", "CP1", "N"),
        ev("cp_plan_ended", "c01", "2016-02-28", "CP1"),
        ev("cp_plan_started", "c01", "2018-02-28", "CP2", "N"),  # repeat; previous ended start - 24 months
        ev("child_seen", "c01", "2018-03-16", "CP2", "cp"),  # add_wd(16 Mar, 10) = 3 April: in time
        ev("cp_plan_started", "c02", "2018-03-01", "CP3", "E"),
        ev("child_seen", "c02", "2018-03-15", "CP3", "cp"),  # add_wd(15 Mar, 10) = 29 March: late
        ev("cp_plan_started", "c06", "2016-03-31", "CP4", "N"),  # open exactly 24 months at 31 March
        ev("cp_plan_started", "c07", "2016-01-10", "CP5", "P"),
        ev("cp_plan_ended", "c07", "2018-01-08", "CP5"),  # 729 days: two years as the DfE counts
        ev("cp_plan_started", "c08", "2017-06-01", "CP6", "N"),
        ev("cp_plan_ended", "c08", "2018-02-01", "CP6"),
        ev("cp_plan_started", "c09", "2018-03-19", "CP7", "S"),  # started after sub_wd(pe, 10)
        ev("cin_plan_started", "c10", "2018-01-01", "CIN1"),
        ev("cin_plan_started", "c11", "2018-03-31", "CIN2"),
        ev("cin_plan_ended", "c11", "2018-03-31", "CIN2"),  # same day: never open
        # --- looked after at 31 March 2018 ---
        ev("cla_period_started", "c20", "2015-09-30", "CL1", "C2", "U1"),  # 30 months exactly
        ev("cla_placement_changed", "c20", "2016-03-31", "CL1", "U3"),  # 24 months exactly
        ev("child_seen", "c20", "2018-02-18", "CL1", "cla"),  # pe - 41 days: in time
        ev("health_assessment", "c20", "2017-04-01"),  # first day of the window
        ev("sdq_recorded", "c20", "2017-06-01", value=10),
        ev("sdq_recorded", "c20", "2018-01-01", value=20),  # latest: counts
        ev("missing_started", "c20", "2018-03-10", "M1", "missing"),
        ev("cla_period_started", "c21", "2015-10-01", "CL2", "C2", "U1"),  # a day short of 30 months
        ev("child_seen", "c21", "2018-02-17", "CL2", "cla"),  # pe - 42 days: too early
        ev("health_assessment", "c21", "2017-03-31"),  # before the window
        ev("missing_started", "c21", "2018-03-12", "M2", "away"),
        ev("cla_period_started", "c22", "2015-01-01", "CL3", "C2", "U1"),
        ev("cla_placement_changed", "c22", "2016-03-01", "CL3", "U4"),
        ev("cla_placement_changed", "c22", "2017-12-01", "CL3", "A3"),
        ev("adoption_placed", "c22", "2017-12-01", "AD1"),  # placed for adoption, previous placement 2y+
        ev("health_assessment", "c22", "2018-03-31"),
        ev("sdq_recorded", "c22", "2017-03-31", value=5),  # before the window
        ev("sdq_recorded", "c22", "2017-04-01", value=7),
        ev("cla_period_started", "c23", "2015-01-01", "CL4", "C2", "U1"),
        ev("cla_placement_changed", "c23", "2017-01-01", "CL4", "U5"),
        ev("adoption_placed", "c23", "2017-12-01", "AD4"),
        ev("adoption_plan_ceased", "c23", "2018-02-01", "AD4", "1"),  # no longer placed for adoption
        ev("dental_check", "c23", "2017-06-01"),
        ev("cla_period_started", "c24", "2014-01-01", "CL5", "C2", "U1"),
        # 3+ placements in the year across two periods (window from 1 April 2017)
        ev("cla_period_started", "c25", "2017-01-01", "CL6", "C2", "U1"),
        ev("cla_placement_changed", "c25", "2017-04-02", "CL6", "U3"),  # first placement ends after 1 April
        ev("cla_period_ended", "c25", "2017-06-01", "CL6", "E13"),
        ev("sdq_recorded", "c25", "2017-07-01", value=30),  # between periods: not looked after
        ev("cla_period_started", "c25", "2017-09-01", "CL7", "C2", "U1"),
        ev("cla_period_started", "c26", "2017-01-01", "CL8", "C2", "U1"),
        ev("cla_placement_changed", "c26", "2017-04-01", "CL8", "U3"),  # first placement ends on 1 April
        ev("cla_period_ended", "c26", "2017-06-01", "CL8", "E13"),
        ev("cla_period_started", "c26", "2017-09-01", "CL9", "C2", "U1"),
        ev("cla_period_started", "c27", "2017-05-01", "CL10", "V3", "U1"),  # short break: never looked after
        ev("cla_period_started", "c28", "2017-05-01", "CL11", "V3", "U1"),  # V3 then C2: counts as a start
        ev("sdq_recorded", "c28", "2017-06-01", value=40),  # while V3: not looked after
        ev("cla_legal_status_changed", "c28", "2017-07-01", "CL11", "C2"),
        ev("uasc_started", "c29", "2017-10-01"),
        ev("cla_period_started", "c29", "2017-10-01", "CL12", "V2", "U1"),  # UASC, section 20
        ev("uasc_started", "c30", "2016-01-01"),
        ev("uasc_ended", "c30", "2017-01-01"),
        ev("cla_period_started", "c30", "2017-06-01", "CL13", "C1", "U1"),
        ev("cla_period_started", "c31", "2018-03-25", "CL14", "C2", "U1"),  # started pe - 6 days
        # --- exits and adoptions in the year to 31 March 2018 ---
        ev("cla_period_started", "c32", "2016-01-01", "CL15", "E1", "U1"),
        ev("placement_order", "c32", "2016-10-01", "AD2"),
        ev("adoption_match", "c32", "2016-12-01", "AD2"),
        ev("adoption_placed", "c32", "2017-01-15", "AD2"),  # A1 = 380 days; before start + 14 months
        ev("adoption_order", "c32", "2017-11-30", "AD2"),
        ev("cla_period_ended", "c32", "2017-11-30", "CL15", "E11"),
        ev("cla_period_started", "c33", "2016-05-01", "CL16", "C2", "U1"),
        ev("cla_period_ended", "c33", "2018-01-15", "CL16", "E43"),
        ev("cla_period_started", "c34", "2016-06-01", "CL17", "E1", "U1"),
        ev("placement_order", "c34", "2017-03-01", "AD3"),
        ev("adoption_match", "c34", "2017-02-01", "AD3"),  # matched before the order: A2 = 0
        ev("adoption_order", "c34", "2018-02-01", "AD3"),  # no placement date: out of A1, in A3's denominator
        ev("cla_period_ended", "c34", "2018-02-01", "CL17", "E12"),
        # --- care leavers ---
        ev("care_leaver_contact", "c40", "2018-03-01", code="F1", code2="D1"),
        ev("care_leaver_contact", "c41", "2018-03-01", code="0", code2="0"),
        ev("care_leaver_contact", "c42", "2018-03-15", code="G4", code2="B2"),
        ev("care_leaver_contact", "c43", "2018-03-15", code="F1", code2="D1"),
        ev("care_leaver_contact", "c44", "2018-03-15", code="F1", code2="D1"),
        ev("care_leaver_contact", "c45", "2017-12-01", code="F2", code2="D1"),
        ev("care_leaver_contact", "c45", "2018-03-15", code="F2", code2="D1"),
    ]


def write_csv(path: Path, table: str, rows: list[dict[str, object]]) -> None:
    columns = [column.name for column in TABLES[table]]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({key: ("" if value is None else value) for key, value in row.items()})


@pytest.fixture(scope="module")
def kpis(tmp_path_factory) -> dict[tuple[str, str], tuple[float | None, float | None, float | None]]:
    folder = tmp_path_factory.mktemp("scenario")
    events = scenario_events()
    children = sorted({str(row["child_id"]) for row in events})
    write_csv(folder / "events.csv", "events", events)
    write_csv(
        folder / "children.csv",
        "children",
        [
            {
                "la_code": LA,
                "child_id": child,
                "sex": "F",
                "birth_month": BIRTH_MONTHS.get(child, "2010-01-01"),
                "ethnicity": "WBRI",
                "disabled": False,
                "recorded_at": "2014-01-01 00:00:00",
            }
            for child in children
        ],
    )
    write_csv(
        folder / "population.csv",
        "population",
        [{"la_code": LA, "year": 2017, "age": 5, "sex": "F", "count": 10000}],
    )
    warehouse = folder / "warehouse.duckdb"
    report = load(folder, warehouse)
    assert report.rows_quarantined == 0
    build(warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.sql(
            "select kpi_id, cast(period_end as varchar), numerator, denominator, value "
            "from marts.fct_kpi_monthly"
        ).fetchall()
    return {(kpi_id, period_end): (num, den, value) for kpi_id, period_end, num, den, value in rows}


MARCH = "2018-03-31"

# (kpi_id, period_end, numerator, denominator): counted by hand from the comments in scenario_events.
EXPECTED = [
    ("contacts_received", MARCH, 3, None),
    ("contact_decision_24h_pct", MARCH, 1, 2),
    ("contact_to_referral_pct", MARCH, 1, 2),
    ("referrals_received", MARCH, 2, None),
    ("referrals_r12m", MARCH, 2, None),  # R1 (20 March 2017) is outside April 2017 - March 2018
    ("referral_rate_per_10k_r12m", MARCH, 2, 10000),  # 2018 population missing: 2017's
    ("re_referral_12m_pct", MARCH, 1, 2),
    ("assessments_completed", MARCH, 2, None),
    ("assessment_45wd_pct", MARCH, 1, 2),
    ("assessment_45wd_pct", "2018-04-30", 1, 2),  # A3 on the 45th working day after Easter, A4 late
    ("assessment_45wd_pct_r12m", "2018-04-30", 2, 4),
    ("assessment_open_in_timescale_pct", MARCH, 2, 3),  # A3, A4 in time; A5 past 6 March
    ("assessment_child_seen_pct", MARCH, 1, 2),
    ("s47_started", "2018-01-31", 1, None),
    ("s47_started", "2018-02-28", 1, None),
    ("icpc_15wd_pct", "2018-02-28", 1, 2),
    ("icpc_15wd_pct_r12m", MARCH, 1, 2),
    ("cin_count", MARCH, 2, None),
    ("cin_rate_per_10k", MARCH, 2, 10000),
    ("cin_plans_open", MARCH, 1, None),
    ("cp_plans_open", MARCH, 4, None),
    ("cp_rate_per_10k", MARCH, 4, 10000),
    ("cp_plan_starts", "2018-02-28", 1, None),
    ("cp_plan_starts", MARCH, 2, None),
    ("cp_repeat_plan_pct_r12m", MARCH, 1, 4),
    ("cp_repeat_within_2y_pct_r12m", MARCH, 1, 4),
    ("cp_open_2y_plus_pct", MARCH, 1, 4),
    ("cp_ended_2y_plus_pct_r12m", MARCH, 1, 2),
    ("cp_seen_10wd_pct", MARCH, 2, 4),
    ("cla_count", MARCH, 11, None),
    ("cla_rate_per_10k", MARCH, 11, 10000),
    ("cla_excl_uasc_count", MARCH, 10, None),
    ("uasc_count", MARCH, 1, None),
    ("cla_starts", "2017-05-31", 1, None),  # CL11 (V3 then C2); CL10 is a short break
    ("cla_ceased", "2017-06-30", 2, None),
    ("cla_readmission_pct_r12m", MARCH, 2, 6),
    ("cla_s20_pct", MARCH, 1, 11),
    ("cla_3plus_placements_pct", MARCH, 1, 11),
    ("cla_long_term_stability_pct", MARCH, 2, 3),
    ("cla_seen_6w_pct", MARCH, 2, 11),
    ("cla_health_assessment_pct", MARCH, 2, 5),
    ("cla_dental_check_pct", MARCH, 1, 5),
    ("cla_sdq_mean_r12m", MARCH, 27, 2),
    ("missing_episodes", MARCH, 1, None),
    ("cla_exit_adoption_pct_r12m", MARCH, 2, 5),
    ("cla_exit_sgo_pct_r12m", MARCH, 1, 5),
    ("adoptions_r12m", MARCH, 2, None),
    ("adoption_a1_days_r12m", MARCH, 380, 1),
    ("adoption_a2_days_r12m", MARCH, 61, 2),
    ("adoption_a3_lt14m_pct_r12m", MARCH, 1, 2),
    ("care_leaver_eet_pct", MARCH, 1, 3),
    ("care_leaver_suitable_accom_pct", MARCH, 1, 3),
    ("care_leaver_in_touch_pct", MARCH, 2, 3),
]


@pytest.mark.slow
@pytest.mark.parametrize(("kpi_id", "period_end", "numerator", "denominator"), EXPECTED)
def test_kpi_matches_hand_count(kpis, kpi_id, period_end, numerator, denominator):
    got_numerator, got_denominator, got_value = kpis[(kpi_id, period_end)]
    assert (got_numerator, got_denominator) == (numerator, denominator)
    if denominator is None:
        assert got_value == numerator
    else:
        scale = 100.0 if kpi_id.endswith(("_pct", "_pct_r12m")) else 10000.0 if "per_10k" in kpi_id else 1.0
        assert got_value == pytest.approx(scale * numerator / denominator)


@pytest.mark.slow
def test_every_kpi_has_every_month(kpis):
    kpi_ids = {kpi_id for kpi_id, _ in kpis}
    months = {period_end for _, period_end in kpis}
    assert len(kpis) == len(kpi_ids) * len(months)
    # Earliest event 1 Jan 2014 (CL5); the data reach 30 April 2018.
    assert min(months) == "2014-01-31"
    assert max(months) == "2018-04-30"
