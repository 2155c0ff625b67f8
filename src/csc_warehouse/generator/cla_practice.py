"""Looked-after practice: reviews and visits, health and dental checks and SDQs, missing episodes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from csc_warehouse.generator.constants import (
    CLA_VISIT_GAP_WD,
    CLA_VISIT_LATE_P,
    CLA_VISIT_LATE_WD,
    DAY,
    DENTAL_MISSED_P,
    HEALTH_MISSED_P,
    MISSING_AWAY_P,
    MISSING_CHILD_P,
    MISSING_EPISODES_PER_YEAR,
    SDQ_CHILD_SD,
    SDQ_MEAN,
    SDQ_SD,
    UASC_ROW,
)
from csc_warehouse.generator.context import Context, add_wd
from csc_warehouse.generator.draws import expand, make_ids, poisson_days
from csc_warehouse.generator.event_buffer import EventBuffer
from csc_warehouse.generator.people import People, age_at, age_band
from csc_warehouse.generator.visits import visits


def cla_reviews_and_visits(ctx: Context, buf: EventBuffer, shown: pd.DataFrame) -> None:
    """Reviews within 20 working days, then 3 months, then every 6 months (replaced later by
    `reviews.cla_review_chains`, drawn here so the shared stream stays as it was); visits every 3-6
    weeks."""
    rng = ctx.rng
    looked_after = shown["s0"].to_numpy() != "V3"
    start = np.where(looked_after, shown["start"].to_numpy(), shown["c2_day"].to_numpy())
    sub = shown[looked_after | (start >= 0)]
    start = start[looked_after | (start >= 0)]
    child, pid, ref = sub["child"].to_numpy(), sub["period_id"].to_numpy(), sub["referral"].to_numpy()
    first, end = (
        np.maximum(sub["shown"].to_numpy(), start),
        np.minimum(sub["end"].to_numpy(), ctx.data_end + 1),
    )
    review1 = add_wd(ctx, start, rng.integers(10, 21, start.size))
    review2 = review1 + rng.integers(70, 93, start.size)
    owner, day = expand(
        review2, end, np.zeros(start.size, np.int64), lambda k: rng.integers(150, 183, k), 150
    )
    owner = np.concatenate([np.arange(start.size), owner])
    day = np.concatenate([review1, day])
    keep = (day >= first[owner]) & (day < end[owner])
    owner, day = owner[keep], day[keep]
    buf.add("cla_review", child[owner], day * DAY, episode=pid[owner], referral=ref[owner])
    visits(
        ctx,
        buf,
        "cla",
        child,
        pid,
        ref,
        first,
        end,
        first_wd=(1, 6),
        gap_wd=CLA_VISIT_GAP_WD,
        late_p=CLA_VISIT_LATE_P,
        late_wd=CLA_VISIT_LATE_WD,
    )


def health_events(ctx: Context, buf: EventBuffer, shown: pd.DataFrame, people: People) -> None:
    """Health assessments (6-monthly under 5, else yearly), dental checks, SDQs aged 4-16."""
    rng = ctx.rng
    sub = shown[shown["s0"].to_numpy() != "V3"]
    child, start = sub["child"].to_numpy(), sub["start"].to_numpy()
    first, end = sub["shown"].to_numpy(), np.minimum(sub["end"].to_numpy(), ctx.data_end + 1)
    birth = people.birth_month[child]
    n = start.size

    def series(
        rows: np.ndarray, first_at: np.ndarray, gap: tuple[int, int], missed: float
    ) -> tuple[np.ndarray, np.ndarray]:
        owner, day = expand(start[rows], end[rows], first_at, lambda k: rng.integers(*gap, k), gap[0])
        owner = rows[owner]
        keep = (day >= first[owner]) & (rng.random(owner.size) >= missed)
        return owner[keep], day[keep]

    under5 = age_at(birth, start) < 5
    for rows, gap in ((np.flatnonzero(under5), (150, 183)), (np.flatnonzero(~under5), (300, 366))):
        owner, day = series(rows, rng.integers(20, 61, rows.size), gap, HEALTH_MISSED_P)
        buf.add("health_assessment", child[owner], day * DAY)
    everyone = np.arange(n)
    owner, day = series(everyone, rng.integers(30, 121, n), (300, 366), DENTAL_MISSED_P)
    buf.add("dental_check", child[owner], day * DAY)
    owner, day = series(everyone, rng.integers(60, 200, n), (330, 366), 0.05)
    age = age_at(birth[owner], day)
    owner, day = owner[(age >= 4) & (age <= 16)], day[(age >= 4) & (age <= 16)]
    child_mean = rng.normal(SDQ_MEAN, SDQ_CHILD_SD, n)
    score = np.clip(np.round(child_mean[owner] + rng.normal(0.0, SDQ_SD, owner.size)), 0, 40)
    buf.add("sdq_recorded", child[owner], day * DAY, value=score)


def missing_events(ctx: Context, buf: EventBuffer, shown: pd.DataFrame, people: People) -> None:
    """Missing (or away) episodes of some children, mostly teenagers: hours to days, mostly evenings."""
    rng = ctx.rng
    n = len(shown)
    row = np.where(shown["uasc"].to_numpy(), UASC_ROW, age_band(shown["age"].to_numpy()))
    goes = rng.random(n) < np.asarray(MISSING_CHILD_P)[row]
    rate = np.where(goes, rng.gamma(1.0, MISSING_EPISODES_PER_YEAR, n) / 365.25, 0.0)
    end = np.minimum(shown["end"].to_numpy(), ctx.data_end + 1)
    owner, day = poisson_days(rng, shown["shown"].to_numpy(), end, rate)
    m = owner.size
    start_s = day * DAY + np.where(
        rng.random(m) < 0.75, rng.integers(15 * 3600, DAY, m), rng.integers(0, DAY, m)
    )
    hours = np.clip(rng.lognormal(np.log(10.0), 1.2, m), 1.0, 20 * 24.0)
    end_s = np.maximum(
        np.minimum(start_s + (hours * 3600).astype(np.int64), shown["end"].to_numpy()[owner] * DAY), start_s
    )
    order = np.lexsort((owner, start_s))
    owner, start_s, end_s = owner[order], start_s[order], end_s[order]
    ids = make_ids("M", np.arange(1, m + 1))
    code = np.where(rng.random(m) < MISSING_AWAY_P, "away", "missing")
    child = shown["child"].to_numpy()[owner]
    buf.add("missing_started", child, start_s, episode=ids, code=code)
    buf.add("missing_ended", child, end_s, episode=ids, code=code)
