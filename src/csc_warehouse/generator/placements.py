"""A period of care's legal statuses and placements, and its period events (start and end,
legal status and placement changes, UASC)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from csc_warehouse.generator.constants import (
    ADOPTION_KM,
    ADOPTION_PLACEMENTS,
    BABY_OTHER_PLACEMENT,
    DAY,
    HOME,
    MOVE_AGE_FACTOR,
    MOVE_FRAILTY_SHAPE,
    MOVE_RATE_FIRST_YEAR,
    MOVE_RATE_LATER,
    PLACE_CHANGE_REASONS,
    PLACEMENT_CODES,
    PLACEMENT_GROUP_P,
    PLACEMENT_KM,
    TRIAL_AT_HOME_P,
    UASC_ROW,
)
from csc_warehouse.generator.context import Context
from csc_warehouse.generator.draws import draw_codes, draw_rows, poisson_days
from csc_warehouse.generator.event_buffer import EventBuffer
from csc_warehouse.generator.people import People, age_at, age_band


def legal_statuses(shown: pd.DataFrame) -> pd.DataFrame:
    """Each period's legal status spans as (period, day, code): the start, then changes strictly inside."""
    idx = np.arange(len(shown))
    start, end = shown["start"].to_numpy(), shown["end"].to_numpy()
    parts = [("start", shown["s0"].to_numpy())]
    for col, code in (("c1_day", "C1"), ("c2_day", "C2"), ("e1_day", "E1"), ("revoke_day", "C2")):
        parts.append((col, np.full(len(shown), code, dtype=object)))
    frames = []
    for rank, (col, code) in enumerate(parts):
        day = shown[col].to_numpy()
        ok = np.ones(len(shown), bool) if col == "start" else (day > start) & (day < end)
        frames.append(pd.DataFrame({"period": idx[ok], "day": day[ok], "rank": rank, "code": code[ok]}))
    statuses = pd.concat(frames, ignore_index=True).sort_values(["period", "day", "rank"], kind="stable")
    return statuses.drop_duplicates(["period", "day"], keep="last").reset_index(drop=True)


def simulate_placements(ctx: Context, shown: pd.DataFrame, people: People) -> pd.DataFrame:
    """Each period's placements as (period, day, code, reason, km): the first, random moves (most in the
    first year, more for some children and for teenagers), placed for adoption, trial at home."""
    rng = ctx.rng
    n = len(shown)
    start, end = shown["start"].to_numpy(), shown["end"].to_numpy()
    child, uasc = shown["child"].to_numpy(), shown["uasc"].to_numpy()
    birth = people.birth_month[child]
    row = np.where(uasc, UASC_ROW, age_band(shown["age"].to_numpy()))
    placed, early = shown["placed"].to_numpy(), shown["early"].to_numpy()

    frailty = rng.gamma(MOVE_FRAILTY_SHAPE, 1 / MOVE_FRAILTY_SHAPE, n) * np.asarray(MOVE_AGE_FACTOR)[row]
    stop = np.where(placed >= 0, np.minimum(placed, end), end)  # no moves once placed for adoption
    stop = np.where(early, start, stop)  # fostering for adoption: one placement until placed
    year1 = np.minimum(start + 365, stop)
    o1, d1 = poisson_days(
        rng, start + 1, year1, frailty * MOVE_RATE_FIRST_YEAR * ctx.settings.placement_move_factor / 365.25
    )
    o2, d2 = poisson_days(
        rng, start + 365, stop, frailty * MOVE_RATE_LATER * ctx.settings.placement_move_factor / 365.25
    )
    moves = np.concatenate([o1, o2])
    move_day = np.concatenate([d1, d2])

    trial = (
        (shown["route"].to_numpy() == HOME)
        & (shown["home_sub"].to_numpy() == 2)
        & (rng.random(n) < TRIAL_AT_HOME_P)
    )
    trial_day = end - rng.integers(60, 200, n)
    trial &= trial_day > start + 30
    is_placed = (placed >= 0) & (placed < end)

    period = np.concatenate([np.arange(n), moves, np.flatnonzero(is_placed), np.flatnonzero(trial)])
    day = np.concatenate([start, move_day, placed[is_placed], trial_day[trial]])
    kind = np.concatenate(
        [np.zeros(n), np.ones(moves.size), np.full(is_placed.sum(), 2), np.full(trial.sum(), 3)]
    )
    frame = pd.DataFrame({"period": period, "day": day, "kind": kind.astype(np.int8)})
    # One placement a day: a planned move wins over a random one on the same day.
    frame = frame.sort_values(["period", "day", "kind"], kind="stable").drop_duplicates(
        ["period", "day"], keep="last"
    )
    frame = frame.reset_index(drop=True)

    p, k = frame["period"].to_numpy(), frame["kind"].to_numpy()
    at_row = np.where(uasc[p], UASC_ROW, age_band(age_at(birth[p], frame["day"].to_numpy())))
    group = draw_rows(rng, np.asarray(PLACEMENT_GROUP_P)[at_row])
    group = np.where(k == 3, 3, group)
    code = np.empty(len(frame), dtype=object)
    for g, spec in enumerate(PLACEMENT_CODES):
        rows = np.flatnonzero(group == g)
        code[rows] = draw_codes(rng, spec, rows.size)
    code = np.where((group == 4) & (at_row == 0), BABY_OTHER_PLACEMENT, code)
    code = np.where(early[p] & (k == 0), "U5", code)
    adoption = draw_codes(rng, ADOPTION_PLACEMENTS, len(frame))
    code = np.where(k == 2, np.where(early[p], "A5", adoption), code)
    median_km = np.where(k == 2, ADOPTION_KM, np.asarray(PLACEMENT_KM)[group])
    km = np.round(np.minimum(median_km * rng.lognormal(0.0, 1.0, len(frame)), 400.0), 1)
    frame["code"] = code
    frame["reason"] = np.where(k == 1, draw_codes(rng, PLACE_CHANGE_REASONS, len(frame)), "CARPL")
    frame["km"] = np.where(uasc[p], np.nan, km)  # no home address to measure from
    return frame


def in_effect(frame: pd.DataFrame, period: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Row of `frame` (sorted by period, day; one row on each period's start day) in effect on `day`."""
    key = frame["period"].to_numpy() * (1 << 20) + frame["day"].to_numpy()
    return np.searchsorted(key, period * (1 << 20) + day, side="right") - 1


def period_events(
    ctx: Context, buf: EventBuffer, shown: pd.DataFrame, statuses: pd.DataFrame, placements: pd.DataFrame
) -> None:
    """Period start and end, legal status and placement changes, UASC start and end."""
    idx = np.arange(len(shown))
    child, pid, ref = shown["child"].to_numpy(), shown["period_id"].to_numpy(), shown["referral"].to_numpy()
    first, end = shown["shown"].to_numpy(), shown["end"].to_numpy()
    status = statuses.iloc[in_effect(statuses, idx, first)]
    place = placements.iloc[in_effect(placements, idx, first)]
    buf.add(
        "cla_period_started",
        child,
        first * DAY,
        episode=pid,
        referral=ref,
        code=status["code"].to_numpy(),
        code2=place["code"].to_numpy(),
        value=place["km"].to_numpy(),
    )
    later = statuses[statuses["day"].to_numpy() > first[statuses["period"].to_numpy()]]
    p = later["period"].to_numpy()
    buf.add(
        "cla_legal_status_changed",
        child[p],
        later["day"] * DAY,
        episode=pid[p],
        referral=ref[p],
        code=later["code"],
    )
    later = placements[placements["day"].to_numpy() > first[placements["period"].to_numpy()]]
    p = later["period"].to_numpy()
    buf.add(
        "cla_placement_changed",
        child[p],
        later["day"] * DAY,
        episode=pid[p],
        referral=ref[p],
        code=later["code"],
        code2=later["reason"],
        value=later["km"].to_numpy(),
    )
    buf.add("cla_period_ended", child, end * DAY, episode=pid, referral=ref, code=shown["rec"])

    uasc = shown["uasc"].to_numpy()
    buf.add("uasc_started", child[uasc], first[uasc] * DAY)
    # Once per child: at 18, or when an age assessment found them to be an adult.
    last = uasc & ~shown.duplicated("chain", keep="last").to_numpy()
    stop = np.where(shown["rec"].to_numpy() == "E15", end, shown["adult"].to_numpy())
    buf.add("uasc_ended", child[last], stop[last] * DAY)
