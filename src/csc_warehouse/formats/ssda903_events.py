"""Turn checked SSDA903 tables (one or several returns) into canonical children and events.

The mapping (docs/importing.md has it as a table):

- **header** -> a ``children`` row: SEX 1/2 or M/F/U -> M/F/U, DOB -> ``birth_month``, ETHNIC ->
  ``ethnicity``; disability is not in the SSDA903 (left empty).
- **episodes** (after ``repair.stitch``) -> per period of care: ``cla_period_started`` at its first
  DECOM (code LS, code2 PLACE); for each later episode, ``cla_legal_status_changed`` (code LS) when
  its RNE is L, B or U and ``cla_placement_changed`` (code PLACE, code2 the REASON_PLACE_CHANGE
  recorded on the episode that ended) when its RNE is P, T, B or U; ``cla_period_ended`` at the last
  DEC (code REC, empty when the repair rules could not tell). From the same episodes:
  ``placement_order`` where the legal status changes to E1 (or D1) within a period (a period that
  starts under E1 does not say when the order was made), ``adoption_placed`` at the start of the
  first placement A3-A6 of a period, ``adoption_order`` where a period ends E11/E12.
- **uasc** -> ``uasc_started`` at the start of each of the child's periods of care that began before
  DUC, ``uasc_ended`` at DUC once that date has passed (by the return's 31 March).
- **reviews** -> ``cla_review`` (code REVIEW_CODE) in the period of care then open.
- **missing** -> ``missing_started`` / ``missing_ended`` (code ``missing`` or ``away``).
- **oc2** (no dates: it describes the year to 31 March) -> ``health_assessment`` when HEALTH_CHECK is
  1, ``dental_check`` when TEETH_CHECK is 1, ``sdq_recorded`` (value SDQ_SCORE), each dated the
  return's 31 March.
- **oc3** (no dates: collected around the birthday) -> ``care_leaver_contact`` dated the first day of
  the young person's birthday month in the collection year; code ACTIV (``0`` when IN_TOUCH is NO or
  REFU), code2 ACCOM. IN_TOUCH DIED, NREQ or RHOM are outside the care-leaver cohort: skipped.
- **ad1**, **placed_for_adoption** -> ``adoption_decision`` (DATE_INT, DATE_PLACED: both are the date
  of the decision that the child should be placed for adoption), ``adoption_match`` (DATE_MATCH),
  ``adoption_plan_ceased`` (DATE_PLACED_CEASED, code REASON_PLACED_CEASED), all in the adoption
  journey of the period of care they fall in.
- **previous_permanence** -> ``previous_permanence`` (an adapter type the models ignore; code
  PREV_PERM, code2 LA_PERM) when DATE_PERM is a full date, else skipped.
- **sw_episodes** -> ``worker_allocated`` at SW_DECOM (code: the pseudonymised SW_ID); SW_DEC and
  SW_REASON have no canonical field.

Ids are made from the pseudonymised child id and dates, so the same episode gets the same ids in
every import: a period of care is ``CLA`` + a hash of child and start date, and so on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from csc_warehouse.formats import codes
from csc_warehouse.formats.anonymise import Pseudonymiser, birth_month
from csc_warehouse.formats.canonical import combine, day_text, events, hashed
from csc_warehouse.formats.common import Quarantine, reference_date
from csc_warehouse.formats.repair import stitch


def _latest(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per key, the row of the latest return (rule 1 of repair, for the other tables)."""
    ordered = frame.sort_values(["_year", "_file", "_line"], kind="stable")
    return ordered.drop_duplicates(keys, keep="last")


def _blank_to_none(values: pd.Series) -> pd.Series:
    return values.where(values.fillna("").astype(str) != "", None).astype(object)


@dataclass
class Periods:
    """Periods of care of a state of the history: id, child, start, end."""

    frame: pd.DataFrame

    def at(self, child: pd.Series, day: pd.Series) -> pd.Series:
        """The id of the child's latest period of care started on or before `day` (None if none)."""
        if self.frame.empty or child.empty:
            return pd.Series(None, index=child.index, dtype=object)
        left = pd.DataFrame(
            {
                "child": child.to_numpy(),
                "day": pd.to_datetime(day).astype("datetime64[s]").to_numpy(),
                "pos": np.arange(len(child)),
            }
        )
        right = self.frame[["child", "start", "period_id"]].sort_values("start")
        found = pd.merge_asof(
            left.dropna(subset=["day"]).sort_values("day"),
            right,
            left_on="day",
            right_on="start",
            by="child",
            direction="backward",
        )
        out = pd.Series(None, index=range(len(child)), dtype=object)
        out[found["pos"].to_numpy()] = found["period_id"].to_numpy()
        return pd.Series(out.to_numpy(), index=child.index, dtype=object)


def convert_state(
    tables: dict[str, pd.DataFrame],
    upto: int,
    quarantine: Quarantine,
    pseudo: Pseudonymiser,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """(children, events, repair counts) of the returns up to collection year `upto`."""
    state = {name: frame[frame["_year"].astype(int) <= upto] for name, frame in tables.items()}
    ref = reference_date(upto)

    header = _latest(state["header"], ["child"])
    sex = header["SEX"].map({**codes.SEX_OLD, **codes.SEX_NEW})
    children = pd.DataFrame(
        {
            "child_id": header["child"].to_numpy(),
            "sex": sex.astype(object).where(sex.notna(), None).to_numpy(),
            "birth_month": birth_month(header["DOB_date"]).to_numpy(),
            "ethnicity": _blank_to_none(header["ETHNIC"]).to_numpy(),
            "disabled": None,
        }
    )

    stitched = stitch(state["episodes"], upto)
    ep = stitched.episodes
    parts: list[pd.DataFrame] = []
    periods = Periods(pd.DataFrame(columns=["child", "start", "period_id"]))
    if not ep.empty:
        ep["period_id"] = hashed("CLA", ep["child"], day_text(ep["period_start"]))
        ep["adoption_id"] = "AD" + ep["period_id"].str[3:]
        parts += _episode_events(ep)
        last = ep[ep["last_in_period"]]
        periods = Periods(
            pd.DataFrame(
                {
                    "child": last["child"],
                    "start": last["period_start"],
                    "end": last["DEC_date"],
                    "period_id": last["period_id"],
                }
            )
        )
    parts += _uasc_events(state["uasc"], ep, ref)
    parts += _review_and_missing_events(state["reviews"], state["missing"], periods)
    parts += _outcome_events(state["oc2"], state["oc3"], state["header"])
    parts += _adoption_events(state["ad1"], state["placed_for_adoption"], periods, quarantine)
    parts += _other_events(state["previous_permanence"], state["sw_episodes"], pseudo)
    return children, combine(parts), stitched.counts


def _episode_events(ep: pd.DataFrame) -> list[pd.DataFrame]:
    child, start = ep["child"], ep["DECOM_date"]
    first = ep["first_in_period"]
    same_period_prev = ~first
    prev_ls = ep["LS"].shift(1).where(same_period_prev)
    prev_place = ep["PLACE"].shift(1).where(same_period_prev)
    prev_reason = _blank_to_none(ep["REASON_PLACE_CHANGE"].shift(1).where(same_period_prev))
    key = day_text(start)
    out = []
    s = ep[first]
    out.append(
        events(
            "cla_period_started",
            s["child"],
            s["DECOM_date"],
            day_text(s["period_start"]),
            episode=s["period_id"],
            code=s["LS"],
            code2=s["PLACE"],
        )
    )
    legal = same_period_prev & ep["RNE"].isin(codes.RNE_LEGAL)
    out.append(
        events(
            "cla_legal_status_changed",
            child[legal],
            start[legal],
            key[legal],
            episode=ep["period_id"][legal],
            code=ep["LS"][legal],
        )
    )
    moved = same_period_prev & ep["RNE"].isin(codes.RNE_PLACEMENT)
    out.append(
        events(
            "cla_placement_changed",
            child[moved],
            start[moved],
            key[moved],
            episode=ep["period_id"][moved],
            code=ep["PLACE"][moved],
            code2=prev_reason[moved],
        )
    )
    end = ep[ep["last_in_period"] & ep["DEC_date"].notna()]
    out.append(
        events(
            "cla_period_ended",
            end["child"],
            end["DEC_date"],
            day_text(end["period_start"]),
            episode=end["period_id"],
            code=_blank_to_none(end["REC"]),
        )
    )

    # Adoption milestones the episodes show, one of each per period.
    order = legal & ep["LS"].isin(codes.PLACEMENT_ORDER_STATUS) & ~prev_ls.isin(codes.PLACEMENT_ORDER_STATUS)
    po = ep[order].drop_duplicates("period_id")
    out.append(
        events("placement_order", po["child"], po["DECOM_date"], po["period_id"], episode=po["adoption_id"])
    )
    placed = ep["PLACE"].isin(codes.PLACED_FOR_ADOPTION) & (
        first | ~prev_place.isin(codes.PLACED_FOR_ADOPTION)
    )
    pl = ep[placed].drop_duplicates("period_id")
    out.append(
        events("adoption_placed", pl["child"], pl["DECOM_date"], pl["period_id"], episode=pl["adoption_id"])
    )
    adopted = end[end["REC"].isin(codes.ADOPTED)]
    out.append(
        events(
            "adoption_order",
            adopted["child"],
            adopted["DEC_date"],
            adopted["period_id"],
            episode=adopted["adoption_id"],
        )
    )
    return out


def _uasc_events(uasc: pd.DataFrame, ep: pd.DataFrame, ref: pd.Timestamp) -> list[pd.DataFrame]:
    if uasc.empty or ep.empty:
        return []
    latest = _latest(uasc, ["child"])[["child", "DUC_date"]]
    starts = ep[ep["first_in_period"]][["child", "period_start"]].merge(latest, on="child")
    starts = starts[starts["DUC_date"].isna() | (starts["period_start"] < starts["DUC_date"])]
    out = [events("uasc_started", starts["child"], starts["period_start"], day_text(starts["period_start"]))]
    ended = latest[
        latest["DUC_date"].notna() & (latest["DUC_date"] <= ref) & latest["child"].isin(starts["child"])
    ]
    out.append(events("uasc_ended", ended["child"], ended["DUC_date"], "duc"))
    return out


def _review_and_missing_events(
    reviews: pd.DataFrame, missing: pd.DataFrame, periods: Periods
) -> list[pd.DataFrame]:
    out = []
    if not reviews.empty:
        r = _latest(reviews, ["child", "REVIEW_date"])
        out.append(
            events(
                "cla_review",
                r["child"],
                r["REVIEW_date"],
                day_text(r["REVIEW_date"]),
                episode=periods.at(r["child"], r["REVIEW_date"]),
                code=_blank_to_none(r["REVIEW_CODE"]),
            )
        )
    if not missing.empty:
        m = _latest(missing, ["child", "MIS_START_date"])
        mid = hashed("M", m["child"], day_text(m["MIS_START_date"]))
        kind = m["MISSING"].map(codes.MISSING)
        out.append(events("missing_started", m["child"], m["MIS_START_date"], mid, episode=mid, code=kind))
        e = m["MIS_END_date"].notna()
        out.append(
            events("missing_ended", m["child"][e], m["MIS_END_date"][e], mid[e], episode=mid[e], code=kind[e])
        )
    return out


def _outcome_events(oc2: pd.DataFrame, oc3: pd.DataFrame, header: pd.DataFrame) -> list[pd.DataFrame]:
    out = []
    if not oc2.empty:
        ref = oc2["_year"].astype(int).map(reference_date)
        year = oc2["_year"].astype(str)
        h = oc2["HEALTH_CHECK"] == "1"
        out.append(events("health_assessment", oc2["child"][h], ref[h], year[h]))
        t = oc2["TEETH_CHECK"] == "1"
        out.append(events("dental_check", oc2["child"][t], ref[t], year[t]))
        s = oc2["SDQ_SCORE"].fillna("") != ""
        out.append(events("sdq_recorded", oc2["child"][s], ref[s], year[s], value=oc2["SDQ_SCORE"][s]))
    if not oc3.empty:
        c = oc3[~oc3["IN_TOUCH"].isin(codes.IN_TOUCH_NOT_IN_COHORT)]
        dob = header.set_index(["_year", "child"])["DOB_date"]
        born = pd.Series(
            dob.reindex(pd.MultiIndex.from_frame(c[["_year", "child"]])).to_numpy(), index=c.index
        )
        year = c["_year"].astype(int)
        month = born.dt.month
        when = pd.to_datetime(
            pd.DataFrame(
                {"year": np.where(month >= 4, year - 1, year), "month": month, "day": 1}, index=c.index
            )
        )
        in_touch = c["IN_TOUCH"] == "YES"
        activity = _blank_to_none(c["ACTIV"]).where(in_touch, "0")
        accom = _blank_to_none(c["ACCOM"]).where(in_touch, "0")
        out.append(
            events(
                "care_leaver_contact", c["child"], when, c["_year"].astype(str), code=activity, code2=accom
            )
        )
    return out


def _adoption_events(
    ad1: pd.DataFrame, placed: pd.DataFrame, periods: Periods, quarantine: Quarantine
) -> list[pd.DataFrame]:
    out = []
    frames = []
    if not ad1.empty:
        a = _latest(ad1, ["child", "DATE_INT_date", "DATE_MATCH_date"])
        frames.append(
            a.assign(_decision=a["DATE_INT_date"], _match=a["DATE_MATCH_date"], _ceased=pd.NaT, _reason=None)
        )
    if not placed.empty:
        p = _latest(placed, ["child", "DATE_PLACED_date"])
        frames.append(
            p.assign(
                _decision=p["DATE_PLACED_date"],
                _match=pd.NaT,
                _ceased=p["DATE_PLACED_CEASED_date"],
                _reason=_blank_to_none(p["REASON_PLACED_CEASED"]),
            )
        )
    for f in frames:
        anchor = f["_decision"].fillna(f["_match"])
        period = periods.at(f["child"], anchor)
        quarantine.add(
            f[period.isna()], None, "no period of care of the child starts on or before this adoption date"
        )
        f = f[period.notna()]
        aid = "AD" + period[period.notna()].str[3:]
        d = f["_decision"].notna()
        out.append(
            events(
                "adoption_decision",
                f["child"][d],
                f["_decision"][d],
                aid[d] + day_text(f["_decision"][d]),
                episode=aid[d],
            )
        )
        m = f["_match"].notna()
        out.append(
            events(
                "adoption_match",
                f["child"][m],
                f["_match"][m],
                aid[m] + day_text(f["_match"][m]),
                episode=aid[m],
            )
        )
        c = f["_ceased"].notna()
        out.append(
            events(
                "adoption_plan_ceased",
                f["child"][c],
                f["_ceased"][c],
                aid[c] + day_text(f["_ceased"][c]),
                episode=aid[c],
                code=f["_reason"][c],
            )
        )
    return out


def _other_events(previous: pd.DataFrame, sw: pd.DataFrame, pseudo: Pseudonymiser) -> list[pd.DataFrame]:
    out = []
    if not previous.empty:
        p = _latest(previous, ["child"])
        p = p[p["DATE_PERM_date"].notna()]
        out.append(
            events(
                "previous_permanence",
                p["child"],
                p["DATE_PERM_date"],
                "perm",
                code=_blank_to_none(p["PREV_PERM"]),
                code2=_blank_to_none(p["LA_PERM"]),
            )
        )
    if not sw.empty:
        w = _latest(sw, ["child", "SW_DECOM_date"])
        sid = hashed("SW", w["child"], day_text(w["SW_DECOM_date"]))
        out.append(
            events(
                "worker_allocated",
                w["child"],
                w["SW_DECOM_date"],
                sid,
                episode=sid,
                code=pseudo.ids(w["SW_ID"], "worker"),
            )
        )
    return out


def skipped_rows(tables: dict[str, pd.DataFrame]) -> set[str]:
    """Rows understood but carrying nothing the canonical form holds (counted as skipped)."""
    skipped: list[pd.DataFrame] = []
    oc2 = tables["oc2"]
    if not oc2.empty:
        skipped.append(
            oc2[
                (oc2["HEALTH_CHECK"] != "1")
                & (oc2["TEETH_CHECK"] != "1")
                & (oc2["SDQ_SCORE"].fillna("") == "")
            ]
        )
    oc3 = tables["oc3"]
    skipped.append(oc3[oc3["IN_TOUCH"].isin(codes.IN_TOUCH_NOT_IN_COHORT)])
    prev = tables["previous_permanence"]
    if not prev.empty:
        skipped.append(prev[prev["DATE_PERM_date"].isna()] if "DATE_PERM_date" in prev else prev)
    skipped.append(tables["dolo"])
    return {str(row) for s in skipped if not s.empty for row in s["_row"]}
