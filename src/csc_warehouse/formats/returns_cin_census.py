"""Write one authority's CIN census XML for a collection year, as that year's DfE schema wants it.

The census (named by the year it ends: 2018 = 1 April 2017 to 31 March 2018) holds every referral
open at some time in the year, with its assessments, CIN plans, S47 enquiries, ICPCs, CP plans and the
CP reviews of the year; an end date only where it falls by 31 March. Episodes are the warehouse's
(``int_episodes_built``); the S47 start is the earliest strategy discussion, else the S47 start.

Elements and codes follow the year's XSD (``reference_specs.cin_xsd``, checked in the tests):
- ``LEA`` is the DfE's three-digit number of the authority (``--lea``, or ``codes.DFE_LA_NUMBER``);
- ``GenderCurrent`` (1/2/0) up to 2023/24, ``Sex`` (M/F/U) from 2024/25; every child has one, and an
  ``Ethnicity`` (``NOBT`` when not recorded);
- ``FactorsIdentifiedAtAssessment`` only for an authorised assessment with factors, coded as the year
  codes them (``codes.factors_in``); ``CINPlanDates`` only from 2021/22, ``CINPlanEndDate`` only once
  the plan ended; ``ReasonForClosure`` only when known; ``ReferralSource`` ``10`` (unknown) when the
  events hold none; codes the DfE added later (``5D``, ``RC9``) folded into the year's
  (``codes.referral_source_in`` / ``closure_reason_in``);
- ``NumberOfPreviousCPP`` is the number of the child's plans that started before this one.
Disability: ``NONE`` for a child recorded as not disabled, left out otherwise (the events do not say
which disability).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pandas as pd

from csc_warehouse.formats import codes
from csc_warehouse.formats.common import reference_date, year_start
from csc_warehouse.formats.returns_source import ReturnSource, lookup

__all__ = ["lea_number", "write_cin_census"]


def lea_number(la_code: str, lea: str | None = None) -> str:
    """The three-digit LEA number the census header needs."""
    number = lea or (la_code if la_code.isdigit() else codes.DFE_LA_NUMBER.get(la_code))
    if number is None or not (number.isdigit() and len(number) == 3):
        raise ValueError(
            f"the CIN census names the authority by its three-digit DfE number; {la_code} has none known: "
            "pass --lea NNN."
        )
    return number


def _sub(parent: ET.Element, tag: str, text: object = None) -> ET.Element:
    node = ET.SubElement(parent, tag)
    if text is not None and not (isinstance(text, float) and pd.isna(text)) and text is not pd.NaT:
        node.text = text.strftime("%Y-%m-%d") if isinstance(text, pd.Timestamp) else str(text)
    return node


def _known(value: object) -> bool:
    return isinstance(value, str) and value != ""


def _shown(day: object, ref: pd.Timestamp) -> pd.Timestamp | None:
    """A date as a return dated `ref` shows it: only once it has passed."""
    return day if isinstance(day, pd.Timestamp) and pd.notna(day) and day <= ref else None


def _items(source: ReturnSource, kind: str) -> pd.DataFrame:
    frame = source.episodes[source.episodes["episode_type"] == kind]
    return frame.rename(columns={"episode_id": "episode", "child_id": "child", "referral_id": "referral"})


def _open_in(frame: pd.DataFrame, first: pd.Timestamp, ref: pd.Timestamp) -> pd.DataFrame:
    return frame[(frame["start"] <= ref) & (frame["end"].isna() | (frame["end"] >= first))]


def write_cin_census(
    source: ReturnSource, out_dir: Path, year: int, *, lea: str | None = None
) -> tuple[Path, Counter[str]]:
    """Write ``<out_dir>/cin_census_<year>.xml``; returns the file and the codes recoded for the year."""
    recoded: Counter[str] = Counter()
    number = lea_number(source.la_code, lea)
    ref, first = reference_date(year), year_start(year)
    referrals = _items(source, "referral")
    assessments = _items(source, "assessment")
    plans = _items(source, "cin_plan")
    cps = _items(source, "cp_plan").sort_values(["start", "episode"]).copy()
    cps["previous"] = cps.groupby("child").cumcount()
    reviews = source.of("cp_review")
    # S47: the earliest strategy discussion (else the S47 start), its ICPC or "not required".
    parts = pd.concat([source.of("strategy_discussion"), source.of("s47_started")])
    s47 = parts.sort_values(["day", "event_id"]).drop_duplicates("episode_id")
    s47 = s47.rename(columns={"episode_id": "episode", "referral_id": "referral", "day": "start"})
    icpc = source.of("icpc_held").drop_duplicates("episode_id").set_index("episode_id")["day"]
    not_required = source.of("icpc_not_required").drop_duplicates("episode_id").set_index("episode_id")["day"]
    s47 = s47.assign(icpc=lookup(s47["episode"], icpc), nr=lookup(s47["episode"], not_required))
    s47["end"] = s47["icpc"].fillna(s47["nr"])

    groups = {
        name: {k: v.to_dict("records") for k, v in _open_in(frame, first, ref).groupby("referral")}
        for name, frame in (("assessments", assessments), ("plans", plans), ("s47", s47), ("cps", cps))
    }
    year_reviews = (
        reviews[(reviews["day"] >= first) & (reviews["day"] <= ref)].groupby("episode_id")["day"].apply(list)
    )
    kids = source.children.set_index("child_id").to_dict("index")

    root = ET.Element("Message")
    header = _sub(root, "Header")
    details = _sub(header, "CollectionDetails")
    _sub(details, "Collection", "CIN")
    _sub(details, "Year", year)
    _sub(details, "ReferenceDate", ref)
    src = _sub(header, "Source")
    _sub(src, "SourceLevel", "L")
    _sub(src, "LEA", number)
    _sub(src, "SoftwareCode", "csc-warehouse")
    _sub(src, "SerialNo", "001")
    _sub(src, "DateTime", f"{ref:%Y-%m-%d}T23:59:59")
    body = _sub(root, "Children")
    open_refs = _open_in(referrals, first, ref).sort_values(["start", "episode"])
    for child, refs in open_refs.groupby("child", sort=True):
        kid = kids.get(child, {})
        node = _sub(body, "Child")
        ids = _sub(node, "ChildIdentifiers")
        _sub(ids, "LAchildID", child)
        _sub(ids, "UPNunknown", "UN1")
        if pd.notna(kid.get("birth_month")):
            _sub(ids, "PersonBirthDate", kid["birth_month"])
        sex = kid.get("sex") if _known(kid.get("sex")) else "U"
        if year >= codes.CIN_SEX_FROM:
            _sub(ids, "Sex", sex)
        else:
            _sub(ids, "GenderCurrent", {"M": "1", "F": "2"}.get(sex, "0"))
        chars = _sub(node, "ChildCharacteristics")
        ethnicity = kid.get("ethnicity")
        _sub(chars, "Ethnicity", ethnicity if _known(ethnicity) and ethnicity in codes.ETHNIC else "NOBT")
        if kid.get("disabled") == "false":
            _sub(_sub(chars, "Disabilities"), "Disability", codes.NO_DISABILITY)
        for r in refs.to_dict("records"):
            _referral(node, r, ref, year, groups, year_reviews, recoded)
    if not len(body):
        raise ValueError(
            f"no referral of {source.la_code} is open in {year - 1}-{year % 100:02d}: nothing to write"
        )
    ET.indent(root)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"cin_census_{year}.xml"
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path, recoded


def _recode(value: str, new: str, field: str, recoded: Counter[str]) -> str:
    if new != value:
        recoded[f"{field} {value} -> {new}"] += 1
    return new


def _referral(
    node: ET.Element,
    r: dict,
    ref: pd.Timestamp,
    year: int,
    groups: dict,
    year_reviews: pd.Series,
    recoded: Counter[str],
) -> None:
    """One CINdetails element with the referral's items open in the year, in the schema's order."""
    d = _sub(node, "CINdetails")
    _sub(d, "CINreferralDate", r["start"])
    source_code = r["code"] if _known(r["code"]) else _recode("(none)", "10", "ReferralSource", recoded)
    _sub(
        d,
        "ReferralSource",
        _recode(source_code, codes.referral_source_in(source_code, year), "ReferralSource", recoded),
    )
    closed = _shown(r["end"], ref)
    if closed is not None:
        _sub(d, "CINclosureDate", closed)
        if _known(r["end_code"]):
            reason = _recode(
                r["end_code"], codes.closure_reason_in(r["end_code"], year), "ReasonForClosure", recoded
            )
            _sub(d, "ReasonForClosure", reason)
    rid = r["episode"]
    for a in groups["assessments"].get(rid, []):
        x = _sub(d, "Assessments")
        _sub(x, "AssessmentActualStartDate", a["start"])
        auth = _shown(a["end"], ref)
        if auth is not None:
            _sub(x, "AssessmentAuthorisationDate", auth)
            given = a["end_code2"].split(";") if _known(a["end_code2"]) else []
            factors = codes.factors_in(given, year)
            for dropped in set(given) - set(factors):
                recoded[f"AssessmentFactors {dropped} -> (recoded or left out)"] += 1
            if factors:
                parent = _sub(x, "FactorsIdentifiedAtAssessment")
                for factor in factors:
                    _sub(parent, "AssessmentFactors", factor)
    if year >= codes.CIN_PLAN_DATES_FROM:
        for p in groups["plans"].get(rid, []):
            x = _sub(d, "CINPlanDates")
            _sub(x, "CINPlanStartDate", p["start"])
            ended = _shown(p["end"], ref)
            if ended is not None:
                _sub(x, "CINPlanEndDate", ended)
    for s in groups["s47"].get(rid, []):
        x = _sub(d, "Section47")
        _sub(x, "S47ActualStartDate", s["start"])
        held = _shown(s["icpc"], ref)
        if held is not None:
            _sub(x, "DateOfInitialCPC", held)
        _sub(x, "ICPCnotRequired", "true" if _shown(s["nr"], ref) is not None else "false")
    _sub(d, "ReferralNFA", "true" if r["code2"] == "nfa" else "false")
    for c in groups["cps"].get(rid, []):
        x = _sub(d, "ChildProtectionPlans")
        _sub(x, "CPPstartDate", c["start"])
        ended = _shown(c["end"], ref)
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
