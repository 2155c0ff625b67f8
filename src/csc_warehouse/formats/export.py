"""Write canonical events (the latest view) as the DfE's returns: SSDA903 CSVs and CIN census XML.

This is the other direction of the import adapters, used to test them (generate -> export -> import
gives back the same KPIs) and to try the DfE's validators on generated data. One return is written
per collection year the events reach (April to March, named by the year it ends), holding what such
a return holds: everything open at some time in its year, with end dates only where they fall by its
31 March.

SSDA903 (``<out>/ssda903/<year>/<table>.csv``):

- **episodes** from periods of care: a new episode at the period's start (RNE ``S``) and on each day
  its legal status (RNE ``L``), placement (``P``) or both (``B``) change; DEC is the next episode's
  DECOM (REC ``X1``) or the period's end (REC its code); REASON_PLACE_CHANGE is written on the episode
  that a placement change ends. Category of need, provider, postcodes and URN are not in the canonical
  form: left empty.
- **header** for every child in any table of the year (SEX 1/2 up to 2023/24, M/F/U from 2024/25;
  DOB the first of the birth month; UPN empty); **uasc** (DUC: the ``uasc_ended`` date, once passed);
  **reviews**; **missing**; **oc2** for children with a health assessment, dental check or SDQ in the
  year (HEALTH_CHECK / TEETH_CHECK 1 when there was one; SDQ_SCORE the latest); **oc3** from the latest
  care-leaver contact in the year; **ad1** for adoptions in the year (DATE_INT the decision, DATE_MATCH
  the match); **placed_for_adoption** for adoption decisions (DATE_PLACED the decision, ceased date and
  reason); **previous_permanence** header only (not in the canonical form).

CIN census (``<out>/cin_census/cin_census_<year>.xml``): the referrals open in the year with their
assessments, CIN plans, S47 enquiries (``S47ActualStartDate`` the earliest strategy discussion, else
the S47 start), ICPCs, CP plans and CP reviews. Disability: ``NONE`` for a child recorded as not
disabled, left out otherwise (the canonical form does not say which disability).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from csc_warehouse.formats import codes
from csc_warehouse.formats.common import collection_year_of, reference_date, year_start
from csc_warehouse.formats.ssda903 import TABLES


def latest_view(canonical_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(children, events) of a canonical folder: per id the latest version, tombstones removed."""
    pattern = (Path(canonical_dir) / "{}*.csv").as_posix()
    with duckdb.connect() as con:
        events = con.sql(
            f"""select * exclude (rn) from (
                    select *, row_number() over (
                        partition by la_code, event_id order by recorded_at desc) as rn
                    from read_csv('{pattern.format("events")}', header = true, all_varchar = true))
                where rn = 1 and coalesce(is_deleted, 'false') <> 'true'"""
        ).df()
        children = con.sql(
            f"""select * exclude (rn) from (
                    select *, row_number() over (
                        partition by la_code, child_id order by recorded_at desc) as rn
                    from read_csv('{pattern.format("children")}', header = true, all_varchar = true))
                where rn = 1"""
        ).df()
    events["event_at"] = pd.to_datetime(events["event_at"])
    events["day"] = events["event_at"].dt.normalize()
    children["birth_month"] = pd.to_datetime(children["birth_month"])
    return children, events


def _dmy(values: pd.Series) -> pd.Series:
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
    first_day = points["period"].map(start.set_index("episode_id")["day"])
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
    eps["DEC"] = eps["day"].shift(-1).where(same_next, eps["period"].map(ends["day"]))
    eps["REC"] = np.where(same_next, "X1", eps["period"].map(ends["code"]).fillna("").to_numpy())
    next_moved = eps["moved"].shift(-1, fill_value=False) & same_next
    eps["REASON_PLACE_CHANGE"] = eps["reason"].shift(-1).where(next_moved, "").fillna("")
    return eps


def _sex(values: pd.Series, year: int) -> pd.Series:
    if year >= codes.SEX_NEW_CODING_FROM:
        return values.fillna("")
    return values.map({"M": "1", "F": "2"}).fillna("")


def write_ssda903(
    children: pd.DataFrame, events: pd.DataFrame, out_dir: Path, years: list[int]
) -> dict[int, Path]:
    eps = episodes_from_periods(events)
    dob = children.set_index("child_id")["birth_month"]
    sex = children.set_index("child_id")["sex"]
    ethnic = children.set_index("child_id")["ethnicity"]
    written = {}
    for year in years:
        ref, first = reference_date(year), year_start(year)
        folder = out_dir / "ssda903" / str(year)
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
                "REC": e["REC"].where(~later, ""),
                "REASON_PLACE_CHANGE": e["REASON_PLACE_CHANGE"].where(~later, ""),
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
        tables["uasc"] = pd.DataFrame({"CHILD": u, "SEX": "", "DOB": "", "DUC": _dmy(u.map(ended))})

        r = _of(in_year, "cla_review")
        tables["reviews"] = pd.DataFrame(
            {"CHILD": r["child_id"], "DOB": "", "REVIEW": _dmy(r["day"]), "REVIEW_CODE": ""}
        )

        ms = _of(events, "missing_started").drop_duplicates("episode_id")
        me = _of(events, "missing_ended").drop_duplicates("episode_id").set_index("episode_id")["day"]
        ms = ms.assign(end=ms["episode_id"].map(me))
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
        score = pd.to_numeric(kids.map(sdq), errors="coerce")
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
        touch = c["code"].fillna("") != "0"
        tables["oc3"] = pd.DataFrame(
            {
                "CHILD": c["child_id"],
                "DOB": "",
                "IN_TOUCH": np.where(touch, "YES", "NO"),
                "ACTIV": c["code"].where(touch, "").fillna(""),
                "ACCOM": c["code2"].where(touch, "").fillna(""),
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
                "SEX": _sex(h.map(sex), year),
                "DOB": _dmy(h.map(dob)),
                "ETHNIC": h.map(ethnic).fillna(""),
                "UPN": "",
                "MOTHER": "",
                "MC_DOB": "",
            }
        )
        for name, frame in tables.items():
            frame = frame.copy()
            if "DOB" in frame and name != "header":
                frame["DOB"] = _dmy(frame["CHILD"].map(dob))
            if name == "uasc":
                frame["SEX"] = _sex(frame["CHILD"].map(sex), year)
            frame[list(TABLES[name].columns)].to_csv(folder / f"{name}.csv", index=False)
        written[year] = folder
    return written


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


# --------------------------------------------------------------------------------------------------
# CIN census


def _sub(parent: ET.Element, tag: str, text: object = None) -> ET.Element:
    node = ET.SubElement(parent, tag)
    if text is not None and not (isinstance(text, float) and np.isnan(text)) and text is not pd.NaT:
        node.text = text.strftime("%Y-%m-%d") if isinstance(text, pd.Timestamp) else str(text)
    return node


def _items(events: pd.DataFrame, start_type: str, end_type: str | None) -> pd.DataFrame:
    s = _of(events, start_type).drop_duplicates("episode_id")
    out = pd.DataFrame(
        {
            "episode": s["episode_id"],
            "child": s["child_id"],
            "referral": s["referral_id"],
            "start": s["day"],
            "code": s["code"],
            "code2": s["code2"],
        }
    )
    if end_type:
        e = _of(events, end_type).drop_duplicates("episode_id").set_index("episode_id")
        out["end"] = out["episode"].map(e["day"])
        out["end_code"] = out["episode"].map(e["code"])
        out["end_code2"] = out["episode"].map(e["code2"])
    return out


def write_cin_census(
    children: pd.DataFrame, events: pd.DataFrame, out_dir: Path, years: list[int], la_code: str
) -> dict[int, Path]:
    referrals = _items(events, "referral_received", "referral_closed")
    assessments = _items(events, "assessment_started", "assessment_authorised")
    plans = _items(events, "cin_plan_started", "cin_plan_ended")
    cps = _items(events, "cp_plan_started", "cp_plan_ended")
    cps["previous"] = cps.sort_values("start").groupby("child").cumcount()
    reviews = _of(events, "cp_review")
    # S47: the earliest strategy discussion (else the S47 start), its ICPC or "not required".
    s47_parts = _of(events, "strategy_discussion")
    s47_parts = pd.concat([s47_parts, _of(events, "s47_started")]).sort_values(["day", "event_id"])
    s47 = s47_parts.drop_duplicates("episode_id")[["episode_id", "child_id", "referral_id", "day"]]
    icpc = _of(events, "icpc_held").drop_duplicates("episode_id").set_index("episode_id")["day"]
    not_required = (
        _of(events, "icpc_not_required").drop_duplicates("episode_id").set_index("episode_id")["day"]
    )
    s47 = s47.assign(icpc=s47["episode_id"].map(icpc), nr=s47["episode_id"].map(not_required))
    s47["end"] = s47["icpc"].fillna(s47["nr"])
    kids = children.set_index("child_id").to_dict("index")
    written = {}
    folder = out_dir / "cin_census"
    folder.mkdir(parents=True, exist_ok=True)

    def open_in(
        frame: pd.DataFrame, first: pd.Timestamp, ref: pd.Timestamp, start: str = "start"
    ) -> pd.DataFrame:
        return frame[(frame[start] <= ref) & (frame["end"].isna() | (frame["end"] >= first))]

    for year in years:
        ref, first = reference_date(year), year_start(year)
        root = ET.Element("Message")
        header = _sub(root, "Header")
        details = _sub(header, "CollectionDetails")
        _sub(details, "Collection", "CIN")
        _sub(details, "Year", year)
        _sub(details, "ReferenceDate", ref)
        source = _sub(header, "Source")
        _sub(source, "SourceLevel", "L")
        _sub(source, "LEA", la_code)
        _sub(source, "SoftwareCode", "csc-warehouse export")
        _sub(source, "SerialNo", "1")
        _sub(source, "DateTime", f"{ref:%Y-%m-%d}T23:59:59")
        body = _sub(root, "Children")
        open_refs = open_in(referrals, first, ref)
        by_referral = {
            "assessments": open_in(assessments, first, ref).groupby("referral"),
            "plans": open_in(plans, first, ref).groupby("referral"),
            "s47": open_in(s47.rename(columns={"day": "start"}), first, ref).groupby("referral_id"),
            "cps": open_in(cps, first, ref).groupby("referral"),
        }
        groups = {name: {k: v.to_dict("records") for k, v in g} for name, g in by_referral.items()}
        year_reviews = (
            reviews[(reviews["day"] >= first) & (reviews["day"] <= ref)]
            .groupby("episode_id")["day"]
            .apply(list)
        )
        for child, refs in open_refs.sort_values("start").groupby("child", sort=True):
            kid = kids.get(child)
            node = _sub(body, "Child")
            ids = _sub(node, "ChildIdentifiers")
            _sub(ids, "LAchildID", child)
            _sub(ids, "UPNunknown", "UN1")
            if kid is not None:
                _sub(ids, "PersonBirthDate", kid["birth_month"])
                if year >= codes.CIN_SEX_FROM:
                    _sub(ids, "Sex", kid["sex"] or "U")
                else:
                    _sub(ids, "GenderCurrent", {"M": "1", "F": "2"}.get(kid["sex"], "0"))
            chars = _sub(node, "ChildCharacteristics")
            if kid is not None and isinstance(kid["ethnicity"], str):
                _sub(chars, "Ethnicity", kid["ethnicity"])
            if kid is not None and kid["disabled"] == "false":
                _sub(_sub(chars, "Disabilities"), "Disability", codes.NO_DISABILITY)
            for r in refs.to_dict("records"):
                _referral(node, r, ref, groups, year_reviews)
        ET.indent(root)
        path = folder / f"cin_census_{year}.xml"
        ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
        written[year] = path
    return written


def _shown(day: object, ref: pd.Timestamp) -> object:
    """A date as a return dated `ref` shows it: only once it has passed."""
    return day if pd.notna(day) and day <= ref else None  # type: ignore[operator]


def _referral(node: ET.Element, r: dict, ref: pd.Timestamp, groups: dict, year_reviews: pd.Series) -> None:
    """One CINdetails element with the referral's items open in the year."""
    shown = _shown
    d = _sub(node, "CINdetails")
    _sub(d, "CINreferralDate", r["start"])
    _sub(d, "ReferralSource", r["code"] if isinstance(r["code"], str) else None)
    closed = shown(r["end"], ref)
    if closed is not None:
        _sub(d, "CINclosureDate", closed)
        _sub(d, "ReasonForClosure", r["end_code"] if isinstance(r["end_code"], str) else None)
    rid = r["episode"]
    for a in groups["assessments"].get(rid, []):
        x = _sub(d, "Assessments")
        _sub(x, "AssessmentActualStartDate", a["start"])
        auth = shown(a["end"], ref)
        if auth is not None:
            _sub(x, "AssessmentAuthorisationDate", auth)
        factors = _sub(x, "FactorsIdentifiedAtAssessment")
        if auth is not None and isinstance(a["end_code2"], str):
            for factor in a["end_code2"].split(";"):
                _sub(factors, "AssessmentFactors", factor)
    for p in groups["plans"].get(rid, []):
        x = _sub(d, "CINPlanDates")
        _sub(x, "CINPlanStartDate", p["start"])
        _sub(x, "CINPlanEndDate", shown(p["end"], ref))
    for s in groups["s47"].get(rid, []):
        x = _sub(d, "Section47")
        _sub(x, "S47ActualStartDate", s["start"])
        held = shown(s["icpc"], ref)
        if held is not None:
            _sub(x, "DateOfInitialCPC", held)
        _sub(x, "ICPCnotRequired", "true" if shown(s["nr"], ref) is not None else "false")
    _sub(d, "ReferralNFA", "true" if r["code2"] == "nfa" else "false")
    for c in groups["cps"].get(rid, []):
        x = _sub(d, "ChildProtectionPlans")
        _sub(x, "CPPstartDate", c["start"])
        ended = shown(c["end"], ref)
        if ended is not None:
            _sub(x, "CPPendDate", ended)
        category = {v: k for k, v in codes.CATEGORY_OF_ABUSE.items()}.get(c["code"])
        _sub(x, "InitialCategoryOfAbuse", category)
        _sub(x, "LatestCategoryOfAbuse", category)
        _sub(x, "NumberOfPreviousCPP", int(c["previous"]))
        days = year_reviews.get(c["episode"], [])
        if days:
            reviews = _sub(x, "Reviews")
            for day in days:
                _sub(reviews, "CPPreviewDate", day)


def export_returns(canonical_dir: Path, out_dir: Path) -> dict[str, dict[int, Path]]:
    """Both returns, for every collection year the events reach; one authority per canonical folder."""
    children, events = latest_view(canonical_dir)
    las = sorted(set(events["la_code"]))
    if len(las) != 1:
        raise ValueError(
            f"export writes one authority at a time; {canonical_dir} has {len(las)}: {', '.join(las)}"
        )
    first, last = events["day"].min(), events["day"].max()
    years = list(range(collection_year_of(first), collection_year_of(last) + 1))
    out_dir = Path(out_dir)
    return {
        "ssda903": write_ssda903(children, events, out_dir, years),
        "cin_census": write_cin_census(children, events, out_dir, years, las[0]),
    }
