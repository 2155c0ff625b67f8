"""Code lists of the SSDA903 and the CIN census, and the years they changed.

Collection years are named by the year they end (2025 = 1 April 2024 to 31 March 2025), as the DfE
names them. Where a list changed, the year-specific check is the one that can tell "another year's
file" from "a bad row"; where codes were only added (reasons ceased, care-leaver activity), every
year accepts all of them, since the meaning of a code never changed.
"""

from __future__ import annotations

SSDA903_YEARS = range(2015, 2027)  # collection years whose SSDA903 layout is supported
CIN_YEARS = range(2015, 2027)

# --- SSDA903 --------------------------------------------------------------------------------------

# SEX was 1 (male) / 2 (female) up to 2023/24; from the 2024/25 return it is M / F / U.
SEX_NEW_CODING_FROM = 2025
SEX_OLD = {"1": "M", "2": "F"}
SEX_NEW = {"M": "M", "F": "F", "U": "U"}

ETHNIC = (
    "WBRI", "WIRI", "WOTH", "WIRT", "WROM", "MWBC", "MWBA", "MWAS", "MOTH", "AIND",
    "APKN", "ABAN", "AOTH", "BCRB", "BAFR", "BOTH", "CHNE", "OOTH", "REFU", "NOBT",
)  # fmt: skip

# Reason for new episode: S started to be looked after; L legal status change only; P placement and
# carer change; T placement change, same carer; B legal status, placement and carer; U legal status and
# placement, same carer.
RNE = ("S", "L", "P", "T", "B", "U")
RNE_LEGAL = ("L", "B", "U")  # the episode starts with a change of legal status
RNE_PLACEMENT = ("P", "T", "B", "U")  # the episode starts with a change of placement

LEGAL_STATUS = ("C1", "C2", "D1", "E1", "J1", "J2", "J3", "L1", "L2", "L3", "V2", "V3", "V4")
PLACEMENT_ORDER_STATUS = ("E1", "D1")  # placement order, or the older freeing order

_PLACE_BASE = (
    "A3", "A4", "A5", "A6", "H5", "K1", "K2", "P1", "P2", "P3", "R1", "R2", "R3", "R5", "S1",
    "T0", "T1", "T2", "T3", "T4", "U1", "U2", "U3", "U4", "U5", "U6", "Z1",
)  # fmt: skip
PLACED_FOR_ADOPTION = ("A3", "A4", "A5", "A6")


def placement_codes(year: int) -> tuple[str, ...]:
    """PLACE codes of a collection year: K3 replaced H5 and P2 in 2024/25; Z11-Z14 came in 2025/26."""
    codes = _PLACE_BASE
    if year >= 2025:
        codes = (*(c for c in codes if c not in ("H5", "P2")), "K3")
    if year >= 2026:
        codes = (*codes, "Z11", "Z12", "Z13", "Z14")
    return codes


# Reasons episode ceased: E43/E44 (special guardianship, up to 2018/19) were split into E45-E48; both
# are accepted in every year (a code never changed meaning).
REASON_CEASED = (
    "X1", "E11", "E12", "E2", "E3", "E4A", "E4B", "E13", "E14", "E15", "E16", "E17",
    "E41", "E43", "E44", "E45", "E46", "E47", "E48", "E5", "E6", "E7", "E8", "E9",
)  # fmt: skip
ADOPTED = ("E11", "E12")

REASON_PLACE_CHANGE = (
    "CARPL", "CLOSE", "ALLEG", "STAND", "APPRR", "CREQB",
    "CREQO", "CHILD", "LAREQ", "PLACE", "CUSTOD", "OTHER",
)  # fmt: skip
MISSING = {"M": "missing", "A": "away"}
REVIEW_CODE = ("PN0", "PN1", "PN2", "PN3", "PN4", "PN5", "PN6", "PN7")
IN_TOUCH = ("YES", "NO", "DIED", "REFU", "NREQ", "RHOM")
IN_TOUCH_NOT_IN_COHORT = ("DIED", "NREQ", "RHOM")  # died, no longer required, returned home 6+ months
ACTIVITY = ("F1", "P1", "F2", "P2", "F3", "P3", "F4", "P4", "F5", "P5", "G4", "G5", "G6", "0")
_ACCOM_LETTERS = "BCDEGHKRSTUVWXYZ"
ACCOMMODATION = (*(f"{letter}{n}" for letter in _ACCOM_LETTERS for n in "12"), "0")
REASON_PLACED_CEASED = ("RD1", "RD2", "RD3", "RD4")
PREVIOUS_PERMANENCE = ("P1", "P2", "P3", "P4", "Z1")
SW_FROM = 2024  # social worker episodes table: from the 2023/24 return
SW_REASON = (
    "MANAGE",
    "FCONTA",
    "LEFTRL",
    "ORGRST",
    "TSPROC",
    "ABSENC",
    "CHCHAN",
    "PCCHAN",
    "SWDIED",
    "OTHERS",
)
FLAG = ("0", "1")

# --- CIN census -----------------------------------------------------------------------------------

# GenderCurrent (up to 2023/24): 0 not known, 1 male, 2 female, 9 not specified. Sex (from 2024/25).
CIN_SEX_FROM = 2025
GENDER_CURRENT = {"0": "U", "1": "M", "2": "F", "9": "U"}
CIN_SEX = {"M": "M", "F": "F", "U": "U"}
REFERRAL_SOURCE = (
    "1A", "1B", "1C", "1D", "2A", "2B", "3A", "3B", "3C", "3D", "3E", "3F",
    "4", "5A", "5B", "5C", "5D", "6", "7", "8", "9", "10",
)  # fmt: skip
REASON_FOR_CLOSURE = ("RC1", "RC2", "RC3", "RC4", "RC5", "RC6", "RC7", "RC8", "RC9")
CATEGORY_OF_ABUSE = {"NEG": "N", "PHY": "P", "EMO": "E", "SAB": "S", "MUL": "M"}
TRUE_FALSE = {"1": True, "true": True, "0": False, "false": False}
NO_DISABILITY = "NONE"

# --- Codes valid in a collection year (what the writers of the returns write) ----------------------
# Each map folds a code the DfE added later into the one it split from, for a year before it existed,
# and the other way for a year after the old code was withdrawn (to the split code that keeps the
# meaning the KPIs use: an SGO stays an SGO, education, employment or training stays EET).

# REC: E43/E44 (special guardianship, to former foster carers / to others) were split into E45-E48
# from the 2018/19 return (2019).
SGO_SPLIT_FROM = 2019
REC_BEFORE_SPLIT = {"E45": "E43", "E46": "E43", "E47": "E44", "E48": "E44"}
REC_AFTER_SPLIT = {"E43": "E46", "E44": "E48"}
# REASON_PLACE_CHANGE CUSTOD (child in custody) from 2019.
CUSTOD_FROM = 2019
# OC3 ACTIV: F3/P3 (training or employment) were split into F4/P4 (employment) and F5/P5
# (apprenticeship or training) from the 2021/22 return (2022).
ACTIVITY_SPLIT_FROM = 2022
ACTIVITY_BEFORE_SPLIT = {"F4": "F3", "F5": "F3", "P4": "P3", "P5": "P3"}
ACTIVITY_AFTER_SPLIT = {"F3": "F4", "P3": "P4"}


def reason_ceased_in(code: str, year: int) -> str:
    if year >= SGO_SPLIT_FROM:
        return REC_AFTER_SPLIT.get(code, code)
    return REC_BEFORE_SPLIT.get(code, code)


def activity_in(code: str, year: int) -> str:
    if year >= ACTIVITY_SPLIT_FROM:
        return ACTIVITY_AFTER_SPLIT.get(code, code)
    return ACTIVITY_BEFORE_SPLIT.get(code, code)


def place_change_reason_in(code: str, year: int) -> str:
    return "OTHER" if code == "CUSTOD" and year < CUSTOD_FROM else code


# CIN census: referral source 5D (LA services: early help) and closure RC9 (closed after assessment,
# referred to early help) from the 2022/23 census (2023); before, 5D is another internal LA service
# (5B) and RC9 a case closed after assessment (RC8).
EARLY_HELP_CODES_FROM = 2023
# Assessment factors 18A/19A (physical / sexual abuse) were split by who harmed the child (18B/18C,
# 19B/19C) from 2021; 24A (child criminal exploitation) came in 2022.
FACTOR_SPLIT_FROM = 2021
CCE_FACTOR_FROM = 2022
FACTORS_BASE = (
    "1A", "1B", "1C", "2A", "2B", "2C", "3A", "3B", "3C", "4A", "4B", "4C", "5A", "5B", "5C",
    "6A", "6B", "6C", "7A", "8B", "8C", "8D", "8E", "8F", "9A", "10A", "11A", "12A", "13A",
    "14A", "15A", "16A", "17A", "20", "21", "22A", "23A",
)  # fmt: skip
# CINPlanDates is in the census from 2022 (2021/22).
CIN_PLAN_DATES_FROM = 2022
# DfE three-digit numbers of the authorities of the project's profiles (the census's LEA element);
# any other authority passes its number with --lea.
DFE_LA_NUMBER = {"E06000017": "857", "E10000013": "916", "E10000015": "919"}


def referral_source_in(code: str, year: int) -> str:
    return "5B" if code == "5D" and year < EARLY_HELP_CODES_FROM else code


def closure_reason_in(code: str, year: int) -> str:
    return "RC8" if code == "RC9" and year < EARLY_HELP_CODES_FROM else code


def factors_in(factors: list[str], year: int) -> list[str]:
    """Assessment factors as the year's census codes them, each once, in the order given."""
    if year >= FACTOR_SPLIT_FROM:
        # 18A/19A cannot be split after the event: the adult-on-child code keeps the old meaning best.
        renamed = {"18A": "18C", "19A": "19C"}
        allowed = {*FACTORS_BASE, "18B", "18C", "19B", "19C", *(("24A",) if year >= CCE_FACTOR_FROM else ())}
    else:
        renamed = {"18B": "18A", "18C": "18A", "19B": "19A", "19C": "19A"}
        allowed = {*FACTORS_BASE, "18A", "19A"}
    out: list[str] = []
    for factor in factors:
        factor = renamed.get(factor, factor)
        if factor in allowed and factor not in out:
            out.append(factor)
    return out
