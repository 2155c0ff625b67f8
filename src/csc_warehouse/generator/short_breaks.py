"""Disabled children on a series of short breaks (V3/V4 periods), and their events."""

from __future__ import annotations

import numpy as np
import pandas as pd

from csc_warehouse.generator.constants import (
    DAY,
    SHORT_BREAK_CHILDREN,
    SHORT_BREAK_MEAN_YEARS,
    SHORT_BREAK_TO_CARE_P,
    SHORT_BREAK_V4_CHILDREN,
)
from csc_warehouse.generator.context import Context
from csc_warehouse.generator.draws import choose, expand, gamma_days
from csc_warehouse.generator.event_buffer import EventBuffer
from csc_warehouse.generator.people import People, birth_month_at_age, eighteenth_birthday


def short_breaks(ctx: Context, people: People) -> tuple[pd.DataFrame, pd.DataFrame, People]:
    """Disabled children on a series of short breaks: V3 (one short period per break, every few weeks)
    or V4 (one period per yearly agreement). A few V3 programmes end with the child coming into care;
    those entries are returned as (child, day)."""
    rng = ctx.rng
    lo = ctx.emit_start - 6 * 365
    years = (ctx.data_end - lo + 1) / 365.25
    frames, entries = [], []
    for code, stock in (("V3", SHORT_BREAK_CHILDREN), ("V4", SHORT_BREAK_V4_CHILDREN)):
        n = rng.poisson(stock * ctx.scale / SHORT_BREAK_MEAN_YEARS * years)
        begin = np.sort(rng.integers(lo, ctx.data_end + 1, n))
        child = people.add(birth_month_at_age(rng, begin, rng.integers(4, 16, n)))
        adult = eighteenth_birthday(people.birth_month[child])
        finish = np.minimum(begin + gamma_days(rng, 2.0, SHORT_BREAK_MEAN_YEARS * 365.25, n, 60), adult)
        if code == "V3":
            owner, start = expand(
                begin, finish, rng.integers(0, 30, n), lambda k: rng.integers(14, 46, k), 14
            )
            end = start + rng.integers(1, 5, start.size)
            to_care = (rng.random(n) < SHORT_BREAK_TO_CARE_P) & (finish < adult - 90)
            entries.append(
                pd.DataFrame(
                    {"child": child[to_care], "day": finish[to_care] + rng.integers(5, 31, to_care.sum())}
                )
            )
        else:
            owner, start = expand(
                begin, finish, np.zeros(n, np.int64), lambda k: rng.integers(370, 400, k), 370
            )
            end = np.minimum(start + rng.integers(300, 366, start.size), finish[owner])
        frames.append(pd.DataFrame({"child": child[owner], "start": start, "end": end, "status": code}))
    breaks = pd.concat(frames, ignore_index=True)
    breaks = breaks[(breaks["end"] > ctx.emit_start) & (breaks["start"] >= ctx.emit_start)]
    breaks = breaks[breaks["start"] <= ctx.data_end].reset_index(drop=True)
    to_care = pd.concat(entries, ignore_index=True)
    return breaks, to_care[to_care["day"] <= ctx.data_end], people


def short_break_events(ctx: Context, buf: EventBuffer, breaks: pd.DataFrame) -> None:
    rng = ctx.rng
    n = len(breaks)
    child, pid = breaks["child"].to_numpy(), breaks["period_id"].to_numpy()
    placement = choose(rng, ("K2", "U6"), (0.7, 0.3), n)
    km = np.round(np.minimum(12.0 * rng.lognormal(0.0, 0.8, n), 200.0), 1)
    buf.add(
        "cla_period_started",
        child,
        breaks["start"] * DAY,
        episode=pid,
        code=breaks["status"],
        code2=placement,
        value=km,
    )
    buf.add("cla_period_ended", child, breaks["end"] * DAY, episode=pid, code="E4A")
