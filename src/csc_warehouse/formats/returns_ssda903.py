"""Write one authority's SSDA903 return (the CSV set) for a collection year, with that year's codes.

One return per collection year (April to March, named by the year it ends), holding what such a return
holds: everything open at some time in its year, with end dates only where they fall by its 31 March.

- **episodes** from periods of care: a new episode at the period's start (RNE ``S``) and on each day
  its legal status (RNE ``L``), placement (``P``) or both (``B``) change; DEC is the next episode's
  DECOM (REC ``X1``) or the period's end (REC its code); REASON_PLACE_CHANGE is written on the episode
  that a placement change ends. Category of need, provider, postcodes and URN are not in the canonical
  form: left empty.
- **header** for every child in any table of the year (SEX 1/2 up to 2023/24, M/F/U from 2024/25;
  DOB the first of the birth month; UPN empty); **uasc** (DUC: the ``uasc_ended`` date, once passed);
  **reviews**; **missing**; **oc2** for children with a health assessment, dental check or SDQ in the
  year (HEALTH_CHECK / TEETH_CHECK 1 when there was one; SDQ_SCORE the latest); **oc3** from the latest
  care-leaver contact in the year (not in touch: ``NO,0,0``); **ad1** for adoptions in the year
  (DATE_INT the decision, DATE_MATCH the match); **placed_for_adoption** for adoption decisions
  (DATE_PLACED the decision, ceased date and reason); **previous_permanence** header only.

Codes are those valid in the year (``codes.reason_ceased_in``, ``activity_in``,
``place_change_reason_in``): REC E45-E48 only from 2018/19 (E43/E44 before), ACTIV F4/P4/F5/P5 only
from 2021/22 (F3/P3 before), REASON_PLACE_CHANGE CUSTOD only from 2018/19. Every recoding is counted
and reported.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from csc_warehouse.formats import codes
from csc_warehouse.formats.common import reference_date, year_start
from csc_warehouse.formats.returns_source import ReturnSource, lookup
from csc_warehouse.formats.ssda903 import TABLES

__all__ = ["episodes_from_periods", "write_ssda903"]


def _dmy(values: pd.Series) -> pd.Series:
    if values.empty:  # an empty table: nothing to format (and no dtype to format it from)
        return pd.Series([], index=values.index, dtype=object)
    return pd.Series(pd.to_datetime(values).dt.strftime("%d/%m/%Y"), index=values.index).fillna("")


def _of(events: pd.DataFrame, event_type: str) -> pd.DataFrame:
    return events[events["event_type"] == event_type].sort_values(["event_at", "event_id"], kind="stable")


# --------------------------------------------------------------------------------------------------
# SSDA903


def episodes_from_periods(events: pd.DataFrame) -> pd.DataFrame:
    """One row per SSDA903 episode of every period of care (dates as Timestamps, codes as text)."""
    start = _of(events, "cla_period_started").drop_duplicates("episode_id")
    end = _of(events, "cla_period_ended").drop_duplicates("episode_id")
    legal = _of(events, "cla_legal_status_changed")
    moved = _of(events, "cla_placement_changed")
    points = pd.concat(
        [
            pd.DataFrame(
                {
                    "period": start["episode_id"],
                    "child": start["child_id"],
                    "day": start["day"],
                    "kind": 0,
                    "LS": start["code"],
                    "PLACE": start["code2"],
                    "reason": None,
                }
            ),
            pd.DataFrame(
                {
                    "period": legal["episode_id"],
                    "child": legal["child_id"],
                    "day": legal["day"],
                    "kind": 1,
                    "LS": legal["code"],
                    "PLACE": None,
                    "reason": None,
                }
            ),
            pd.DataFrame(
                {
                    "period": moved["episode_id"],
                    "child": moved["child_id"],
                    "day": moved["day"],
                    "kind": 2,
                    "LS": None,
                    "PLACE": moved["code"],
                    "reason": moved["code2"],
                }
            ),
        ],
        ignore_index=True,
    )
    points = points[points["period"].isin(start["episode_id"])]
    first_day = lookup(points["period"], start.set_index("episode_id")["day"])
    points = points[points["day"] >= first_day].reset_index(drop=True)
    points["order"] = np.arange(len(points))
    points = points.assign(started=points["kind"] == 0, legal=points["kind"] == 1, moved=points["kind"] == 2)
    eps = (
        points.groupby(["period", "day"], sort=True)
        .agg(
            child=("child", "first"),
            started=("started", "any"),
            legal=("legal", "any"),
            moved=("moved", "any"),
            LS=("LS", "last"),
            PLACE=("PLACE", "last"),
            reason=("reason", "last"),
        )
        .reset_index()
    )
    eps[["LS", "PLACE"]] = eps.groupby("period")[["LS", "PLACE"]].ffill()
    eps["RNE"] = np.select(
        [eps["started"], eps["legal"] & eps["moved"], eps["legal"], eps["moved"]], ["S", "B", "L", "P"], "P"
    )
    same_next = eps["period"].shift(-1) == eps["period"]
    ends = end.set_index("episode_id")
    eps["DECOM"] = eps["day"]
    eps["DEC"] = eps["day"].shift(-1).where(same_next, lookup(eps["period"], ends["day"]))
    eps["REC"] = np.where(same_next, "X1", lookup(eps["period"], ends["code"]).fillna("").to_numpy())
    next_moved = eps["moved"].shift(-1, fill_value=False) & same_next
    eps["REASON_PLACE_CHANGE"] = eps["reason"].shift(-1).where(next_moved, "").fillna("")
    return eps


def _sex(values: pd.Series, year: int) -> pd.Series:
    if year >= codes.SEX_NEW_CODING_FROM:
        return values.fillna("")
    return values.map({"M": "1", "F": "2"}).fillna("")


def write_ssda903(source: ReturnSource, folder: Path, year: int) -> tuple[Path, Counter[str]]:
    """Write the year's tables as ``<folder>/<table>.csv``; returns the folder and the codes recoded."""
    children, events = source.children, source.events
    recoded: Counter[str] = Counter()
    eps = episodes_from_periods(events)
    dob = children.set_index("child_id")["birth_month"]
    sex = children.set_index("child_id")["sex"]
    ethnic = children.set_index("child_id")["ethnicity"]
    if True:  # one year per call (the block keeps the layout of the yearly tables below)
        ref, first = reference_date(year), year_start(year)
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        tables: dict[str, pd.DataFrame] = {}

        e = eps[(eps["DECOM"] <= ref) & (eps["DEC"].isna() | (eps["DEC"] >= first))].copy()
        later = e["DEC"] > ref
        tables["episodes"] = pd.DataFrame(
            {
                "CHILD": e["child"],
                "DECOM": _dmy(e["DECOM"]),
                "RNE": e["RNE"],
                "LS": e["LS"],
                "CIN": "",
                "PLACE": e["PLACE"],
                "PLACE_PROVIDER": "",
                "DEC": _dmy(e["DEC"].where(~later)),
                "REC": _in_year(e["REC"].where(~later, ""), codes.reason_ceased_in, year, "REC", recoded),
                "REASON_PLACE_CHANGE": _in_year(
                    e["REASON_PLACE_CHANGE"].where(~later, ""),
                    codes.place_change_reason_in,
                    year,
                    "REASON_PLACE_CHANGE",
                    recoded,
                ),
                "HOME_POST": "",
                "PL_POST": "",
                "URN": "",
            }
        )
        in_year = events[(events["day"] >= first) & (events["day"] <= ref)]
        looked_after = set(e["child"])

        started = _of(events, "uasc_started")
        uasc_kids = sorted(set(started[started["day"] <= ref]["child_id"]) & looked_after)
        ended = _of(events, "uasc_ended")
        ended = (
            ended[ended["day"] <= ref].drop_duplicates("child_id", keep="last").set_index("child_id")["day"]
        )
        u = pd.Series(uasc_kids, dtype=object)
        tables["uasc"] = pd.DataFrame({"CHILD": u, "SEX": "", "DOB": "", "DUC": _dmy(lookup(u, ended))})

        r = _of(in_year, "cla_review")
        tables["reviews"] = pd.DataFrame(
            {"CHILD": r["child_id"], "DOB": "", "REVIEW": _dmy(r["day"]), "REVIEW_CODE": ""}
        )

        ms = _of(events, "missing_started").drop_duplicates("episode_id")
        me = _of(events, "missing_ended").drop_duplicates("episode_id").set_index("episode_id")["day"]
        ms = ms.assign(end=lookup(ms["episode_id"], me))
        ms = ms[(ms["day"] <= ref) & (ms["end"].isna() | (ms["end"] >= first))]
        tables["missing"] = pd.DataFrame(
            {
                "CHILD": ms["child_id"],
                "DOB": "",
                "MISSING": ms["code"].map({"missing": "M", "away": "A"}),
                "MIS_START": _dmy(ms["day"]),
                "MIS_END": _dmy(ms["end"].where(ms["end"] <= ref)),
            }
        )

        health = set(_of(in_year, "health_assessment")["child_id"])
        teeth = set(_of(in_year, "dental_check")["child_id"])
        sdq = (
            _of(in_year, "sdq_recorded")
            .drop_duplicates("child_id", keep="last")
            .set_index("child_id")["value"]
        )
        kids = pd.Series(sorted((health | teeth | set(sdq.index)) & looked_after), dtype=object)
        score = pd.to_numeric(lookup(kids, sdq), errors="coerce")
        tables["oc2"] = pd.DataFrame(
            {
                "CHILD": kids,
                "DOB": "",
                "SDQ_SCORE": score.map(lambda v: "" if pd.isna(v) else str(int(v))),
                "SDQ_REASON": "",
                "CONVICTED": "",
                "HEALTH_CHECK": kids.isin(health).map({True: "1", False: "0"}),
                "IMMUNISATIONS": "",
                "TEETH_CHECK": kids.isin(teeth).map({True: "1", False: "0"}),
                "HEALTH_ASSESSMENT": "",
                "SUBSTANCE_MISUSE": "",
                "INTERVENTION_RECEIVED": "",
                "INTERVENTION_OFFERED": "",
            }
        )

        c = _of(in_year, "care_leaver_contact").drop_duplicates("child_id", keep="last")
        # A contact with activity 0 is "not in touch": the return codes it IN_TOUCH NO, ACTIV 0, ACCOM 0.
        touch = c["code"].fillna("") != "0"
        tables["oc3"] = pd.DataFrame(
            {
                "CHILD": c["child_id"],
                "DOB": "",
                "IN_TOUCH": np.where(touch, "YES", "NO"),
                "ACTIV": _in_year(
                    c["code"].where(touch, "0").fillna(""), codes.activity_in, year, "ACTIV", recoded
                ),
                "ACCOM": c["code2"].where(touch, "0").fillna(""),
            }
        )

        adoption = _adoptions(events)
        a = adoption[(adoption["order"] >= first) & (adoption["order"] <= ref)]
        a = a[a["decision"].notna() | a["match"].notna()]  # dates before the events began are not known
        tables["ad1"] = pd.DataFrame(
            {
                "CHILD": a["child"],
                "DOB": "",
                "DATE_INT": _dmy(a["decision"]),
                "DATE_MATCH": _dmy(a["match"]),
                "FOSTER_CARE": "",
                "NB_ADOPTR": "",
                "SEX_ADOPTR": "",
                "LS_ADOPTR": "",
            }
        )
        over = adoption[["order", "ceased"]].min(axis=1)
        p = adoption[
            (adoption["decision"] <= ref)
            & (over.isna() | (over >= first))
            & adoption["child"].isin(looked_after)
        ]
        done = p["ceased"] <= ref
        tables["placed_for_adoption"] = pd.DataFrame(
            {
                "CHILD": p["child"],
                "DOB": "",
                "DATE_PLACED": _dmy(p["decision"]),
                "DATE_PLACED_CEASED": _dmy(p["ceased"].where(done)),
                "REASON_PLACED_CEASED": p["ceased_code"].where(done, ""),
            }
        )
        tables["previous_permanence"] = pd.DataFrame(columns=TABLES["previous_permanence"].columns)

        everyone = sorted(set().union(*(set(t["CHILD"]) for t in tables.values() if len(t))))
        h = pd.Series(everyone, dtype=object)
        tables["header"] = pd.DataFrame(
            {
                "CHILD": h,
                "SEX": _sex(lookup(h, sex), year),
                "DOB": _dmy(lookup(h, dob)),
                "ETHNIC": lookup(h, ethnic).fillna(""),
                "UPN": "",
                "MOTHER": "",
                "MC_DOB": "",
            }
        )
        for name, frame in tables.items():
            frame = frame.copy()
            if "DOB" in frame and name != "header":
                frame["DOB"] = _dmy(lookup(frame["CHILD"], dob))
            if name == "uasc":
                frame["SEX"] = _sex(lookup(frame["CHILD"], sex), year)
            frame[list(TABLES[name].columns)].to_csv(folder / f"{name}.csv", index=False)
    return folder, recoded


def _in_year(
    values: pd.Series, recode: Callable[[str, int], str], year: int, field: str, recoded: Counter[str]
) -> pd.Series:
    """Codes as the year's return codes them, counting each change."""
    out = values.map(lambda v: recode(v, year) if isinstance(v, str) and v else v)
    for old, new in zip(values[values != out], out[values != out], strict=True):
        recoded[f"{field} {old} -> {new}"] += 1
    return out


def _adoptions(events: pd.DataFrame) -> pd.DataFrame:
    """One row per adoption journey: child and the date of each milestone."""
    kinds = {
        "adoption_decision": "decision",
        "adoption_match": "match",
        "adoption_order": "order",
        "adoption_plan_ceased": "ceased",
    }
    rows = events[events["event_type"].isin(kinds) & events["episode_id"].notna()]
    rows = rows.sort_values(["event_at", "event_id"]).drop_duplicates(["episode_id", "event_type"])
    wide = rows.pivot(index="episode_id", columns="event_type", values="day").rename(columns=kinds)
    for col in kinds.values():
        if col not in wide:
            wide[col] = pd.NaT
    wide["child"] = rows.drop_duplicates("episode_id").set_index("episode_id")["child_id"]
    codes_ceased = rows[rows["event_type"] == "adoption_plan_ceased"].set_index("episode_id")["code"]
    wide["ceased_code"] = wide.index.map(codes_ceased).fillna("")
    return wide.reset_index()
