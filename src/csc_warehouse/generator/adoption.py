"""Adoption journeys' milestones as events."""

from __future__ import annotations

import numpy as np
import pandas as pd

from csc_warehouse.generator.constants import DAY
from csc_warehouse.generator.context import Context
from csc_warehouse.generator.draws import choose
from csc_warehouse.generator.event_buffer import EventBuffer


def adoption_events(ctx: Context, buf: EventBuffer, shown: pd.DataFrame) -> None:
    rng = ctx.rng
    rows = np.flatnonzero(shown["adoption_id"].notna().to_numpy())
    child, aid = shown["child"].to_numpy()[rows], shown["adoption_id"].to_numpy()[rows]
    first, end = shown["shown"].to_numpy()[rows], shown["end"].to_numpy()[rows]
    for event_type, col in (
        ("adoption_decision", "decision"),
        ("placement_order", "po"),
        ("adoption_match", "match"),
        ("adoption_placed", "placed"),
        ("adoption_plan_ceased", "ceased"),
        ("adoption_order", "order"),
    ):
        day = shown[col].to_numpy()[rows]
        ok = (day >= first) & (day <= end)
        code = None
        if event_type == "adoption_plan_ceased":
            code = choose(rng, ("RD1", "RD2", "RD3", "RD4"), (0.15, 0.45, 0.3, 0.1), int(ok.sum()))
        buf.add(event_type, child[ok], day[ok] * DAY, episode=aid[ok], code=code)
