"""Child protection plans' plain review conferences, always on time.

These rows are replaced by the review chains of `reviews` (stage 6), which have late reviews too; they
are still drawn here, from the shared stream, so that every row drawn after them stays as it was.
"""

from __future__ import annotations

import numpy as np

from csc_warehouse.generator.constants import DAY
from csc_warehouse.generator.context import Context
from csc_warehouse.generator.draws import expand
from csc_warehouse.generator.event_buffer import EventBuffer


def cp_reviews(
    ctx: Context,
    buf: EventBuffer,
    kid: np.ndarray,
    cp: np.ndarray,
    ref: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
) -> None:
    """First review within 3 months of the ICPC, then every 6 months while the plan is open (replaced
    later by `reviews.cp_review_chains`)."""
    rng = ctx.rng
    end = np.minimum(end, ctx.data_end + 1)
    first = rng.integers(55, 91, start.size)
    owner, day = expand(start, end, first, lambda k: rng.integers(150, 183, k), min_gap=150)
    buf.add("cp_review", kid[owner], day * DAY, episode=cp[owner], referral=ref[owner])
