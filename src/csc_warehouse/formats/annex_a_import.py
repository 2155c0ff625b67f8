"""Read an authority's own Annex A workbooks back as canonical children and events (annex-a.md).

**Sheets and headers.** A sheet is a list when its name is ``List N`` (any case and spacing) or its
header row matches one list's columns best; a header is matched to the template's after folding case
and dropping everything but letters and digits, so ``Date of referral`` and ``DATE OF REFERRAL:``
match. Lists 1-10 are read; any subset will do. Coded cells may hold the template's value
(``q) 6: Police``), the bare code (``6``) or the label's words for yes/no and gender.

**Events** (what a list does not carry is not invented): list 1 ``contact_received``; list 2
``early_help_started`` / ``_ended``; lists 3 and 6 ``referral_received`` (source, NFA) and
``referral_closed`` (reason); list 4 ``assessment_started`` / ``_authorised``; list 5
``strategy_discussion`` + ``s47_started`` and ``icpc_held`` (``plan`` / ``no_plan``); list 7
``cp_plan_started`` (category) / ``_ended``, ``cp_review`` and ``child_seen`` ``cp`` at the latest
dates given; list 8 ``cla_period_started`` (legal status and placement when they started that day),
``cla_legal_status_changed`` and ``cla_placement_changed`` at their later start dates,
``cla_period_ended`` (reason), ``cla_review``, ``child_seen`` ``cla``, ``health_assessment``,
``dental_check``; list 10 the adoption milestones. List 9 gives no contact date: no event.
Ids hash the child, the event type and the date, so the same referral on lists 3 and 6, or in next
month's workbook, is one event.

**Versions.** Each workbook is recorded at the end of its as-at day (``--as-at``, else the latest date
in it); several workbooks are successive states, oldest first: a changed row is a new version. A row
that leaves a later workbook has usually left its window, not been deleted: no tombstones.

**Quarantined** (sheet, row, column, reason): no child id, a date that is not a date, a date after the
as-at day, an unknown code; the other rows of the workbook load.
"""

from __future__ import annotations

import re
import time
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd

from csc_warehouse.formats import annex_a_layout as layout
from csc_warehouse.formats.anonymise import Pseudonymiser, birth_month, key_from_environment
from csc_warehouse.formats.canonical import (
    CHILD_CONTENT,
    CONTENT,
    combine,
    events,
    versions,
    write_canonical,
    write_quarantine,
)
from csc_warehouse.formats.common import FileSummary, ImportRefused, Quarantine, parse_dates
from csc_warehouse.formats.imports import ImportResult, _population

__all__ = ["import_annex_a", "read_workbook"]

EXPECTED = "an Annex A workbook (.xlsx) with sheets List 1 .. List 10 and the template's header row"


def _key(text: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(text or "").lower())


_BY_KEY = {name: {_key(h): h for h in headers} for name, headers in layout.HEADERS.items()}


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _which_list(title: str, header: list[str]) -> str | None:
    named = re.fullmatch(r"list\s*(\d+)", title.strip().lower())
    if named and f"List {int(named.group(1))}" in layout.HEADERS:
        return f"List {int(named.group(1))}"
    keys = {_key(h) for h in header}
    best = max(_BY_KEY, key=lambda n: len(keys & set(_BY_KEY[n])))
    return best if len(keys & set(_BY_KEY[best])) >= 4 else None


def _columns(name: str, header: list[str]) -> list[str]:
    """The template's column for each header: same spelling (case and punctuation folded), else the
    column's pattern (``annex_a_layout.HEADER_PATTERNS``); ``_unknown_<i>`` for the rest (ignored)."""
    columns = [_BY_KEY[name].get(_key(h), f"_unknown_{i}") for i, h in enumerate(header)]
    taken = set(columns)
    for i, h in enumerate(header):
        if not columns[i].startswith("_unknown_"):
            continue
        for column in layout.HEADERS[name]:
            pattern = layout.HEADER_PATTERNS.get(column)
            if column not in taken and pattern and re.search(pattern, h.lower()):
                columns[i] = column
                taken.add(column)
                break
    return columns


def read_workbook(path: Path) -> dict[str, pd.DataFrame]:
    """Per list, its rows as text with the template's column names (``_row``, ``_line`` ... added)."""
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for a file that is not a workbook
        raise ImportRefused(
            f"{path.name} is not readable as a workbook ({exc}). Expected {EXPECTED}."
        ) from exc
    lists: dict[str, pd.DataFrame] = {}
    for sheet in book.worksheets:
        rows = sheet.iter_rows(values_only=True)
        header = [_cell_text(v) for v in next(rows, ())]
        name = _which_list(sheet.title, header)
        if name is None or name == "List 11":
            continue
        columns = _columns(name, header)
        body = [
            [_cell_text(v) for v in row] + [line]
            for line, row in enumerate(rows, start=2)
            if any(v is not None and str(v).strip() for v in row)
        ]
        frame = pd.DataFrame(body, columns=[*columns, "_line"], dtype=object)
        frame = frame[[c for c in frame.columns if not c.startswith("_unknown_")]]
        frame = frame.assign(
            _row=[f"{path.name}:{sheet.title}:{n}" for n in frame["_line"]], _file=path.name, _table=name
        )
        lists[name] = frame
    book.close()
    if not lists:
        raise ImportRefused(f"{path.name} has no sheet laid out as an Annex A list. Expected {EXPECTED}.")
    return lists


def _code(value: str) -> str:
    """The code of a template value: ``q) 6: Police`` -> ``6``, ``RC8 - Case closed ...`` -> ``RC8``."""
    text = re.sub(r"^[a-z]{1,2}\)\s*", "", value.strip())
    return re.split(r"\s*(?::|\s-\s)", text, maxsplit=1)[0].strip()


_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0"}


def _yes_no(values: pd.Series) -> pd.Series:
    words = values.fillna("").map(lambda v: re.sub(r"^[a-z]\)\s*", "", v.strip().lower()))
    return words.map(lambda w: True if w in _YES else (False if w in _NO else None))


class _Reader:
    """One workbook's lists, its as-at day and its quarantine."""

    def __init__(self, lists: dict[str, pd.DataFrame], as_at: pd.Timestamp | None, quarantine: Quarantine):
        self.lists, self.quarantine = lists, quarantine
        dates = []
        for frame in lists.values():
            for col in frame.columns:
                if col in _DATE_COLUMNS:
                    dates.append(parse_dates(frame[col])[0].max())
        known = [d for d in dates if pd.notna(d)]
        self.as_at = as_at if as_at is not None else (max(known) if known else None)
        if self.as_at is None:
            raise ImportRefused("the workbook holds no date: pass --as-at YYYY-MM-DD.")

    def dates(self, frame: pd.DataFrame, column: str) -> pd.Series:
        """The column's dates; a bad or future one quarantines its row (the row is then dropped)."""
        if column not in frame:
            return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[s]")
        days, bad = parse_dates(frame[column])
        self.quarantine.add(frame[bad], column, f"{column} is not a date (dd/mm/yyyy or a date cell)")
        late = days > self.as_at
        self.quarantine.add(
            frame[late], column, f"{column} is after the workbook's as-at day {self.as_at:%Y-%m-%d}"
        )
        return days.where(~late)

    def coded(self, frame: pd.DataFrame, column: str, allowed: dict[str, str] | set[str]) -> pd.Series:
        if column not in frame:
            return pd.Series(None, index=frame.index, dtype=object)
        given = frame[column].fillna("")
        codes = given.map(lambda v: _code(v) if v else None)
        known = set(allowed) | layout_later_codes()
        bad = codes.notna() & ~codes.isin(known)
        self.quarantine.add(frame[bad], column, f"{column}: not a code of the template or of the DfE")
        return codes.where(~bad)


def layout_later_codes() -> set[str]:
    return {"5D", "RC9", "F3", "P3", "F4", "P4", "F5", "P5", "E43", "E44", "K3", "Z11", "Z12", "Z13", "Z14"}


_DATE_COLUMNS = {
    h
    for headers in layout.HEADERS.values()
    for h in headers
    if "date" in h.lower() or h.lower().startswith("start date")
} - {"Date of Birth"}

_SOURCE_TO_CONTACT = {
    "1": "individual",
    "2A": "school",
    "2B": "school",
    "3": "health",
    "4": "la",
    "5": "la",
    "6": "police",
}


def _contact_code(source: str | None) -> str | None:
    if source is None:
        return None
    if source in _SOURCE_TO_CONTACT:
        return _SOURCE_TO_CONTACT[source]
    return _SOURCE_TO_CONTACT.get(source[:1], "other") if source[:1] in "12345" else "other"


def _episode(child: pd.Series, kind: str, start: pd.Series) -> pd.Series:
    from csc_warehouse.formats.canonical import day_text, hashed

    return hashed(kind[0].upper(), child, kind, day_text(start).fillna(""))


def _convert(reader: _Reader, pseudo: Pseudonymiser) -> tuple[pd.DataFrame, pd.DataFrame]:
    parts: list[pd.DataFrame] = []
    people: list[pd.DataFrame] = []
    for name, frame in reader.lists.items():
        ids = frame["Child Unique ID"] if "Child Unique ID" in frame else pd.Series("", index=frame.index)
        missing_id = ids.fillna("") == ""
        reader.quarantine.add(frame[missing_id], "Child Unique ID", "no child id")
        frame = frame[~missing_id]
        if frame.empty:
            continue
        frame = frame.assign(child=pseudo.ids(frame["Child Unique ID"]))
        people.append(_children(reader, frame))
        parts.extend(_LIST_EVENTS[name](reader, frame))
    quarantined = reader.quarantine.rows()
    kept = [p[~p["_row"].isin(quarantined)].drop(columns="_row") for p in parts if not p.empty]
    children = (
        pd.concat(people, ignore_index=True) if people else pd.DataFrame(columns=["child_id", *CHILD_CONTENT])
    )
    children = children[~children["_row"].isin(quarantined)].drop(columns="_row")
    # Per child the most complete row (sex, birth month, ethnicity, disability may be on some lists only).
    children = children.groupby("child_id", as_index=False).first()
    return children, combine(kept)


def _children(reader: _Reader, frame: pd.DataFrame) -> pd.DataFrame:
    gender = frame.get("Gender", pd.Series("", index=frame.index)).fillna("").map(_code).str.lower()
    sex = gender.map(lambda g: "M" if g in ("male", "m") else ("F" if g in ("female", "f") else None))
    ethnicity = (
        frame.get("Ethnicity", pd.Series("", index=frame.index))
        .fillna("")
        .map(lambda v: re.sub(r"^[a-z]\)\s*", "", v).strip()[:4] or None)
    )
    born, bad = parse_dates(frame.get("Date of Birth", pd.Series("", index=frame.index)))
    reader.quarantine.add(frame[bad], "Date of Birth", "Date of Birth is not a date")
    disabled = (
        _yes_no(frame["Does the Child have a Disability"])
        if "Does the Child have a Disability" in frame
        else None
    )
    return pd.DataFrame(
        {
            "child_id": frame["child"],
            "sex": sex,
            "birth_month": birth_month(born),
            "ethnicity": ethnicity,
            "disabled": disabled,
            "_row": frame["_row"],
        }
    )


def _ev(event_type: str, frame: pd.DataFrame, at: pd.Series, **kw: object) -> pd.DataFrame:
    keep = at.notna()
    f, at = frame[keep], at[keep]
    cut = {k: (v[keep] if isinstance(v, pd.Series) else v) for k, v in kw.items()}
    out = events(event_type, f["child"], at, at.dt.strftime("%Y-%m-%d"), **cut)  # type: ignore[arg-type]
    return out.assign(_row=f["_row"].to_numpy())


def _list1(r: _Reader, f: pd.DataFrame) -> list[pd.DataFrame]:
    at = r.dates(f, "Date of Contact")
    source = r.coded(f, "Contact Source", layout.CONTACT_SOURCE)
    episode = _episode(f["child"], "contact", at)
    return [_ev("contact_received", f, at, episode=episode, code=source.map(_contact_code))]


def _list2(r: _Reader, f: pd.DataFrame) -> list[pd.DataFrame]:
    start, end = r.dates(f, "Assessment start date"), r.dates(f, "Assessment completion date")
    episode = _episode(f["child"], "early_help", start)
    return [
        _ev("early_help_started", f, start, episode=episode),
        _ev("early_help_ended", f, end, episode=episode),
    ]


def _referrals(r: _Reader, f: pd.DataFrame, start_col: str) -> tuple[pd.Series, pd.Series]:
    start = r.dates(f, start_col)
    return start, _episode(f["child"], "referral", start)


def _list3(r: _Reader, f: pd.DataFrame) -> list[pd.DataFrame]:
    start, episode = _referrals(r, f, "Date of referral")
    source = r.coded(f, "Referral Source", layout.CONTACT_SOURCE)
    nfa = _yes_no(f["Referral NFA?"]).map({True: "nfa"}) if "Referral NFA?" in f else None
    return [_ev("referral_received", f, start, episode=episode, referral=episode, code=source, code2=nfa)]


def _list6(r: _Reader, f: pd.DataFrame) -> list[pd.DataFrame]:
    start, episode = _referrals(r, f, "CIN Start Date")
    end = r.dates(f, "CIN Closure Date")
    reason = r.coded(f, "Reason for Closure", layout.REASON_FOR_CLOSURE)
    return [
        _ev("referral_received", f, start, episode=episode, referral=episode),
        _ev("referral_closed", f, end, episode=episode, referral=episode, code=reason),
    ]


def _list4(r: _Reader, f: pd.DataFrame) -> list[pd.DataFrame]:
    start = r.dates(f, "Continuous Assessment Start Date")
    end = r.dates(f, "Continuous Assessment Date of Authorisation")
    episode = _episode(f["child"], "assessment", start.fillna(end))
    return [
        _ev("assessment_started", f, start, episode=episode),
        _ev("assessment_authorised", f, end, episode=episode),
    ]


def _list5(r: _Reader, f: pd.DataFrame) -> list[pd.DataFrame]:
    start = r.dates(f, "Strategy discussion initiating Section 47 Enquiry Start Date")
    icpc = r.dates(f, "Date of Initial Child Protection Conference")
    episode = _episode(f["child"], "s47", start)
    column = "Did the Initial Child Protection Conference Result in a Child Protection Plan"
    plan = _yes_no(f[column]).map({True: "plan", False: "no_plan"}) if column in f else None
    return [
        _ev("strategy_discussion", f, start, episode=episode),
        _ev("s47_started", f, start, episode=episode),
        _ev("icpc_held", f, icpc, episode=episode, code=plan),
    ]


def _list7(r: _Reader, f: pd.DataFrame) -> list[pd.DataFrame]:
    start, end = r.dates(f, "Child Protection Plan Start Date"), r.dates(f, "Child Protection Plan End Date")
    # The template writes words ("a) Neglect"); a bare N/P/S/E/M is read too (the first letter).
    given = f.get("Initial Category of Abuse", pd.Series("", index=f.index)).fillna("")
    category = given.map(lambda v: re.sub(r"^[a-z]\)\s*", "", v.strip()).upper()[:1] or None)
    bad = category.notna() & ~category.isin(list(layout.CATEGORY_OF_ABUSE))
    r.quarantine.add(f[bad], "Initial Category of Abuse", "not a category of abuse of the template")
    episode = _episode(f["child"], "cp_plan", start)
    return [
        _ev("cp_plan_started", f, start, episode=episode, code=category),
        _ev("cp_plan_ended", f, end, episode=episode),
        _ev("cp_review", f, r.dates(f, "Date of latest review conference"), episode=episode),
        _ev("child_seen", f, r.dates(f, "Date of the Last Statutory Visit"), episode=episode, code="cp"),
    ]


def _list8(r: _Reader, f: pd.DataFrame) -> list[pd.DataFrame]:
    start = r.dates(f, "Date Started to be Looked After")
    end = r.dates(f, "Date Ceased to be Looked After")
    episode = _episode(f["child"], "cla_period", start)
    legal_day = r.dates(f, "Start date of current legal status")
    legal = r.coded(f, "Child's Legal Status", layout.LEGAL_STATUS)
    place_day = r.dates(f, "Start Date of Most Recent Placement")
    place = r.coded(f, "Placement Type", layout.PLACEMENT_TYPE)
    reason = r.coded(f, "Reason Ceased to be Looked After", layout.REASON_CEASED)
    at_start_legal = legal.where(legal_day == start)
    at_start_place = place.where(place_day == start)
    return [
        _ev("cla_period_started", f, start, episode=episode, code=at_start_legal, code2=at_start_place),
        _ev("cla_legal_status_changed", f, legal_day.where(legal_day > start), episode=episode, code=legal),
        _ev("cla_placement_changed", f, place_day.where(place_day > start), episode=episode, code=place),
        _ev("cla_period_ended", f, end, episode=episode, code=reason),
        _ev("cla_review", f, r.dates(f, "Date of Latest Statutory Review"), episode=episode),
        _ev("child_seen", f, r.dates(f, "Date of Last Social Work Visit"), episode=episode, code="cla"),
        _ev("health_assessment", f, r.dates(f, "Date of Last Health Assessment")),
        _ev("dental_check", f, r.dates(f, "Date of Last Dental Check")),
    ]


def _list9(r: _Reader, f: pd.DataFrame) -> list[pd.DataFrame]:
    return []  # no contact date on the list: nothing to date an event by


def _list10(r: _Reader, f: pd.DataFrame) -> list[pd.DataFrame]:
    decision = r.dates(f, "Date of Decision that Child Should be Placed for Adoption")
    episode = _episode(f["child"], "adoption", decision)
    reason = r.coded(f, "Reason Why Child No Longer Placed for Adoption", layout.REASON_NO_LONGER_PLACED)
    milestones = {
        "placement_order": "Date of Placement Order",
        "adoption_match": "Date of Matching Child and Prospective Adopters",
        "adoption_placed": "Date Placed for Adoption",
        "adoption_order": "Date of Adoption Order",
    }
    out = [_ev("adoption_decision", f, decision, episode=episode)]
    out += [_ev(kind, f, r.dates(f, col), episode=episode) for kind, col in milestones.items()]
    ceased = r.dates(f, "Date of Decision that Child Should No Longer be Placed for Adoption")
    out.append(_ev("adoption_plan_ceased", f, ceased, episode=episode, code=reason))
    return out


_LIST_EVENTS = {
    "List 1": _list1,
    "List 2": _list2,
    "List 3": _list3,
    "List 4": _list4,
    "List 5": _list5,
    "List 6": _list6,
    "List 7": _list7,
    "List 8": _list8,
    "List 9": _list9,
    "List 10": _list10,
}


def import_annex_a(
    files: list[Path],
    out_dir: Path,
    *,
    la_code: str,
    as_at: date | None = None,
    population: Path | None = None,
) -> ImportResult:
    """Annex A workbooks (one authority, one or several months) -> canonical files in ``out_dir``."""
    started = time.perf_counter()
    if not la_code:
        raise ImportRefused("an Annex A workbook does not say which authority it is from: pass --la CODE.")
    if as_at is not None and len(files) > 1:
        raise ImportRefused("--as-at names one workbook's day: give one workbook with it, or none.")
    pseudo = Pseudonymiser(key_from_environment(), la_code)
    quarantine = Quarantine(describe=pseudo.describe())
    states, summaries = [], []
    for path in files:
        path = Path(path)
        if not path.is_file():
            raise ImportRefused(f"{path} does not exist. Expected {EXPECTED}.")
        lists = read_workbook(path)
        reader = _Reader(lists, pd.Timestamp(as_at) if as_at else None, quarantine)
        children, evs = _convert(reader, pseudo)
        stamp = reader.as_at + pd.Timedelta(hours=23, minutes=59, seconds=59)
        states.append((stamp, children, evs))
        summaries += [
            FileSummary(path.name, name, reader.as_at.year, rows_read=len(f)) for name, f in lists.items()
        ]
    states.sort(key=lambda s: s[0])
    event_rows = versions([(s, e) for s, _, e in states], "event_id", CONTENT, tombstones=False)
    child_rows = versions([(s, c) for s, c, _ in states], "child_id", CHILD_CONTENT, tombstones=False)
    out_dir = Path(out_dir)
    paths = write_canonical(out_dir, "annex_a", la_code, child_rows, event_rows)
    paths["quarantine"] = write_quarantine(out_dir, "annex_a", quarantine.frame())
    warnings: list[str] = []
    population_rows = _population(population, out_dir, la_code, warnings, paths)
    counts = quarantine.counts()
    for s in summaries:
        s.quarantined = counts.get((s.file, s.table), 0)
    return ImportResult(
        "annex_a",
        la_code,
        sorted({s.year for s in summaries if s.year}),
        summaries,
        paths,
        len(child_rows),
        len(event_rows),
        population_rows,
        warnings,
        {},
        time.perf_counter() - started,
    )
