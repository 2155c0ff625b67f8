"""The generator's calibration: the shapes every authority shares (rates a profile can change are
`GeneratorSettings` in `csc_warehouse.profile`, whose defaults are the large county's), and the units
the simulation counts in.

Sources: kpi-catalogue 2.1 for the large county, domain-anchors 5 for the national mixes.
"""

from __future__ import annotations

import numpy as np

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
# Median km from home by placement group (lognormal, sigma 1), and adoption placements: ~9% of the
# children looked after with a distance are placed more than 20 miles (32.19 km) away, as the large
# county's 83 of 930 placed "at a distance", beyond its neighbours (kpi-catalogue, HRT-SUFF, Nov 2017).
PLACEMENT_KM = (6.3, 21.0, 4.2, 2.1, 14.0)
ADOPTION_KM = 17.5
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
NA = -1  # "no such date" in the int64 day columns
EPOCH = np.datetime64("1970-01-01", "D")

ADOPT, SGO, HOME, LONG, OTHER = range(5)

UASC_ROW = len(CLA_AGE_BANDS)  # the row of the by-band tables used for UASC

# --- events simulated from the recorded case, each purpose with a random stream of its own -------------
# Review chains (rates: `GeneratorSettings.cp_reviews_on_time_pct` / `cla_reviews_on_time_pct`). A review
# held on time falls up to this many days before its due date (CLA first review: working days after
# the start); a late one this many days after it. Two reviews on one day now and then (a reconvened
# conference recorded twice).
CP_REVIEW_EARLY_DAYS, CP_REVIEW_LATE_DAYS = (0, 28), (1, 35)
CLA_FIRST_REVIEW_WD, CLA_FIRST_REVIEW_LATE_WD = (5, 20), (21, 45)
CLA_REVIEW_EARLY_DAYS, CLA_REVIEW_LATE_DAYS = (0, 21), (1, 42)
SAME_DAY_REVIEW_P = 0.005
# Initial health assessments: the share of new periods whose yearly health assessments (above) already
# give one within 20 working days (the first falls 20-60 days after the start, 15% missed; measured on
# the large county), so that the two together meet the setting `iha_in_20wd_pct`. Late ones within
# 21-60 working days; of the rest, this share never has one in the period.
BASE_IHA_IN_20WD_SHARE = 0.08
IHA_WD, IHA_LATE_WD, IHA_NEVER_P = (3, 20), (21, 60), 0.15
# Early help episodes: from contacts decided `early_help` and from assessments ending in early help
# (a step-down), in these shares of the episodes wanted (`early_help_per_10k` a year); each lasts a
# gamma number of days; a child has one episode at a time. A child referred to social care while in
# early help is stepped up on the referral day (up to `EH_STEP_UP_LOOKAHEAD_DAYS` after the start).
EH_FROM_CONTACT_SHARE = 0.55
EH_KEPT_SHARE = 0.91  # of the episodes drawn, those left once a child has one at a time (measured)
EH_START_WD = (1, 10)
EH_SHAPE, EH_MEAN_DAYS, EH_MIN_DAYS = 2.0, 190.0, 21
EH_STEP_UP_LOOKAHEAD_DAYS = 365
# Worker allocations (GLO: 99.1% of open children allocated): per referral, a worker the same or next
# working days, some later, a few the days before the referral (so not for it), a few never; then a
# change of worker now and then while the referral is open. Workers: a pool per authority.
ALLOCATION_WD = ((0, 1), (1, 2), (2, 4), (4, 11))  # ranges of working days after the referral
ALLOCATION_WD_P = (0.42, 0.33, 0.20, 0.05)
ALLOCATION_BEFORE_P, ALLOCATION_NEVER_P = 0.003, 0.003
WORKER_CHANGES_PER_YEAR = 0.7
WORKERS_PER_10K = 12.5
