"""Stage 4, how a case system records: recording lags, event ids, corrected versions and tombstoned
duplicates."""

from __future__ import annotations

import numpy as np
import pandas as pd

from csc_warehouse.contract import END_TO_START
from csc_warehouse.generator.constants import DAY, LAG_SHARES, MAX_LATE_SHARE
from csc_warehouse.generator.context import Context
from csc_warehouse.generator.draws import choose, make_ids
from csc_warehouse.generator.event_buffer import TYPE_INDEX
from csc_warehouse.generator.people import People


def finalise_events(ctx: Context, ev: pd.DataFrame, people: People) -> pd.DataFrame:
    """Drops events after the data end, then adds recording times, ids, corrections and tombstones."""
    ev = ev[ev["event_at"] // DAY <= ctx.data_end].reset_index(drop=True)
    ev = renumber_contacts(ev)
    ev["recorded_at"] = recorded_at(ctx, ev)
    ev["is_deleted"] = False
    ev = ev.iloc[np.lexsort((ev["child"], ev["type"], ev["event_at"]))].reset_index(drop=True)
    ev["event_id"] = make_ids("E", np.arange(1, len(ev) + 1), width=7)
    first, latest = corrections(ctx, ev, people)
    tombstoned = tombstoned_duplicates(ctx, ev)
    ev = pd.concat([ev.drop(index=first.index), first, latest, tombstoned], ignore_index=True)
    return ev.sort_values(["event_id", "recorded_at"], kind="stable").reset_index(drop=True)


def renumber_contacts(ev: pd.DataFrame) -> pd.DataFrame:
    """Contact ids numbered in time order across the referred and the other contacts."""
    is_contact = ev["type"].to_numpy() == TYPE_INDEX["contact_received"]
    received = ev.loc[is_contact, ["episode_id", "event_at"]].sort_values(
        ["event_at", "episode_id"], kind="stable"
    )
    new_id = dict(zip(received["episode_id"], make_ids("CT", np.arange(1, len(received) + 1)), strict=True))
    is_contact_event = ev["type"].isin([TYPE_INDEX["contact_received"], TYPE_INDEX["contact_decision"]])
    ev.loc[is_contact_event, "episode_id"] = ev.loc[is_contact_event, "episode_id"].map(new_id)
    return ev


def recorded_at(ctx: Context, ev: pd.DataFrame) -> np.ndarray:
    """When each event was entered: contacts within minutes; other work the same or next working day,
    with a tail of weeks. Never later than the extract (the end of the last day)."""
    rng = ctx.rng
    n = len(ev)
    at = ev["event_at"].to_numpy()
    timed = np.isin(ev["type"].to_numpy(), [TYPE_INDEX["contact_received"], TYPE_INDEX["contact_decision"]])
    u = rng.random(n)
    timed_lag = np.select(
        [u < 0.7, u < 0.9, u < 0.98],
        [rng.integers(60, 3600, n), rng.integers(3600, 8 * 3600, n), rng.integers(DAY, 3 * DAY, n)],
        rng.integers(4 * DAY, 30 * DAY, n),
    )
    shares = np.asarray(LAG_SHARES)
    late = min(shares[2:].sum() * ctx.settings.late_recording_factor, MAX_LATE_SHARE)
    shares = np.concatenate(
        [shares[:2] * (1 - late) / shares[:2].sum(), shares[2:] * late / shares[2:].sum()]
    )
    cut = np.cumsum(shares)
    lag_days = np.select(
        [u < cut[0], u < cut[1], u < cut[2]],
        [np.zeros(n, np.int64), np.ones(n, np.int64), rng.integers(2, 8, n)],
        rng.integers(8, 43, n),
    )
    dated_lag = lag_days * DAY + rng.integers(8 * 3600, 19 * 3600, n)
    recorded = at + np.where(timed, timed_lag, dated_lag)
    return np.maximum(np.minimum(recorded, ctx.extract_at), at)


def pick(ctx: Context, ev: pd.DataFrame, p: float) -> np.ndarray:
    """Rows to revise: a share `p` of events with room for a later version before the extract."""
    room = (ev["recorded_at"].to_numpy() <= ctx.extract_at - 2 * DAY) & (
        ev["event_at"].to_numpy() // DAY >= ctx.emit_start + 15
    )
    return np.flatnonzero(room & (ctx.rng.random(len(ev)) < p))


def corrections(ctx: Context, ev: pd.DataFrame, people: People) -> tuple[pd.DataFrame, pd.DataFrame]:
    """~1% of events are entered wrongly and corrected later under the same event_id.

    The corrected (later) version holds the true values, so the latest view is always coherent. The
    wrong first version has an earlier event_at, except for end events, which must never move before
    their start, and changes inside a period of care, which must stay inside it: those were first
    entered with another code or value (or re-saved unchanged).
    """
    rng = ctx.rng
    rows = pick(ctx, ev, ctx.settings.corrections_pct / 100)
    first = ev.iloc[rows].copy()
    latest = ev.iloc[rows].copy()
    lag = rng.integers(3600, 30 * DAY, rows.size)
    latest["recorded_at"] = np.minimum(first["recorded_at"].to_numpy() + lag, ctx.extract_at)

    kept = [
        *END_TO_START,
        "cla_legal_status_changed",
        "cla_placement_changed",
        "adoption_placed",
        "uasc_started",
    ]
    is_end = first["type"].isin([TYPE_INDEX[t] for t in kept]).to_numpy()
    # A few days too early, but never before the child's birth month.
    room = first["event_at"].to_numpy() - people.birth_month[first["child"].to_numpy()] * DAY
    shift = np.minimum(rng.integers(1, 11, rows.size) * DAY, room // DAY * DAY)
    first["event_at"] = np.where(is_end, first["event_at"], first["event_at"] - shift)
    wrong_code = {
        "referral_closed": ("RC7", "RC8"),
        "assessment_authorised": ("nfa", "early_help", "cin", "s47"),
        "cla_period_ended": ("E8", "E13", "E4A"),
        "cla_placement_changed": ("U4", "U6"),
        "care_leaver_contact": ("G5", "F2"),
    }
    for name, options in wrong_code.items():
        mask = (first["type"] == TYPE_INDEX[name]).to_numpy()
        codes = choose(rng, options, tuple(1.0 for _ in options), int(mask.sum()))
        first.loc[mask, "code"] = codes
    sdq = (first["type"] == TYPE_INDEX["sdq_recorded"]).to_numpy()
    first.loc[sdq, "value"] = np.clip(first.loc[sdq, "value"] + rng.integers(-6, 7, int(sdq.sum())), 0, 40)
    # The original row is replaced by the wrong first version and its correction.
    return first, latest


def tombstoned_duplicates(ctx: Context, ev: pd.DataFrame, first_number: int | None = None) -> pd.DataFrame:
    """~0.3% of events were entered twice; the duplicate is deleted later (a tombstone version).

    Deleting duplicates, not genuine events, keeps every end's start in the latest view while still
    showing deletions in the as-reported figures.
    """
    rng = ctx.rng
    rows = pick(ctx, ev, ctx.settings.deletions_pct / 100)
    dup = ev.iloc[rows].copy()
    first_number = len(ev) + 1 if first_number is None else first_number  # after the events' own ids
    dup["event_id"] = make_ids("E", np.arange(first_number, first_number + rows.size), width=7)
    dup["recorded_at"] = dup["recorded_at"] + rng.integers(5, 600, rows.size)
    tomb = dup.copy()
    tomb["recorded_at"] = np.minimum(
        dup["recorded_at"] + rng.integers(3600, 20 * DAY, rows.size), ctx.extract_at
    )
    tomb["is_deleted"] = True
    return pd.concat([dup, tomb], ignore_index=True)
