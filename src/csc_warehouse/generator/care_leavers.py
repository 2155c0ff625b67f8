"""Care leavers' contacts around each birthday from 17 to 21, with activity and accommodation."""

from __future__ import annotations

import numpy as np
import pandas as pd

from csc_warehouse.generator.constants import (
    BASE_CARE_LEAVERS_EET_PCT,
    CARE_LEAVER_ACTIVITY_P,
    CARE_LEAVER_MIN_DAYS,
    DAY,
    EET_ACTIVITIES,
    EPOCH,
    NEET_ACTIVITIES,
    SUITABLE_ACCOM,
    SUITABLE_ACCOM_P,
    UNSUITABLE_ACCOM,
)
from csc_warehouse.generator.context import Context
from csc_warehouse.generator.draws import draw_codes, draw_rows
from csc_warehouse.generator.event_buffer import EventBuffer
from csc_warehouse.generator.people import People, age_at, months_of


def care_leaver_events(ctx: Context, buf: EventBuffer, periods: pd.DataFrame, people: People) -> None:
    """Young people who left care aged 16+ after 13 weeks or more (also before the emitted window): a
    contact around each birthday from 17 to 21 after they left, with their activity and accommodation."""
    rng = ctx.rng
    last = periods.sort_values(["child", "end"], kind="stable").drop_duplicates("child", keep="last")
    child, start, end = (last[c].to_numpy() for c in ("child", "start", "end"))
    birth = people.birth_month[child]
    leaver = (
        (age_at(birth, end) >= 16)
        & (end - start >= CARE_LEAVER_MIN_DAYS)
        & ~np.isin(last["rec"].to_numpy(), ["E2", "E15"])
        & (end <= ctx.data_end)
    )
    child, end, birth = child[leaver], end[leaver], birth[leaver]
    owner = np.repeat(np.arange(child.size), 5)
    years = np.tile(np.arange(17, 22), child.size)
    months = months_of(birth[owner]) + years * 12
    birthday = (months.astype("datetime64[M]").astype("datetime64[D]") - EPOCH).astype(np.int64)
    day = birthday + rng.integers(-60, 61, owner.size)
    ok = (day > end[owner]) & (day >= ctx.emit_start) & (day <= ctx.data_end)
    owner, day, years = owner[ok], day[ok], years[ok]
    m = owner.size
    p = np.where((years >= 19)[:, None], CARE_LEAVER_ACTIVITY_P["19-21"], CARE_LEAVER_ACTIVITY_P["17-18"])
    # The profile's EET level moves care leavers between EET and NEET; the not-in-touch share stays.
    eet = np.minimum(p[:, 0] * ctx.settings.care_leavers_eet_pct / BASE_CARE_LEAVERS_EET_PCT, 1 - p[:, 2])
    p = np.column_stack([eet, 1 - p[:, 2] - eet, p[:, 2]])
    status = draw_rows(rng, p)
    activity = np.select(
        [status == 0, status == 1],
        [draw_codes(rng, EET_ACTIVITIES, m), draw_codes(rng, NEET_ACTIVITIES, m)],
        "0",
    )
    suitable = rng.random(m) < SUITABLE_ACCOM_P
    accom = np.where(
        suitable,
        draw_codes(rng, SUITABLE_ACCOM, m).astype(str) + "1",
        draw_codes(rng, UNSUITABLE_ACCOM, m).astype(str) + "2",
    )
    accom = np.where(status == 2, "0", accom)
    buf.add("care_leaver_contact", child[owner], day * DAY, code=activity, code2=accom.astype(object))
