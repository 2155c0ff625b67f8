"""Synthetic case events for the local authorities of a profile, in the canonical input contract
(case-events v1).

The generator simulates the front door to child protection (contacts, referrals, assessments, S47
enquiries and ICPCs, CIN plans and CP plans) and children looked after (periods of care, legal statuses,
placements, UASC, short breaks, reviews, visits, health, missing episodes, adoption and care leavers).
Each authority's rates come from its profile (``csc_warehouse.profile.GeneratorSettings``, defaults: a
large, low-demand shire county, kpi-catalogue 2.1) and volumes scale with its population. Authorities
are simulated one at a time, each from its own random stream, and streamed to one file per table.

How it works, stage by stage (each stage is one small function, so later stages can be added without
touching the earlier ones):

1. ``_population``: the denominators table.
2. ``_simulate_referrals``: one row per referral with every date of its journey. Children are simulated
   as *chains* of referrals (a child's next referral can only come after the previous one closed), which
   gives realistic re-referrals and repeat CP plans. The simulation starts some warm-up years before the
   first emitted day and only journeys whose contact falls in the emitted window are kept, so the volumes
   and the re-referral history are steady from the first emitted month.
3. ``_looked_after``: periods of care, from CP and CIN plans that end with the child coming into care
   and straight into care (with a referral of their own), each with how it will end (adoption, SGO,
   home, at 18, other), its legal statuses, placements and, for adoption, the adoption journey; then
   readmissions. Entries are simulated 18 years before the first emitted day, so the stock of long
   stays is steady; a period still open then is shown as starting on the first emitted day, with the
   legal status and placement it had that day. A looked-after child's referral stays open while they
   are in care. Reviews, visits, health, missing episodes, short breaks and care leavers' contacts
   hang off the periods.
4. ``_referral_events`` / ``_other_contacts``: the journeys and the contacts that did not become a
   referral, as events.
5. ``_finalise_events``: recording lags, event ids, corrected versions and tombstones.
6. ``_children``: one row per child that appears in the events.

Everything is vectorised with numpy: Python loops run over stages, chain positions and code lists only,
never over events. Dates are held as int64 days since 1970-01-01 and timestamps as int64 seconds.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

import holidays
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from csc_warehouse.contract import (
    CHILDREN_COLUMNS,
    EARLIEST_EVENT_DATE,
    END_TO_START,
    EVENT_TYPES,
    EVENTS_COLUMNS,
    POPULATION_COLUMNS,
    Column,
)
from csc_warehouse.profile import DEFAULT_PROFILE, Authority, GeneratorSettings, Profile, load_profile

__all__ = ["GenerateSummary", "generate"]

# --- calibration (large county, kpi-catalogue 2.1; national shapes from domain-anchors 5) -------------

# The rates a profile can change are in `GeneratorSettings` (csc_warehouse.profile); its defaults are the
# large county's. The constants here are the shapes every authority shares.
BASE_POPULATION = 267_000
# Referrals a first referral brings along on average (the chain's re-referrals within the horizon),
# measured on the simulation at the large county's re-referral settings. Chains are over-generated from
# a lower estimate and thinned to the wanted referral volume, so this only has to be roughly right.
REFERRALS_PER_CHAIN = 1.52
CONTACT_TO_REFERRAL = 0.215  # ~28,000 contacts a year for ~6,000 referrals
PRE_REFERRAL_CONTACT_P = 0.45  # share of referrals preceded by an earlier contact that was not referred
EXTRA_CONTACTS_PER_CONTACT_CHILD = 0.35  # Poisson mean of further contacts of a contact-only child
# Simulated but never emitted: long enough for re-referrals (up to 4 years after a closure) to reach a
# steady rate, so referral volumes are flat from the first emitted day.
WARMUP_YEARS = 8
# Emitted before `start` so that stocks have built up by the first reported month. One year fills the
# CP stock to ~85% of its steady level; the CIN stock (long CIN cases) only to ~75%.
BURN_IN_YEARS = 1
MAX_REFERRALS_PER_CHILD = 12

CONTACT_SOURCES = ("police", "school", "health", "la", "individual", "other")
CONTACT_SOURCE_P = (0.30, 0.18, 0.16, 0.12, 0.12, 0.12)
# CIN census referral source codes by contact source, with their shares.
REFERRAL_SOURCE_CODES: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {
    "police": (("6",), (1.0,)),
    "school": (("2A", "2B"), (0.85, 0.15)),
    "health": (("3A", "3B", "3C", "3D", "3E", "3F"), (0.2, 0.2, 0.05, 0.1, 0.3, 0.15)),
    "la": (("5A", "5B", "5C", "5D"), (0.45, 0.25, 0.15, 0.15)),
    "individual": (("1A", "1B", "1C", "1D"), (0.6, 0.15, 0.1, 0.15)),
    "other": (("4", "7", "8", "9", "10"), (0.2, 0.2, 0.3, 0.15, 0.15)),
}
DECISION_24H_P = 0.85
NON_REFERRAL_OUTCOMES = ("early_help", "advice", "nfa")
NON_REFERRAL_OUTCOME_P = (0.25, 0.40, 0.35)

REFERRAL_NFA_P = 0.05
ASSESSMENT_OUTCOMES = ("nfa", "early_help", "cin", "s47")
ASSESSMENT_OUTCOME_P = (0.24, 0.18, 0.28, 0.30)
# A child who had a CP plan before is more likely to go to S47 again.
ASSESSMENT_OUTCOME_P_AFTER_CP = (0.12, 0.08, 0.25, 0.55)
ASSESSMENT_SEEN_P = 0.95
ASSESSMENT_FACTORS = (
    "1B", "2B", "3A", "3B", "4A", "4B", "5B", "6B", "7A", "8B", "9A",
    "10A", "12A", "13A", "14A", "15A", "16A", "17A", "18A", "20", "22A", "24A",
)  # fmt: skip
ASSESSMENT_FACTOR_W = (
    6, 6, 10, 12, 6, 12, 3, 3, 2, 3, 2,
    2, 1, 3, 3, 8, 8, 4, 2, 0.3, 0.3, 0.5,
)  # fmt: skip

# ICPCs per S47 enquiry: national 31%, higher here so CP starts reach ~730 a year (the county's
# 35-42 ICPCs a month look like conferences, one per family; here each child has its own icpc_held).
ICPC_P = 0.43
ICPC_P_AFTER_CP = 0.65
ICPC_PLAN_P = 0.86
ICPC_NOT_REQUIRED_RECORDED_P = 0.75  # of S47s without an ICPC
CP_CATEGORIES = ("N", "E", "P", "S", "M")
CP_CATEGORY_P = (0.62, 0.22, 0.08, 0.05, 0.03)
# Gamma (mean: the cp_duration_months setting); with plans ending at 18 the mean is ~9 months and
# ~3% of plans last two years or more.
CP_DURATION_SHAPE = 2.0
CP_STEP_DOWN_TO_CIN_P = 0.5
CIN_PLAN_P = 0.40  # of assessments with outcome cin, and of S47s that end without a CP plan
CIN_PLAN_MEAN_MONTHS = 8.0
CIN_NO_PLAN_MEAN_DAYS = 680.0  # children in need supported without a plan: the bulk of the CIN stock
S47_NO_PLAN_MEAN_DAYS = 240.0
QUICK_CLOSE_MAX_DAYS = 30  # closing the referral after an nfa / early-help assessment
AFTER_PLAN_CLOSE_MAX_DAYS = 45  # closing it after the last plan ended

# Chance a child is referred again after the referral closes, by how the referral ended.
REREFERRAL_P = {"quick": 0.40, "cin": 0.3, "cp": 0.8}
# Of the next referrals, those soon after the closure (else 1-4 years later). A child whose CP plan
# ended is more often referred again years later: repeat plans within two years are only ~8%.
REREFERRAL_SOON_P = {"quick": 0.65, "cin": 0.55, "cp": 0.3}
REREFERRAL_SOON_MEAN_DAYS = 110.0

CLOSE_CODES = ("RC1", "RC2", "RC3", "RC4", "RC5", "RC6", "RC7", "RC8")
CLOSE_CODE_P_AFTER_SERVICES = (0.012, 0.003, 0.04, 0.03, 0.06, 0.025, 0.78, 0.05)

SEX_P = {"M": 0.51, "F": 0.485, "U": 0.005}
POPULATION_MALE_SHARE = 0.512
DISABLED_P = 0.05
ETHNICITY_P: dict[str, float] = {
    "WBRI": 0.80, "WIRI": 0.005, "WIRT": 0.003, "WOTH": 0.045, "WROM": 0.002,
    "MWBC": 0.022, "MWBA": 0.007, "MWAS": 0.01, "MOTH": 0.014,
    "AIND": 0.009, "APKN": 0.01, "ABAN": 0.009, "AOTH": 0.007,
    "BCRB": 0.008, "BAFR": 0.014, "BOTH": 0.003, "CHNE": 0.002, "OOTH": 0.008,
    "REFU": 0.012, "NOBT": 0.01,
}  # fmt: skip
# Relative chance of first contact at each age 0..17: older children come to the front door more.
FIRST_CONTACT_AGE_W = (1.2, 0.75, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0, 1.0, 1.0,
                       1.05, 1.1, 1.2, 1.35, 1.5, 1.55, 1.4, 1.0)  # fmt: skip

# Looked-after children (kpi-catalogue 2.1.2-2.1.3: ~903-939 looked after, ~34 per 10,000, ~450-550
# starts and leavers a year, UASC ~9.7%; national mixes of age, legal status and placement from
# domain-anchors 5).
CLA_ENTRIES_PER_10K = 12.9  # first entries to care a year; UASC and readmissions come on top
UASC_ENTRIES_PER_10K = 2.6  # unaccompanied asylum-seeking children, almost all aged 16-17 at entry
# The looked-after stocks per 10,000 those entry rates give (measured on the simulation): a profile's
# looked_after_per_10k and uasc_per_10k scale the entry rates by their ratio to these.
BASE_LOOKED_AFTER_PER_10K = 30.5
BASE_UASC_PER_10K = 3.3
UASC_AGE_P = {13: 0.02, 14: 0.04, 15: 0.09, 16: 0.45, 17: 0.40}
# Simulated (never emitted) before the first emitted day, so that long stays reach a steady stock.
CLA_PRE_YEARS = 18
# Entries from the plans of the emitted journeys: CP plans that end without a step-down to CIN, and
# (less often) CIN plans, end with the child coming into care on the plan's end day. They make up this
# share of the entries in each age band; the rest come straight into care, with a referral of their own.
CLA_LINKED_SHARE = 0.6
CLA_LINK_CIN_WEIGHT = 0.3  # a CIN plan is this much less likely than a CP plan to end in care
# Relative chance of a first entry at each age 0..17.
CLA_ENTRY_AGE_W = (23, 2.0, 1.7, 1.6, 1.8, 2.8, 3.1, 3.4, 3.9, 4.6,
                   6.2, 7.0, 7.1, 6.4, 6.0, 5.4, 4.6, 2.4)  # fmt: skip
CLA_AGE_BANDS = (0, 1, 5, 10, 13, 16)  # lower edges: under 1, 1-4, 5-9, 10-12, 13-15, 16-17
# How a period will end, by age band at entry: adoption, SGO, home, at 18, other.
CLA_ROUTE_P = (
    (0.63, 0.17, 0.18, 0.01, 0.01),
    (0.37, 0.24, 0.33, 0.03, 0.03),
    (0.03, 0.25, 0.50, 0.15, 0.07),
    (0.00, 0.14, 0.47, 0.29, 0.10),
    (0.00, 0.04, 0.53, 0.28, 0.15),
    (0.00, 0.00, 0.45, 0.40, 0.15),
)
UASC_UNTIL_18_P = 0.93
# Going home: straight from s20 (voluntary), at the end of care proceedings, or later under a care order.
CLA_HOME_SUB_P = (0.42, 0.33, 0.25)
# Entry status when there are care proceedings: interim care order, police protection, emergency
# protection order, or s20 first (proceedings start weeks later).
CLA_ENTRY_STATUS = ("C1", "L1", "L2", "V2")
CLA_ENTRY_STATUS_P = (0.45, 0.09, 0.06, 0.40)
PROCEEDINGS_MEAN_DAYS = 200.0  # interim care order to final order, ~29 weeks
CLA_REMAND_P = 0.25  # of "other" endings for children aged 12+: remanded (J2), ends E14
# Readmission after going home (or another ending): ~10% of starts are children who were in care before.
CLA_READMIT_P = {"home": 0.30, "other": 0.14}
CLA_READMIT_MEAN_DAYS = 330.0
CLA_MAX_PERIODS = 4
# Adoption (2017/18: ~57 orders; A1 ~530 days entry to placed, A2 ~250 days order to match, ~50%
# placed within 14 months; ~15% of decisions reversed). The placement order is made at the final hearing.
EARLY_PERMANENCE_P = 0.2  # fostering for adoption: matched before the order, placed as soon as it is made
A2_SHAPE, A2_MEAN_DAYS = 0.9, 300.0
ADOPTION_CEASED_P = 0.15
ADOPTED_REC = (("E11", "E12"), (0.7, 0.3))
SGO_AT_FINAL_HEARING_P = 0.55
SGO_REC_BEFORE_2016 = (("E43", "E44"), (0.6, 0.4))
SGO_REC_FROM_2016 = (("E45", "E46", "E47", "E48"), (0.45, 0.15, 0.3, 0.1))  # SSDA903 codes from 2016-17
HOME_REC = (
    (("E4A", "E13", "E4B"), (0.5, 0.3, 0.2)),
    (("E41", "E4A"), (0.45, 0.55)),
    (("E4A", "E41", "E13"), (0.6, 0.25, 0.15)),
)
AGE_18_REC = (("E17", "E5", "E6", "E8", "E7", "E4A"), (0.25, 0.40, 0.10, 0.15, 0.05, 0.05))
OTHER_REC = (("E8", "E13", "E5", "E3", "E16", "E6", "E2"), (0.40, 0.25, 0.15, 0.08, 0.07, 0.04, 0.01))
# Placement groups by age band at the placement's start (then UASC): foster, residential,
# semi-independent, with parents, other.
PLACEMENT_GROUP_P = (
    (0.88, 0.00, 0.00, 0.05, 0.07),
    (0.89, 0.01, 0.00, 0.07, 0.03),
    (0.88, 0.03, 0.00, 0.07, 0.02),
    (0.80, 0.10, 0.00, 0.06, 0.04),
    (0.64, 0.22, 0.02, 0.06, 0.06),
    (0.45, 0.15, 0.30, 0.04, 0.06),
    (0.45, 0.05, 0.48, 0.00, 0.02),
)
PLACEMENT_CODES: tuple[tuple[tuple[str, ...], tuple[float, ...]], ...] = (
    (("U1", "U2", "U3", "U4", "U5", "U6"), (0.10, 0.01, 0.12, 0.30, 0.02, 0.45)),
    (("K2", "R1", "K1"), (0.80, 0.15, 0.05)),
    (("H5", "P2"), (0.75, 0.25)),
    (("P1",), (1.0,)),
    (("S1", "Z1", "R2", "R5"), (0.4, 0.3, 0.2, 0.1)),
)
BABY_OTHER_PLACEMENT = "R3"  # mother and baby units
ADOPTION_PLACEMENTS = (("A6", "A5", "A4", "A3"), (0.55, 0.30, 0.10, 0.05))
# Median km from home by placement group (lognormal, sigma 1), and adoption placements.
PLACEMENT_KM = (9.0, 30.0, 6.0, 3.0, 20.0)
ADOPTION_KM = 25.0
PLACE_CHANGE_REASONS = (
    ("CARPL", "CREQB", "CREQO", "CHILD", "LAREQ", "CLOSE", "STAND", "ALLEG", "APPRR", "PLACE", "OTHER"),
    (0.35, 0.12, 0.10, 0.08, 0.08, 0.05, 0.03, 0.02, 0.02, 0.05, 0.10),
)
# Placement moves: Poisson rates a year in the first year of a period and later, times a per-period
# frailty (gamma, mean 1) and an age factor by band at entry (then UASC).
MOVE_RATE_FIRST_YEAR, MOVE_RATE_LATER, MOVE_FRAILTY_SHAPE = 1.15, 0.39, 0.55
MOVE_AGE_FACTOR = (0.6, 0.7, 0.8, 1.0, 1.5, 1.2, 0.8)
TRIAL_AT_HOME_P = 0.4  # of children going home under a care order: placed with parents (P1) first
# Visits, reviews, health: visits every 3-6 weeks with some late (~90% seen within 6 weeks).
CLA_VISIT_GAP_WD, CLA_VISIT_LATE_P, CLA_VISIT_LATE_WD = (15, 31), 0.22, (8, 30)
HEALTH_MISSED_P, DENTAL_MISSED_P = 0.15, 0.13
SDQ_MEAN, SDQ_CHILD_SD, SDQ_SD = 14.0, 5.0, 3.0
# Missing from care: share of children who ever go missing in a period, by age band at entry (then UASC).
MISSING_CHILD_P = (0.0, 0.005, 0.02, 0.12, 0.30, 0.25, 0.15)
MISSING_EPISODES_PER_YEAR = 6.0
MISSING_AWAY_P = 0.2
# Short breaks: children with a series of V3 breaks (one period each) or a V4 agreement.
SHORT_BREAK_CHILDREN = 36  # V3 at any one time
SHORT_BREAK_V4_CHILDREN = 8
SHORT_BREAK_MEAN_YEARS = 3.0
SHORT_BREAK_TO_CARE_P = 0.12  # programmes that end with the child coming into care (V3, then C2)
# Care leavers (left care aged 16+): one contact around each birthday from 17 to 21.
CARE_LEAVER_MIN_DAYS = 60
EET_ACTIVITIES = (("F1", "P1", "F2", "P2", "F4", "P4", "F5", "P5"),
                  (0.08, 0.01, 0.30, 0.05, 0.28, 0.10, 0.12, 0.06))  # fmt: skip
NEET_ACTIVITIES = (("G5", "G4", "G6"), (0.65, 0.2, 0.15))
CARE_LEAVER_ACTIVITY_P = {
    "17-18": (0.62, 0.32, 0.06),
    "19-21": (0.55, 0.385, 0.065),
}  # EET, NEET, not in touch
BASE_CARE_LEAVERS_EET_PCT = 57.0  # what those shares give over ages 17-21 (care_leavers_eet_pct scales them)
SUITABLE_ACCOM_P = 0.965  # of those in touch
SUITABLE_ACCOM = (("U", "B", "D", "Z", "E", "K", "Y", "T", "C"),
                  (0.30, 0.17, 0.14, 0.12, 0.10, 0.05, 0.05, 0.04, 0.03))  # fmt: skip
UNSUITABLE_ACCOM = (("S", "X", "W", "V", "Y"), (0.3, 0.25, 0.2, 0.15, 0.1))

# Recording lags of dated events (not contacts): same day, next day, 2-7 days, 8-42 days. A profile's
# late_recording_factor scales the last two shares (20% in all), the first two shrink to make room.
LAG_SHARES = (0.55, 0.25, 0.13, 0.07)
MAX_LATE_SHARE = 0.9

DAY = 86_400
MONTH_DAYS = 30.4375
_NA = -1  # "no such date" in the int64 day columns
_EPOCH = np.datetime64("1970-01-01", "D")


# --- public interface --------------------------------------------------------------------------------


@dataclass(frozen=True)
class GenerateSummary:
    """What `generate` wrote. `events` counts rows of the events files (every version)."""

    out_dir: Path
    profile: str
    authorities: int
    children: int
    events: int
    population_rows: int
    first_event_date: date
    last_event_date: date
    fault_rows: int = 0
    seconds: float = 0.0

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def generate(
    out_dir: Path,
    *,
    profile: str | Path | Profile = DEFAULT_PROFILE,
    seed: int = 42,
    years: int = 5,
    start: date | None = None,
    file_format: Literal["csv", "parquet"] = "csv",
    la_code: str | None = None,
    population: int | None = None,
    scale: float = 1.0,
    faults: float = 0.0,
    workers: int | None = None,
    progress: bool = False,
) -> GenerateSummary:
    """Write children, events and population files for the authorities of a profile.

    The reported window is `years` years from `start` (default: ending 2018-03-31); events start one
    burn-in year earlier. `la_code` and `population` override those of a one-authority profile; `scale`
    multiplies every authority's children (a miniature with the same rates). Authorities are generated
    one at a time (by `workers` processes) and streamed to one file per table, so memory stays bounded
    by the largest authority. `faults` > 0 also writes that share of bad rows (see `faults.py`). The
    same arguments always give byte-identical files.
    """
    started = time.perf_counter()
    chosen = _chosen_profile(profile, la_code, population, scale)
    if years < 1:
        raise ValueError("years must be at least 1")
    if file_format not in ("csv", "parquet"):
        raise ValueError(f"file_format must be 'csv' or 'parquet', not {file_format!r}")
    if not 0 <= faults <= 0.5:
        raise ValueError(f"faults is a share of the events, between 0 and 0.5, not {faults}")
    _window(years, start)  # fails early on an impossible window
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("*_faults.csv"):
        stale.unlink()  # a previous run's bad rows must not ride along with this run's data

    jobs = [(a, i, seed, years, start) for i, a in enumerate(chosen.authorities)]
    n_workers = workers or (min(2, os.cpu_count() or 1) if len(jobs) > 1 else 1)
    totals = {"children": 0, "events": 0, "population": 0}
    first_day, last_day = None, None
    sample: _AuthorityFiles | None = None
    with _sinks(out_dir, file_format) as sinks, _authority_progress(progress, chosen, len(jobs) > 1) as tick:
        for result in _run_jobs(jobs, n_workers, stage_bars=progress and len(jobs) == 1):
            for name, table in (("children", result.children), ("events", result.events),
                                ("population", result.population)):  # fmt: skip
                sinks[name].write_table(table)
                totals[name] += table.num_rows
            first_day = min(first_day or result.first_event_date, result.first_event_date)
            last_day = max(last_day or result.last_event_date, result.last_event_date)
            sample = sample or result
            tick(result)

    fault_rows = 0
    if faults > 0 and sample is not None:
        from csc_warehouse.faults import write_faults

        fault_rows = write_faults(out_dir, sample.children, sample.events, share=faults, seed=seed)
    assert first_day is not None and last_day is not None
    return GenerateSummary(
        out_dir=out_dir,
        profile=chosen.name,
        authorities=len(jobs),
        children=totals["children"],
        events=totals["events"],
        population_rows=totals["population"],
        first_event_date=first_day,
        last_event_date=last_day,
        fault_rows=fault_rows,
        seconds=time.perf_counter() - started,
    )


def _chosen_profile(
    profile: str | Path | Profile, la_code: str | None, population: int | None, scale: float
) -> Profile:
    chosen = profile if isinstance(profile, Profile) else load_profile(profile)
    if la_code is not None or population is not None:
        if len(chosen.authorities) != 1:
            raise ValueError(
                f"--la-code and --population apply to a one-authority profile; {chosen.name} has "
                f"{len(chosen.authorities)} authorities (use --scale to shrink them all)"
            )
        if population is not None and population < 100:
            raise ValueError("population must be at least 100 children (fewer give almost no events)")
        only = chosen.authorities[0]
        only = replace(only, la_code=la_code or only.la_code, population=population or only.population)
        chosen = replace(chosen, authorities=(only,))
    return chosen.scaled(scale)


@dataclass(frozen=True)
class _AuthorityFiles:
    """One authority's tables, as a worker hands them back."""

    la_code: str
    children: pa.Table
    events: pa.Table
    population: pa.Table
    first_event_date: date
    last_event_date: date


def _run_jobs(
    jobs: list[tuple[Authority, int, int, int, date | None]], workers: int, *, stage_bars: bool
) -> Iterator[_AuthorityFiles]:
    """Each authority's tables, in profile order. Several workers each take whole authorities."""
    if workers <= 1:
        for job in jobs:
            yield _generate_authority(*job, stage_bars=stage_bars)
        return
    # spawn, not fork: the parent may hold DuckDB or Arrow threads that a fork would copy half-way.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield from pool.map(_generate_authority, *zip(*jobs, strict=True))


@contextmanager
def _sinks(out_dir: Path, file_format: str) -> Iterator[dict[str, Any]]:
    """One streaming writer per table: each authority's rows are appended as they come."""
    schemas = {"children": CHILDREN_COLUMNS, "events": EVENTS_COLUMNS, "population": POPULATION_COLUMNS}
    writers: dict[str, Any] = {}
    try:
        for name, columns in schemas.items():
            path = out_dir / f"{name}.{file_format}"
            for other in out_dir.glob(f"{name}.*"):
                if other.suffix in (".csv", ".parquet") and other != path:
                    other.unlink()  # the loader would read both formats of a table
            if file_format == "csv":
                writers[name] = pa_csv.CSVWriter(path, _schema(columns))
            else:
                writers[name] = pq.ParquetWriter(path, _schema(columns), compression="zstd")
        yield writers
    finally:
        for writer in writers.values():
            writer.close()


@contextmanager
def _authority_progress(
    show: bool, profile: Profile, many: bool
) -> Iterator[Callable[[_AuthorityFiles], None]]:
    """A bar over the authorities (children generated so far, events written) when there are many."""
    if not (show and many):
        yield lambda result: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, TextColumn("{task.fields[events]:,} events")) as bar:
        task = bar.add_task(f"{profile.name}: authorities", total=len(profile.authorities), events=0)
        written = 0

        def tick(result: _AuthorityFiles) -> None:
            nonlocal written
            written += result.events.num_rows
            bar.update(task, advance=1, events=written)

        yield tick


def _generate_authority(
    authority: Authority, index: int, seed: int, years: int, start: date | None, *, stage_bars: bool = False
) -> _AuthorityFiles:
    """Simulate one authority. Its random stream depends on the seed and its place in the profile only."""
    ctx = _make_context(np.random.SeedSequence((seed, index)), years, start, authority)
    with _stages(stage_bars) as stage:
        with stage("population"):
            pop = _population(ctx)
        with stage("referral journeys"):
            journeys, people = _simulate_referrals(ctx)
        with stage("looked after"):
            journeys, people, cla, short_break_children = _looked_after(ctx, journeys, people)
        with stage("contacts"):
            contacts, people = _other_contacts(ctx, journeys, people)
        with stage("events"):
            raw = _concat_events([_referral_events(ctx, journeys), contacts, cla])
            events = _finalise_events(ctx, raw, people)
            if events.empty:
                raise ValueError(
                    f"{authority.la_code}: a population of {authority.population} gave no events: "
                    "use a larger one"
                )
        with stage("children"):
            children, events = _children(ctx, people, events, disabled=short_break_children)
        with stage("tables"):
            event_days = events["event_at"] // DAY
            return _AuthorityFiles(
                la_code=authority.la_code,
                children=_children_table(ctx, children),
                events=_events_table(ctx, events),
                population=_population_table(ctx, pop),
                first_event_date=_to_date(int(event_days.min())),
                last_event_date=_to_date(int(event_days.max())),
            )


# --- context and small helpers -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    rng: np.random.Generator
    la_code: str
    population: int
    settings: GeneratorSettings  # the authority's rates (profile)
    scale: float  # population / BASE_POPULATION: volumes without a rate setting scale with it
    start: int  # first reported day (days since epoch)
    emit_start: int  # first emitted day: `start` minus the burn-in
    sim_start: int  # first simulated day: `emit_start` minus the warm-up
    data_end: int  # last day with events
    extract_at: int  # seconds: the end of `data_end`; no version is recorded later
    holidays: np.ndarray  # England and Wales bank holidays, datetime64[D]


def _window(years: int, start: date | None) -> tuple[date, date, date, date]:
    """(start, end, first emitted day, first simulated day) of a run."""
    if start is None:
        start = _add_years(date(2018, 4, 1), -years)
    end = _add_years(start, years) - timedelta(days=1)
    emit_start = _add_years(start, -BURN_IN_YEARS)
    sim_start = _add_years(emit_start, -WARMUP_YEARS)
    if emit_start < date.fromisoformat(EARLIEST_EVENT_DATE):
        raise ValueError(f"events would start on {emit_start}, before {EARLIEST_EVENT_DATE}")
    if end >= date.today():
        raise ValueError(f"events would run to {end}: the data must end before today")
    return start, end, emit_start, sim_start


def _make_context(
    seed: np.random.SeedSequence | int, years: int, start: date | None, authority: Authority
) -> _Context:
    start, end, emit_start, sim_start = _window(years, start)
    bank_holidays = holidays.country_holidays("GB", subdiv="ENG", years=range(sim_start.year, end.year + 6))
    return _Context(
        rng=np.random.default_rng(seed),
        la_code=authority.la_code,
        population=authority.population,
        settings=authority.settings,
        scale=authority.population / BASE_POPULATION,
        start=_to_days(start),
        emit_start=_to_days(emit_start),
        sim_start=_to_days(sim_start),
        data_end=_to_days(end),
        extract_at=(_to_days(end) + 1) * DAY - 1,
        holidays=np.array(sorted(bank_holidays), dtype="datetime64[D]"),
    )


def _add_years(d: date, n: int) -> date:
    """`d` plus `n` years, 29 February clamped to the 28th."""
    try:
        return d.replace(year=d.year + n)
    except ValueError:
        return d.replace(year=d.year + n, day=28)


def _to_days(d: date) -> int:
    return int((np.datetime64(d, "D") - _EPOCH).astype(np.int64))


def _to_date(days: int) -> date:
    return date(1970, 1, 1) + timedelta(days=days)


def _add_wd(ctx: _Context, days: np.ndarray, n: np.ndarray | int) -> np.ndarray:
    """The n-th working day after each day (the day itself is day 0 even if it is not a working day)."""
    days = np.asarray(days, dtype=np.int64)
    n = np.broadcast_to(np.asarray(n, dtype=np.int64), days.shape)
    # roll="backward" makes a weekend day count from the Friday before, so n=1 gives the Monday;
    # n=0 must stay on the day itself, which busday_offset would roll back too.
    out = np.busday_offset(days.astype("datetime64[D]"), n, roll="backward", holidays=ctx.holidays)
    return np.where(n == 0, days, out.astype(np.int64))


def _wd_index(ctx: _Context, days: np.ndarray) -> np.ndarray:
    """Working days from the epoch to each day: a monotone scale to step through working days on."""
    return np.busday_count(_EPOCH, days.astype("datetime64[D]"), holidays=ctx.holidays).astype(np.int64)


def _wd_to_day(ctx: _Context, wd_index: np.ndarray) -> np.ndarray:
    return np.busday_offset(_EPOCH, wd_index, roll="forward", holidays=ctx.holidays).astype(np.int64)


def _choice(rng: np.random.Generator, options: tuple[str, ...], p: tuple[float, ...], n: int) -> np.ndarray:
    """n draws from `options` with probabilities `p` (normalised), as an object array of str."""
    probs = np.asarray(p, dtype=float)
    idx = rng.choice(len(options), size=n, p=probs / probs.sum())
    return np.asarray(options, dtype=object)[idx]


def _gamma_days(rng: np.random.Generator, shape: float, mean_days: float, n: int, minimum: int) -> np.ndarray:
    return np.maximum(rng.gamma(shape, mean_days / shape, n).round().astype(np.int64), minimum)


def _ids(prefix: str, numbers: np.ndarray, width: int = 6) -> np.ndarray:
    """'R000123'-style ids; the width grows when the numbers need it."""
    numbers = np.asarray(numbers, dtype=np.int64)
    if numbers.size == 0:
        return np.empty(0, dtype=object)
    width = max(width, len(str(int(numbers.max()))))
    return np.char.add(prefix, np.char.zfill(numbers.astype(str), width)).astype(object)


@contextmanager
def _stages(show: bool) -> Iterator[Callable[[str], AbstractContextManager[None]]]:
    """Yields `stage(name)`, a context manager that shows one progress bar per stage when `show`."""
    if not show:

        @contextmanager
        def quiet(name: str) -> Iterator[None]:
            yield

        yield quiet
        return

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description:<20}"), BarColumn(), TimeElapsedColumn()) as bar:

        @contextmanager
        def shown(name: str) -> Iterator[None]:
            task = bar.add_task(name, total=1)
            yield
            bar.update(task, completed=1)

        yield shown


# --- stage 1: population ------------------------------------------------------------------------------


def _population(ctx: _Context) -> pd.DataFrame:
    """Children resident by year x age x sex, each year summing exactly to `population`."""
    rng = ctx.rng
    years = np.arange(_to_date(ctx.emit_start).year, _to_date(ctx.data_end).year + 1)
    ages = np.arange(18)
    # Roughly flat by age, with a small fixed profile and a small drift from year to year.
    profile = 1.0 + rng.normal(0.0, 0.02, ages.size)
    rows = []
    for year in years:
        age_w = profile * (1.0 + rng.normal(0.0, 0.005, ages.size))
        weights = np.concatenate([age_w * POPULATION_MALE_SHARE, age_w * (1 - POPULATION_MALE_SHARE)])
        counts = _apportion(ctx.population, weights)
        rows.append(
            pd.DataFrame(
                {
                    "year": year,
                    "age": np.concatenate([ages, ages]),
                    "sex": np.repeat(["M", "F"], ages.size),
                    "count": counts,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def _apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to `weights` that sum exactly to `total` (largest remainder)."""
    exact = total * weights / weights.sum()
    counts = np.floor(exact).astype(np.int64)
    short = total - counts.sum()
    counts[np.argsort(-(exact - counts), kind="stable")[:short]] += 1
    return counts


# --- stage 2: referral journeys -----------------------------------------------------------------------


@dataclass
class _People:
    """Every simulated child (also those never emitted), indexed by position."""

    birth_month: np.ndarray  # days since epoch of the first of the birth month

    def add(self, birth_month: np.ndarray) -> np.ndarray:
        """Appends children, returning their indices."""
        first = self.birth_month.size
        self.birth_month = np.concatenate([self.birth_month, birth_month])
        return np.arange(first, self.birth_month.size)


def _birth_months(rng: np.random.Generator, first_day: np.ndarray) -> np.ndarray:
    """Birth months for children first seen on `first_day`, aged 0-17 then (skewed to older ages)."""
    w = np.asarray(FIRST_CONTACT_AGE_W)
    age_years = rng.choice(w.size, size=first_day.size, p=w / w.sum())
    # Whole months back from the month of first contact: the age then is 0 to 17 years 11 months (and
    # some days), never 18.
    age_months = age_years * 12 + rng.integers(0, 12, first_day.size)
    first_month = first_day.astype("datetime64[D]").astype("datetime64[M]")
    return ((first_month - age_months).astype("datetime64[D]") - _EPOCH).astype(np.int64)


def _eighteenth_birthday(birth_month: np.ndarray) -> np.ndarray:
    months = (birth_month.astype("datetime64[D]").astype("datetime64[M]") + 18 * 12).astype("datetime64[D]")
    return (months - _EPOCH).astype(np.int64)


def _simulate_referrals(ctx: _Context) -> tuple[pd.DataFrame, _People]:
    """Every referral journey whose contact falls in the emitted window, as one row per referral.

    Each chain is one child: its first referral arrives at a constant rate over the simulated span, and
    after each referral closes the child may be referred again. Looping over the chain position keeps
    the work vectorised across all children at once. How many referrals a chain brings depends on the
    re-referral settings, so chains are generated from a low estimate of that (more than needed) and
    whole chains are then dropped at random until the emitted referrals match the wanted rate.
    """
    rng = ctx.rng
    s = ctx.settings
    emitted_years = (ctx.data_end - ctx.emit_start + 1) / 365.25
    wanted = s.referrals_per_10k * ctx.population / 10_000 * emitted_years
    # Chains bring ~1.52 referrals at factor 1 (REFERRALS_PER_CHAIN); 15% fewer, so there are enough.
    per_chain = 1 + (REFERRALS_PER_CHAIN - 1) * s.re_referral_factor
    again_p = {k: min(p * s.re_referral_factor, 0.95) for k, p in REREFERRAL_P.items()}
    again_p["cp"] = min(again_p["cp"] * s.cp_repeat_factor, 0.95)
    people = _People(birth_month=np.empty(0, dtype=np.int64))
    span_years = (ctx.data_end - ctx.sim_start + 1) / 365.25
    n_chains = rng.poisson(wanted / emitted_years / (0.85 * per_chain) * span_years)
    journeys = _referral_chains(ctx, people, n_chains, again_p)
    got = len(journeys)
    if got > wanted:
        chains = journeys["child"].unique()
        kept = chains[rng.random(chains.size) < wanted / got]
        journeys = journeys[journeys["child"].isin(kept)].reset_index(drop=True)
    return journeys, people


def _referral_chains(
    ctx: _Context, people: _People, n_chains: int, again_p: dict[str, float]
) -> pd.DataFrame:
    """`n_chains` children's referral chains over the simulated span; the journeys in the emitted window."""
    rng = ctx.rng
    first_day = np.sort(rng.integers(ctx.sim_start, ctx.data_end + 1, n_chains))
    child = people.add(_birth_months(rng, first_day))
    adult_day = _eighteenth_birthday(people.birth_month)

    day = first_day
    had_cp = np.zeros(n_chains, dtype=bool)
    batches: list[pd.DataFrame] = []
    for _ in range(MAX_REFERRALS_PER_CHILD):
        if child.size == 0 and batches:
            break
        batch = _journey_batch(ctx, child, day, had_cp, adult_day[child])
        batches.append(batch)
        again = rng.random(child.size) < batch["kind"].map(again_p).to_numpy()
        soon = rng.random(child.size) < batch["kind"].map(REREFERRAL_SOON_P).to_numpy()
        gap = np.where(
            soon,
            14 + rng.exponential(REREFERRAL_SOON_MEAN_DAYS, child.size),
            rng.uniform(365, 4 * 365, child.size),
        ).astype(np.int64)
        next_day = batch["close_day"].to_numpy() + gap
        keep = again & (next_day <= ctx.data_end) & (next_day < adult_day[child])
        had_cp = (had_cp | (batch["cp_start"].to_numpy() >= 0))[keep]
        child, day = child[keep], next_day[keep]

    journeys = pd.concat(batches, ignore_index=True)
    emitted = (journeys["contact_s"] // DAY >= ctx.emit_start) & (
        journeys["contact_s"] // DAY <= ctx.data_end
    )
    return journeys[emitted].sort_values(["contact_s", "child"], kind="stable").reset_index(drop=True)


def _journey_batch(
    ctx: _Context, child: np.ndarray, contact_day: np.ndarray, had_cp: np.ndarray, adult: np.ndarray
) -> pd.DataFrame:
    """One referral per child, from the contact to the referral's closure (dates may pass the data end).

    `adult` is each child's 18th birthday: plans and the referral end by then, as children's services do.
    """
    rng = ctx.rng
    s = ctx.settings
    n = child.size
    out: dict[str, np.ndarray] = {"child": child}

    # Contact and its decision: contacts carry a time of day, decisions mostly within 24 hours.
    out["contact_s"] = contact_day * DAY + _time_of_day(rng, n)
    out["decision_s"] = out["contact_s"] + _decision_delay(rng, n)
    source = _choice(rng, CONTACT_SOURCES, CONTACT_SOURCE_P, n)
    out["contact_source"] = source
    ref_day = out["decision_s"] // DAY
    out["ref_day"] = ref_day
    out["ref_code"] = _referral_source_codes(rng, source)
    nfa = rng.random(n) < REFERRAL_NFA_P
    out["ref_nfa"] = nfa

    # Assessment: starts within a few working days; 94-95% authorised within 45 working days.
    assessed = ~nfa
    ass_start = _add_wd(ctx, ref_day, rng.choice(4, n, p=[0.4, 0.3, 0.2, 0.1]))
    ass_wd = np.where(
        rng.random(n) < s.assessments_in_45wd_pct / 100,
        np.round(rng.triangular(2, 30, 45, n)),
        rng.integers(46, 131, n),  # the late ones run long: ~8% of those open at a month end
    ).astype(np.int64)
    ass_end = _add_wd(ctx, ass_start, ass_wd)
    outcome = np.where(
        had_cp,
        _choice(rng, ASSESSMENT_OUTCOMES, ASSESSMENT_OUTCOME_P_AFTER_CP, n),
        _choice(rng, ASSESSMENT_OUTCOMES, ASSESSMENT_OUTCOME_P, n),
    )
    seen = assessed & (rng.random(n) < ASSESSMENT_SEEN_P)
    seen_day = _add_wd(ctx, ass_start, rng.integers(0, np.minimum(ass_wd, 10) + 1))
    out["ass_start"] = np.where(assessed, ass_start, _NA)
    out["ass_end"] = np.where(assessed, ass_end, _NA)
    out["outcome"] = np.where(assessed, outcome, None)
    out["factors"] = np.where(assessed, _assessment_factors(rng, n), None)
    out["seen_day"] = np.where(seen, seen_day, _NA)

    # S47 and ICPC: the ICPC is due within 15 working days of the strategy discussion.
    s47 = assessed & (outcome == "s47")
    sd_day = _add_wd(ctx, ass_start, rng.integers(0, 4, n))
    s47_day = _add_wd(ctx, sd_day, (rng.random(n) > 0.8).astype(np.int64))
    icpc_p = np.minimum(np.where(had_cp, ICPC_P_AFTER_CP * s.cp_repeat_factor, ICPC_P) * s.cp_factor, 0.95)
    icpc = s47 & (rng.random(n) < icpc_p)
    icpc_wd = np.where(
        rng.random(n) < s.icpc_in_15wd_pct / 100, rng.integers(5, 16, n), rng.integers(16, 31, n)
    )
    icpc_day = _add_wd(ctx, sd_day, icpc_wd)
    plan = icpc & (rng.random(n) < ICPC_PLAN_P)
    not_required = s47 & ~icpc & (rng.random(n) < ICPC_NOT_REQUIRED_RECORDED_P)
    nr_day = _add_wd(ctx, s47_day, rng.integers(3, 16, n))
    out["sd_day"] = np.where(s47, sd_day, _NA)
    out["s47_day"] = np.where(s47, s47_day, _NA)
    out["icpc_day"] = np.where(icpc, icpc_day, _NA)
    out["icpc_outcome"] = np.where(icpc, np.where(plan, "plan", "no_plan"), None)
    out["nr_day"] = np.where(not_required, nr_day, _NA)

    # CP plan from the ICPC; reviews and visits are expanded later, only for emitted plans.
    cp_months = rng.gamma(CP_DURATION_SHAPE, s.cp_duration_months / CP_DURATION_SHAPE, n)
    cp_end = _end_by_adulthood(
        icpc_day + np.maximum((cp_months * MONTH_DAYS).astype(np.int64), 21), icpc_day, adult
    )
    out["cp_start"] = np.where(plan, icpc_day, _NA)
    out["cp_end"] = np.where(plan, cp_end, _NA)
    out["cp_category"] = np.where(plan, _choice(rng, CP_CATEGORIES, CP_CATEGORY_P, n), None)

    # CIN plan: after an assessment with outcome cin, after an S47 with no CP plan, or as the step
    # down from a CP plan (one CIN plan per referral at most).
    s47_done = np.maximum.reduce(
        [ass_end, np.where(icpc, icpc_day, _NA), np.where(not_required, nr_day, _NA)]
    )
    cin_after_cin = assessed & (outcome == "cin") & (rng.random(n) < CIN_PLAN_P)
    cin_after_s47 = s47 & ~plan & (rng.random(n) < CIN_PLAN_P)
    step_down = plan & (cp_end < adult) & (rng.random(n) < CP_STEP_DOWN_TO_CIN_P)
    cin_start = np.select(
        [cin_after_cin, cin_after_s47, step_down],
        [ass_end + rng.integers(0, 16, n), s47_done + rng.integers(0, 16, n), cp_end],
        _NA,
    )
    has_cin = cin_start >= 0
    cin_end = _end_by_adulthood(
        cin_start + _gamma_days(rng, 2.0, CIN_PLAN_MEAN_MONTHS * MONTH_DAYS * s.cin_duration_factor, n, 28),
        cin_start,
        adult,
    )
    out["cin_start"] = cin_start
    out["cin_end"] = np.where(has_cin, cin_end, _NA)

    # Closure: when the child's work ends. Children in need without a plan stay open for months.
    quick = nfa | np.isin(outcome, ["nfa", "early_help"])
    close_day = np.select(
        [
            nfa,
            quick,
            has_cin,
            plan,
            outcome == "cin",
        ],
        [
            ref_day + rng.integers(0, 6, n),
            ass_end + rng.integers(0, QUICK_CLOSE_MAX_DAYS + 1, n),
            cin_end + rng.integers(0, AFTER_PLAN_CLOSE_MAX_DAYS + 1, n),
            cp_end + rng.integers(0, AFTER_PLAN_CLOSE_MAX_DAYS + 1, n),
            ass_end + _gamma_days(rng, 2.5, CIN_NO_PLAN_MEAN_DAYS * s.cin_duration_factor, n, 14),
        ],
        s47_done + _gamma_days(rng, 2.0, S47_NO_PLAN_MEAN_DAYS, n, 7),
    )
    # Never before any other event of the referral, whatever the branch.
    work_end = np.maximum.reduce(
        [ref_day, out["ass_end"], out["icpc_day"], out["nr_day"], out["cp_end"], out["cin_end"]]
    )
    out["close_day"] = np.maximum(np.minimum(close_day, adult), work_end)
    out["close_code"] = np.where(quick, "RC8", _choice(rng, CLOSE_CODES, CLOSE_CODE_P_AFTER_SERVICES, n))
    out["kind"] = np.where(plan, "cp", np.where(quick, "quick", "cin"))
    return pd.DataFrame(out)


def _end_by_adulthood(end: np.ndarray, start: np.ndarray, adult: np.ndarray) -> np.ndarray:
    """Ends past the 18th birthday move to it (a week after the start if that is later still)."""
    return np.where(end > adult, np.maximum(adult, start + 7), end)


def _time_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds after midnight: mostly office hours, a quarter out of hours (police, hospitals)."""
    office = rng.integers(8 * 3600, 18 * 3600, n)
    any_time = rng.integers(0, DAY, n)
    return np.where(rng.random(n) < 0.75, office, any_time)


def _decision_delay(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds from contact to decision: ~85% within 24 hours, the rest 1-5 days."""
    fast = rng.integers(600, DAY - 60, n)
    slow = rng.integers(DAY + 3600, 5 * DAY, n)
    return np.where(rng.random(n) < DECISION_24H_P, fast, slow)


def _referral_source_codes(rng: np.random.Generator, contact_source: np.ndarray) -> np.ndarray:
    out = np.empty(contact_source.size, dtype=object)
    for source, (codes, p) in REFERRAL_SOURCE_CODES.items():
        rows = np.flatnonzero(contact_source == source)
        out[rows] = _choice(rng, codes, p, rows.size)
    return out


def _assessment_factors(rng: np.random.Generator, n: int) -> np.ndarray:
    """1-3 distinct CIN census assessment factors per assessment, ';'-separated."""
    w = np.log(np.asarray(ASSESSMENT_FACTOR_W, dtype=float))
    keys = w + rng.gumbel(size=(n, w.size))  # Gumbel top-k: weighted sampling without replacement
    top = np.argsort(-keys, axis=1, kind="stable")[:, :3]
    k = rng.choice([1, 2, 3], size=n, p=[0.35, 0.4, 0.25])
    top = np.where(np.arange(3) < k[:, None], top, w.size)
    top.sort(axis=1)
    codes = np.asarray([*ASSESSMENT_FACTORS, ""], dtype=object)[top]
    joined = codes[:, 0] + np.where(codes[:, 1] != "", ";", "") + codes[:, 1]
    return joined + np.where(codes[:, 2] != "", ";", "") + codes[:, 2]


# --- stage 3: events ---------------------------------------------------------------------------------

_TYPE_INDEX = {name: i for i, name in enumerate(EVENT_TYPES)}


class _EventBuffer:
    """Collects events type by type as column arrays (one array per column, never one row at a time)."""

    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []

    def add(
        self,
        event_type: str,
        child: np.ndarray,
        at_s: np.ndarray,
        *,
        episode: np.ndarray | None = None,
        referral: np.ndarray | None = None,
        code: np.ndarray | str | None = None,
        code2: np.ndarray | None = None,
        value: np.ndarray | None = None,
    ) -> None:
        n = len(child)
        self.parts.append(
            {
                "type": np.full(n, _TYPE_INDEX[event_type], dtype=np.int16),
                "child": np.asarray(child, dtype=np.int64),
                "event_at": np.asarray(at_s, dtype=np.int64),
                "episode_id": _column(episode, n),
                "referral_id": _column(referral, n),
                "code": _column(code, n),
                "code2": _column(code2, n),
                "value": np.full(n, np.nan) if value is None else np.asarray(value, dtype=float),
            }
        )


def _column(values: np.ndarray | str | None, n: int) -> np.ndarray:
    if values is None or isinstance(values, str):
        return np.full(n, values, dtype=object)
    return np.asarray(values, dtype=object)


def _concat_events(buffers: list[_EventBuffer]) -> pd.DataFrame:
    parts = [part for buffer in buffers for part in buffer.parts]
    return pd.DataFrame({col: np.concatenate([p[col] for p in parts]) for col in parts[0]})


def _referral_events(ctx: _Context, j: pd.DataFrame) -> _EventBuffer:
    """The journeys as events. Events after the data end are dropped later, in `_finalise_events`."""
    buf = _EventBuffer()
    n = len(j)
    child = j["child"].to_numpy()
    contact = _ids("CT", np.arange(1, n + 1))  # renumbered with the other contacts later
    ref = _ids("R", np.arange(1, n + 1))
    buf.add("contact_received", child, j["contact_s"], episode=contact, code=j["contact_source"])
    buf.add("contact_decision", child, j["decision_s"], episode=contact, code="referral")
    nfa = j["ref_nfa"].to_numpy()
    buf.add(
        "referral_received",
        child,
        j["ref_day"] * DAY,
        episode=ref,
        referral=ref,
        code=j["ref_code"],
        code2=np.where(nfa, "nfa", None),
    )
    buf.add("referral_closed", child, j["close_day"] * DAY, episode=ref, referral=ref, code=j["close_code"])

    def sub(mask: np.ndarray, prefix: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows with an episode of this kind: their index, child and a fresh episode id."""
        rows = np.flatnonzero(mask)
        return rows, child[rows], _ids(prefix, np.arange(1, rows.size + 1))

    def days(col: str, rows: np.ndarray) -> np.ndarray:
        return j[col].to_numpy()[rows] * DAY

    rows, kid, ass = sub(j["ass_start"].to_numpy() >= 0, "A")
    buf.add("assessment_started", kid, days("ass_start", rows), episode=ass, referral=ref[rows])
    buf.add(
        "assessment_authorised",
        kid,
        days("ass_end", rows),
        episode=ass,
        referral=ref[rows],
        code=j["outcome"].to_numpy()[rows],
        code2=j["factors"].to_numpy()[rows],
    )
    seen = j["seen_day"].to_numpy()[rows] >= 0
    buf.add(
        "child_seen",
        kid[seen],
        days("seen_day", rows)[seen],
        episode=ass[seen],
        referral=ref[rows][seen],
        code="assessment",
    )

    rows, kid, s47 = sub(j["sd_day"].to_numpy() >= 0, "S")
    buf.add("strategy_discussion", kid, days("sd_day", rows), episode=s47, referral=ref[rows])
    buf.add("s47_started", kid, days("s47_day", rows), episode=s47, referral=ref[rows])
    icpc = j["icpc_day"].to_numpy()[rows] >= 0
    buf.add(
        "icpc_held",
        kid[icpc],
        days("icpc_day", rows)[icpc],
        episode=s47[icpc],
        referral=ref[rows][icpc],
        code=j["icpc_outcome"].to_numpy()[rows][icpc],
    )
    nr = j["nr_day"].to_numpy()[rows] >= 0
    buf.add("icpc_not_required", kid[nr], days("nr_day", rows)[nr], episode=s47[nr], referral=ref[rows][nr])

    rows, kid, cp = sub(j["cp_start"].to_numpy() >= 0, "CP")
    start, end = j["cp_start"].to_numpy()[rows], j["cp_end"].to_numpy()[rows]
    buf.add(
        "cp_plan_started",
        kid,
        start * DAY,
        episode=cp,
        referral=ref[rows],
        code=j["cp_category"].to_numpy()[rows],
    )
    buf.add("cp_plan_ended", kid, end * DAY, episode=cp, referral=ref[rows])
    _cp_reviews(ctx, buf, kid, cp, ref[rows], start, end)
    _visits(ctx, buf, "cp", kid, cp, ref[rows], start, end, first_wd=(1, 6), gap_wd=(5, 11), late_p=0.07)

    rows, kid, cin = sub(j["cin_start"].to_numpy() >= 0, "CIN")
    start, end = j["cin_start"].to_numpy()[rows], j["cin_end"].to_numpy()[rows]
    buf.add("cin_plan_started", kid, start * DAY, episode=cin, referral=ref[rows])
    buf.add("cin_plan_ended", kid, end * DAY, episode=cin, referral=ref[rows])
    _visits(ctx, buf, "cin", kid, cin, ref[rows], start, end, first_wd=(3, 11), gap_wd=(10, 31), late_p=0.0)
    return buf


def _expand(
    start: np.ndarray,
    end: np.ndarray,
    first: np.ndarray,
    gap: Callable[[int], np.ndarray],
    min_gap: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Points start+first, then +gap, +gap, ... strictly before `end`, for every interval at once.

    Returns (interval index, position) per point. The positions are in whatever unit the caller uses
    (calendar days or working-day indices); `gap(k)` draws k gaps, none shorter than `min_gap` >= 1.
    """
    n_max = np.maximum((end - start - first) // min_gap + 1, 0)
    owner = np.repeat(np.arange(start.size), n_max)
    steps = gap(owner.size)
    # First point of each interval: replace its step by `first`, then cumulative sums within intervals.
    heads = np.cumsum(n_max) - n_max
    steps[heads[n_max > 0]] = first[n_max > 0]
    total = np.cumsum(steps)
    offset = np.repeat(total[heads[n_max > 0]] - steps[heads[n_max > 0]], n_max[n_max > 0])
    pos = start[owner] + total - offset
    keep = pos < end[owner]
    return owner[keep], pos[keep]


def _cp_reviews(
    ctx: _Context,
    buf: _EventBuffer,
    kid: np.ndarray,
    cp: np.ndarray,
    ref: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
) -> None:
    """First review within 3 months of the ICPC, then every 6 months while the plan is open."""
    rng = ctx.rng
    end = np.minimum(end, ctx.data_end + 1)
    first = rng.integers(55, 91, start.size)
    owner, day = _expand(start, end, first, lambda k: rng.integers(150, 183, k), min_gap=150)
    buf.add("cp_review", kid[owner], day * DAY, episode=cp[owner], referral=ref[owner])


def _visits(
    ctx: _Context,
    buf: _EventBuffer,
    code: str,
    kid: np.ndarray,
    episode: np.ndarray,
    ref: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    *,
    first_wd: tuple[int, int],
    gap_wd: tuple[int, int],
    late_p: float,
    late_wd: tuple[int, int] = (2, 10),
) -> None:
    """`child_seen` visits on working days while a plan is open; `late_p` of the gaps run late (by
    `late_wd` working days more)."""
    rng = ctx.rng
    start_wd = _wd_index(ctx, start)
    end_wd = _wd_index(ctx, np.minimum(end, ctx.data_end + 1))

    def gap(k: int) -> np.ndarray:
        regular = rng.integers(*gap_wd, k)
        return np.where(rng.random(k) < late_p, regular + rng.integers(*late_wd, k), regular)

    first = rng.integers(*first_wd, start.size)
    owner, wd = _expand(start_wd, end_wd, first, gap, min_gap=gap_wd[0])
    day = _wd_to_day(ctx, wd)
    buf.add("child_seen", kid[owner], day * DAY, episode=episode[owner], referral=ref[owner], code=code)


def _other_contacts(ctx: _Context, journeys: pd.DataFrame, people: _People) -> tuple[_EventBuffer, _People]:
    """Contacts that were not referred: some before a later referral, most for children never referred."""
    rng = ctx.rng
    buf = _EventBuffer()

    # Contacts about a child shortly before the contact that is referred.
    pre = rng.random(len(journeys)) < PRE_REFERRAL_CONTACT_P
    pre_child = journeys["child"].to_numpy()[pre]
    pre_day = journeys["contact_s"].to_numpy()[pre] // DAY - rng.integers(7, 150, pre.sum())
    ok = (pre_day >= ctx.emit_start) & (pre_day >= people.birth_month[pre_child])
    pre_child, pre_day = pre_child[ok], pre_day[ok]

    # Children known only through contacts: the rest of the contact volume.
    years = (ctx.data_end - ctx.emit_start + 1) / 365.25
    referrals_per_year = ctx.settings.referrals_per_10k * ctx.population / 10_000
    wanted = referrals_per_year * (1 / CONTACT_TO_REFERRAL - 1) * years - pre_child.size
    n_children = rng.poisson(max(wanted, 0) / (1 + EXTRA_CONTACTS_PER_CONTACT_CHILD))
    first_day = np.sort(rng.integers(ctx.emit_start, ctx.data_end + 1, n_children))
    new_child = people.add(_birth_months(rng, first_day))
    extra = rng.poisson(EXTRA_CONTACTS_PER_CONTACT_CHILD, n_children)
    owner = np.repeat(np.arange(n_children), extra)
    later = first_day[owner] + rng.exponential(120, owner.size).astype(np.int64) + 1
    kept = later <= ctx.data_end

    child = np.concatenate([pre_child, new_child, new_child[owner[kept]]])
    day = np.concatenate([pre_day, first_day, later[kept]])
    n = child.size
    contact_s = day * DAY + _time_of_day(rng, n)
    decision_s = contact_s + _decision_delay(rng, n)
    order = np.lexsort((child, contact_s))
    # Numbered after the referred contacts so the two sets never share an id; renumbered in time order later.
    ids = _ids("CT", np.arange(len(journeys) + 1, len(journeys) + n + 1))
    buf.add(
        "contact_received",
        child[order],
        contact_s[order],
        episode=ids,
        code=_choice(rng, CONTACT_SOURCES, CONTACT_SOURCE_P, n),
    )
    buf.add(
        "contact_decision",
        child[order],
        decision_s[order],
        episode=ids,
        code=_choice(rng, NON_REFERRAL_OUTCOMES, NON_REFERRAL_OUTCOME_P, n),
    )
    return buf, people


# --- stage 3b: looked-after children, permanence and care leavers --------------------------------------

_ADOPT, _SGO, _HOME, _LONG, _OTHER = range(5)
_UASC_ROW = len(CLA_AGE_BANDS)  # the row of the by-band tables used for UASC


def _looked_after(
    ctx: _Context, journeys: pd.DataFrame, people: _People
) -> tuple[pd.DataFrame, _People, _EventBuffer, np.ndarray]:
    """Periods of care and everything that hangs off them.

    Returns the journeys to emit (a child's referral stays open while they are looked after, and
    referrals that would arrive while they are in care are dropped; children who come straight into
    care get one), the people, the events, and the children on short breaks (recorded as disabled).
    """
    journeys = journeys.assign(jkey=np.arange(len(journeys)))
    first_new_key = len(journeys)
    breaks, to_care, people = _short_breaks(ctx, people)
    entrants, journeys, people = _cla_entrants(ctx, journeys, people, to_care)
    periods = _cla_chains(ctx, entrants, people)
    journeys, periods = _cla_referrals(ctx, journeys, periods, first_new_key)
    shown, breaks = _cla_ids(ctx, periods, breaks)
    buf = _EventBuffer()
    statuses = _legal_statuses(shown)
    placements = _placements(ctx, shown, people)
    _period_events(ctx, buf, shown, statuses, placements)
    _adoption_events(ctx, buf, shown)
    _cla_reviews_and_visits(ctx, buf, shown)
    _health_events(ctx, buf, shown, people)
    _missing_events(ctx, buf, shown, people)
    _care_leaver_events(ctx, buf, periods, people)
    _short_break_events(ctx, buf, breaks)
    return journeys, people, buf, np.unique(breaks["child"].to_numpy())


def _months_of(days: np.ndarray) -> np.ndarray:
    return np.asarray(days).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def _age_at(birth_month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Completed years on `day`, the birthday being the first of the birth month."""
    return (_months_of(day) - _months_of(birth_month)) // 12


def _birth_month_at_age(rng: np.random.Generator, day: np.ndarray, age: np.ndarray) -> np.ndarray:
    """Birth months that make a child `age` completed years old on `day`."""
    age_months = age * 12 + rng.integers(0, 12, day.size)
    return ((_months_of(day) - age_months).astype("datetime64[M]").astype("datetime64[D]") - _EPOCH).astype(
        np.int64
    )


def _age_band(age: np.ndarray) -> np.ndarray:
    return np.searchsorted(np.asarray(CLA_AGE_BANDS), age, side="right") - 1


def _draw_rows(rng: np.random.Generator, p: np.ndarray) -> np.ndarray:
    """One index per row of the probability matrix `p` (rows sum to 1)."""
    cum = np.cumsum(p, axis=1)
    return np.minimum((rng.random(p.shape[0])[:, None] > cum).sum(axis=1), p.shape[1] - 1)


def _codes(rng: np.random.Generator, spec: tuple[tuple[str, ...], tuple[float, ...]], n: int) -> np.ndarray:
    return _choice(rng, spec[0], spec[1], n)


def _poisson_days(
    rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray, rate_per_day: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """A Poisson process on whole days in [lo, hi) for every interval at once: (interval index, day)."""
    length = np.maximum(hi - lo, 0)
    count = rng.poisson(rate_per_day * length)
    owner = np.repeat(np.arange(lo.size), count)
    day = lo[owner] + (rng.random(owner.size) * length[owner]).astype(np.int64)
    return owner, day


def _short_breaks(ctx: _Context, people: _People) -> tuple[pd.DataFrame, pd.DataFrame, _People]:
    """Disabled children on a series of short breaks: V3 (one short period per break, every few weeks)
    or V4 (one period per yearly agreement). A few V3 programmes end with the child coming into care;
    those entries are returned as (child, day)."""
    rng = ctx.rng
    lo = ctx.emit_start - 6 * 365
    years = (ctx.data_end - lo + 1) / 365.25
    frames, entries = [], []
    for code, stock in (("V3", SHORT_BREAK_CHILDREN), ("V4", SHORT_BREAK_V4_CHILDREN)):
        n = rng.poisson(stock * ctx.scale / SHORT_BREAK_MEAN_YEARS * years)
        begin = np.sort(rng.integers(lo, ctx.data_end + 1, n))
        child = people.add(_birth_month_at_age(rng, begin, rng.integers(4, 16, n)))
        adult = _eighteenth_birthday(people.birth_month[child])
        finish = np.minimum(begin + _gamma_days(rng, 2.0, SHORT_BREAK_MEAN_YEARS * 365.25, n, 60), adult)
        if code == "V3":
            owner, start = _expand(
                begin, finish, rng.integers(0, 30, n), lambda k: rng.integers(14, 46, k), 14
            )
            end = start + rng.integers(1, 5, start.size)
            to_care = (rng.random(n) < SHORT_BREAK_TO_CARE_P) & (finish < adult - 90)
            entries.append(
                pd.DataFrame(
                    {"child": child[to_care], "day": finish[to_care] + rng.integers(5, 31, to_care.sum())}
                )
            )
        else:
            owner, start = _expand(
                begin, finish, np.zeros(n, np.int64), lambda k: rng.integers(370, 400, k), 370
            )
            end = np.minimum(start + rng.integers(300, 366, start.size), finish[owner])
        frames.append(pd.DataFrame({"child": child[owner], "start": start, "end": end, "status": code}))
    breaks = pd.concat(frames, ignore_index=True)
    breaks = breaks[(breaks["end"] > ctx.emit_start) & (breaks["start"] >= ctx.emit_start)]
    breaks = breaks[breaks["start"] <= ctx.data_end].reset_index(drop=True)
    to_care = pd.concat(entries, ignore_index=True)
    return breaks, to_care[to_care["day"] <= ctx.data_end], people


def _cla_entrants(
    ctx: _Context, journeys: pd.DataFrame, people: _People, from_short_breaks: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, _People]:
    """First entries to care: from CP and CIN plans of the emitted journeys, straight into care (with a
    new referral) in the emitted window, before it (never emitted themselves), UASC, and short-break
    children coming into care. Direct entries fill up, quarter by quarter and age band by age band, what
    the plans do not bring, so the entries are steady from the first emitted day."""
    rng = ctx.rng
    w = np.asarray(CLA_ENTRY_AGE_W, dtype=float)
    w = w / w.sum()
    per_year = (
        CLA_ENTRIES_PER_10K
        * ctx.settings.looked_after_per_10k
        / BASE_LOOKED_AFTER_PER_10K
        * ctx.population
        / 10_000
    )

    band_w = np.bincount(_age_band(np.arange(w.size)), weights=w)
    linked = _linked_entrants(ctx, journeys, people, per_year * band_w)

    # Before the emitted window: children nobody will see again unless they are still in care.
    pre_lo = ctx.emit_start - int(CLA_PRE_YEARS * 365.25)
    n_pre = rng.poisson(per_year * CLA_PRE_YEARS)
    pre_day = rng.integers(pre_lo, ctx.emit_start, n_pre)
    pre_age = rng.choice(w.size, n_pre, p=w)

    # In the window: per quarter and age band, what the linked entries leave to reach the target.
    quarter = 91.3125
    n_q = int(np.ceil((ctx.data_end + 1 - ctx.emit_start) / quarter))
    q_lo = ctx.emit_start + np.round(np.arange(n_q) * quarter).astype(np.int64)
    q_hi = np.minimum(
        ctx.emit_start + np.round(np.arange(1, n_q + 1) * quarter).astype(np.int64), ctx.data_end + 1
    )
    wanted = per_year * np.outer((q_hi - q_lo) / 365.25, band_w)
    got = np.zeros_like(wanted)
    lq = np.searchsorted(q_lo, linked["start"].to_numpy(), side="right") - 1
    np.add.at(got, (lq, linked["band"].to_numpy()), 1)
    fill = rng.poisson(np.maximum(wanted - got, 0))
    cell_q, cell_b = np.nonzero(fill)
    counts = fill[cell_q, cell_b]
    d_q, d_band = np.repeat(cell_q, counts), np.repeat(cell_b, counts)
    d_day = q_lo[d_q] + (rng.random(d_q.size) * (q_hi[d_q] - q_lo[d_q])).astype(np.int64)
    d_age = np.empty(d_q.size, dtype=np.int64)
    ages = np.arange(w.size)
    for b in range(len(CLA_AGE_BANDS)):
        rows = np.flatnonzero(d_band == b)
        in_band = _age_band(ages) == b
        d_age[rows] = rng.choice(ages[in_band], rows.size, p=w[in_band] / w[in_band].sum())

    # UASC, before and in the window.
    n_uasc = rng.poisson(
        UASC_ENTRIES_PER_10K
        * ctx.settings.uasc_per_10k
        / BASE_UASC_PER_10K
        * ctx.population
        / 10_000
        * (ctx.data_end - pre_lo + 1)
        / 365.25
    )
    u_day = rng.integers(pre_lo, ctx.data_end + 1, n_uasc)
    u_age = _choice(rng, tuple(str(a) for a in UASC_AGE_P), tuple(UASC_AGE_P.values()), n_uasc).astype(
        np.int64
    )

    day = np.concatenate([pre_day, d_day, u_day])
    age = np.concatenate([pre_age, d_age, u_age])
    uasc = np.concatenate([np.zeros(n_pre + d_day.size, bool), np.ones(n_uasc, bool)])
    child = people.add(_birth_month_at_age(rng, day, age))
    in_window = day >= ctx.emit_start
    new_journeys, entry = _direct_journeys(ctx, child[in_window], day[in_window], people, len(journeys))
    day[in_window] = entry
    jkey = np.full(day.size, -1, dtype=np.int64)
    jkey[in_window] = new_journeys["jkey"].to_numpy()

    sb_child = from_short_breaks["child"].to_numpy()
    entrants = pd.concat(
        [
            linked[["child", "start", "jkey"]].assign(uasc=False, v3=False),
            pd.DataFrame({"child": child, "start": day, "jkey": jkey, "uasc": uasc, "v3": False}),
            pd.DataFrame(
                {
                    "child": sb_child,
                    "start": from_short_breaks["day"].to_numpy(),
                    "jkey": -1,
                    "uasc": False,
                    "v3": True,
                }
            ),
        ],
        ignore_index=True,
    )
    entrants = entrants.sort_values(["start", "child"], kind="stable").reset_index(drop=True)
    return entrants, pd.concat([journeys, new_journeys], ignore_index=True), people


def _linked_entrants(
    ctx: _Context, journeys: pd.DataFrame, people: _People, wanted_per_year: np.ndarray
) -> pd.DataFrame:
    """Children who come into care when their CP plan (one without a step-down) or CIN plan ends, at
    most one such entry per child (their later referrals are dropped while they are in care).

    The plans ending are thinned, age band by age band, to CLA_LINKED_SHARE of the entries wanted a
    year, so that the direct entries make up the rest and never have to be negative."""
    rng = ctx.rng
    n = len(journeys)
    child = journeys["child"].to_numpy()
    cp_end, cin_start, cin_end = (journeys[c].to_numpy() for c in ("cp_end", "cin_start", "cin_end"))
    step_down = (cp_end >= 0) & (cin_start == cp_end)
    from_cp = (cp_end >= 0) & ~step_down
    from_cin = ~from_cp & (cin_start >= 0) & (rng.random(n) < CLA_LINK_CIN_WEIGHT)
    entry = np.where(from_cp, cp_end, np.where(from_cin, cin_end, _NA))
    adult = _eighteenth_birthday(people.birth_month[child])
    ok = (entry >= ctx.emit_start) & (entry <= ctx.data_end) & (entry < adult - 30)
    child, entry, jkey = child[ok], entry[ok], journeys["jkey"].to_numpy()[ok]
    band = _age_band(_age_at(people.birth_month[child], entry))

    # The pool a year once the plans have built up (after the first emitted year, if there is more).
    steady_from = ctx.emit_start + 365 if ctx.data_end - ctx.emit_start > 2 * 365 else ctx.emit_start
    steady = entry >= steady_from
    pool = np.bincount(band[steady], minlength=len(CLA_AGE_BANDS)) / (
        (ctx.data_end + 1 - steady_from) / 365.25
    )
    keep_p = np.minimum(CLA_LINKED_SHARE * wanted_per_year / np.maximum(pool, 1e-9), 1.0)
    keep = rng.random(entry.size) < keep_p[band]
    linked = pd.DataFrame(
        {"child": child[keep], "start": entry[keep], "jkey": jkey[keep], "band": band[keep]}
    )
    linked = linked.sort_values(["start", "jkey"], kind="stable").drop_duplicates("child")
    return linked.reset_index(drop=True)


def _direct_journeys(
    ctx: _Context, child: np.ndarray, day: np.ndarray, people: _People, first_key: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """A referral for each child who comes straight into care: contact, referral and an assessment that
    finds a child in need, no S47 or plan. Returns the journeys and the entry days (on or after the
    referral). The referral's closure is set later, after the child leaves care."""
    rng = ctx.rng
    n = child.size
    birth = people.birth_month[child]
    contact_day = np.maximum(day - rng.integers(0, 3, n), np.maximum(birth, ctx.emit_start))
    j = _journey_batch(ctx, child, contact_day, np.zeros(n, dtype=bool), _eighteenth_birthday(birth))
    ref_day = j["ref_day"].to_numpy()
    j["ref_nfa"] = False
    j["ass_start"] = _add_wd(ctx, ref_day, rng.integers(0, 3, n))
    j["ass_end"] = _add_wd(ctx, j["ass_start"].to_numpy(), rng.integers(5, 40, n))
    j["seen_day"] = j["ass_start"]
    j["outcome"] = "cin"
    j["factors"] = _assessment_factors(rng, n)
    for col in ("sd_day", "s47_day", "icpc_day", "nr_day", "cp_start", "cp_end", "cin_start", "cin_end"):
        j[col] = _NA
    for col in ("icpc_outcome", "cp_category"):
        j[col] = None
    j["kind"] = "cin"
    j["jkey"] = np.arange(first_key, first_key + n)
    return j, np.maximum(day, ref_day)


def _cla_chains(ctx: _Context, entrants: pd.DataFrame, people: _People) -> pd.DataFrame:
    """Every period of care: each entrant's first period, then readmissions after going home."""
    rng = ctx.rng
    batch = entrants.assign(chain=np.arange(len(entrants)), seq=0)
    parts = []
    for seq in range(CLA_MAX_PERIODS):
        if batch.empty:
            break
        child = batch["child"].to_numpy()
        p = _cla_period_batch(
            ctx,
            batch["start"].to_numpy(),
            people.birth_month[child],
            batch["uasc"].to_numpy(),
            batch["v3"].to_numpy(),
        )
        period = pd.concat([batch.reset_index(drop=True), p], axis=1)
        parts.append(period)
        route, rec = p["route"].to_numpy(), p["rec"].to_numpy()
        again_p = np.select(
            [route == _HOME, (route == _OTHER) & ~np.isin(rec, ["E2", "E3", "E14", "E15", "E16"])],
            [CLA_READMIT_P["home"], CLA_READMIT_P["other"]],
            0.0,
        )
        nxt = p["end"].to_numpy() + 30 + _gamma_days(rng, 1.2, CLA_READMIT_MEAN_DAYS, len(p), 0)
        keep = (rng.random(len(p)) < again_p) & (nxt < p["adult"].to_numpy() - 60) & (nxt <= ctx.data_end)
        batch = pd.DataFrame(
            {
                "child": child[keep],
                "start": nxt[keep],
                "jkey": batch["jkey"].to_numpy()[keep],
                "uasc": batch["uasc"].to_numpy()[keep],
                "v3": False,
                "chain": batch["chain"].to_numpy()[keep],
                "seq": seq + 1,
            }
        )
    return pd.concat(parts, ignore_index=True)


def _cla_period_batch(
    ctx: _Context, start: np.ndarray, birth_month: np.ndarray, uasc: np.ndarray, v3: np.ndarray
) -> pd.DataFrame:
    """One period of care per row: how it ends (route, day, reason), its legal statuses and, for
    adoption, the adoption journey. Days may pass the data end (those events are dropped later)."""
    rng = ctx.rng
    n = start.size
    adult = _eighteenth_birthday(birth_month)
    age = _age_at(birth_month, start)
    route = _draw_rows(rng, np.asarray(CLA_ROUTE_P)[_age_band(age)])
    route = np.where(uasc, np.where(rng.random(n) < UASC_UNTIL_18_P, _LONG, _OTHER), route)
    route = np.where(v3, _LONG, route)
    home_sub = rng.choice(3, n, p=CLA_HOME_SUB_P)
    remand = (route == _OTHER) & ~uasc & (age >= 12) & (rng.random(n) < CLA_REMAND_P)
    older = (age >= 16) | uasc
    has_proc = np.select(
        [route <= _SGO, route == _HOME, route == _LONG],
        [True, home_sub > 0, ~v3 & (~older | (~uasc & (rng.random(n) < 0.25)))],
        ~remand & ~older & (rng.random(n) < 0.4),
    )

    # Legal status at entry and care proceedings (interim care order until the final hearing).
    kind = rng.choice(len(CLA_ENTRY_STATUS), n, p=CLA_ENTRY_STATUS_P)
    s0 = np.where(has_proc, np.asarray(CLA_ENTRY_STATUS, dtype=object)[kind], "V2")
    s0 = np.where(remand, "J2", np.where(v3, "V3", s0))
    lead = np.select([kind == 0, kind < 3], [0, rng.integers(1, 9, n)], 7 + _gamma_days(rng, 2.0, 75.0, n, 0))
    proc_start = start + lead
    proc_end = proc_start + _gamma_days(rng, 4.0, PROCEEDINGS_MEAN_DAYS, n, 28)

    # Adoption: the ADM decision a few months before the final hearing, where the placement order is
    # made; matched (A2 after the order, or before it for early permanence), placed, then the order.
    adopt = route == _ADOPT
    po = proc_end
    decision = np.maximum(start + 14, po - _gamma_days(rng, 3.0, 75.0, n, 7))
    early = rng.random(n) < EARLY_PERMANENCE_P
    match = np.where(
        early,
        np.maximum(decision + 7, po - rng.integers(1, 60, n)),
        po + _gamma_days(rng, A2_SHAPE, A2_MEAN_DAYS, n, 7),
    )
    placed = np.where(early, po + rng.integers(3, 30, n), match + rng.integers(7, 43, n))
    order = placed + rng.integers(180, 301, n)
    ceased = adopt & (rng.random(n) < ADOPTION_CEASED_P)
    ceased_day = decision + 1 + ((placed - decision - 1) * rng.uniform(0.15, 0.95, n)).astype(np.int64)
    alt = rng.choice([_LONG, _SGO, _HOME], n, p=[0.5, 0.35, 0.15])
    after = np.maximum(ceased_day, proc_end)
    after_ceased_end = np.select(
        [alt == _LONG, alt == _SGO],
        [adult, after + _gamma_days(rng, 2.0, 250.0, n, 30)],
        after + _gamma_days(rng, 1.5, 200.0, n, 30),
    )

    end = np.select(
        [adopt & ~ceased, adopt, route == _SGO, route == _HOME, route == _LONG],
        [
            order,
            after_ceased_end,
            np.where(
                rng.random(n) < SGO_AT_FINAL_HEARING_P,
                proc_end,
                proc_end + _gamma_days(rng, 2.0, 300.0, n, 30),
            ),
            np.select(
                [home_sub == 0, home_sub == 1],
                [start + 1 + _gamma_days(rng, 0.8, 140.0, n, 0), proc_end],
                proc_end + _gamma_days(rng, 1.5, 550.0, n, 30),
            ),
            adult,
        ],
        start + 1 + np.where(remand, _gamma_days(rng, 1.0, 45.0, n, 0), _gamma_days(rng, 1.0, 420.0, n, 0)),
    )
    route = np.where(ceased, alt, route)
    home_sub = np.where(ceased, 2, home_sub)
    at_18 = end >= adult
    end = np.maximum(np.minimum(end, adult), start + 1)

    to_e1 = adopt & (~ceased | (ceased_day > po))
    out = {
        "adult": adult,
        "age": age,
        "route": route,
        "home_sub": home_sub,
        "end": end,
        "rec": _reasons_ceased(ctx, route, home_sub, remand, uasc, at_18, end, birth_month),
        "s0": s0,
        "c1_day": np.where(has_proc & (kind > 0), proc_start, _NA),
        "c2_day": np.where(v3, start + rng.integers(14, 120, n), np.where(has_proc & ~to_e1, proc_end, _NA)),
        "e1_day": np.where(to_e1, po, _NA),
        "revoke_day": np.where(adopt & ceased & (ceased_day > po), ceased_day, _NA),
        "adopt": adopt,
        "early": early & adopt,
        "decision": np.where(adopt, decision, _NA),
        "po": np.where(adopt & (~ceased | (po < ceased_day)), po, _NA),
        "match": np.where(adopt & (~ceased | (match < ceased_day)), match, _NA),
        "placed": np.where(adopt & ~ceased, placed, _NA),
        "ceased": np.where(ceased, ceased_day, _NA),
        "order": np.where(adopt & ~ceased, order, _NA),
    }
    return pd.DataFrame(out)


def _reasons_ceased(
    ctx: _Context,
    route: np.ndarray,
    home_sub: np.ndarray,
    remand: np.ndarray,
    uasc: np.ndarray,
    at_18: np.ndarray,
    end: np.ndarray,
    birth_month: np.ndarray,
) -> np.ndarray:
    """SSDA903 REC codes: SGO codes E43/E44 until March 2016 and E45-E48 from April 2016."""
    rng = ctx.rng
    n = route.size
    sgo_switch = _to_days(date(2016, 4, 1))
    home = np.select(
        [home_sub == 0, home_sub == 1],
        [_codes(rng, HOME_REC[0], n), _codes(rng, HOME_REC[1], n)],
        _codes(rng, HOME_REC[2], n),
    )
    other = _codes(rng, OTHER_REC, n)
    other = np.where(np.isin(other, ["E5", "E6"]) & (_age_at(birth_month, end) < 16), "E8", other)
    other = np.where(uasc, np.where(rng.random(n) < 0.6, "E15", "E8"), np.where(remand, "E14", other))
    rec = np.select(
        [route == _ADOPT, route == _SGO, route == _HOME],
        [
            _codes(rng, ADOPTED_REC, n),
            np.where(
                end < sgo_switch, _codes(rng, SGO_REC_BEFORE_2016, n), _codes(rng, SGO_REC_FROM_2016, n)
            ),
            home,
        ],
        other,
    )
    return np.where(at_18 & (route != _ADOPT), _codes(rng, AGE_18_REC, n), rec).astype(object)


def _cla_referrals(
    ctx: _Context, journeys: pd.DataFrame, periods: pd.DataFrame, first_new_key: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keeps each looked-after child's referral open until they leave care (after the last readmission
    of the chain); drops their other referrals that would arrive meanwhile. The referrals made for
    children who came straight into care take the place of as many referrals that ended quickly (nfa or
    early help), so the referral volume stays as calibrated. Journeys come back in time order, and each
    period gets its referral's id."""
    rng = ctx.rng
    added = int((journeys["jkey"] >= first_new_key).sum())
    linked = periods[periods["jkey"] >= 0]
    block = linked.groupby("chain").agg(
        jkey=("jkey", "first"),
        child=("child", "first"),
        start=("start", "min"),
        end=("end", "max"),
        adult=("adult", "first"),
    )
    day = journeys["contact_s"].to_numpy() // DAY
    pairs = pd.DataFrame(
        {"child": journeys["child"].to_numpy(), "jkey": journeys["jkey"].to_numpy(), "day": day}
    ).merge(block.rename(columns={"jkey": "own"}), on="child")
    inside = (
        (pairs["day"] >= pairs["start"]) & (pairs["day"] <= pairs["end"]) & (pairs["jkey"] != pairs["own"])
    )
    dropped = pairs.loc[inside, "jkey"].unique()
    journeys = journeys[~journeys["jkey"].isin(dropped)]
    # Only referrals with no other referral of the child within a year either side, so that the
    # re-referral rate stays as calibrated.
    by_child = journeys.assign(day=journeys["contact_s"] // DAY).sort_values(["child", "day"], kind="stable")
    same = by_child["child"].to_numpy()
    gap_before = np.diff(by_child["day"].to_numpy(), prepend=-(10**6))
    gap_before[np.r_[True, same[1:] != same[:-1]]] = 10**6
    gap_after = np.r_[gap_before[1:], 10**6]
    alone = pd.Series((gap_before > 366) & (gap_after > 366), index=by_child.index).loc[journeys.index]
    quick = np.flatnonzero(
        (journeys["kind"].to_numpy() == "quick")
        & alone.to_numpy()
        & (journeys["jkey"].to_numpy() < first_new_key)
        & ~journeys["jkey"].isin(block["jkey"]).to_numpy()
    )
    excess = min(max(added - dropped.size, 0), quick.size)
    journeys = journeys.drop(index=journeys.index[rng.choice(quick, excess, replace=False)])

    close_after = np.minimum(
        block["end"].to_numpy() + rng.integers(0, 31, len(block)), block["adult"].to_numpy()
    )
    new_close = pd.Series(close_after, index=block["jkey"].to_numpy())
    wanted = journeys["jkey"].map(new_close)
    journeys = journeys.assign(
        close_day=np.maximum(journeys["close_day"].to_numpy(), wanted.fillna(_NA).astype(np.int64))
    )
    journeys = journeys.sort_values(["contact_s", "child"], kind="stable").reset_index(drop=True)
    ref_of = pd.Series(_ids("R", np.arange(1, len(journeys) + 1)), index=journeys["jkey"].to_numpy())
    periods = periods.assign(
        referral=periods["jkey"].map(ref_of).astype(object).where(periods["jkey"] >= 0, None)
    )
    return journeys, periods


def _cla_ids(ctx: _Context, periods: pd.DataFrame, breaks: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The periods with events in the window, each with its id and `shown` day: periods open when the
    events begin are shown as starting on the first emitted day, with the status and placement they had
    then. Period ids (short breaks too) and adoption ids are numbered in time order."""
    shown = periods[(periods["end"] > ctx.emit_start) & (periods["start"] <= ctx.data_end)].copy()
    shown["shown"] = np.maximum(shown["start"].to_numpy(), ctx.emit_start)
    both = np.concatenate([shown["shown"].to_numpy(), breaks["start"].to_numpy()])
    kids = np.concatenate([shown["child"].to_numpy(), breaks["child"].to_numpy()])
    order = np.lexsort((kids, both))
    ids = np.empty(both.size, dtype=object)
    ids[order] = _ids("CLA", np.arange(1, both.size + 1))
    shown["period_id"] = ids[: len(shown)]
    breaks = breaks.assign(period_id=ids[len(shown) :])
    shown = shown.sort_values(["shown", "child"], kind="stable").reset_index(drop=True)
    adopt = shown["decision"].to_numpy() >= 0
    shown["adoption_id"] = None
    shown.loc[adopt, "adoption_id"] = _ids("AD", np.arange(1, adopt.sum() + 1))
    return shown, breaks


def _legal_statuses(shown: pd.DataFrame) -> pd.DataFrame:
    """Each period's legal status spans as (period, day, code): the start, then changes strictly inside."""
    idx = np.arange(len(shown))
    start, end = shown["start"].to_numpy(), shown["end"].to_numpy()
    parts = [("start", shown["s0"].to_numpy())]
    for col, code in (("c1_day", "C1"), ("c2_day", "C2"), ("e1_day", "E1"), ("revoke_day", "C2")):
        parts.append((col, np.full(len(shown), code, dtype=object)))
    frames = []
    for rank, (col, code) in enumerate(parts):
        day = shown[col].to_numpy()
        ok = np.ones(len(shown), bool) if col == "start" else (day > start) & (day < end)
        frames.append(pd.DataFrame({"period": idx[ok], "day": day[ok], "rank": rank, "code": code[ok]}))
    statuses = pd.concat(frames, ignore_index=True).sort_values(["period", "day", "rank"], kind="stable")
    return statuses.drop_duplicates(["period", "day"], keep="last").reset_index(drop=True)


def _placements(ctx: _Context, shown: pd.DataFrame, people: _People) -> pd.DataFrame:
    """Each period's placements as (period, day, code, reason, km): the first, random moves (most in the
    first year, more for some children and for teenagers), placed for adoption, trial at home."""
    rng = ctx.rng
    n = len(shown)
    start, end = shown["start"].to_numpy(), shown["end"].to_numpy()
    child, uasc = shown["child"].to_numpy(), shown["uasc"].to_numpy()
    birth = people.birth_month[child]
    row = np.where(uasc, _UASC_ROW, _age_band(shown["age"].to_numpy()))
    placed, early = shown["placed"].to_numpy(), shown["early"].to_numpy()

    frailty = rng.gamma(MOVE_FRAILTY_SHAPE, 1 / MOVE_FRAILTY_SHAPE, n) * np.asarray(MOVE_AGE_FACTOR)[row]
    stop = np.where(placed >= 0, np.minimum(placed, end), end)  # no moves once placed for adoption
    stop = np.where(early, start, stop)  # fostering for adoption: one placement until placed
    year1 = np.minimum(start + 365, stop)
    o1, d1 = _poisson_days(
        rng, start + 1, year1, frailty * MOVE_RATE_FIRST_YEAR * ctx.settings.placement_move_factor / 365.25
    )
    o2, d2 = _poisson_days(
        rng, start + 365, stop, frailty * MOVE_RATE_LATER * ctx.settings.placement_move_factor / 365.25
    )
    moves = np.concatenate([o1, o2])
    move_day = np.concatenate([d1, d2])

    trial = (
        (shown["route"].to_numpy() == _HOME)
        & (shown["home_sub"].to_numpy() == 2)
        & (rng.random(n) < TRIAL_AT_HOME_P)
    )
    trial_day = end - rng.integers(60, 200, n)
    trial &= trial_day > start + 30
    is_placed = (placed >= 0) & (placed < end)

    period = np.concatenate([np.arange(n), moves, np.flatnonzero(is_placed), np.flatnonzero(trial)])
    day = np.concatenate([start, move_day, placed[is_placed], trial_day[trial]])
    kind = np.concatenate(
        [np.zeros(n), np.ones(moves.size), np.full(is_placed.sum(), 2), np.full(trial.sum(), 3)]
    )
    frame = pd.DataFrame({"period": period, "day": day, "kind": kind.astype(np.int8)})
    # One placement a day: a planned move wins over a random one on the same day.
    frame = frame.sort_values(["period", "day", "kind"], kind="stable").drop_duplicates(
        ["period", "day"], keep="last"
    )
    frame = frame.reset_index(drop=True)

    p, k = frame["period"].to_numpy(), frame["kind"].to_numpy()
    at_row = np.where(uasc[p], _UASC_ROW, _age_band(_age_at(birth[p], frame["day"].to_numpy())))
    group = _draw_rows(rng, np.asarray(PLACEMENT_GROUP_P)[at_row])
    group = np.where(k == 3, 3, group)
    code = np.empty(len(frame), dtype=object)
    for g, spec in enumerate(PLACEMENT_CODES):
        rows = np.flatnonzero(group == g)
        code[rows] = _codes(rng, spec, rows.size)
    code = np.where((group == 4) & (at_row == 0), BABY_OTHER_PLACEMENT, code)
    code = np.where(early[p] & (k == 0), "U5", code)
    adoption = _codes(rng, ADOPTION_PLACEMENTS, len(frame))
    code = np.where(k == 2, np.where(early[p], "A5", adoption), code)
    median_km = np.where(k == 2, ADOPTION_KM, np.asarray(PLACEMENT_KM)[group])
    km = np.round(np.minimum(median_km * rng.lognormal(0.0, 1.0, len(frame)), 400.0), 1)
    frame["code"] = code
    frame["reason"] = np.where(k == 1, _codes(rng, PLACE_CHANGE_REASONS, len(frame)), "CARPL")
    frame["km"] = np.where(uasc[p], np.nan, km)  # no home address to measure from
    return frame


def _in_effect(frame: pd.DataFrame, period: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Row of `frame` (sorted by period, day; one row on each period's start day) in effect on `day`."""
    key = frame["period"].to_numpy() * (1 << 20) + frame["day"].to_numpy()
    return np.searchsorted(key, period * (1 << 20) + day, side="right") - 1


def _period_events(
    ctx: _Context, buf: _EventBuffer, shown: pd.DataFrame, statuses: pd.DataFrame, placements: pd.DataFrame
) -> None:
    """Period start and end, legal status and placement changes, UASC start and end."""
    idx = np.arange(len(shown))
    child, pid, ref = shown["child"].to_numpy(), shown["period_id"].to_numpy(), shown["referral"].to_numpy()
    first, end = shown["shown"].to_numpy(), shown["end"].to_numpy()
    status = statuses.iloc[_in_effect(statuses, idx, first)]
    place = placements.iloc[_in_effect(placements, idx, first)]
    buf.add(
        "cla_period_started",
        child,
        first * DAY,
        episode=pid,
        referral=ref,
        code=status["code"].to_numpy(),
        code2=place["code"].to_numpy(),
        value=place["km"].to_numpy(),
    )
    later = statuses[statuses["day"].to_numpy() > first[statuses["period"].to_numpy()]]
    p = later["period"].to_numpy()
    buf.add(
        "cla_legal_status_changed",
        child[p],
        later["day"] * DAY,
        episode=pid[p],
        referral=ref[p],
        code=later["code"],
    )
    later = placements[placements["day"].to_numpy() > first[placements["period"].to_numpy()]]
    p = later["period"].to_numpy()
    buf.add(
        "cla_placement_changed",
        child[p],
        later["day"] * DAY,
        episode=pid[p],
        referral=ref[p],
        code=later["code"],
        code2=later["reason"],
        value=later["km"].to_numpy(),
    )
    buf.add("cla_period_ended", child, end * DAY, episode=pid, referral=ref, code=shown["rec"])

    uasc = shown["uasc"].to_numpy()
    buf.add("uasc_started", child[uasc], first[uasc] * DAY)
    # Once per child: at 18, or when an age assessment found them to be an adult.
    last = uasc & ~shown.duplicated("chain", keep="last").to_numpy()
    stop = np.where(shown["rec"].to_numpy() == "E15", end, shown["adult"].to_numpy())
    buf.add("uasc_ended", child[last], stop[last] * DAY)


def _adoption_events(ctx: _Context, buf: _EventBuffer, shown: pd.DataFrame) -> None:
    rng = ctx.rng
    rows = np.flatnonzero(shown["adoption_id"].notna().to_numpy())
    child, aid = shown["child"].to_numpy()[rows], shown["adoption_id"].to_numpy()[rows]
    first, end = shown["shown"].to_numpy()[rows], shown["end"].to_numpy()[rows]
    for event_type, col in (
        ("adoption_decision", "decision"),
        ("placement_order", "po"),
        ("adoption_match", "match"),
        ("adoption_placed", "placed"),
        ("adoption_plan_ceased", "ceased"),
        ("adoption_order", "order"),
    ):
        day = shown[col].to_numpy()[rows]
        ok = (day >= first) & (day <= end)
        code = None
        if event_type == "adoption_plan_ceased":
            code = _choice(rng, ("RD1", "RD2", "RD3", "RD4"), (0.15, 0.45, 0.3, 0.1), int(ok.sum()))
        buf.add(event_type, child[ok], day[ok] * DAY, episode=aid[ok], code=code)


def _cla_reviews_and_visits(ctx: _Context, buf: _EventBuffer, shown: pd.DataFrame) -> None:
    """Reviews within 20 working days, then 3 months, then every 6 months; visits every 3-6 weeks."""
    rng = ctx.rng
    looked_after = shown["s0"].to_numpy() != "V3"
    start = np.where(looked_after, shown["start"].to_numpy(), shown["c2_day"].to_numpy())
    sub = shown[looked_after | (start >= 0)]
    start = start[looked_after | (start >= 0)]
    child, pid, ref = sub["child"].to_numpy(), sub["period_id"].to_numpy(), sub["referral"].to_numpy()
    first, end = (
        np.maximum(sub["shown"].to_numpy(), start),
        np.minimum(sub["end"].to_numpy(), ctx.data_end + 1),
    )
    review1 = _add_wd(ctx, start, rng.integers(10, 21, start.size))
    review2 = review1 + rng.integers(70, 93, start.size)
    owner, day = _expand(
        review2, end, np.zeros(start.size, np.int64), lambda k: rng.integers(150, 183, k), 150
    )
    owner = np.concatenate([np.arange(start.size), owner])
    day = np.concatenate([review1, day])
    keep = (day >= first[owner]) & (day < end[owner])
    owner, day = owner[keep], day[keep]
    buf.add("cla_review", child[owner], day * DAY, episode=pid[owner], referral=ref[owner])
    _visits(
        ctx,
        buf,
        "cla",
        child,
        pid,
        ref,
        first,
        end,
        first_wd=(1, 6),
        gap_wd=CLA_VISIT_GAP_WD,
        late_p=CLA_VISIT_LATE_P,
        late_wd=CLA_VISIT_LATE_WD,
    )


def _health_events(ctx: _Context, buf: _EventBuffer, shown: pd.DataFrame, people: _People) -> None:
    """Health assessments (6-monthly under 5, else yearly), dental checks, SDQs aged 4-16."""
    rng = ctx.rng
    sub = shown[shown["s0"].to_numpy() != "V3"]
    child, start = sub["child"].to_numpy(), sub["start"].to_numpy()
    first, end = sub["shown"].to_numpy(), np.minimum(sub["end"].to_numpy(), ctx.data_end + 1)
    birth = people.birth_month[child]
    n = start.size

    def series(
        rows: np.ndarray, first_at: np.ndarray, gap: tuple[int, int], missed: float
    ) -> tuple[np.ndarray, np.ndarray]:
        owner, day = _expand(start[rows], end[rows], first_at, lambda k: rng.integers(*gap, k), gap[0])
        owner = rows[owner]
        keep = (day >= first[owner]) & (rng.random(owner.size) >= missed)
        return owner[keep], day[keep]

    under5 = _age_at(birth, start) < 5
    for rows, gap in ((np.flatnonzero(under5), (150, 183)), (np.flatnonzero(~under5), (300, 366))):
        owner, day = series(rows, rng.integers(20, 61, rows.size), gap, HEALTH_MISSED_P)
        buf.add("health_assessment", child[owner], day * DAY)
    everyone = np.arange(n)
    owner, day = series(everyone, rng.integers(30, 121, n), (300, 366), DENTAL_MISSED_P)
    buf.add("dental_check", child[owner], day * DAY)
    owner, day = series(everyone, rng.integers(60, 200, n), (330, 366), 0.05)
    age = _age_at(birth[owner], day)
    owner, day = owner[(age >= 4) & (age <= 16)], day[(age >= 4) & (age <= 16)]
    child_mean = rng.normal(SDQ_MEAN, SDQ_CHILD_SD, n)
    score = np.clip(np.round(child_mean[owner] + rng.normal(0.0, SDQ_SD, owner.size)), 0, 40)
    buf.add("sdq_recorded", child[owner], day * DAY, value=score)


def _missing_events(ctx: _Context, buf: _EventBuffer, shown: pd.DataFrame, people: _People) -> None:
    """Missing (or away) episodes of some children, mostly teenagers: hours to days, mostly evenings."""
    rng = ctx.rng
    n = len(shown)
    row = np.where(shown["uasc"].to_numpy(), _UASC_ROW, _age_band(shown["age"].to_numpy()))
    goes = rng.random(n) < np.asarray(MISSING_CHILD_P)[row]
    rate = np.where(goes, rng.gamma(1.0, MISSING_EPISODES_PER_YEAR, n) / 365.25, 0.0)
    end = np.minimum(shown["end"].to_numpy(), ctx.data_end + 1)
    owner, day = _poisson_days(rng, shown["shown"].to_numpy(), end, rate)
    m = owner.size
    start_s = day * DAY + np.where(
        rng.random(m) < 0.75, rng.integers(15 * 3600, DAY, m), rng.integers(0, DAY, m)
    )
    hours = np.clip(rng.lognormal(np.log(10.0), 1.2, m), 1.0, 20 * 24.0)
    end_s = np.maximum(
        np.minimum(start_s + (hours * 3600).astype(np.int64), shown["end"].to_numpy()[owner] * DAY), start_s
    )
    order = np.lexsort((owner, start_s))
    owner, start_s, end_s = owner[order], start_s[order], end_s[order]
    ids = _ids("M", np.arange(1, m + 1))
    code = np.where(rng.random(m) < MISSING_AWAY_P, "away", "missing")
    child = shown["child"].to_numpy()[owner]
    buf.add("missing_started", child, start_s, episode=ids, code=code)
    buf.add("missing_ended", child, end_s, episode=ids, code=code)


def _care_leaver_events(ctx: _Context, buf: _EventBuffer, periods: pd.DataFrame, people: _People) -> None:
    """Young people who left care aged 16+ after 13 weeks or more (also before the emitted window): a
    contact around each birthday from 17 to 21 after they left, with their activity and accommodation."""
    rng = ctx.rng
    last = periods.sort_values(["child", "end"], kind="stable").drop_duplicates("child", keep="last")
    child, start, end = (last[c].to_numpy() for c in ("child", "start", "end"))
    birth = people.birth_month[child]
    leaver = (
        (_age_at(birth, end) >= 16)
        & (end - start >= CARE_LEAVER_MIN_DAYS)
        & ~np.isin(last["rec"].to_numpy(), ["E2", "E15"])
        & (end <= ctx.data_end)
    )
    child, end, birth = child[leaver], end[leaver], birth[leaver]
    owner = np.repeat(np.arange(child.size), 5)
    years = np.tile(np.arange(17, 22), child.size)
    months = _months_of(birth[owner]) + years * 12
    birthday = (months.astype("datetime64[M]").astype("datetime64[D]") - _EPOCH).astype(np.int64)
    day = birthday + rng.integers(-60, 61, owner.size)
    ok = (day > end[owner]) & (day >= ctx.emit_start) & (day <= ctx.data_end)
    owner, day, years = owner[ok], day[ok], years[ok]
    m = owner.size
    p = np.where((years >= 19)[:, None], CARE_LEAVER_ACTIVITY_P["19-21"], CARE_LEAVER_ACTIVITY_P["17-18"])
    # The profile's EET level moves care leavers between EET and NEET; the not-in-touch share stays.
    eet = np.minimum(p[:, 0] * ctx.settings.care_leavers_eet_pct / BASE_CARE_LEAVERS_EET_PCT, 1 - p[:, 2])
    p = np.column_stack([eet, 1 - p[:, 2] - eet, p[:, 2]])
    status = _draw_rows(rng, p)
    activity = np.select(
        [status == 0, status == 1], [_codes(rng, EET_ACTIVITIES, m), _codes(rng, NEET_ACTIVITIES, m)], "0"
    )
    suitable = rng.random(m) < SUITABLE_ACCOM_P
    accom = np.where(
        suitable,
        _codes(rng, SUITABLE_ACCOM, m).astype(str) + "1",
        _codes(rng, UNSUITABLE_ACCOM, m).astype(str) + "2",
    )
    accom = np.where(status == 2, "0", accom)
    buf.add("care_leaver_contact", child[owner], day * DAY, code=activity, code2=accom.astype(object))


def _short_break_events(ctx: _Context, buf: _EventBuffer, breaks: pd.DataFrame) -> None:
    rng = ctx.rng
    n = len(breaks)
    child, pid = breaks["child"].to_numpy(), breaks["period_id"].to_numpy()
    placement = _choice(rng, ("K2", "U6"), (0.7, 0.3), n)
    km = np.round(np.minimum(12.0 * rng.lognormal(0.0, 0.8, n), 200.0), 1)
    buf.add(
        "cla_period_started",
        child,
        breaks["start"] * DAY,
        episode=pid,
        code=breaks["status"],
        code2=placement,
        value=km,
    )
    buf.add("cla_period_ended", child, breaks["end"] * DAY, episode=pid, code="E4A")


# --- stage 4: recording, ids, versions -----------------------------------------------------------------


def _finalise_events(ctx: _Context, ev: pd.DataFrame, people: _People) -> pd.DataFrame:
    """Drops events after the data end, then adds recording times, ids, corrections and tombstones."""
    ev = ev[ev["event_at"] // DAY <= ctx.data_end].reset_index(drop=True)
    ev = _renumber_contacts(ev)
    ev["recorded_at"] = _recorded_at(ctx, ev)
    ev["is_deleted"] = False
    ev = ev.iloc[np.lexsort((ev["child"], ev["type"], ev["event_at"]))].reset_index(drop=True)
    ev["event_id"] = _ids("E", np.arange(1, len(ev) + 1), width=7)
    first, latest = _corrections(ctx, ev, people)
    tombstoned = _tombstoned_duplicates(ctx, ev)
    ev = pd.concat([ev.drop(index=first.index), first, latest, tombstoned], ignore_index=True)
    return ev.sort_values(["event_id", "recorded_at"], kind="stable").reset_index(drop=True)


def _renumber_contacts(ev: pd.DataFrame) -> pd.DataFrame:
    """Contact ids numbered in time order across the referred and the other contacts."""
    is_contact = ev["type"].to_numpy() == _TYPE_INDEX["contact_received"]
    received = ev.loc[is_contact, ["episode_id", "event_at"]].sort_values(
        ["event_at", "episode_id"], kind="stable"
    )
    new_id = dict(zip(received["episode_id"], _ids("CT", np.arange(1, len(received) + 1)), strict=True))
    is_contact_event = ev["type"].isin([_TYPE_INDEX["contact_received"], _TYPE_INDEX["contact_decision"]])
    ev.loc[is_contact_event, "episode_id"] = ev.loc[is_contact_event, "episode_id"].map(new_id)
    return ev


def _recorded_at(ctx: _Context, ev: pd.DataFrame) -> np.ndarray:
    """When each event was entered: contacts within minutes; other work the same or next working day,
    with a tail of weeks. Never later than the extract (the end of the last day)."""
    rng = ctx.rng
    n = len(ev)
    at = ev["event_at"].to_numpy()
    timed = np.isin(ev["type"].to_numpy(), [_TYPE_INDEX["contact_received"], _TYPE_INDEX["contact_decision"]])
    u = rng.random(n)
    timed_lag = np.select(
        [u < 0.7, u < 0.9, u < 0.98],
        [rng.integers(60, 3600, n), rng.integers(3600, 8 * 3600, n), rng.integers(DAY, 3 * DAY, n)],
        rng.integers(4 * DAY, 30 * DAY, n),
    )
    shares = np.asarray(LAG_SHARES)
    late = min(shares[2:].sum() * ctx.settings.late_recording_factor, MAX_LATE_SHARE)
    shares = np.concatenate(
        [shares[:2] * (1 - late) / shares[:2].sum(), shares[2:] * late / shares[2:].sum()]
    )
    cut = np.cumsum(shares)
    lag_days = np.select(
        [u < cut[0], u < cut[1], u < cut[2]],
        [np.zeros(n, np.int64), np.ones(n, np.int64), rng.integers(2, 8, n)],
        rng.integers(8, 43, n),
    )
    dated_lag = lag_days * DAY + rng.integers(8 * 3600, 19 * 3600, n)
    recorded = at + np.where(timed, timed_lag, dated_lag)
    return np.maximum(np.minimum(recorded, ctx.extract_at), at)


def _pick(ctx: _Context, ev: pd.DataFrame, p: float) -> np.ndarray:
    """Rows to revise: a share `p` of events with room for a later version before the extract."""
    room = (ev["recorded_at"].to_numpy() <= ctx.extract_at - 2 * DAY) & (
        ev["event_at"].to_numpy() // DAY >= ctx.emit_start + 15
    )
    return np.flatnonzero(room & (ctx.rng.random(len(ev)) < p))


def _corrections(ctx: _Context, ev: pd.DataFrame, people: _People) -> tuple[pd.DataFrame, pd.DataFrame]:
    """~1% of events are entered wrongly and corrected later under the same event_id.

    The corrected (later) version holds the true values, so the latest view is always coherent. The
    wrong first version has an earlier event_at, except for end events, which must never move before
    their start, and changes inside a period of care, which must stay inside it: those were first
    entered with another code or value (or re-saved unchanged).
    """
    rng = ctx.rng
    rows = _pick(ctx, ev, ctx.settings.corrections_pct / 100)
    first = ev.iloc[rows].copy()
    latest = ev.iloc[rows].copy()
    lag = rng.integers(3600, 30 * DAY, rows.size)
    latest["recorded_at"] = np.minimum(first["recorded_at"].to_numpy() + lag, ctx.extract_at)

    kept = [
        *END_TO_START,
        "cla_legal_status_changed",
        "cla_placement_changed",
        "adoption_placed",
        "uasc_started",
    ]
    is_end = first["type"].isin([_TYPE_INDEX[t] for t in kept]).to_numpy()
    # A few days too early, but never before the child's birth month.
    room = first["event_at"].to_numpy() - people.birth_month[first["child"].to_numpy()] * DAY
    shift = np.minimum(rng.integers(1, 11, rows.size) * DAY, room // DAY * DAY)
    first["event_at"] = np.where(is_end, first["event_at"], first["event_at"] - shift)
    wrong_code = {
        "referral_closed": ("RC7", "RC8"),
        "assessment_authorised": ("nfa", "early_help", "cin", "s47"),
        "cla_period_ended": ("E8", "E13", "E4A"),
        "cla_placement_changed": ("U4", "U6"),
        "care_leaver_contact": ("G5", "F2"),
    }
    for name, options in wrong_code.items():
        mask = (first["type"] == _TYPE_INDEX[name]).to_numpy()
        codes = _choice(rng, options, tuple(1.0 for _ in options), int(mask.sum()))
        first.loc[mask, "code"] = codes
    sdq = (first["type"] == _TYPE_INDEX["sdq_recorded"]).to_numpy()
    first.loc[sdq, "value"] = np.clip(first.loc[sdq, "value"] + rng.integers(-6, 7, int(sdq.sum())), 0, 40)
    # The original row is replaced by the wrong first version and its correction.
    return first, latest


def _tombstoned_duplicates(ctx: _Context, ev: pd.DataFrame) -> pd.DataFrame:
    """~0.3% of events were entered twice; the duplicate is deleted later (a tombstone version).

    Deleting duplicates, not genuine events, keeps every end's start in the latest view while still
    showing deletions in the as-reported figures.
    """
    rng = ctx.rng
    rows = _pick(ctx, ev, ctx.settings.deletions_pct / 100)
    dup = ev.iloc[rows].copy()
    dup["event_id"] = _ids("E", np.arange(len(ev) + 1, len(ev) + 1 + rows.size), width=7)
    dup["recorded_at"] = dup["recorded_at"] + rng.integers(5, 600, rows.size)
    tomb = dup.copy()
    tomb["recorded_at"] = np.minimum(
        dup["recorded_at"] + rng.integers(3600, 20 * DAY, rows.size), ctx.extract_at
    )
    tomb["is_deleted"] = True
    return pd.concat([dup, tomb], ignore_index=True)


# --- stage 5: children --------------------------------------------------------------------------------


def _children(
    ctx: _Context, people: _People, ev: pd.DataFrame, *, disabled: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per child in the events, with ids in order of first event; `ev` gets the ids too.
    The children in `disabled` (short breaks) are recorded as disabled."""
    rng = ctx.rng
    first = ev.groupby("child", sort=True).agg(
        first_at=("event_at", "min"), first_recorded=("recorded_at", "min")
    )
    first = first.sort_values(["first_at"], kind="stable")
    idx = first.index.to_numpy()
    n = idx.size
    child_id = _ids("C", np.arange(1, n + 1))
    # The child's record is usually created with their first event, sometimes a little before.
    earlier = np.where(rng.random(n) < 0.2, rng.integers(0, 30 * DAY, n), 0)
    children = pd.DataFrame(
        {
            "child": idx,
            "child_id": child_id,
            "sex": _choice(rng, tuple(SEX_P), tuple(SEX_P.values()), n),
            "birth_month": people.birth_month[idx],
            "ethnicity": _choice(rng, tuple(ETHNICITY_P), tuple(ETHNICITY_P.values()), n),
            "disabled": (rng.random(n) < DISABLED_P) | np.isin(idx, disabled),
            "recorded_at": first["first_recorded"].to_numpy() - earlier,
        }
    )
    ev["child_id"] = ev["child"].map(pd.Series(child_id, index=idx))
    return children, ev


# --- writing ------------------------------------------------------------------------------------------

_ARROW_TYPES = {
    "varchar": pa.string(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("s"),
    "boolean": pa.bool_(),
    "double": pa.float64(),
    "integer": pa.int32(),
}


def _schema(columns: tuple[Column, ...]) -> pa.Schema:
    return pa.schema([pa.field(c.name, _ARROW_TYPES[c.type], nullable=not c.required) for c in columns])


def _children_table(ctx: _Context, children: pd.DataFrame) -> pa.Table:
    data = {
        "la_code": np.full(len(children), ctx.la_code, dtype=object),
        "child_id": children["child_id"].to_numpy(),
        "sex": children["sex"].to_numpy(),
        "birth_month": children["birth_month"].to_numpy().astype("datetime64[D]"),
        "ethnicity": children["ethnicity"].to_numpy(),
        "disabled": children["disabled"].to_numpy(),
        "recorded_at": children["recorded_at"].to_numpy().astype("datetime64[s]"),
    }
    return _table(data, CHILDREN_COLUMNS)


def _events_table(ctx: _Context, ev: pd.DataFrame) -> pa.Table:
    data = {
        "event_id": ev["event_id"].to_numpy(),
        "la_code": np.full(len(ev), ctx.la_code, dtype=object),
        "child_id": ev["child_id"].to_numpy(),
        "event_type": np.asarray(EVENT_TYPES, dtype=object)[ev["type"].to_numpy()],
        "event_at": ev["event_at"].to_numpy().astype("datetime64[s]"),
        "recorded_at": ev["recorded_at"].to_numpy().astype("datetime64[s]"),
        "episode_id": ev["episode_id"].to_numpy(),
        "referral_id": ev["referral_id"].to_numpy(),
        "code": ev["code"].to_numpy(),
        "code2": ev["code2"].to_numpy(),
        "value": ev["value"].to_numpy(dtype=float),
        "is_deleted": ev["is_deleted"].to_numpy(dtype=bool),
    }
    return _table(data, EVENTS_COLUMNS)


def _population_table(ctx: _Context, pop: pd.DataFrame) -> pa.Table:
    data = {"la_code": np.full(len(pop), ctx.la_code, dtype=object), **{c: pop[c].to_numpy() for c in pop}}
    return _table(data, POPULATION_COLUMNS)


def _table(data: dict[str, np.ndarray], columns: tuple[Column, ...]) -> pa.Table:
    schema = _schema(columns)
    arrays = []
    for field in schema:
        values = data[field.name]
        # NaN in the double column and None in text columns are nulls (empty in CSV).
        mask = pd.isna(values) if values.dtype.kind in "fO" else None
        arrays.append(pa.array(values, type=field.type, mask=mask))
    return pa.Table.from_arrays(arrays, schema=schema)
