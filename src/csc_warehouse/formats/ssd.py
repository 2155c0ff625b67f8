"""Read Standard Safeguarding Dataset extracts into canonical children and events (ssd-tables.md).

**Extracts.** An extract is a folder of ``ssd_<table>.csv`` files (any subset of the tables in
``ssd_tables.TABLES``; columns the warehouse does not use are ignored). ``cscw import ssd DIR`` reads
DIR itself as one extract, or each sub-folder of DIR as one, oldest first; an extract's date is the
date in its folder name (``2018-03-31``, ``20180331``, ``ssd_2018-03``: the month's last day), or
``--extract-date`` for a single extract. Dates are read as the database writes them (``2018-03-31
14:05:00.000``, ``2018-03-31T14:05:00``, ``31/03/2018 14:05``); time of day is kept.

**Versions.** The SSD keeps no recorded-at, version or deletion: every row of an extract taken on day
D is recorded at the end of D (no table carries a better timestamp); a row that changes between
extracts is a new version then; an event an extract no longer holds becomes a tombstone at that
extract's date, except (i) a care leaver's contact, since the table keeps only the latest one, and
(ii) an event dated before the extract's window (``--window-years``, the SSD's 6 years), which has
aged out, not been deleted. Event ids hash the table, the row's key and the event type, so a
restated row is the same event.

**Mapping** (ssd-tables.md "Mapping to canonical events"): contacts -> ``contact_received`` (source
grouped from the CIN referral-source code) and ``contact_decision`` (referral / advice / nfa from the
outcome flags, early help from the comments; dated at the contact: the SSD has no decision time);
cin_episodes -> ``referral_received`` / ``referral_closed``; cin_assessments -> ``assessment_started``
/ ``assessment_authorised`` (outcome from the flags, factors from assessment_factors) and a
``child_seen`` ``assessment`` at the start when seen; s47_enquiry -> ``strategy_discussion`` and
``s47_started`` at its start, ``icpc_not_required`` at its end when CP_CONFERENCE_FLAG is N;
initial_cp_conference -> ``icpc_held`` (plan / no_plan); cin_plans, cp_plans (category words ->
N/P/E/S/M), cp_reviews, the three visit tables (seen = Y) -> ``child_seen`` cin / cp / cla;
cla_episodes + legal_status + cla_placement -> the period's start (legal status and placement that
day, distance in km), placement and legal-status changes, end (the last episode's reason when not
X1); cla_reviews, cla_health (Completed), sdq_scores, missing, immigration_status (UASC), permanence
(adoption milestones, type Adoption), care_leavers (latest contact; activity 0 and accommodation 0
when NO or REFU, dated at the extract then; DIED, NREQ, RHOM are outside the cohort),
early_help_episodes, involvements (role CW) -> ``worker_allocated``; person + disability -> children
(birth month from the date of birth; any disability code but NONE -> disabled).

**Quarantined** (extract file, line, column, reason; every extract's rows count): a row with no id
or no person, a person not in ssd_person, a date that is not a date or after the extract's day, an
end before its start, an unknown code. The row's other events are kept only when the fault is in
one of them (an end before its start drops the end only).
"""

from __future__ import annotations

import json
import re
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from csc_warehouse.formats import codes
from csc_warehouse.formats import ssd_tables as t
from csc_warehouse.formats.anonymise import Pseudonymiser, birth_month, key_from_environment
from csc_warehouse.formats.canonical import (
    CHILD_CONTENT,
    CONTENT,
    combine,
    events,
    hashed,
    versions,
    write_canonical,
    write_quarantine,
)
from csc_warehouse.formats.common import FileSummary, ImportRefused, Quarantine, decode_text
from csc_warehouse.formats.imports import ImportResult, _population

__all__ = ["find_extracts", "import_ssd"]

EXPECTED = "an SSD extract: a folder of ssd_<table>.csv files (ssd_person.csv, ssd_cin_episodes.csv, ...)"
WINDOW_YEARS = 6
_DATE_IN_NAME = re.compile(r"(\d{4})-?(\d{2})(?:-?(\d{2}))?")


def _date_of(name: str) -> date | None:
    match = _DATE_IN_NAME.search(name)
    if not match:
        return None
    year, month, day = int(match.group(1)), int(match.group(2)), match.group(3)
    try:
        if day is None:
            return (pd.Timestamp(year=year, month=month, day=1) + pd.offsets.MonthEnd(0)).date()
        return date(year, month, int(day))
    except ValueError:
        return None


def find_extracts(folder: Path, extract_date: date | None = None) -> list[tuple[date, Path]]:
    """(extract date, folder) of every extract under ``folder``, oldest first."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ImportRefused(f"{folder} is not a folder. Expected {EXPECTED}.")
    if list(folder.glob("ssd_*.csv")):
        day = extract_date or _date_of(folder.name)
        if day is None:
            raise ImportRefused(
                f"{folder} does not say when it was extracted: pass --extract-date YYYY-MM-DD, or name the "
                "folder by its date (e.g. 2018-03-31)."
            )
        return [(day, folder)]
    found = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and list(p.glob("ssd_*.csv"))):
        day = _date_of(sub.name)
        if day is None:
            raise ImportRefused(f"extract folder {sub.name} has no date in its name (e.g. 2018-03-31).")
        found.append((day, sub))
    if not found:
        raise ImportRefused(
            f"{folder} holds no ssd_*.csv file, nor sub-folders of them. Expected {EXPECTED}."
        )
    if extract_date is not None:
        raise ImportRefused(
            "--extract-date is for a single extract; these extracts are dated by their folders."
        )
    days = [d for d, _ in found]
    if len(set(days)) != len(days):
        raise ImportRefused(
            f"two extract folders have the same date: {sorted(d for d in days if days.count(d) > 1)}"
        )
    return sorted(found)


def _read(path: Path, table: str, quarantine: Quarantine) -> pd.DataFrame:
    """One table as text, with the bookkeeping columns; refused if its key columns are missing."""
    import io

    text = decode_text(path, f"an SSD table ({t.file_name(table)})")
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    frame.columns = [c.strip().lower() for c in frame.columns]
    columns = t.TABLES[table][1]
    missing = [c for c in columns if c not in frame and not c.endswith(("_json", "_reason", "_distance"))]
    if missing:
        raise ImportRefused(
            f"{path.parent.name}/{path.name} lacks {', '.join(missing)} (has {', '.join(frame.columns)}). "
            f"Expected the SSD's columns {', '.join(columns)}."
        )
    frame = frame.reindex(columns=list(columns)).fillna("")
    for col in frame.columns:
        frame[col] = frame[col].astype(str).str.strip()
    return frame.assign(
        _line=np.arange(2, len(frame) + 2),
        _row=[f"{path.parent.name}/{path.name}:{i}" for i in range(2, len(frame) + 2)],
        _file=f"{path.parent.name}/{path.name}",
        _table=t.file_name(table)[:-4],
    )


_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def _stamps(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(the DATETIMEs, a mask of values given that are not one)."""
    text = values.fillna("").astype(str).str.strip()
    iso = pd.to_datetime(text.where(text.str.match(r"^\d{4}-\d{2}-\d{2}")), errors="coerce", format="ISO8601")
    dmy = text.str.extract(_DMY)
    parts = pd.DataFrame(
        {
            "year": pd.to_numeric(dmy[2]),
            "month": pd.to_numeric(dmy[1]),
            "day": pd.to_numeric(dmy[0]),
            "hour": pd.to_numeric(dmy[3]).fillna(0),
            "minute": pd.to_numeric(dmy[4]).fillna(0),
            "second": pd.to_numeric(dmy[5]).fillna(0),
        }
    )
    other = (
        pd.to_datetime(parts, errors="coerce")
        if dmy[0].notna().any()
        else pd.Series(pd.NaT, index=text.index)
    )
    stamps = iso.fillna(other).dt.floor("s").astype("datetime64[s]")
    return stamps, (text != "") & stamps.isna()


class _Extract:
    """One extract's tables, checked; produces its children and events."""

    def __init__(self, day: date, folder: Path, quarantine: Quarantine, pseudo: Pseudonymiser):
        self.day, self.quarantine, self.pseudo = pd.Timestamp(day), quarantine, pseudo
        self.end_of_day = self.day + pd.Timedelta(days=1)
        self.tables: dict[str, pd.DataFrame] = {}
        self.summaries: list[FileSummary] = []
        for name in t.TABLES:
            path = folder / t.file_name(name)
            if path.is_file():
                frame = _read(path, name, quarantine)
                self.tables[name] = frame
                summary = FileSummary(f"{folder.name}/{path.name}", path.stem, day.year, rows_read=len(frame))
                self.summaries.append(summary)
        self.people: set[str] = set()

    def table(self, name: str) -> pd.DataFrame:
        columns = t.TABLES[name][1]
        return self.tables.get(name, pd.DataFrame(columns=[*columns, "_line", "_row", "_file", "_table"]))

    # -- checks ---------------------------------------------------------------------------------
    def rows(self, name: str, person: str) -> pd.DataFrame:
        """The table's rows with a key and a known person (others quarantined), child pseudonymised."""
        frame = self.table(name)
        key = t.TABLES[name][0]
        no_key = frame[key] == ""
        self.quarantine.add(frame[no_key], key, f"no {key}")
        no_person = ~no_key & (frame[person] == "")
        self.quarantine.add(frame[no_person], person, f"no {person}")
        unknown = ~no_key & ~no_person & ~frame[person].isin(self.people)
        self.quarantine.add(frame[unknown], person, "person not in ssd_person")
        frame = frame[~(no_key | no_person | unknown)]
        return frame.assign(child=self.pseudo.ids(frame[person]))

    def when(self, frame: pd.DataFrame, column: str, required: bool = False) -> pd.Series:
        """A DATETIME column; a bad, future or (when required) missing one quarantines the row."""
        stamps, bad = _stamps(frame[column])
        self.quarantine.add(frame[bad], column, f"{column} is not a date (e.g. 2018-03-31 14:05:00.000)")
        late = stamps >= self.end_of_day
        self.quarantine.add(frame[late], column, f"{column} is after the extract's day {self.day:%Y-%m-%d}")
        if required:
            self.quarantine.add(frame[stamps.isna() & ~bad], column, f"no {column}")
        return stamps.where(~bad & ~late)

    def ended(self, frame: pd.DataFrame, start: pd.Series, column: str) -> pd.Series:
        """An end DATETIME; one before its start quarantines the row's end only (the start is kept)."""
        end = self.when(frame, column)
        before = end.notna() & start.notna() & (end.dt.normalize() < start.dt.normalize())
        self.quarantine.add(frame[before], column, f"{column} is before the start")
        return end.where(~before)

    def code(self, frame: pd.DataFrame, column: str, allowed: object, what: str) -> pd.Series:
        """A coded column; a CMS description that starts with the code ("C2 - Full care order") is read
        as the code; anything else quarantines the row."""
        known = set(allowed)  # type: ignore[call-overload]
        values = frame[column].where(frame[column] != "").map(lambda v: _leading_code(v, known))
        bad = values.notna() & ~values.isin(known)
        self.quarantine.add(frame[bad], column, f"{column}: not {what}")
        return values.where(~bad)

    def convert(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        children = self._children()
        parts = [build(self) for build in _BUILDERS]
        bad = self.quarantine.rows()
        kept = [p[~p["_row"].isin(bad)].drop(columns="_row") for p in parts if not p.empty]
        return children, combine(kept)

    def _children(self) -> pd.DataFrame:
        person = self.table("person")
        no_id = person["pers_person_id"] == ""
        self.quarantine.add(person[no_id], "pers_person_id", "no pers_person_id")
        person = person[~no_id]
        dup = person.duplicated("pers_person_id", keep="first")
        self.quarantine.add(
            person[dup], "pers_person_id", "a second row for the same person (the first is kept)"
        )
        person = person[~dup]
        born, bad = _stamps(person["pers_dob"])
        self.quarantine.add(person[bad], "pers_dob", "pers_dob is not a date")
        sex = self.code(person, "pers_sex", ("M", "F", "U"), "a sex code (M, F, U)")
        ethnicity = self.code(person, "pers_ethnicity", codes.ETHNIC, "a DfE ethnicity code")
        disability = self.table("disability")
        flags = disability[disability["disa_person_id"].isin(set(person["pers_person_id"]))]
        coded = flags.groupby("disa_person_id")["disa_disability_code"].apply(
            lambda c: bool((c.str.upper() != "NONE").any())
        )
        self.people = set(person["pers_person_id"])
        return pd.DataFrame(
            {
                "child_id": self.pseudo.ids(person["pers_person_id"]).to_numpy(),
                "sex": sex.to_numpy(),
                "birth_month": birth_month(born).to_numpy(),
                "ethnicity": ethnicity.to_numpy(),
                "disabled": person["pers_person_id"].map(coded).astype(object).to_numpy(),
            }
        )


def _leading_code(value: object, known: set[str]) -> object:
    if not isinstance(value, str) or value in known:
        return value
    token = re.match(r"^\s*([A-Za-z0-9]+)\b", value)
    return token.group(1).upper() if token and token.group(1).upper() in known else value


def _ev(x: _Extract, table: str, role: str, frame: pd.DataFrame, at: pd.Series, **kw: object) -> pd.DataFrame:
    """Events of one type from rows (those with a date), ids from the table, the row's key and the role."""
    keep = at.notna()
    f, at = frame[keep], at[keep]
    cut = {k: (v[keep] if isinstance(v, pd.Series) else v) for k, v in kw.items()}
    key = t.TABLES[table][0]
    out = events(role, f["child"], at, table + ":" + f[key], **cut)  # type: ignore[arg-type]
    return out.assign(_row=f["_row"].to_numpy())


def _ids(x: _Extract, frame: pd.DataFrame, column: str) -> pd.Series:
    """An episode id column of the SSD as the warehouse's (hashed: CMS ids never leave the import)."""
    values = frame[column]
    return hashed("S", values, x.pseudo.la_code).where(values != "", None)


def _json(values: pd.Series) -> pd.Series:
    def parse(text: str) -> dict:
        try:
            data = json.loads(text) if text else {}
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    return values.map(parse)


def _contacts(x: _Extract) -> pd.DataFrame:
    c = x.rows("contacts", "cont_person_id")
    at = x.when(c, "cont_contact_date", required=True)
    source = c["cont_contact_source_code"].where(c["cont_contact_source_code"] != "")
    group = source.map(
        lambda s: t.SOURCE_GROUP.get(s[:1] if s != "10" else "", "other") if isinstance(s, str) else None
    )
    outcome = _json(c["cont_contact_outcome_json"])

    def decision(o: dict) -> str | None:
        for flag, code in t.CONTACT_FLAGS.items():
            if str(o.get(flag, "")).upper() == "Y":
                return code
        if t.EARLY_HELP_COMMENT in str(o.get("COMMENTS", "")).lower():
            return "early_help"
        return None

    episode = _ids(x, c, "cont_contact_id")
    decided = outcome.map(decision)
    return pd.concat(
        [
            _ev(x, "contacts", "contact_received", c, at, episode=episode, code=group),
            _ev(
                x, "contacts", "contact_decision", c, at.where(decided.notna()), episode=episode, code=decided
            ),
        ]
    )


def _referrals(x: _Extract) -> pd.DataFrame:
    r = x.rows("cin_episodes", "cine_person_id")
    start = x.when(r, "cine_referral_date")
    end = x.ended(r, start, "cine_close_date")
    source = x.code(r, "cine_referral_source_code", codes.REFERRAL_SOURCE, "a CIN referral-source code")
    reason = x.code(r, "cine_close_reason", codes.REASON_FOR_CLOSURE, "a CIN closure reason (RC1-RC9)")
    episode = _ids(x, r, "cine_referral_id")
    nfa = r["cine_referral_nfa"].str.upper().map({"Y": "nfa"})
    return pd.concat(
        [
            _ev(
                x,
                "cin_episodes",
                "referral_received",
                r,
                start,
                episode=episode,
                referral=episode,
                code=source,
                code2=nfa,
            ),
            _ev(x, "cin_episodes", "referral_closed", r, end, episode=episode, referral=episode, code=reason),
        ]
    )


def _assessments(x: _Extract) -> pd.DataFrame:
    a = x.rows("cin_assessments", "cina_person_id")
    start = x.when(a, "cina_assessment_start_date")
    end = x.ended(a, start, "cina_assessment_auth_date")
    episode, referral = _ids(x, a, "cina_assessment_id"), _ids(x, a, "cina_referral_id")
    flags = _json(a["cina_assessment_outcome_json"])
    by_flag = {flag: code for code, flag in t.ASSESSMENT_FLAGS.items()}

    def outcome(o: dict, nfa: str) -> str | None:
        if nfa.upper() == "Y":
            return "nfa"
        for flag, code in by_flag.items():
            if str(o.get(flag, "")).upper() == "Y":
                return code
        return None

    result = pd.Series(
        [outcome(o, n) for o, n in zip(flags, a["cina_assessment_outcome_nfa"], strict=True)],
        index=a.index,
        dtype=object,
    )
    factors = x.table("assessment_factors")
    listed = (
        factors.set_index("cinf_assessment_id")["cinf_assessment_factors_json"]
        if len(factors)
        else pd.Series(dtype=object)
    )
    listed = listed[~listed.index.duplicated()]

    def factor_text(raw: object) -> str | None:
        try:
            values = json.loads(raw) if isinstance(raw, str) and raw else []
        except ValueError:
            return None
        values = (
            list(values)
            if isinstance(values, list)
            else [k for k, v in dict(values).items() if str(v).lower() in ("yes", "y")]
        )
        return ";".join(str(v) for v in values) or None

    code2 = a["cina_assessment_id"].map(listed).map(factor_text) if len(listed) else None
    seen = a["cina_assessment_child_seen"].str.upper() == "Y"
    return pd.concat(
        [
            _ev(x, "cin_assessments", "assessment_started", a, start, episode=episode, referral=referral),
            _ev(
                x,
                "cin_assessments",
                "assessment_authorised",
                a,
                end,
                episode=episode,
                referral=referral,
                code=result,
                code2=code2,
            ),
            _ev(
                x,
                "cin_assessments",
                "child_seen",
                a,
                start.where(seen),
                episode=episode,
                referral=referral,
                code="assessment",
            ),
        ]
    )


def _s47(x: _Extract) -> pd.DataFrame:
    s = x.rows("s47_enquiry", "s47e_person_id")
    start = x.when(s, "s47e_s47_start_date")
    end = x.ended(s, start, "s47e_s47_end_date")
    episode, referral = _ids(x, s, "s47e_s47_enquiry_id"), _ids(x, s, "s47e_referral_id")
    no_conference = _json(s["s47e_s47_outcome_json"]).map(
        lambda o: str(o.get("CP_CONFERENCE_FLAG", "")).upper() == "N"
    )
    out = [
        _ev(x, "s47_enquiry", "strategy_discussion", s, start, episode=episode, referral=referral),
        _ev(x, "s47_enquiry", "s47_started", s, start, episode=episode, referral=referral),
        _ev(
            x,
            "s47_enquiry",
            "icpc_not_required",
            s,
            end.where(no_conference),
            episode=episode,
            referral=referral,
        ),
    ]
    i = x.rows("initial_cp_conference", "icpc_person_id")
    held = x.when(i, "icpc_icpc_date")
    plan = i["icpc_icpc_outcome_cp_flag"].str.upper().map({"Y": "plan", "N": "no_plan"})
    out.append(
        _ev(
            x, "initial_cp_conference", "icpc_held", i, held,
            episode=_ids(x, i, "icpc_s47_enquiry_id"), referral=_ids(x, i, "icpc_referral_id"), code=plan,
        )
    )  # fmt: skip
    return pd.concat(out)


def _plans(x: _Extract) -> pd.DataFrame:
    p = x.rows("cin_plans", "cinp_person_id")
    start = x.when(p, "cinp_cin_plan_start_date")
    end = x.ended(p, start, "cinp_cin_plan_end_date")
    episode, referral = _ids(x, p, "cinp_cin_plan_id"), _ids(x, p, "cinp_referral_id")
    c = x.rows("cp_plans", "cppl_person_id")
    cstart = x.when(c, "cppl_cp_plan_start_date")
    cend = x.ended(c, cstart, "cppl_cp_plan_end_date")
    # Words (Neglect, Physical abuse ...), the census codes (NEG, PHY, EMO, SAB, MUL) or N/P/E/S/M: the
    # first letter is the canonical code in each.
    given = c["cppl_cp_plan_initial_category"].str.strip()
    category = given.str[:1].str.upper().where(given != "")
    bad = category.notna() & ~category.isin(list(t.CATEGORY_WORDS))
    x.quarantine.add(
        c[bad], "cppl_cp_plan_initial_category", "not a category of abuse (Neglect, Physical abuse, ...)"
    )
    category = category.where(~bad)
    cp_episode, cp_referral = _ids(x, c, "cppl_cp_plan_id"), _ids(x, c, "cppl_referral_id")
    r = x.rows("cp_reviews", "cppr_person_id")
    return pd.concat(
        [
            _ev(x, "cin_plans", "cin_plan_started", p, start, episode=episode, referral=referral),
            _ev(x, "cin_plans", "cin_plan_ended", p, end, episode=episode, referral=referral),
            _ev(
                x,
                "cp_plans",
                "cp_plan_started",
                c,
                cstart,
                episode=cp_episode,
                referral=cp_referral,
                code=category,
            ),
            _ev(x, "cp_plans", "cp_plan_ended", c, cend, episode=cp_episode, referral=cp_referral),
            _ev(
                x,
                "cp_reviews",
                "cp_review",
                r,
                x.when(r, "cppr_cp_review_date"),
                episode=_ids(x, r, "cppr_cp_plan_id"),
            ),
        ]
    )


def _visits(x: _Extract) -> pd.DataFrame:
    out = []
    for table, prefix, code, parent in (
        ("cin_visits", "cinv", "cin", None),
        ("cp_visits", "cppv", "cp", "cppv_cp_plan_id"),
        ("cla_visits", "clav", "cla", "clav_cla_id"),
    ):
        v = x.rows(table, f"{prefix}_person_id")
        seen = v[f"{prefix}_{table[:-1]}_seen"].str.upper() == "Y"
        at = x.when(v, f"{prefix}_{table[:-1]}_date").where(seen)
        episode = _ids(x, v, parent) if parent else None
        out.append(_ev(x, table, "child_seen", v, at, episode=episode, code=code))
    return pd.concat(out)


def _looked_after(x: _Extract) -> pd.DataFrame:
    e = x.rows("cla_episodes", "clae_person_id")
    start = x.when(e, "clae_cla_episode_start_date", required=True)
    end = x.ended(e, start, "clae_cla_episode_ceased_date")
    reason = x.code(
        e, "clae_cla_episode_ceased_reason", codes.REASON_CEASED, "an SSDA903 reason episode ceased"
    )
    e = e.assign(start=start, end=end, reason=reason, period=_ids(x, e, "clae_cla_id"))
    e = e[e["start"].notna() & e["period"].notna()].sort_values(["period", "start"])
    first = e.groupby("period").head(1).set_index("period")
    final = e.groupby("period").tail(1).set_index("period")
    ends = final[final["end"].notna() & final["reason"].notna() & (final["reason"] != "X1")]

    legal = x.rows("legal_status", "lega_person_id")
    legal = legal.assign(start=x.when(legal, "lega_legal_status_start_date"))
    status = x.code(legal, "lega_legal_status", codes.LEGAL_STATUS, "a looked-after legal status")
    # Statuses that are not looked-after ones (SGO, CAO ...) are kept out, not quarantined.
    legal = legal.assign(code=status)[status.notna() & legal["start"].notna()]
    placed = x.rows("cla_placement", "clap_person_id")
    placed = placed.assign(
        start=x.when(placed, "clap_cla_placement_start_date"),
        period=_ids(x, placed, "clap_cla_id"),
        type=x.code(
            placed,
            "clap_cla_placement_type",
            set(codes.placement_codes(2026)) | set(codes._PLACE_BASE),
            "a placement type",
        ),
        miles=pd.to_numeric(placed["clap_cla_placement_distance"].replace("", None), errors="coerce"),
    )
    placed = placed[placed["start"].notna()].sort_values(["period", "start", "_line"])
    km = (placed["miles"].where(placed["miles"] != 999.9) * t.MILES_TO_KM).round(6)
    placed = placed.assign(
        km=km, previous_reason=placed.groupby("period")["clap_cla_placement_change_reason"].shift(1)
    )

    # Each legal status belongs to the period of the child it starts in (by person and date).
    periods = pd.DataFrame(
        {
            "period": first.index,
            "child": first["child"],
            "start": first["start"],
            "end": final["end"].reindex(first.index),
        }
    ).reset_index(drop=True)
    spans = legal.merge(periods, on="child", suffixes=("", "_period"))
    inside = (spans["start"] >= spans["start_period"]) & (
        spans["end"].isna() | (spans["start"] < spans["end"])
    )
    spans = spans[inside].sort_values(["period", "start", "_line"])
    day = spans["start"].dt.normalize()
    at_start = (
        spans[day == spans["start_period"].dt.normalize()]
        .drop_duplicates("period", keep="last")
        .set_index("period")["code"]
    )
    first_place = placed.drop_duplicates("period").set_index("period")
    later_place = placed[placed.duplicated("period")]
    later_legal = spans[day > spans["start_period"].dt.normalize()]

    starts = first.assign(
        code=first.index.map(at_start),
        code2=first.index.map(first_place["type"]),
        value=first.index.map(first_place["km"]),
    )
    period_of_start = pd.Series(starts.index, index=starts.index)
    period_of_end = pd.Series(ends.index, index=ends.index)
    out = [
        _ev_by(
            "cla_period_started",
            starts,
            starts["start"],
            episode=period_of_start,
            code=starts["code"],
            code2=starts["code2"],
            value=starts["value"],
        ),
        _ev_by("cla_period_ended", ends, ends["end"], episode=period_of_end, code=ends["reason"]),
        _ev(
            x,
            "cla_placement",
            "cla_placement_changed",
            later_place,
            later_place["start"],
            episode=later_place["period"],
            code=later_place["type"],
            code2=later_place["previous_reason"].replace("", None),
            value=later_place["km"],
        ),
        _ev(
            x,
            "legal_status",
            "cla_legal_status_changed",
            later_legal,
            later_legal["start"],
            episode=later_legal["period"],
            code=later_legal["code"],
        ),
    ]
    r = x.rows("cla_reviews", "clar_cla_person_id")
    out.append(
        _ev(
            x,
            "cla_reviews",
            "cla_review",
            r,
            x.when(r, "clar_cla_review_date"),
            episode=_ids(x, r, "clar_cla_id"),
        )
    )
    return pd.concat(out)


def _ev_by(role: str, frame: pd.DataFrame, at: pd.Series, **kw: object) -> pd.DataFrame:
    """Events of rows grouped by a derived key (a period of care is several episode rows)."""
    keep = at.notna()
    f, at = frame[keep], at[keep]
    cut = {k: (v[keep] if isinstance(v, pd.Series) else v) for k, v in kw.items()}
    ids = pd.Series(f.index, index=f.index).astype(str)
    out = events(role, f["child"], at, "cla_episodes:" + ids, **cut)  # type: ignore[arg-type]
    return out.assign(_row=f["_row"].to_numpy())


def _checks(x: _Extract) -> pd.DataFrame:
    h = x.rows("cla_health", "clah_person_id")
    done = h["clah_health_check_status"].str.lower() == t.COMPLETED.lower()
    kind = h["clah_health_check_type"].str.lower()
    at = x.when(h, "clah_health_check_date").where(done)
    q = x.rows("sdq_scores", "csdq_person_id")
    score = pd.to_numeric(q["csdq_sdq_score"].replace("", None), errors="coerce")
    bad = (q["csdq_sdq_score"] != "") & (score.isna() | (score < 0) | (score > 40))
    x.quarantine.add(q[bad], "csdq_sdq_score", "not an SDQ score (0-40)")
    return pd.concat(
        [
            _ev(x, "cla_health", "health_assessment", h, at.where(kind.str.contains("health"))),
            _ev(x, "cla_health", "dental_check", h, at.where(kind.str.contains("dental"))),
            _ev(
                x,
                "sdq_scores",
                "sdq_recorded",
                q,
                x.when(q, "csdq_sdq_completed_date").where(score.notna()),
                value=score,
            ),
        ]
    )


def _missing(x: _Extract) -> pd.DataFrame:
    m = x.rows("missing", "miss_person_id")
    start = x.when(m, "miss_missing_episode_start_date", required=True)
    end = x.ended(m, start, "miss_missing_episode_end_date")
    kind = (
        m["miss_missing_episode_type"]
        .str.lower()
        .map(lambda v: "away" if v.startswith("a") else ("missing" if v.startswith("m") else None))
    )
    x.quarantine.add(m[kind.isna()], "miss_missing_episode_type", "not Missing or Away (M/A)")
    episode = _ids(x, m, "miss_table_id")
    return pd.concat(
        [
            _ev(x, "missing", "missing_started", m, start, episode=episode, code=kind),
            _ev(x, "missing", "missing_ended", m, end, episode=episode, code=kind),
        ]
    )


def _uasc(x: _Extract) -> pd.DataFrame:
    u = x.rows("immigration_status", "immi_person_id")
    u = u[u["immi_immigration_status"].str.lower().str.contains("unaccompanied")]  # other statuses: no event
    start = x.when(u, "immi_immigration_status_start_date")
    end = x.ended(u, start, "immi_immigration_status_end_date")
    return pd.concat(
        [
            _ev(x, "immigration_status", "uasc_started", u, start),
            _ev(x, "immigration_status", "uasc_ended", u, end),
        ]
    )


def _adoption(x: _Extract) -> pd.DataFrame:
    p = x.rows("permanence", "perm_person_id")
    episode = _ids(x, p, "perm_table_id")
    out = []
    for role, column in t.ADOPTION_MILESTONES.items():
        at = x.when(p, column)
        if role == "adoption_order":  # an SGO or CAO order is not an adoption
            at = at.where(p["perm_permanence_order_type"].str.lower().str.startswith("adopt"))
        code = (
            p["perm_decision_reversed_reason"].replace("", None) if role == "adoption_plan_ceased" else None
        )
        out.append(_ev(x, "permanence", role, p, at, episode=episode, code=code))
    return pd.concat(out)


def _care_leavers(x: _Extract) -> pd.DataFrame:
    c = x.rows("care_leavers", "clea_person_id")
    touch = c["clea_care_leaver_in_touch"].str.upper()
    bad = ~touch.isin(codes.IN_TOUCH)
    x.quarantine.add(c[bad], "clea_care_leaver_in_touch", "not an SSDA903 in-touch code")
    c, touch = (
        c[~bad & ~touch.isin(codes.IN_TOUCH_NOT_IN_COHORT)],
        touch[~bad & ~touch.isin(codes.IN_TOUCH_NOT_IN_COHORT)],
    )
    yes = touch == "YES"
    latest = x.when(c, "clea_care_leaver_latest_contact")
    # Not in touch: no contact date in the SSD, so dated at the extract.
    at = latest.where(yes, x.day)
    activity = x.code(c, "clea_care_leaver_activity", codes.ACTIVITY, "an SSDA903 activity code")
    activity = activity.where(yes, "0")
    letter = x.code(
        c, "clea_care_leaver_accommodation", codes._ACCOM_LETTERS, "an accommodation letter (B ... Z)"
    )
    suitable = c["clea_care_leaver_accom_suitable"].str[:1]
    accom = (letter.fillna("") + suitable).where(yes & letter.notna() & suitable.isin(["1", "2"]), "0")
    keep = at.notna()
    f = c[keep]
    out = events(
        "care_leaver_contact",
        f["child"],
        at[keep],
        at[keep].dt.strftime("%Y-%m-%d"),
        code=activity[keep],
        code2=accom[keep],
    )
    return out.assign(_row=f["_row"].to_numpy())


def _early_help(x: _Extract) -> pd.DataFrame:
    e = x.rows("early_help_episodes", "earl_person_id")
    start = x.when(e, "earl_episode_start_date")
    end = x.ended(e, start, "earl_episode_end_date")
    episode = _ids(x, e, "earl_episode_id")
    reason = e["earl_episode_end_reason"].replace("", None)
    return pd.concat(
        [
            _ev(x, "early_help_episodes", "early_help_started", e, start, episode=episode),
            _ev(x, "early_help_episodes", "early_help_ended", e, end, episode=episode, code2=reason),
        ]
    )


def _workers(x: _Extract) -> pd.DataFrame:
    w = x.rows("involvements", "invo_person_id")
    w = w[w["invo_professional_role_id"].str.upper() == t.CASE_WORKER_ROLE]
    worker = x.pseudo.ids(w["invo_professional_id"].replace("", None), "worker")
    return _ev(
        x, "involvements", "worker_allocated", w, x.when(w, "invo_involvement_start_date"), code=worker
    )


_BUILDERS = (
    _contacts,
    _referrals,
    _assessments,
    _s47,
    _plans,
    _visits,
    _looked_after,
    _checks,
    _missing,
    _uasc,
    _adoption,
    _care_leavers,
    _early_help,
    _workers,
)


def _no_tombstones_for(event_rows: pd.DataFrame, window_years: int) -> pd.DataFrame:
    """Drop the tombstones that are not deletions: a care leaver's earlier contact (the table keeps
    the latest only) and an event that aged out of the extract's window."""
    if event_rows.empty:
        return event_rows
    tomb = event_rows["is_deleted"].astype(bool)
    window_start = pd.to_datetime(event_rows["recorded_at"]) - pd.DateOffset(years=window_years)
    aged = pd.to_datetime(event_rows["event_at"]) < window_start
    keep = ~tomb | ~((event_rows["event_type"] == "care_leaver_contact") | aged)
    return event_rows[keep].reset_index(drop=True)


def import_ssd(
    folder: Path,
    out_dir: Path,
    *,
    la_code: str,
    extract_date: date | None = None,
    window_years: int = WINDOW_YEARS,
    population: Path | None = None,
) -> ImportResult:
    """SSD extract(s) under ``folder`` -> canonical children and events in ``out_dir``."""
    started = time.perf_counter()
    if not la_code:
        raise ImportRefused("an SSD extract has no authority column: pass --la CODE (e.g. E10000015).")
    pseudo = Pseudonymiser(key_from_environment(), la_code)
    extracts = find_extracts(Path(folder), extract_date)
    quarantine = Quarantine(describe=pseudo.describe())
    states, summaries = [], []
    for day, path in extracts:
        extract = _Extract(day, path, quarantine, pseudo)
        children, evs = extract.convert()
        stamp = pd.Timestamp(day) + pd.Timedelta(hours=23, minutes=59, seconds=59)
        states.append((stamp, children, evs))
        summaries += extract.summaries
    event_rows = versions([(s, e) for s, _, e in states], "event_id", CONTENT, tombstones=True)
    event_rows = _no_tombstones_for(event_rows, window_years)
    child_rows = versions([(s, c) for s, c, _ in states], "child_id", CHILD_CONTENT, tombstones=False)
    out_dir = Path(out_dir)
    paths = write_canonical(out_dir, "ssd", la_code, child_rows, event_rows)
    paths["quarantine"] = write_quarantine(out_dir, "ssd", quarantine.frame())
    warnings: list[str] = []
    if len(extracts) == 1:
        warnings.append(
            "One extract: every row is recorded on its day, so figures 'as first reported' before it are not "
            "known. Load each month's extract as it is taken (or a folder of them) to build that history."
        )
    population_rows = _population(population, out_dir, la_code, warnings, paths)
    counts = quarantine.counts()
    for s in summaries:
        s.quarantined = counts.get((s.file, s.table), 0)
    return ImportResult(
        "ssd",
        la_code,
        [d.year for d, _ in extracts],
        summaries,
        paths,
        len(child_rows),
        len(event_rows),
        population_rows,
        warnings,
        {},
        time.perf_counter() - started,
    )
