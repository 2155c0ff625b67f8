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

from csc_warehouse import settings
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
    *,
    la_code: str = "S1",
    referral_id: str | None = None,
) -> dict[str, object]:
    """One canonical event; `at` is a date or 'YYYY-MM-DD HH:MM'; recorded the same moment."""
    event_at = at if " " in at else f"{at} 00:00:00"
    if len(event_at) == 16:
        event_at += ":00"
    return event_row(
        f"ev{next(_event_ids):04d}",
        event_type,
        event_at,
        la_code=la_code,
        child_id=child_id,
        recorded_at=event_at,
        referral_id=referral_id,
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


# The v2 KPIs' cases, in an authority of their own (S2) so that the v1 figures of S1 stay as counted.
LA2 = "S2"
BIRTH_MONTHS_V2 = {
    "n01": "2000-03-01",  # 18 at a contact on 15 March 2018
    "n02": "2001-03-01",  # exactly 17 on 1 March 2018
    "n03": "2001-04-01",  # 16 on 15 March 2018: in no cohort
    "n04": "1999-03-01",  # 19 on 15 March 2018: the 19-21 cohort, not 17-18
    "n05": "2000-01-01",  # 17 at a contact in June 2017, 18 at the latest
}


def scenario_events_v2() -> list[dict[str, object]]:
    def ev(event_type: str, child_id: str, at: str, *args: object, **kwargs: object) -> dict[str, object]:
        return event(event_type, child_id, at, *args, la_code=LA2, **kwargs)  # type: ignore[arg-type]

    return [
        # --- front door: 48 hours exactly is in time, a minute more is not ---
        ev("contact_received", "d01", "2018-03-01 09:00", "K1", "police"),
        ev("contact_decision", "d01", "2018-03-03 09:00", "K1", "referral"),
        ev("contact_received", "d02", "2018-03-01 09:00", "K2", "school"),
        ev("contact_decision", "d02", "2018-03-03 09:01", "K2", "advice"),
        ev("contact_received", "d02", "2018-04-30 09:00", "K3", "school"),  # data reach 30 April
        # --- referrals leading to an assessment (any date), assessments ending in NFA ---
        ev("referral_received", "d03", "2018-03-05", "R1", "1A"),
        ev("worker_allocated", "d03", "2018-03-05", "W1", "w1"),  # on the referral's day: allocated
        ev("assessment_started", "d03", "2018-04-20", "A1", referral_id="R1"),  # a month later: counts
        ev("assessment_authorised", "d03", "2018-04-25", "A1", "nfa"),
        ev("worker_allocated", "d04", "2018-03-05", "W2", "w2"),  # the day before the referral: not
        ev("referral_received", "d04", "2018-03-06", "R2", "2A"),
        ev("referral_received", "d04", "2018-03-10", "R2", "2A"),  # the same referral again: counts once
        ev("worker_allocated", "d05", "2017-01-01", "W3", "w3"),  # before the referral
        ev("referral_received", "d05", "2018-02-25", "R3", "3A"),
        ev("assessment_started", "d05", "2018-03-01", "A3", referral_id="R3"),
        ev("worker_allocated", "d05", "2018-04-02", "W4", "w4"),  # allocated in April
        ev("assessment_started", "d06", "2018-03-01", "A2"),
        ev("assessment_authorised", "d06", "2018-04-10", "A2", "cin"),  # the earliest authorisation
        ev("assessment_authorised", "d06", "2018-04-12", "A2", "nfa"),  # a later one: not the outcome
        # --- early help ---
        ev("early_help_started", "e01", "2017-06-01", "EH1"),
        ev("early_help_ended", "e01", "2018-03-10", "EH1", code2="step_up"),
        ev("early_help_started", "e02", "2018-03-05", "EH2"),
        ev("early_help_started", "e02", "2018-03-07", "EH2"),  # a second start: the earliest counts
        ev("early_help_started", "e03", "2017-09-01", "EH3"),
        ev("early_help_ended", "e03", "2017-12-15", "EH3"),
        ev("early_help_started", "e04", "2018-03-31", "EH4"),
        ev("early_help_ended", "e04", "2018-03-31", "EH4"),  # same day: never open at a month end
        ev("early_help_started", "e05", "2016-01-01", "EH5"),
        ev("early_help_ended", "e05", "2017-03-31", "EH5", code2="step_up"),  # before the window
        # --- child-in-need plans less than a year old (pe - 12 months = 31 March 2017) ---
        ev("cin_plan_started", "f01", "2017-03-31", "CIN1"),  # exactly 12 months: not less
        ev("cin_plan_started", "f02", "2017-04-01", "CIN2"),
        ev("cin_plan_started", "f03", "2016-01-01", "CIN3"),
        ev("cin_plan_started", "f03", "2018-01-01", "CIN4"),  # the latest-started open plan decides
        # --- CP review chains at 31 March 2018: first due start + 3 months, then review + 6 months ---
        ev("cp_plan_started", "g01", "2017-12-31", "P1", "N"),  # due 31 March = pe, no review: missed
        ev("cp_plan_started", "g02", "2017-11-30", "P2", "N"),  # due 28 February (clamped)
        ev("cp_review", "g02", "2018-02-28", "P2"),  # on the due date: met
        ev("cp_plan_started", "g03", "2017-06-15", "P3", "N"),  # due 15 September 2017
        ev("cp_review", "g03", "2017-09-16", "P3"),  # a day late: the chain is missed
        ev("cp_review", "g03", "2018-03-01", "P3"),  # on time itself, but does not repair the chain
        ev("cp_plan_started", "g04", "2018-01-15", "P4", "N"),  # first due 15 April: not yet due
        ev("cp_review", "g04", "2018-03-10", "P4"),
        ev("cp_review", "g04", "2018-03-10", "P4"),  # two reviews on one day count once
        ev("cp_plan_started", "g05", "2017-01-01", "P5", "N"),
        ev("cp_review", "g05", "2017-03-20", "P5"),  # due 1 April 2017
        ev("cp_review", "g05", "2017-09-20", "P5"),  # due 20 September: met on the day
        ev("cp_review", "g05", "2018-03-25", "P5"),  # due 20 March: late
        ev("cp_plan_started", "g06", "2017-10-01", "P6", "N"),
        ev("cp_review", "g06", "2017-09-30", "P6"),  # before the plan: not its review
        ev("cp_review", "g06", "2018-01-01", "P6"),  # due 1 January: met
        ev("cp_plan_ended", "g06", "2018-02-01", "P6"),
        ev("cp_review", "g06", "2018-02-02", "P6"),  # after the plan ended: not its review
        # --- looked-after review chains: first add_wd(start, 20), then r1 + 3 months, then 6 months ---
        # add_wd(1 Dec 2017, 20) = 3 January 2018 (25, 26 December and 1 January are bank holidays)
        ev("cla_period_started", "h01", "2017-12-01", "L1", "C2", "U1", 10.0),
        ev("health_assessment", "h01", "2018-01-03"),  # on the 20th working day: in time
        ev("cla_review", "h01", "2018-01-03", "L1"),  # on the due date: met; next due 3 April
        ev("cla_placement_changed", "h01", "2018-02-01", "L1", "U3", value=50.0),  # current: 50 km
        ev("cla_period_started", "h02", "2017-12-01", "L2", "C2", "U1", 32.19),  # exactly 20 miles: not more
        ev("health_assessment", "h02", "2017-11-30"),  # before the period: not its assessment
        ev("cla_review", "h02", "2018-01-04", "L2"),  # a day late: missed
        ev("cla_review", "h02", "2018-03-01", "L2"),  # due r1 + 3 months = 4 April: on time
        # add_wd(5 Mar 2018, 20) = 4 April (Good Friday and Easter Monday): first review not yet due
        ev("cla_period_started", "h03", "2018-03-05", "L3", "C2", "U1"),  # no distance
        ev("health_assessment", "h03", "2018-04-05"),  # a day after the 20th working day
        # add_wd(10 Jan 2017, 20) = 7 February 2017
        ev("cla_period_started", "h04", "2017-01-10", "L4", "C2", "U1", 40.0),
        ev("cla_review", "h04", "2017-02-01", "L4"),  # due 7 February
        ev("cla_review", "h04", "2017-05-01", "L4"),  # due 1 May: met on the day
        ev("cla_review", "h04", "2017-10-15", "L4"),  # due 1 November
        ev("cla_review", "h04", "2017-10-15", "L4"),  # the same day again; next due 15 April 2018
        ev("cla_period_started", "h05", "2017-06-01", "L5", "V3", "U1"),  # a short break: no chain
        ev("cla_review", "h05", "2017-06-20", "L5"),
        # --- returns home ---
        ev("cla_period_started", "k01", "2017-05-01", "L6", "C2", "U1"),
        ev("cla_period_ended", "k01", "2018-03-15", "L6", "E4A"),
        ev("cla_period_started", "k02", "2017-02-01", "L7", "C2", "U1"),
        ev("cla_period_ended", "k02", "2018-03-20", "L7", "E13"),  # relatives without PR: not E4A/E4B
        ev("cla_period_started", "k03", "2017-02-01", "L8", "C2", "U1"),
        ev("cla_period_ended", "k03", "2018-03-22", "L8", "E4B"),
        ev("cla_period_started", "k04", "2018-01-01", "L9", "V3", "U1"),
        ev("cla_period_ended", "k04", "2018-03-25", "L9", "E4A"),  # a short break: left out
        # --- the adoption pipeline (each milestone the earliest of its type in the journey) ---
        ev("adoption_decision", "m01", "2017-06-01", "AJ1"),
        ev("placement_order", "m01", "2017-09-01", "AJ1"),
        ev("adoption_match", "m01", "2018-01-10", "AJ1"),
        ev("adoption_placed", "m01", "2018-03-05", "AJ1"),
        ev("adoption_placed", "m01", "2018-03-20", "AJ1"),  # a second record: counts once
        ev("adoption_decision", "m02", "2017-10-01", "AJ2"),
        ev("placement_order", "m02", "2018-03-01", "AJ2"),
        ev("adoption_plan_ceased", "m02", "2018-03-15", "AJ2", "1"),
        ev("adoption_decision", "m03", "2018-03-10", "AJ3"),
        ev("adoption_decision", "m04", "2017-01-01", "AJ4"),
        ev("placement_order", "m04", "2017-05-01", "AJ4"),
        ev("adoption_match", "m04", "2017-11-01", "AJ4"),
        ev("adoption_placed", "m04", "2018-01-01", "AJ4"),
        ev("adoption_order", "m04", "2018-03-28", "AJ4"),
        ev("placement_order", "m05", "2018-03-30", "AJ5"),
        ev("adoption_decision", "m05", "2018-04-03", "AJ5"),  # after the month: not waiting in March
        ev("adoption_decision", "m06", "2016-05-01", "AJ6"),
        ev("adoption_plan_ceased", "m06", "2016-09-01", "AJ6", "1"),
        ev("adoption_decision", "m06", "2017-02-01", "AJ7"),  # a second journey, still waiting
        ev("adoption_decision", "m07", "2017-12-01", "AJ8"),
        ev("adoption_decision", "m07", "2018-03-02", "AJ8"),  # a later decision of the same journey
        # --- care leavers aged 17-18 (the latest contact in the year decides) ---
        ev("care_leaver_contact", "n01", "2018-03-15", code="F1", code2="D1"),
        ev("care_leaver_contact", "n02", "2018-03-01", code="G4", code2="B2"),
        ev("care_leaver_contact", "n03", "2018-03-15", code="F1", code2="D1"),
        ev("care_leaver_contact", "n04", "2018-03-15", code="F1", code2="D1"),
        ev("care_leaver_contact", "n05", "2017-06-01", code="F2", code2="D1"),
        ev("care_leaver_contact", "n05", "2018-03-20", code="0", code2="0"),
    ]


def write_csv(path: Path, table: str, rows: list[dict[str, object]]) -> None:
    columns = [column.name for column in TABLES[table]]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({key: ("" if value is None else value) for key, value in row.items()})


def write_scenario(folder: Path) -> None:
    """The two authorities' children, events and population as canonical CSV files."""
    events = scenario_events() + scenario_events_v2()
    birth_months = BIRTH_MONTHS | BIRTH_MONTHS_V2
    children = sorted({(str(row["la_code"]), str(row["child_id"])) for row in events})
    write_csv(folder / "events.csv", "events", events)
    write_csv(
        folder / "children.csv",
        "children",
        [
            {
                "la_code": la_code,
                "child_id": child,
                "sex": "F",
                "birth_month": birth_months.get(child, "2010-01-01"),
                "ethnicity": "WBRI",
                "disabled": False,
                "recorded_at": "2014-01-01 00:00:00",
            }
            for la_code, child in children
        ],
    )
    write_csv(
        folder / "population.csv",
        "population",
        [{"la_code": la_code, "year": 2017, "age": 5, "sex": "F", "count": 10000} for la_code in (LA, LA2)],
    )


Figures = dict[tuple[str, str, str], tuple[float | None, float | None, float | None]]


@pytest.fixture(scope="module")
def kpis(tmp_path_factory) -> Figures:
    folder = tmp_path_factory.mktemp("scenario")
    write_scenario(folder)
    warehouse = folder / "warehouse.duckdb"
    report = load(folder, warehouse)
    assert report.rows_quarantined == 0
    build(warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.sql(
            "select la_code, kpi_id, cast(period_end as varchar), numerator, denominator, value "
            "from marts.fct_kpi_monthly"
        ).fetchall()
    return {(la, kpi_id, period_end): (num, den, value) for la, kpi_id, period_end, num, den, value in rows}


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


APRIL = "2018-04-30"

# The v2 KPIs, (la_code, kpi_id, period_end, numerator, denominator), counted by hand from the comments
# in scenario_events_v2 (S2) and, for rules that read S1's front door, scenario_events.
EXPECTED_V2 = [
    (LA, "contact_decision_48h_pct", MARCH, 2, 2),  # 24h and 24h30 are both within 48 hours
    (LA, "contact_decision_48h_pct", APRIL, 0, 1),  # 30 March 10:00 to 2 April 09:00: 71 hours
    (LA, "referral_to_assessment_pct", MARCH, 0, 2),  # no assessment names R2 or R3
    (LA, "assessment_nfa_pct", MARCH, 0, 2),
    (LA, "assessment_nfa_pct", APRIL, 2, 2),
    (LA2, "contact_decision_48h_pct", MARCH, 1, 2),
    (LA2, "contact_decision_24h_pct", MARCH, 0, 2),
    (LA2, "referral_to_assessment_pct", "2018-02-28", 1, 1),
    (LA2, "referral_to_assessment_pct", MARCH, 1, 2),  # R1's assessment started in April
    (LA2, "assessment_nfa_pct", APRIL, 1, 2),
    (LA2, "eh_episodes_started", MARCH, 2, None),
    (LA2, "eh_episodes_ended", MARCH, 2, None),
    (LA2, "eh_active_cases", "2018-02-28", 1, None),
    (LA2, "eh_active_cases", MARCH, 1, None),
    (LA2, "eh_stepped_up_pct_r12m", MARCH, 1, 3),
    (LA2, "cin_count", MARCH, 3, None),
    (LA2, "children_allocated_pct", MARCH, 1, 3),
    (LA2, "children_allocated_pct", APRIL, 2, 3),
    (LA2, "cin_plan_le_1y_pct", MARCH, 2, 3),
    (LA2, "cp_reviews_in_timescale_pct", MARCH, 1, 4),
    (LA2, "cp_reviews_held_in_timescale_pct", "2017-09-30", 1, 2),
    (LA2, "cp_reviews_held_in_timescale_pct", "2018-01-31", 1, 1),
    (LA2, "cp_reviews_held_in_timescale_pct", "2018-02-28", 1, 1),
    (LA2, "cp_reviews_held_in_timescale_pct", MARCH, 2, 3),
    (LA2, "cla_reviews_in_timescale_pct", MARCH, 2, 3),
    (LA2, "cla_reviews_held_in_timescale_pct", "2017-02-28", 1, 1),
    (LA2, "cla_reviews_held_in_timescale_pct", "2017-10-31", 1, 1),  # two reviews on one day: one
    (LA2, "cla_reviews_held_in_timescale_pct", "2018-01-31", 1, 2),
    (LA2, "cla_reviews_held_in_timescale_pct", MARCH, 1, 1),
    (LA2, "cla_iha_20wd_pct_r12m", MARCH, 1, 3),  # h01 in time; h02 and k01 (May 2017) without
    (LA2, "cla_iha_20wd_pct_r12m", APRIL, 1, 4),  # h03's 20 working days now passed, a day late
    (LA2, "cla_placed_20_miles_plus_pct", MARCH, 2, 3),
    (LA2, "cla_reunifications", MARCH, 2, None),
    (LA2, "adoption_decisions", MARCH, 1, None),
    (LA2, "adoption_decisions", APRIL, 1, None),
    (LA2, "placement_orders_granted", MARCH, 2, None),
    (LA2, "adoption_matches", "2017-11-30", 1, None),
    (LA2, "adoption_matches", "2018-01-31", 1, None),
    (LA2, "adoption_matches", MARCH, 0, None),
    (LA2, "adoption_placements", "2018-01-31", 1, None),
    (LA2, "adoption_placements", MARCH, 1, None),
    (LA2, "adoption_plan_reversals", "2016-09-30", 1, None),
    (LA2, "adoption_plan_reversals", MARCH, 1, None),
    (LA2, "adoption_children_waiting", "2018-02-28", 4, None),
    (LA2, "adoption_children_waiting", MARCH, 3, None),
    (LA2, "care_leaver_17_18_eet_pct", MARCH, 1, 3),
    (LA2, "care_leaver_17_18_suitable_accom_pct", MARCH, 1, 3),
    (LA2, "care_leaver_eet_pct", MARCH, 1, 1),  # n04, 19: the v1 cohort
]

DIM_KPI = (settings.PROJECT_ROOT / "seeds" / "dim_kpi.csv").read_text(encoding="utf-8").splitlines()
UNITS = {row["kpi_id"]: row["unit"] for row in csv.DictReader(DIM_KPI)}
SCALE = {"count": 1.0, "pct": 100.0, "rate10k": 10000.0, "days": 1.0, "score": 1.0}
HAND_COUNTED = [(LA, *expected) for expected in EXPECTED] + EXPECTED_V2


@pytest.mark.slow
@pytest.mark.parametrize(("la_code", "kpi_id", "period_end", "numerator", "denominator"), HAND_COUNTED)
def test_kpi_matches_hand_count(kpis, la_code, kpi_id, period_end, numerator, denominator):
    got_numerator, got_denominator, got_value = kpis[(la_code, kpi_id, period_end)]
    assert (got_numerator, got_denominator) == (numerator, denominator)
    if denominator is None:
        assert got_value == numerator
    else:
        assert got_value == pytest.approx(SCALE[UNITS[kpi_id]] * numerator / denominator)


def test_every_kpi_has_a_hand_counted_figure():
    # Adding a KPI to dim_kpi without counting a figure of it by hand fails here.
    assert set(UNITS) - {kpi_id for _, kpi_id, *_ in HAND_COUNTED} == set()


@pytest.mark.slow
def test_every_kpi_has_every_month(kpis):
    for la_code, first_month in ((LA, "2014-01-31"), (LA2, "2016-01-31")):
        figures = {(kpi_id, period_end) for la, kpi_id, period_end in kpis if la == la_code}
        kpi_ids = {kpi_id for kpi_id, _ in figures}
        months = {period_end for _, period_end in figures}
        assert kpi_ids == set(UNITS)
        assert len(figures) == len(kpi_ids) * len(months)
        # S1's earliest event is 1 Jan 2014 (CL5), S2's 1 Jan 2016 (EH5); both reach 30 April 2018.
        assert min(months) == first_month
        assert max(months) == APRIL
