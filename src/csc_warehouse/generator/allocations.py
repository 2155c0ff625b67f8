"""Worker allocations: `worker_allocated` events (episode id = allocation id, code = pseudonymous worker
id, referral id = the referral the child was allocated for).

Most referrals get a worker the same or the next working days, some weeks later, a few not at all
while open (closed at the front door, or never allocated); a few children were allocated in the days
before the referral (a worker already on the case), so not for it. While a referral stays open the
worker changes now and then. Workers come from a pool the size of the authority's workforce.
"""

from __future__ import annotations

import numpy as np

from csc_warehouse.generator.case_view import CaseView
from csc_warehouse.generator.constants import (
    ALLOCATION_BEFORE_P,
    ALLOCATION_NEVER_P,
    ALLOCATION_WD,
    ALLOCATION_WD_P,
    DAY,
    WORKER_CHANGES_PER_YEAR,
    WORKERS_PER_10K,
)
from csc_warehouse.generator.context import Context, add_wd
from csc_warehouse.generator.draws import make_ids, poisson_days
from csc_warehouse.generator.event_buffer import EventBuffer


def worker_allocations(ctx: Context, buf: EventBuffer, case: CaseView) -> None:
    rng = ctx.stream("allocations")
    referrals = case.episodes("referral_received", "referral_closed")
    child, start, end = (referrals[c].to_numpy() for c in ("child", "start", "end"))
    stop = np.where(end >= 0, end, ctx.data_end + 1)
    n = start.size

    kind = rng.choice(len(ALLOCATION_WD_P), n, p=np.asarray(ALLOCATION_WD_P) / sum(ALLOCATION_WD_P))
    lo, hi = (np.asarray([r[i] for r in ALLOCATION_WD])[kind] for i in (0, 1))
    day = add_wd(ctx, start, lo + (rng.random(n) * (hi - lo)).astype(np.int64))
    u = rng.random(n)
    before = u < ALLOCATION_BEFORE_P
    never = (u >= ALLOCATION_BEFORE_P) & (u < ALLOCATION_BEFORE_P + ALLOCATION_NEVER_P)
    known_from = case.first_days.reindex(child).to_numpy()  # no event before the child's record
    day = np.where(before, np.maximum(start - rng.integers(1, 6, n), known_from), day)
    allocated = ~never & (day < stop) & (day <= ctx.data_end)

    workers = max(3, round(WORKERS_PER_10K * ctx.population / 10_000))
    worker = rng.integers(0, workers, n)
    rows = np.flatnonzero(allocated)
    owner, change_day = poisson_days(rng, day[rows] + 1, stop[rows], WORKER_CHANGES_PER_YEAR / 365.25)
    owner = rows[owner]
    change_worker = (worker[owner] + rng.integers(1, workers, owner.size)) % workers

    who = np.concatenate([rows, owner])
    when = np.concatenate([day[rows], change_day])
    by = np.concatenate([worker[rows], change_worker])
    keep = when <= ctx.data_end
    who, when, by = who[keep], when[keep], by[keep]
    order = np.lexsort((child[who], when))
    who, when, by = who[order], when[order], by[order]
    buf.add(
        "worker_allocated",
        child[who],
        when * DAY,
        episode=make_ids("WA", np.arange(1, who.size + 1)),
        referral=referrals["episode_id"].to_numpy()[who],
        code=make_ids("W", by + 1, width=4),
    )
