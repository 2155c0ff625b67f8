"""Read CIN census XML returns into checked tables, and turn them into canonical children and events.

**Files.** Each file is one year's census (``Message`` / ``Header`` / ``Children``). The year is the
header's ``ReferenceDate`` (31 March; the census year runs from 1 April before); the authority is
``LEA`` unless ``--la`` says otherwise. Refused whole: a file that is not well-formed XML, has a DTD,
is not a CIN census (root or ``Collection``), has no 31 March ``ReferenceDate`` or one outside the
supported years, or is laid out as another year's census (``GenderCurrent`` in a census from 2024/25
on, or ``Sex`` before: the element was renamed that year).

**Items.** The census has no ids for its episodes. A referral (CIN episode) is keyed by child and
referral date; its assessments, CIN plans and S47 enquiries by their start dates within it; a CP plan
by child and start date; a CP review by plan and review date. Each year's census holds what was open
during that year, so one referral is in several censuses: per key, the latest census wins, and items
an earlier census had but a later one leaves out (finished before its year began) are kept.

**Quarantined** (file, line of the element, reason): a child with no LAchildID, no date of birth (or
expected date of birth) or an unknown sex code (with all its items); an item whose start date is
missing or not a date; any date after the census's 31 March; an end before its start; an unknown
code; a second, different item with the same key in one census (the first is kept); items of a
quarantined referral or CP plan.

**Mapping** (docs/importing.md): ``CINreferralDate`` -> ``referral_received`` (code ReferralSource,
code2 ``nfa`` when ReferralNFA is true), ``CINclosureDate`` -> ``referral_closed`` (code
ReasonForClosure); assessments -> ``assessment_started`` / ``assessment_authorised`` (code2 the
factors, ``;``-separated; the census has no assessment outcome); CIN plans -> ``cin_plan_started`` /
``cin_plan_ended``; ``S47ActualStartDate`` (the date of the strategy discussion that started the
enquiry) -> ``strategy_discussion`` and ``s47_started``; ``DateOfInitialCPC`` -> ``icpc_held`` (code
``plan`` when a CP plan of the child starts that day, else ``no_plan``); CP plans ->
``cp_plan_started`` (code: the initial category NEG/PHY/EMO/SAB/MUL as N/P/E/S/M) / ``cp_plan_ended``;
``CPPreviewDate`` -> ``cp_review``. ``ICPCnotRequired`` has no date, so no event. A
``DateOfInitialCPC`` on the referral itself (an ICPC with no S47 in this census) becomes an
``icpc_held`` of its own unless one of the referral's S47s has the same date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from csc_warehouse.contract import EARLIEST_EVENT_DATE
from csc_warehouse.formats import codes
from csc_warehouse.formats.anonymise import birth_month
from csc_warehouse.formats.canonical import combine, day_text, events, hashed
from csc_warehouse.formats.common import (
    FileSummary,
    ImportRefused,
    Quarantine,
    drop_quarantined,
    number_rows,
    parse_dates,
)
from csc_warehouse.formats.xmltree import Node, parse

EXPECTED = (
    "CIN census XML: a Message element with Header/CollectionDetails (Collection CIN, ReferenceDate "
    "31 March of the census year) and Children/Child elements"
)

# Table -> (its columns, the key within the child, its date columns, the parent table it belongs to).
ITEMS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], str | None]] = {
    "children": (
        ("PersonBirthDate", "ExpectedPersonBirthDate", "GenderCurrent", "Sex", "Ethnicity", "Disabilities"),
        (),
        ("PersonBirthDate", "ExpectedPersonBirthDate"),
        None,
    ),
    "referrals": (
        (
            "CINreferralDate",
            "ReferralSource",
            "CINclosureDate",
            "ReasonForClosure",
            "DateOfInitialCPC",
            "ReferralNFA",
        ),
        ("CINreferralDate",),
        ("CINreferralDate", "CINclosureDate", "DateOfInitialCPC"),
        "children",
    ),
    "assessments": (
        ("CINreferralDate", "AssessmentActualStartDate", "AssessmentAuthorisationDate", "AssessmentFactors"),
        ("CINreferralDate", "AssessmentActualStartDate"),
        ("AssessmentActualStartDate", "AssessmentAuthorisationDate"),
        "referrals",
    ),
    "cin_plans": (
        ("CINreferralDate", "CINPlanStartDate", "CINPlanEndDate"),
        ("CINreferralDate", "CINPlanStartDate"),
        ("CINPlanStartDate", "CINPlanEndDate"),
        "referrals",
    ),
    "section47": (
        ("CINreferralDate", "S47ActualStartDate", "DateOfInitialCPC", "ICPCnotRequired"),
        ("CINreferralDate", "S47ActualStartDate"),
        ("S47ActualStartDate", "DateOfInitialCPC"),
        "referrals",
    ),
    "cp_plans": (
        ("CINreferralDate", "CPPstartDate", "CPPendDate", "InitialCategoryOfAbuse"),
        ("CPPstartDate",),
        ("CPPstartDate", "CPPendDate"),
        "referrals",
    ),
    "cp_reviews": (
        ("CINreferralDate", "CPPstartDate", "CPPreviewDate"),
        ("CPPstartDate", "CPPreviewDate"),
        ("CPPreviewDate",),
        "cp_plans",
    ),
}
START = {
    "referrals": "CINreferralDate",
    "assessments": "AssessmentActualStartDate",
    "cin_plans": "CINPlanStartDate",
    "section47": "S47ActualStartDate",
    "cp_plans": "CPPstartDate",
    "cp_reviews": "CPPreviewDate",
}
END = {
    "referrals": "CINclosureDate",
    "assessments": "AssessmentAuthorisationDate",
    "cin_plans": "CINPlanEndDate",
    "section47": "DateOfInitialCPC",
    "cp_plans": "CPPendDate",
}


@dataclass
class CinData:
    tables: dict[str, pd.DataFrame]
    summaries: list[FileSummary]
    years: list[int]
    la_code: str
    warnings: list[str] = field(default_factory=list)


def _flatten(root: Node) -> dict[str, list[dict[str, object]]]:
    rows: dict[str, list[dict[str, object]]] = {name: [] for name in ITEMS}
    children = root.find("Children")
    for child in children.findall("Child") if children is not None else []:
        ids = child.find("ChildIdentifiers") or Node("ChildIdentifiers", child.line)
        chars = child.find("ChildCharacteristics") or Node("ChildCharacteristics", child.line)
        cid = ids.value("LAchildID")
        disabilities = chars.find("Disabilities")
        rows["children"].append(
            {
                "LAchildID": cid,
                "_line": child.line,
                **{
                    k: ids.value(k)
                    for k in ("PersonBirthDate", "ExpectedPersonBirthDate", "GenderCurrent", "Sex")
                },
                "_has_gender": ids.find("GenderCurrent") is not None,
                "_has_sex": ids.find("Sex") is not None,
                "Ethnicity": chars.value("Ethnicity"),
                "Disabilities": ";".join(d.text for d in disabilities.findall("Disability") if d.text)
                if disabilities is not None
                else "",
            }
        )
        for details in child.findall("CINdetails"):
            ref = details.value("CINreferralDate")
            rows["referrals"].append(
                {
                    "LAchildID": cid,
                    "_line": details.line,
                    **{k: details.value(k) for k in ITEMS["referrals"][0]},
                }
            )
            for a in details.findall("Assessments"):
                factors = a.find("FactorsIdentifiedAtAssessment")
                listed = (
                    [f.text for f in factors.findall("AssessmentFactors") if f.text]
                    if factors is not None
                    else []
                )
                rows["assessments"].append(
                    {
                        "LAchildID": cid,
                        "_line": a.line,
                        "CINreferralDate": ref,
                        "AssessmentFactors": ";".join(listed),
                        **{
                            k: a.value(k)
                            for k in ("AssessmentActualStartDate", "AssessmentAuthorisationDate")
                        },
                    }
                )
            for p in details.findall("CINPlanDates"):
                rows["cin_plans"].append(
                    {
                        "LAchildID": cid,
                        "_line": p.line,
                        "CINreferralDate": ref,
                        **{k: p.value(k) for k in ("CINPlanStartDate", "CINPlanEndDate")},
                    }
                )
            for s in details.findall("Section47"):
                rows["section47"].append(
                    {
                        "LAchildID": cid,
                        "_line": s.line,
                        "CINreferralDate": ref,
                        **{
                            k: s.value(k)
                            for k in ("S47ActualStartDate", "DateOfInitialCPC", "ICPCnotRequired")
                        },
                    }
                )
            for p in details.findall("ChildProtectionPlans"):
                start = p.value("CPPstartDate")
                rows["cp_plans"].append(
                    {
                        "LAchildID": cid,
                        "_line": p.line,
                        "CINreferralDate": ref,
                        **{k: p.value(k) for k in ("CPPstartDate", "CPPendDate", "InitialCategoryOfAbuse")},
                    }
                )
                for reviews in p.findall("Reviews"):
                    for r in reviews.findall("CPPreviewDate"):
                        rows["cp_reviews"].append(
                            {
                                "LAchildID": cid,
                                "_line": r.line,
                                "CINreferralDate": ref,
                                "CPPstartDate": start,
                                "CPPreviewDate": r.text,
                            }
                        )
    return rows


def _header(root: Node, path: Path) -> tuple[int, str]:
    """(census year, LEA) from the header; refuses what is not a CIN census of a supported year."""
    if root.tag != "Message":
        raise ImportRefused(f"{path.name}: the root element is {root.tag}, not Message. Expected {EXPECTED}.")
    header = root.find("Header")
    details = header.find("CollectionDetails") if header is not None else None
    if details is None:
        raise ImportRefused(f"{path.name} has no Header/CollectionDetails. Expected {EXPECTED}.")
    if details.value("Collection").upper() != "CIN":
        raise ImportRefused(
            f"{path.name} is a {details.value('Collection') or 'unnamed'} collection, not the CIN census. "
            f"Expected {EXPECTED}."
        )
    ref, bad = parse_dates(pd.Series([details.value("ReferenceDate")]))
    day = ref.iloc[0]
    if bad.iloc[0] or pd.isna(day) or (day.month, day.day) != (3, 31):
        raise ImportRefused(
            f"{path.name}: ReferenceDate {details.value('ReferenceDate') or '(none)'} is not a 31 March. "
            f"Expected {EXPECTED}."
        )
    if day.year not in codes.CIN_YEARS:
        raise ImportRefused(
            f"{path.name}: census year {day.year} is not supported (supported: {codes.CIN_YEARS.start} to "
            f"{codes.CIN_YEARS.stop - 1}, named by the year they end)."
        )
    source = header.find("Source") if header is not None else None
    return int(day.year), source.value("LEA") if source is not None else ""


def _check_layout(path: Path, year: int, children: pd.DataFrame) -> None:
    if children.empty:
        return
    gender, sex = bool(children["_has_gender"].any()), bool(children["_has_sex"].any())
    if year >= codes.CIN_SEX_FROM and gender and not sex:
        raise ImportRefused(
            f"{path.name}: the children's sex is in GenderCurrent, the element of censuses before "
            f"{codes.CIN_SEX_FROM}; the {year} census has Sex (M/F/U). Is this another year's file?"
        )
    if year < codes.CIN_SEX_FROM and sex and not gender:
        raise ImportRefused(
            f"{path.name}: the children's sex is in Sex, the element of censuses from {codes.CIN_SEX_FROM}; "
            f"the {year} census has GenderCurrent (1/2/0/9). Is this another year's file?"
        )


def read_files(
    paths: list[Path], la_code: str | None
) -> tuple[dict[str, list[pd.DataFrame]], list[FileSummary], str, list[int]]:
    per_table: dict[str, list[pd.DataFrame]] = {name: [] for name in ITEMS}
    summaries: list[FileSummary] = []
    leas: set[str] = set()
    years: list[int] = []
    for path in paths:
        path = Path(path)
        if not path.is_file():
            raise ImportRefused(f"{path} does not exist. Expected {EXPECTED}.")
        root = parse(path, EXPECTED)
        year, lea = _header(root, path)
        leas.add(lea)
        years.append(year)
        flat = _flatten(root)
        for name, found in flat.items():
            columns = ["LAchildID", *ITEMS[name][0], "_line"]
            frame = pd.DataFrame(found) if found else pd.DataFrame(columns=columns)
            if name == "children":
                _check_layout(path, year, frame)
            frame = frame.assign(_file=path.name, _year=year, _table=name)
            per_table[name].append(frame)
            summaries.append(FileSummary(path.name, name, year, rows_read=len(frame)))
    if la_code is None:
        named = sorted(lea for lea in leas if lea)
        if len(named) != 1:
            raise ImportRefused(
                "the files do not name one authority (LEA: "
                + (", ".join(named) or "none")
                + "); pass --la CODE to say which authority they are from."
            )
        la_code = named[0]
    return per_table, summaries, la_code, sorted(set(years))


class _Checks:
    def __init__(self, frame: pd.DataFrame, quarantine: Quarantine):
        self.frame, self.quarantine = frame, quarantine
        self.bad = pd.Series(False, index=frame.index)

    def add(self, mask: pd.Series, column: str | None, reason: str | pd.Series) -> None:
        mask = mask.fillna(False).astype(bool)
        if mask.any():
            self.quarantine.add(
                self.frame[mask], column, reason[mask] if isinstance(reason, pd.Series) else reason
            )
            self.bad |= mask

    def given(self, column: str) -> pd.Series:
        return self.frame[column].fillna("").astype(str) != ""

    def code(self, column: str, allowed: list[str], what: str) -> None:
        values = self.frame[column].fillna("").astype(str)
        self.add(
            self.given(column) & ~values.isin(allowed),
            column,
            column + " " + values + f" is not {what} ({', '.join(allowed)})",
        )


def check(per_table: dict[str, list[pd.DataFrame]], quarantine: Quarantine) -> dict[str, pd.DataFrame]:
    """The items that pass, per table, with dates parsed (``<column>_date``)."""
    out: dict[str, pd.DataFrame] = {}
    for name, (columns, keys, dates, parent) in ITEMS.items():
        frame = number_rows(pd.concat(per_table[name], ignore_index=True).fillna(""), name)
        c = _Checks(frame, quarantine)
        c.add(~c.given("LAchildID"), "LAchildID", "LAchildID is empty")
        ref = pd.to_datetime(frame["_year"].astype(int).astype(str) + "-03-31")
        for column in dates:
            parsed, bad = parse_dates(frame[column])
            shown = "" if "Birth" in column else " " + frame[column].astype(str)
            c.add(bad, column, column + shown + " is not a date (yyyy-mm-dd)")
            if "Birth" not in column:
                c.add(
                    parsed < pd.Timestamp(EARLIEST_EVENT_DATE),
                    column,
                    column
                    + " "
                    + frame[column].astype(str)
                    + f" is before {EARLIEST_EVENT_DATE}, the earliest date the warehouse accepts",
                )
            if "Birth" not in column:
                c.add(
                    parsed > ref,
                    column,
                    column + " " + frame[column].astype(str) + " is after the census's 31 March",
                )
            frame[column + "_date"] = parsed
        if name in START:
            c.add(~c.given(START[name]), START[name], f"{START[name]} is empty")
        if name in END:
            c.add(
                frame[END[name] + "_date"] < frame[START[name] + "_date"],
                END[name],
                END[name]
                + " "
                + frame[END[name]].astype(str)
                + " is before "
                + START[name]
                + " "
                + frame[START[name]].astype(str),
            )
        _table_checks(name, c, frame)
        kept = frame[~c.bad]
        kept = _one_per_key(kept, keys, columns, quarantine)
        if parent is not None:
            kept = _with_parent(kept, out[parent], name, parent, quarantine)
        out[name] = kept
    return out


def _table_checks(name: str, c: _Checks, f: pd.DataFrame) -> None:
    if name == "children":
        born = f["PersonBirthDate_date"].notna() | f["ExpectedPersonBirthDate_date"].notna()
        c.add(~born, "PersonBirthDate", "neither PersonBirthDate nor ExpectedPersonBirthDate is given")
        for year in f["_year"].unique():
            new = int(year) >= codes.CIN_SEX_FROM
            column, allowed = ("Sex", codes.CIN_SEX) if new else ("GenderCurrent", codes.GENDER_CURRENT)
            values = f[column].fillna("").astype(str)
            c.add(
                (f["_year"] == year) & ~values.isin(list(allowed)),
                column,
                column + " '" + values + f"' is not a code of the {year} census ({', '.join(allowed)})",
            )
        c.code("Ethnicity", list(codes.ETHNIC), "an ethnicity code")
    elif name == "referrals":
        c.code("ReferralSource", list(codes.REFERRAL_SOURCE), "a referral source")
        c.code("ReasonForClosure", list(codes.REASON_FOR_CLOSURE), "a reason for closure")
        c.code("ReferralNFA", list(codes.TRUE_FALSE), "true/false or 1/0")
    elif name == "section47":
        c.code("ICPCnotRequired", list(codes.TRUE_FALSE), "true/false or 1/0")
    elif name == "cp_plans":
        c.code("InitialCategoryOfAbuse", list(codes.CATEGORY_OF_ABUSE), "a category of abuse")


def _one_per_key(
    frame: pd.DataFrame, keys: tuple[str, ...], columns: tuple[str, ...], quarantine: Quarantine
) -> pd.DataFrame:
    key = ["_year", "LAchildID", *keys]
    first = frame.groupby(key, sort=False).cumcount() == 0
    repeat = frame[~first]
    if repeat.empty:
        return frame
    kept = frame[first].set_index(key).loc[pd.MultiIndex.from_frame(repeat[key])]
    data = [c for c in columns if c not in key]
    same = (repeat[data].to_numpy() == kept[data].to_numpy()).all(axis=1)
    differs = repeat[~same]
    quarantine.add(
        differs,
        None,
        "a different item with the same dates is in this census at line "
        + pd.Series(kept["_line"].to_numpy()[~same], index=differs.index).astype(str)
        + " (kept)",
    )
    return frame[first]


def _with_parent(
    frame: pd.DataFrame, parent: pd.DataFrame, name: str, parent_name: str, quarantine: Quarantine
) -> pd.DataFrame:
    """Items whose child, referral or plan was quarantined cannot be placed: quarantined too."""
    link = {
        "children": ["LAchildID"],
        "referrals": ["LAchildID", "CINreferralDate"],
        "cp_plans": ["LAchildID", "CINreferralDate", "CPPstartDate"],
    }[parent_name]
    known = set(map(tuple, parent[["_file", *link]].astype(str).to_numpy().tolist()))
    has = np.fromiter(
        (tuple(r) in known for r in frame[["_file", *link]].astype(str).to_numpy().tolist()), bool, len(frame)
    )
    what = {
        "children": "the child's record",
        "referrals": "its CINdetails (referral)",
        "cp_plans": "its CP plan",
    }
    quarantine.add(frame[~has], None, f"{what[parent_name]} was quarantined")
    return frame[has]


def read_census(paths: list[Path], quarantine: Quarantine, la_code: str | None) -> CinData:
    per_table, summaries, la, years = read_files(paths, la_code)
    tables = check(per_table, quarantine)
    tables = {name: drop_quarantined(frame, quarantine) for name, frame in tables.items()}
    return CinData(tables, summaries, years, la)


# --------------------------------------------------------------------------------------------------
# Conversion


def _latest(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(["_year", "_file", "_line"], kind="stable").drop_duplicates(keys, keep="last")


def _none(values: pd.Series) -> pd.Series:
    return values.where(values.fillna("").astype(str) != "", None).astype(object)


def convert_state(tables: dict[str, pd.DataFrame], upto: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(children, events) of the censuses up to year `upto` (per key, the latest census wins)."""
    s = {name: frame[frame["_year"].astype(int) <= upto] for name, frame in tables.items()}
    ch = _latest(s["children"], ["child"])
    born = ch["PersonBirthDate_date"].fillna(ch["ExpectedPersonBirthDate_date"])
    sex = ch["Sex"].map(codes.CIN_SEX).fillna(ch["GenderCurrent"].map(codes.GENDER_CURRENT))
    listed = ch["Disabilities"].fillna("")
    disabled = pd.Series(
        np.where(listed == "", None, listed != codes.NO_DISABILITY), index=ch.index, dtype=object
    )
    children = pd.DataFrame(
        {
            "child_id": ch["child"].to_numpy(),
            "sex": sex.astype(object).where(sex.notna(), None).to_numpy(),
            "birth_month": birth_month(born).to_numpy(),
            "ethnicity": _none(ch["Ethnicity"]).to_numpy(),
            "disabled": disabled.to_numpy(),
        }
    )

    parts: list[pd.DataFrame] = []
    r = _latest(s["referrals"], ["child", "CINreferralDate_date"])
    rid = hashed("R", r["child"], day_text(r["CINreferralDate_date"]))
    nfa = r["ReferralNFA"].map(codes.TRUE_FALSE).fillna(False).astype(bool)
    parts.append(
        events(
            "referral_received",
            r["child"],
            r["CINreferralDate_date"],
            rid,
            episode=rid,
            referral=rid,
            code=_none(r["ReferralSource"]),
            code2=pd.Series(np.where(nfa, "nfa", None), index=r.index),
        )
    )
    c = r["CINclosureDate_date"].notna()
    parts.append(
        events(
            "referral_closed",
            r["child"][c],
            r["CINclosureDate_date"][c],
            rid[c],
            episode=rid[c],
            referral=rid[c],
            code=_none(r["ReasonForClosure"][c]),
        )
    )

    def referral_of(frame: pd.DataFrame) -> pd.Series:
        return hashed("R", frame["child"], day_text(frame["CINreferralDate_date"]))

    a = _latest(s["assessments"], ["child", "CINreferralDate", "AssessmentActualStartDate_date"])
    if not a.empty:
        a = a.assign(CINreferralDate_date=parse_dates(a["CINreferralDate"])[0])
        aid = hashed("A", referral_of(a), day_text(a["AssessmentActualStartDate_date"]))
        parts.append(
            events(
                "assessment_started",
                a["child"],
                a["AssessmentActualStartDate_date"],
                aid,
                episode=aid,
                referral=referral_of(a),
            )
        )
        d = a["AssessmentAuthorisationDate_date"].notna()
        parts.append(
            events(
                "assessment_authorised",
                a["child"][d],
                a["AssessmentAuthorisationDate_date"][d],
                aid[d],
                episode=aid[d],
                referral=referral_of(a)[d],
                code2=_none(a["AssessmentFactors"][d]),
            )
        )

    p = _latest(s["cin_plans"], ["child", "CINreferralDate", "CINPlanStartDate_date"])
    if not p.empty:
        p = p.assign(CINreferralDate_date=parse_dates(p["CINreferralDate"])[0])
        pid = hashed("CIN", referral_of(p), day_text(p["CINPlanStartDate_date"]))
        parts.append(
            events(
                "cin_plan_started",
                p["child"],
                p["CINPlanStartDate_date"],
                pid,
                episode=pid,
                referral=referral_of(p),
            )
        )
        d = p["CINPlanEndDate_date"].notna()
        parts.append(
            events(
                "cin_plan_ended",
                p["child"][d],
                p["CINPlanEndDate_date"][d],
                pid[d],
                episode=pid[d],
                referral=referral_of(p)[d],
            )
        )

    cp = _latest(s["cp_plans"], ["child", "CPPstartDate_date"])
    plan_days = set(zip(cp["child"], cp["CPPstartDate_date"], strict=True))
    s47 = _latest(s["section47"], ["child", "CINreferralDate", "S47ActualStartDate_date"])
    if not s47.empty:
        s47 = s47.assign(CINreferralDate_date=parse_dates(s47["CINreferralDate"])[0])
        sid = hashed("S", referral_of(s47), day_text(s47["S47ActualStartDate_date"]))
        for kind in ("strategy_discussion", "s47_started"):
            parts.append(
                events(
                    kind,
                    s47["child"],
                    s47["S47ActualStartDate_date"],
                    sid,
                    episode=sid,
                    referral=referral_of(s47),
                )
            )
        parts.append(_icpcs(s47, "DateOfInitialCPC_date", sid, referral_of(s47), plan_days))
    # An ICPC recorded on the referral with no S47 of the same date: an ICPC of its own.
    held = r[r["DateOfInitialCPC_date"].notna()]
    if not held.empty:
        s47_days = (
            set(zip(s47["child"], s47["DateOfInitialCPC_date"], strict=True)) if not s47.empty else set()
        )
        own = held[
            [
                (k, d) not in s47_days
                for k, d in zip(held["child"], held["DateOfInitialCPC_date"], strict=True)
            ]
        ]
        own_rid = hashed("R", own["child"], day_text(own["CINreferralDate_date"]))
        parts.append(_icpcs(own, "DateOfInitialCPC_date", hashed("S", own_rid, "icpc"), own_rid, plan_days))

    if not cp.empty:
        cid = hashed("CP", cp["child"], day_text(cp["CPPstartDate_date"]))
        cp_ref = hashed("R", cp["child"], day_text(parse_dates(cp["CINreferralDate"])[0]))
        parts.append(
            events(
                "cp_plan_started",
                cp["child"],
                cp["CPPstartDate_date"],
                cid,
                episode=cid,
                referral=cp_ref,
                code=cp["InitialCategoryOfAbuse"].map(codes.CATEGORY_OF_ABUSE).astype(object),
            )
        )
        d = cp["CPPendDate_date"].notna()
        parts.append(
            events(
                "cp_plan_ended",
                cp["child"][d],
                cp["CPPendDate_date"][d],
                cid[d],
                episode=cid[d],
                referral=cp_ref[d],
            )
        )
    rv = _latest(s["cp_reviews"], ["child", "CPPstartDate", "CPPreviewDate_date"])
    if not rv.empty:
        rv_cp = hashed("CP", rv["child"], day_text(parse_dates(rv["CPPstartDate"])[0]))
        parts.append(
            events(
                "cp_review",
                rv["child"],
                rv["CPPreviewDate_date"],
                rv_cp + day_text(rv["CPPreviewDate_date"]),
                episode=rv_cp,
            )
        )
    return children, combine(parts)


def _icpcs(
    frame: pd.DataFrame, column: str, episode: pd.Series, referral: pd.Series, plan_days: set
) -> pd.DataFrame:
    d = frame[column].notna()
    rows = frame[d]
    plan = [(k, day) in plan_days for k, day in zip(rows["child"], rows[column], strict=True)]
    code = pd.Series(np.where(plan, "plan", "no_plan"), index=rows.index, dtype=object)
    return events(
        "icpc_held",
        rows["child"],
        rows[column],
        episode[d],
        episode=episode[d],
        referral=referral[d],
        code=code,
    )
