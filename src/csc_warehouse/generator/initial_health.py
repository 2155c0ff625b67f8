"""Initial health assessments: a `health_assessment` soon after a child starts to be looked after.

Statutory guidance wants it within 20 working days of the start. The yearly health assessments of the
looked-after stage already give some periods one in time (`BASE_IHA_IN_20WD_SHARE`), so the chance of an
assessment in time here is what brings the two together to the setting `iha_in_20wd_pct`; the others
are late (21-60 working days) or, for a few, never held while the period lasts. Periods open when the
data begin (shown from the first emitted day) had theirs before the data, and short breaks need none.
"""

from __future__ import annotations

import numpy as np

from csc_warehouse.generator.case_view import CaseView
from csc_warehouse.generator.constants import BASE_IHA_IN_20WD_SHARE, DAY, IHA_LATE_WD, IHA_NEVER_P, IHA_WD
from csc_warehouse.generator.context import Context, add_wd
from csc_warehouse.generator.event_buffer import EventBuffer


def in_time_chance(target_pct: float) -> float:
    """The chance of an assessment in time here that, with the ones already there, gives the target."""
    return float(np.clip(1 - (1 - target_pct / 100) / (1 - BASE_IHA_IN_20WD_SHARE), 0.0, 1.0))


def initial_health_assessments(ctx: Context, buf: EventBuffer, case: CaseView) -> None:
    rng = ctx.stream("initial_health")
    periods = case.periods_of_care()
    periods = periods[~periods["short_break"].to_numpy() & (periods["start"].to_numpy() > ctx.emit_start)]
    start, end = periods["start"].to_numpy(), periods["end"].to_numpy()
    n = start.size
    u = rng.random(n)
    in_time = u < in_time_chance(ctx.settings.iha_in_20wd_pct)
    never = ~in_time & (rng.random(n) < IHA_NEVER_P)
    wd = np.where(
        in_time,
        rng.integers(IHA_WD[0], IHA_WD[1] + 1, n),
        rng.integers(IHA_LATE_WD[0], IHA_LATE_WD[1] + 1, n),
    )
    day = add_wd(ctx, start, wd)
    held = ~never & ((end < 0) | (day < end)) & (day <= ctx.data_end)
    buf.add("health_assessment", periods["child"].to_numpy()[held], day[held] * DAY)
