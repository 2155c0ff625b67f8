"""First entries to care: from the plans of the emitted journeys, straight into care, before the
window, UASC and short-break children coming into care."""

from __future__ import annotations

import numpy as np
import pandas as pd

from csc_warehouse.generator.constants import (
    BASE_LOOKED_AFTER_PER_10K,
    BASE_UASC_PER_10K,
    CLA_AGE_BANDS,
    CLA_ENTRIES_PER_10K,
    CLA_ENTRY_AGE_W,
    CLA_LINK_CIN_WEIGHT,
    CLA_LINKED_SHARE,
    CLA_PRE_YEARS,
    NA,
    UASC_AGE_P,
    UASC_ENTRIES_PER_10K,
)
from csc_warehouse.generator.context import Context, add_wd
from csc_warehouse.generator.draws import choose
from csc_warehouse.generator.people import People, age_at, age_band, birth_month_at_age, eighteenth_birthday
from csc_warehouse.generator.referrals import assessment_factors, journey_batch


def cla_entrants(
    ctx: Context, journeys: pd.DataFrame, people: People, from_short_breaks: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, People]:
    """First entries to care: from CP and CIN plans of the emitted journeys, straight into care (with a
    new referral) in the emitted window, before it (never emitted themselves), UASC, and short-break
    children coming into care. Direct entries fill up, quarter by quarter and age band by age band, what
    the plans do not bring, so the entries are steady from the first emitted day."""
    rng = ctx.rng
    w = np.asarray(CLA_ENTRY_AGE_W, dtype=float)
    w = w / w.sum()
    per_year = (
        CLA_ENTRIES_PER_10K
        * ctx.settings.looked_after_per_10k
        / BASE_LOOKED_AFTER_PER_10K
        * ctx.population
        / 10_000
    )

    band_w = np.bincount(age_band(np.arange(w.size)), weights=w)
    linked = linked_entrants(ctx, journeys, people, per_year * band_w)

    # Before the emitted window: children nobody will see again unless they are still in care.
    pre_lo = ctx.emit_start - int(CLA_PRE_YEARS * 365.25)
    n_pre = rng.poisson(per_year * CLA_PRE_YEARS)
    pre_day = rng.integers(pre_lo, ctx.emit_start, n_pre)
    pre_age = rng.choice(w.size, n_pre, p=w)

    # In the window: per quarter and age band, what the linked entries leave to reach the target.
    quarter = 91.3125
    n_q = int(np.ceil((ctx.data_end + 1 - ctx.emit_start) / quarter))
    q_lo = ctx.emit_start + np.round(np.arange(n_q) * quarter).astype(np.int64)
    q_hi = np.minimum(
        ctx.emit_start + np.round(np.arange(1, n_q + 1) * quarter).astype(np.int64), ctx.data_end + 1
    )
    wanted = per_year * np.outer((q_hi - q_lo) / 365.25, band_w)
    got = np.zeros_like(wanted)
    lq = np.searchsorted(q_lo, linked["start"].to_numpy(), side="right") - 1
    np.add.at(got, (lq, linked["band"].to_numpy()), 1)
    fill = rng.poisson(np.maximum(wanted - got, 0))
    cell_q, cell_b = np.nonzero(fill)
    counts = fill[cell_q, cell_b]
    d_q, d_band = np.repeat(cell_q, counts), np.repeat(cell_b, counts)
    d_day = q_lo[d_q] + (rng.random(d_q.size) * (q_hi[d_q] - q_lo[d_q])).astype(np.int64)
    d_age = np.empty(d_q.size, dtype=np.int64)
    ages = np.arange(w.size)
    for b in range(len(CLA_AGE_BANDS)):
        rows = np.flatnonzero(d_band == b)
        in_band = age_band(ages) == b
        d_age[rows] = rng.choice(ages[in_band], rows.size, p=w[in_band] / w[in_band].sum())

    # UASC, before and in the window.
    n_uasc = rng.poisson(
        UASC_ENTRIES_PER_10K
        * ctx.settings.uasc_per_10k
        / BASE_UASC_PER_10K
        * ctx.population
        / 10_000
        * (ctx.data_end - pre_lo + 1)
        / 365.25
    )
    u_day = rng.integers(pre_lo, ctx.data_end + 1, n_uasc)
    u_age = choose(rng, tuple(str(a) for a in UASC_AGE_P), tuple(UASC_AGE_P.values()), n_uasc).astype(
        np.int64
    )

    day = np.concatenate([pre_day, d_day, u_day])
    age = np.concatenate([pre_age, d_age, u_age])
    uasc = np.concatenate([np.zeros(n_pre + d_day.size, bool), np.ones(n_uasc, bool)])
    child = people.add(birth_month_at_age(rng, day, age))
    in_window = day >= ctx.emit_start
    new_journeys, entry = direct_journeys(ctx, child[in_window], day[in_window], people, len(journeys))
    day[in_window] = entry
    jkey = np.full(day.size, -1, dtype=np.int64)
    jkey[in_window] = new_journeys["jkey"].to_numpy()

    sb_child = from_short_breaks["child"].to_numpy()
    entrants = pd.concat(
        [
            linked[["child", "start", "jkey"]].assign(uasc=False, v3=False),
            pd.DataFrame({"child": child, "start": day, "jkey": jkey, "uasc": uasc, "v3": False}),
            pd.DataFrame(
                {
                    "child": sb_child,
                    "start": from_short_breaks["day"].to_numpy(),
                    "jkey": -1,
                    "uasc": False,
                    "v3": True,
                }
            ),
        ],
        ignore_index=True,
    )
    entrants = entrants.sort_values(["start", "child"], kind="stable").reset_index(drop=True)
    return entrants, pd.concat([journeys, new_journeys], ignore_index=True), people


def linked_entrants(
    ctx: Context, journeys: pd.DataFrame, people: People, wanted_per_year: np.ndarray
) -> pd.DataFrame:
    """Children who come into care when their CP plan (one without a step-down) or CIN plan ends, at
    most one such entry per child (their later referrals are dropped while they are in care).

    The plans ending are thinned, age band by age band, to CLA_LINKED_SHARE of the entries wanted a
    year, so that the direct entries make up the rest and never have to be negative."""
    rng = ctx.rng
    n = len(journeys)
    child = journeys["child"].to_numpy()
    cp_end, cin_start, cin_end = (journeys[c].to_numpy() for c in ("cp_end", "cin_start", "cin_end"))
    step_down = (cp_end >= 0) & (cin_start == cp_end)
    from_cp = (cp_end >= 0) & ~step_down
    from_cin = ~from_cp & (cin_start >= 0) & (rng.random(n) < CLA_LINK_CIN_WEIGHT)
    entry = np.where(from_cp, cp_end, np.where(from_cin, cin_end, NA))
    adult = eighteenth_birthday(people.birth_month[child])
    ok = (entry >= ctx.emit_start) & (entry <= ctx.data_end) & (entry < adult - 30)
    child, entry, jkey = child[ok], entry[ok], journeys["jkey"].to_numpy()[ok]
    band = age_band(age_at(people.birth_month[child], entry))

    # The pool a year once the plans have built up (after the first emitted year, if there is more).
    steady_from = ctx.emit_start + 365 if ctx.data_end - ctx.emit_start > 2 * 365 else ctx.emit_start
    steady = entry >= steady_from
    pool = np.bincount(band[steady], minlength=len(CLA_AGE_BANDS)) / (
        (ctx.data_end + 1 - steady_from) / 365.25
    )
    keep_p = np.minimum(CLA_LINKED_SHARE * wanted_per_year / np.maximum(pool, 1e-9), 1.0)
    keep = rng.random(entry.size) < keep_p[band]
    linked = pd.DataFrame(
        {"child": child[keep], "start": entry[keep], "jkey": jkey[keep], "band": band[keep]}
    )
    linked = linked.sort_values(["start", "jkey"], kind="stable").drop_duplicates("child")
    return linked.reset_index(drop=True)


def direct_journeys(
    ctx: Context, child: np.ndarray, day: np.ndarray, people: People, first_key: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """A referral for each child who comes straight into care: contact, referral and an assessment that
    finds a child in need, no S47 or plan. Returns the journeys and the entry days (on or after the
    referral). The referral's closure is set later, after the child leaves care."""
    rng = ctx.rng
    n = child.size
    birth = people.birth_month[child]
    contact_day = np.maximum(day - rng.integers(0, 3, n), np.maximum(birth, ctx.emit_start))
    j = journey_batch(ctx, child, contact_day, np.zeros(n, dtype=bool), eighteenth_birthday(birth))
    ref_day = j["ref_day"].to_numpy()
    j["ref_nfa"] = False
    j["ass_start"] = add_wd(ctx, ref_day, rng.integers(0, 3, n))
    j["ass_end"] = add_wd(ctx, j["ass_start"].to_numpy(), rng.integers(5, 40, n))
    j["seen_day"] = j["ass_start"]
    j["outcome"] = "cin"
    j["factors"] = assessment_factors(rng, n)
    for col in ("sd_day", "s47_day", "icpc_day", "nr_day", "cp_start", "cp_end", "cin_start", "cin_end"):
        j[col] = NA
    for col in ("icpc_outcome", "cp_category"):
        j[col] = None
    j["kind"] = "cin"
    j["jkey"] = np.arange(first_key, first_key + n)
    return j, np.maximum(day, ref_day)
