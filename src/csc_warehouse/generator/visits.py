"""Statutory visits (`child_seen`) on working days while a plan or period is open."""

from __future__ import annotations

import numpy as np

from csc_warehouse.generator.constants import DAY
from csc_warehouse.generator.context import Context, wd_to_day, working_day_index
from csc_warehouse.generator.draws import expand
from csc_warehouse.generator.event_buffer import EventBuffer


def visits(
    ctx: Context,
    buf: EventBuffer,
    code: str,
    kid: np.ndarray,
    episode: np.ndarray,
    ref: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    *,
    first_wd: tuple[int, int],
    gap_wd: tuple[int, int],
    late_p: float,
    late_wd: tuple[int, int] = (2, 10),
) -> None:
    """`child_seen` visits on working days while a plan is open; `late_p` of the gaps run late (by
    `late_wd` working days more)."""
    rng = ctx.rng
    start_wd = working_day_index(ctx, start)
    end_wd = working_day_index(ctx, np.minimum(end, ctx.data_end + 1))

    def gap(k: int) -> np.ndarray:
        regular = rng.integers(*gap_wd, k)
        return np.where(rng.random(k) < late_p, regular + rng.integers(*late_wd, k), regular)

    first = rng.integers(*first_wd, start.size)
    owner, wd = expand(start_wd, end_wd, first, gap, min_gap=gap_wd[0])
    day = wd_to_day(ctx, wd)
    buf.add("child_seen", kid[owner], day * DAY, episode=episode[owner], referral=ref[owner], code=code)
