"""Review chains of child protection plans and periods of care, as the statutory timescales set them.

CP review conferences: the first due 3 months after the plan starts, each next one 6 months after the
previous review. Looked-after reviews: the first due 20 working days after the period starts, the
second 3 months after the first, then every 6 months. Most are held on time, a little before the due
date; the rest late, and a late review sets the next due date from when it was held. Now and then a
review is recorded twice on one day. Months are calendar months, clamped to the month's length.

A period of care that was open when the data begin is shown as starting on the first emitted day, and
its reviews run from that day, so its chain reads coherently in the data as it is.
"""

from __future__ import annotations

import numpy as np

from csc_warehouse.generator.case_view import CaseView
from csc_warehouse.generator.constants import (
    CLA_FIRST_REVIEW_LATE_WD,
    CLA_FIRST_REVIEW_WD,
    CLA_REVIEW_EARLY_DAYS,
    CLA_REVIEW_LATE_DAYS,
    CP_REVIEW_EARLY_DAYS,
    CP_REVIEW_LATE_DAYS,
    DAY,
    SAME_DAY_REVIEW_P,
)
from csc_warehouse.generator.context import Context, add_months, add_wd
from csc_warehouse.generator.event_buffer import EventBuffer


def review_chain(
    rng: np.random.Generator,
    first: np.ndarray,
    stop: np.ndarray,
    gap_months: tuple[int, ...],
    on_time_p: float,
    early_days: tuple[int, int],
    late_days: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray]:
    """Reviews from each chain's first review day `first` while strictly before `stop`: (chain, day).

    After the k-th review the next is due `gap_months[k]` months later (the last gap repeats); it is
    held `early_days` before the due date with chance `on_time_p`, else `late_days` after it.
    """
    owners, days = [], []
    alive, day = np.arange(first.size), np.asarray(first, dtype=np.int64)
    k = 0
    while alive.size:
        held = day < stop[alive]
        alive, day = alive[held], day[held]
        owners.append(alive)
        days.append(day)
        due = add_months(day, gap_months[min(k, len(gap_months) - 1)])
        on_time = rng.random(alive.size) < on_time_p
        early = rng.integers(early_days[0], early_days[1] + 1, alive.size)
        late = rng.integers(late_days[0], late_days[1] + 1, alive.size)
        day = np.maximum(np.where(on_time, due - early, due + late), day + 1)
        k += 1
    return np.concatenate(owners), np.concatenate(days)


def _with_same_day_repeats(
    rng: np.random.Generator, owner: np.ndarray, day: np.ndarray
) -> tuple[np.ndarray, ...]:
    twice = rng.random(owner.size) < SAME_DAY_REVIEW_P
    return np.concatenate([owner, owner[twice]]), np.concatenate([day, day[twice]])


def cp_review_chains(ctx: Context, buf: EventBuffer, case: CaseView) -> None:
    rng = ctx.stream("cp_reviews")
    plans = case.episodes("cp_plan_started", "cp_plan_ended")
    start = plans["start"].to_numpy()
    end = plans["end"].to_numpy()
    stop = np.where(end >= 0, end, ctx.data_end + 1)
    p = ctx.settings.cp_reviews_on_time_pct / 100
    due1 = add_months(start, 3)
    n = start.size
    first = np.where(
        rng.random(n) < p,
        due1 - rng.integers(CP_REVIEW_EARLY_DAYS[0], CP_REVIEW_EARLY_DAYS[1] + 1, n),
        due1 + rng.integers(CP_REVIEW_LATE_DAYS[0], CP_REVIEW_LATE_DAYS[1] + 1, n),
    )
    owner, day = review_chain(rng, first, stop, (6,), p, CP_REVIEW_EARLY_DAYS, CP_REVIEW_LATE_DAYS)
    owner, day = _with_same_day_repeats(rng, owner, day)
    buf.add(
        "cp_review",
        plans["child"].to_numpy()[owner],
        day * DAY,
        episode=plans["episode_id"].to_numpy()[owner],
        referral=plans["referral_id"].to_numpy()[owner],
    )


def cla_review_chains(ctx: Context, buf: EventBuffer, case: CaseView) -> None:
    rng = ctx.stream("cla_reviews")
    periods = case.periods_of_care()
    periods = periods[~periods["short_break"].to_numpy()]
    start = periods["start"].to_numpy()
    end = periods["end"].to_numpy()
    stop = np.where(end >= 0, end, ctx.data_end + 1)
    p = ctx.settings.cla_reviews_on_time_pct / 100
    n = start.size
    first_wd = np.where(
        rng.random(n) < p,
        rng.integers(CLA_FIRST_REVIEW_WD[0], CLA_FIRST_REVIEW_WD[1] + 1, n),
        rng.integers(CLA_FIRST_REVIEW_LATE_WD[0], CLA_FIRST_REVIEW_LATE_WD[1] + 1, n),
    )
    first = add_wd(ctx, start, first_wd)
    owner, day = review_chain(rng, first, stop, (3, 6), p, CLA_REVIEW_EARLY_DAYS, CLA_REVIEW_LATE_DAYS)
    owner, day = _with_same_day_repeats(rng, owner, day)
    buf.add(
        "cla_review",
        periods["child"].to_numpy()[owner],
        day * DAY,
        episode=periods["episode_id"].to_numpy()[owner],
        referral=periods["referral_id"].to_numpy()[owner],
    )
