"""Write canonical events as an SSD extract: one ``ssd_<table>.csv`` per table, as a case system's
database would dump them on the extract day (the other way of ``ssd``; the round trips use it).

The extract holds what was known on its day (pass a source read ``as_of`` that day): one row per
episode with its start and end, dates as SQL Server DATETIME text (``2017-04-01 09:30:00.000``).
What the SSD has no place for is lost on the way, as it would be from a real case system: the time of
a contact decision, the date of a child seen in an assessment, the plan of a CIN visit; a care
leaver's contacts but the latest, and its date when the young person is not in touch. A child's birth
day is written as the 15th of the birth month (the SSD's rule for an unknown day). Distances are in
miles. A period of care is split as the SSD splits it: episodes (``clae_cla_id`` the period),
legal statuses (person and dates only) and placements (with the change reason on the placement that
ends).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from csc_warehouse.formats import ssd_tables as t
from csc_warehouse.formats.returns_source import ReturnSource, lookup
from csc_warehouse.formats.returns_ssda903 import episodes_from_periods

__all__ = ["write_extract"]


def _dt(values: pd.Series) -> pd.Series:
    """DATETIME text as SQL Server writes it; empty where missing."""
    stamps = pd.to_datetime(values)
    text = stamps.dt.strftime("%Y-%m-%d %H:%M:%S.000") if len(stamps) else stamps.astype(object)
    return pd.Series(text, index=values.index, dtype=object).fillna("")


def _flags(keys: list[str], on: list[str], comment: str = "") -> str:
    return json.dumps({**{k: ("Y" if k in on else "N") for k in keys}, "COMMENTS": comment})


def write_extract(source: ReturnSource, folder: Path, extract_date: date) -> dict[str, int]:
    """Write every table of ``ssd_tables.TABLES`` into ``folder``; returns the rows per table."""
    ev, eps, kids = source.events, source.episodes, source.children
    of = source.of
    tables: dict[str, pd.DataFrame] = {}

    tables["person"] = pd.DataFrame(
        {
            "pers_person_id": kids["child_id"],
            "pers_sex": kids["sex"].fillna("U"),
            "pers_ethnicity": kids["ethnicity"],
            "pers_dob": _dt(pd.to_datetime(kids["birth_month"]) + pd.Timedelta(days=14)),
        }
    )
    flagged = kids[kids["disabled"].isin(["true", "false"])]
    tables["disability"] = pd.DataFrame(
        {
            "disa_table_id": "D" + flagged["child_id"],
            "disa_person_id": flagged["child_id"],
            "disa_disability_code": flagged["disabled"].map({"true": "DDA", "false": "NONE"}),
        }
    )

    contacts = of("contact_received").drop_duplicates("episode_id")
    decisions = of("contact_decision").drop_duplicates("episode_id").set_index("episode_id")["code"]
    decided = lookup(contacts["episode_id"], decisions)
    keys = [*t.CONTACT_FLAGS, "OTHER_OUTCOMES_EXIST_FLAG"]
    by_code = {code: flag for flag, code in t.CONTACT_FLAGS.items()}
    outcome = [
        _flags(keys, ["OTHER_OUTCOMES_EXIST_FLAG"], t.EARLY_HELP_COMMENT)
        if d == "early_help"
        else _flags(keys, [by_code[d]] if d in by_code else [])
        for d in decided
    ]
    tables["contacts"] = pd.DataFrame(
        {
            "cont_contact_id": contacts["episode_id"],
            "cont_person_id": contacts["child_id"],
            "cont_contact_date": _dt(contacts["event_at"]),
            "cont_contact_source_code": contacts["code"].map(t.CONTACT_TO_SOURCE).fillna(contacts["code"]),
            "cont_contact_outcome_json": outcome,
        }
    )

    def episodes(kind: str) -> pd.DataFrame:
        return eps[eps["episode_type"] == kind]

    def times(kind_start: str, kind_end: str | None, frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        """The start and end DATETIMEs of episodes (their earliest start and end events)."""
        first = of(kind_start).drop_duplicates("episode_id").set_index("episode_id")["event_at"]
        start = lookup(frame["episode_id"], first)
        if kind_end is None:
            return start, pd.Series(pd.NaT, index=frame.index)
        last = of(kind_end).drop_duplicates("episode_id").set_index("episode_id")["event_at"]
        return start, lookup(frame["episode_id"], last)

    e = episodes("early_help")
    s, f = times("early_help_started", "early_help_ended", e)
    tables["early_help_episodes"] = pd.DataFrame(
        {
            "earl_episode_id": e["episode_id"],
            "earl_person_id": e["child_id"],
            "earl_episode_start_date": _dt(s),
            "earl_episode_end_date": _dt(f),
            "earl_episode_end_reason": e["end_code2"],
        }
    )
    r = episodes("referral")
    s, f = times("referral_received", "referral_closed", r)
    tables["cin_episodes"] = pd.DataFrame(
        {
            "cine_referral_id": r["episode_id"],
            "cine_person_id": r["child_id"],
            "cine_referral_date": _dt(s),
            "cine_referral_source_code": r["code"],
            "cine_referral_nfa": np.where(r["code2"] == "nfa", "Y", "N"),
            "cine_close_date": _dt(f),
            "cine_close_reason": r["end_code"],
        }
    )
    a = episodes("assessment")
    s, f = times("assessment_started", "assessment_authorised", a)
    seen = set(of("child_seen").loc[lambda x: x["code"] == "assessment", "episode_id"])
    flags = list(t.ASSESSMENT_FLAGS.values())
    tables["cin_assessments"] = pd.DataFrame(
        {
            "cina_assessment_id": a["episode_id"],
            "cina_person_id": a["child_id"],
            "cina_referral_id": a["referral_id"],
            "cina_assessment_start_date": _dt(s),
            "cina_assessment_child_seen": np.where(a["episode_id"].isin(seen), "Y", "N"),
            "cina_assessment_auth_date": _dt(f),
            "cina_assessment_outcome_json": [
                _flags(flags, [t.ASSESSMENT_FLAGS[c]] if c in t.ASSESSMENT_FLAGS else [])
                if isinstance(c, str)
                else ""
                for c in a["end_code"]
            ],
            "cina_assessment_outcome_nfa": np.where(a["end_code"] == "nfa", "Y", "N"),
        }
    )
    with_factors = a[a["end_code2"].fillna("") != ""]
    tables["assessment_factors"] = pd.DataFrame(
        {
            "cinf_table_id": "F" + with_factors["episode_id"],
            "cinf_assessment_id": with_factors["episode_id"],
            "cinf_assessment_factors_json": with_factors["end_code2"].map(lambda v: json.dumps(v.split(";"))),
        }
    )
    p = episodes("cin_plan")
    s, f = times("cin_plan_started", "cin_plan_ended", p)
    tables["cin_plans"] = pd.DataFrame(
        {
            "cinp_cin_plan_id": p["episode_id"],
            "cinp_person_id": p["child_id"],
            "cinp_referral_id": p["referral_id"],
            "cinp_cin_plan_start_date": _dt(s),
            "cinp_cin_plan_end_date": _dt(f),
        }
    )
    visits = of("child_seen")
    for table, code, prefix, parent in (
        ("cin_visits", "cin", "cinv", None),
        ("cp_visits", "cp", "cppv", "cppv_cp_plan_id"),
        ("cla_visits", "cla", "clav", "clav_cla_id"),
    ):
        v = visits[visits["code"] == code]
        frame = {
            f"{prefix}_{table[:-1]}_id": v["event_id"],
            f"{prefix}_person_id": v["child_id"],
            f"{prefix}_{table[:-1]}_date": _dt(v["event_at"]),
            f"{prefix}_{table[:-1]}_seen": "Y",
        }
        if parent:
            frame[parent] = v["episode_id"]
        tables[table] = pd.DataFrame(frame)

    # S47: started at its strategy discussion (the SSD's definition), else the S47 start.
    parts = pd.concat([of("strategy_discussion"), of("s47_started")]).sort_values(["event_at", "event_id"])
    s47 = parts.drop_duplicates("episode_id")
    not_required = of("icpc_not_required").drop_duplicates("episode_id").set_index("episode_id")["event_at"]
    held = set(of("icpc_held")["episode_id"])
    ended = lookup(s47["episode_id"], not_required)
    tables["s47_enquiry"] = pd.DataFrame(
        {
            "s47e_s47_enquiry_id": s47["episode_id"],
            "s47e_person_id": s47["child_id"],
            "s47e_referral_id": s47["referral_id"],
            "s47e_s47_start_date": _dt(s47["event_at"]),
            "s47e_s47_end_date": _dt(ended),
            "s47e_s47_outcome_json": [
                json.dumps({"CP_CONFERENCE_FLAG": "N" if pd.notna(x) else ("Y" if i in held else "")})
                for i, x in zip(s47["episode_id"], ended, strict=True)
            ],
        }
    )
    icpc = of("icpc_held")
    tables["initial_cp_conference"] = pd.DataFrame(
        {
            "icpc_icpc_id": icpc["event_id"],
            "icpc_s47_enquiry_id": icpc["episode_id"],
            "icpc_person_id": icpc["child_id"],
            "icpc_referral_id": icpc["referral_id"],
            "icpc_icpc_date": _dt(icpc["event_at"]),
            "icpc_icpc_outcome_cp_flag": icpc["code"].map({"plan": "Y", "no_plan": "N"}),
        }
    )
    c = episodes("cp_plan")
    s, f = times("cp_plan_started", "cp_plan_ended", c)
    tables["cp_plans"] = pd.DataFrame(
        {
            "cppl_cp_plan_id": c["episode_id"],
            "cppl_person_id": c["child_id"],
            "cppl_referral_id": c["referral_id"],
            "cppl_cp_plan_start_date": _dt(s),
            "cppl_cp_plan_end_date": _dt(f),
            "cppl_cp_plan_initial_category": c["code"].map(t.CATEGORY_WORDS),
        }
    )
    rv = of("cp_review")
    tables["cp_reviews"] = pd.DataFrame(
        {
            "cppr_cp_review_id": rv["event_id"],
            "cppr_person_id": rv["child_id"],
            "cppr_cp_plan_id": rv["episode_id"],
            "cppr_cp_review_date": _dt(rv["event_at"]),
        }
    )
    tables.update(_looked_after(source))
    rv = of("cla_review")
    tables["cla_reviews"] = pd.DataFrame(
        {
            "clar_cla_review_id": rv["event_id"],
            "clar_cla_id": rv["episode_id"],
            "clar_cla_person_id": rv["child_id"],
            "clar_cla_review_date": _dt(rv["event_at"]),
        }
    )
    h = ev[ev["event_type"].isin(list(t.HEALTH_TYPES))].sort_values(["event_at", "event_id"])
    tables["cla_health"] = pd.DataFrame(
        {
            "clah_health_check_id": h["event_id"],
            "clah_person_id": h["child_id"],
            "clah_health_check_type": h["event_type"].map(t.HEALTH_TYPES),
            "clah_health_check_date": _dt(h["event_at"]),
            "clah_health_check_status": t.COMPLETED,
        }
    )
    q = of("sdq_recorded")
    tables["sdq_scores"] = pd.DataFrame(
        {
            "csdq_table_id": q["event_id"],
            "csdq_person_id": q["child_id"],
            "csdq_sdq_completed_date": _dt(q["event_at"]),
            "csdq_sdq_score": pd.to_numeric(q["value"], errors="coerce").map(
                lambda v: "" if pd.isna(v) else f"{v:g}"
            ),
        }
    )
    m = of("missing_started").drop_duplicates("episode_id")
    m_end = of("missing_ended").drop_duplicates("episode_id").set_index("episode_id")["event_at"]
    tables["missing"] = pd.DataFrame(
        {
            "miss_table_id": m["episode_id"],
            "miss_person_id": m["child_id"],
            "miss_missing_episode_start_date": _dt(m["event_at"]),
            "miss_missing_episode_end_date": _dt(lookup(m["episode_id"], m_end)),
            "miss_missing_episode_type": m["code"].map(t.MISSING_TYPES),
        }
    )
    tables["immigration_status"] = _uasc(source)
    tables["care_leavers"] = _care_leavers(source, extract_date)
    tables["permanence"] = _permanence(source)
    w = of("worker_allocated")
    tables["involvements"] = pd.DataFrame(
        {
            "invo_involvements_id": w["event_id"],
            "invo_professional_id": w["code"],
            "invo_professional_role_id": t.CASE_WORKER_ROLE,
            "invo_person_id": w["child_id"],
            "invo_involvement_start_date": _dt(w["event_at"]),
        }
    )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, (_, columns) in t.TABLES.items():
        frame = tables[name].reindex(columns=list(columns))
        frame.to_csv(folder / t.file_name(name), index=False)
        counts[name] = len(frame)
    return counts


def _looked_after(source: ReturnSource) -> dict[str, pd.DataFrame]:
    """Periods of care as SSD episodes, legal statuses and placements."""
    of = source.of
    starts = of("cla_period_started").drop_duplicates("episode_id")
    ends = of("cla_period_ended").drop_duplicates("episode_id").set_index("episode_id")
    period_end = lookup(starts["episode_id"], ends["event_at"])
    end_of = dict(zip(starts["episode_id"], period_end, strict=True))
    eps = episodes_from_periods(source.events)
    eps = eps.assign(n=eps.groupby("period").cumcount())
    # The DATETIME of each episode's start: the earliest event of the period on that day.
    points = pd.concat([starts, of("cla_legal_status_changed"), of("cla_placement_changed")])
    first_at = points.groupby(["episode_id", "day"])["event_at"].min()
    start_at = [first_at.get((p, d), d) for p, d in zip(eps["period"], eps["DECOM"], strict=True)]
    dec_at = eps["DEC"].copy()
    last = eps["period"].shift(-1) != eps["period"]
    dec_at[last] = lookup(eps.loc[last, "period"], ends["event_at"]) if last.any() else dec_at[last]
    nxt = pd.Series(start_at, index=eps.index).shift(-1)
    dec_at[~last] = nxt[~last]
    episodes = pd.DataFrame(
        {
            "clae_cla_episode_id": eps["period"] + "-" + eps["n"].astype(str),
            "clae_person_id": eps["child"],
            "clae_cla_id": eps["period"],
            "clae_cla_episode_start_date": _dt(pd.Series(start_at, index=eps.index)),
            "clae_cla_episode_start_reason": eps["RNE"],
            "clae_cla_episode_ceased_date": _dt(dec_at),
            "clae_cla_episode_ceased_reason": eps["REC"].where(eps["DEC"].notna(), ""),
        }
    )
    legal = pd.concat([starts.assign(kind=0), of("cla_legal_status_changed").assign(kind=1)]).sort_values(
        ["episode_id", "event_at", "kind", "event_id"]
    )
    legal = legal[legal["episode_id"].isin(starts["episode_id"])]
    legal_next = legal.groupby("episode_id")["event_at"].shift(-1)
    legal_end = legal_next.fillna(legal["episode_id"].map(end_of))
    legal_status = pd.DataFrame(
        {
            "lega_legal_status_id": legal["event_id"],
            "lega_person_id": legal["child_id"],
            "lega_legal_status": legal["code"],
            "lega_legal_status_start_date": _dt(legal["event_at"]),
            "lega_legal_status_end_date": _dt(legal_end),
        }
    )
    placed = pd.concat(
        [
            starts.assign(kind=0, type=starts["code2"], reason=None),
            of("cla_placement_changed").assign(kind=1, type=lambda f: f["code"], reason=lambda f: f["code2"]),
        ]
    ).sort_values(["episode_id", "event_at", "kind", "event_id"])
    placed = placed[placed["episode_id"].isin(starts["episode_id"])]
    by_period = placed.groupby("episode_id")
    place_end = by_period["event_at"].shift(-1).fillna(placed["episode_id"].map(end_of))
    km = pd.to_numeric(placed["value"], errors="coerce")
    placements = pd.DataFrame(
        {
            "clap_cla_placement_id": placed["event_id"],
            "clap_cla_id": placed["episode_id"],
            "clap_person_id": placed["child_id"],
            "clap_cla_placement_start_date": _dt(placed["event_at"]),
            "clap_cla_placement_end_date": _dt(place_end),
            "clap_cla_placement_type": placed["type"],
            "clap_cla_placement_distance": (km / t.MILES_TO_KM).map(
                lambda v: "999.9" if pd.isna(v) else repr(float(v))
            ),
            # The reason a placement ended is given with the change that ended it.
            "clap_cla_placement_change_reason": by_period["reason"].shift(-1),
        }
    )
    return {"cla_episodes": episodes, "legal_status": legal_status, "cla_placement": placements}


def _uasc(source: ReturnSource) -> pd.DataFrame:
    starts = source.of("uasc_started")
    ends = source.of("uasc_ended")
    rows = []
    for rec in starts.to_dict("records"):
        later = ends[(ends["child_id"] == rec["child_id"]) & (ends["event_at"] >= rec["event_at"])]
        rows.append(
            {
                "immi_immigration_status_id": rec["event_id"],
                "immi_person_id": rec["child_id"],
                "immi_immigration_status": t.UASC,
                "immi_immigration_status_start_date": rec["event_at"],
                "immi_immigration_status_end_date": later["event_at"].min() if not later.empty else pd.NaT,
            }
        )
    frame = pd.DataFrame(rows, columns=list(t.TABLES["immigration_status"][1]))
    for col in ("immi_immigration_status_start_date", "immi_immigration_status_end_date"):
        frame[col] = _dt(pd.to_datetime(frame[col]))
    return frame


def _care_leavers(source: ReturnSource, extract_date: date) -> pd.DataFrame:
    """The latest contact per young person; the SSD gives no date when they are not in touch."""
    c = source.of("care_leaver_contact").drop_duplicates("child_id", keep="last")
    in_touch = c["code"].fillna("") != "0"
    accom = c["code2"].fillna("0")
    known = in_touch & (accom != "0")
    return pd.DataFrame(
        {
            # SystemC's id is NEWID(): a new one on every run.
            "clea_table_id": "CL" + c["child_id"] + f"-{extract_date:%Y%m%d}",
            "clea_person_id": c["child_id"],
            "clea_care_leaver_in_touch": np.where(in_touch, "YES", "NO"),
            "clea_care_leaver_latest_contact": _dt(c["event_at"].where(in_touch)),
            "clea_care_leaver_accommodation": accom.str[0].where(known, ""),
            "clea_care_leaver_accom_suitable": accom.str[1:].where(known, ""),
            "clea_care_leaver_activity": c["code"].where(in_touch, "").fillna(""),
        }
    )


def _permanence(source: ReturnSource) -> pd.DataFrame:
    ev = source.events
    rows = ev[ev["event_type"].isin(list(t.ADOPTION_MILESTONES)) & ev["episode_id"].notna()]
    rows = rows.sort_values(["event_at", "event_id"]).drop_duplicates(["episode_id", "event_type"])
    if rows.empty:
        return pd.DataFrame(columns=list(t.TABLES["permanence"][1]))
    wide = rows.pivot(index="episode_id", columns="event_type", values="event_at")
    frame = pd.DataFrame({"perm_table_id": wide.index})
    frame["perm_person_id"] = lookup(
        frame["perm_table_id"], rows.drop_duplicates("episode_id").set_index("episode_id")["child_id"]
    )
    for kind, column in t.ADOPTION_MILESTONES.items():
        values = wide[kind] if kind in wide else pd.Series(pd.NaT, index=wide.index)
        frame[column] = _dt(pd.Series(values.to_numpy(), index=frame.index))
    reason = rows[rows["event_type"] == "adoption_plan_ceased"].set_index("episode_id")["code"]
    frame["perm_decision_reversed_reason"] = lookup(frame["perm_table_id"], reason)
    frame["perm_permanence_order_type"] = np.where(frame["perm_permanence_order_date"] != "", "Adoption", "")
    return frame
