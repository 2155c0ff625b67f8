"""Stage 2: referral journeys, one row per referral with every date of its journey (contact and
decision, referral, assessment, S47 and ICPC, CP and CIN plans, closure).

Children are simulated as *chains* of referrals (a child's next referral can only come after the
previous one closed), which gives realistic re-referrals and repeat CP plans. The simulation starts
some warm-up years before the first emitted day and only journeys whose contact falls in the emitted
window are kept, so the volumes and the re-referral history are steady from the first emitted month."""

from __future__ import annotations

import numpy as np
import pandas as pd

from csc_warehouse.generator.constants import (
    AFTER_PLAN_CLOSE_MAX_DAYS,
    ASSESSMENT_FACTOR_W,
    ASSESSMENT_FACTORS,
    ASSESSMENT_OUTCOME_P,
    ASSESSMENT_OUTCOME_P_AFTER_CP,
    ASSESSMENT_OUTCOMES,
    ASSESSMENT_SEEN_P,
    CIN_NO_PLAN_MEAN_DAYS,
    CIN_PLAN_MEAN_MONTHS,
    CIN_PLAN_P,
    CLOSE_CODE_P_AFTER_SERVICES,
    CLOSE_CODES,
    CONTACT_SOURCE_P,
    CONTACT_SOURCES,
    CP_CATEGORIES,
    CP_CATEGORY_P,
    CP_DURATION_SHAPE,
    CP_STEP_DOWN_TO_CIN_P,
    DAY,
    DECISION_24H_P,
    ICPC_NOT_REQUIRED_RECORDED_P,
    ICPC_P,
    ICPC_P_AFTER_CP,
    ICPC_PLAN_P,
    MAX_REFERRALS_PER_CHILD,
    MONTH_DAYS,
    NA,
    QUICK_CLOSE_MAX_DAYS,
    REFERRAL_NFA_P,
    REFERRAL_SOURCE_CODES,
    REFERRALS_PER_CHAIN,
    REREFERRAL_P,
    REREFERRAL_SOON_MEAN_DAYS,
    REREFERRAL_SOON_P,
    S47_NO_PLAN_MEAN_DAYS,
)
from csc_warehouse.generator.context import Context, add_wd
from csc_warehouse.generator.draws import choose, gamma_days
from csc_warehouse.generator.people import People, birth_months, eighteenth_birthday


def simulate_referrals(ctx: Context) -> tuple[pd.DataFrame, People]:
    """Every referral journey whose contact falls in the emitted window, as one row per referral.

    Each chain is one child: its first referral arrives at a constant rate over the simulated span, and
    after each referral closes the child may be referred again. Looping over the chain position keeps
    the work vectorised across all children at once. How many referrals a chain brings depends on the
    re-referral settings, so chains are generated from a low estimate of that (more than needed) and
    whole chains are then dropped at random until the emitted referrals match the wanted rate.
    """
    rng = ctx.rng
    s = ctx.settings
    emitted_years = (ctx.data_end - ctx.emit_start + 1) / 365.25
    wanted = s.referrals_per_10k * ctx.population / 10_000 * emitted_years
    # Chains bring ~1.52 referrals at factor 1 (REFERRALS_PER_CHAIN); 15% fewer, so there are enough.
    per_chain = 1 + (REFERRALS_PER_CHAIN - 1) * s.re_referral_factor
    again_p = {k: min(p * s.re_referral_factor, 0.95) for k, p in REREFERRAL_P.items()}
    again_p["cp"] = min(again_p["cp"] * s.cp_repeat_factor, 0.95)
    people = People(birth_month=np.empty(0, dtype=np.int64))
    span_years = (ctx.data_end - ctx.sim_start + 1) / 365.25
    n_chains = rng.poisson(wanted / emitted_years / (0.85 * per_chain) * span_years)
    journeys = referral_chains(ctx, people, n_chains, again_p)
    got = len(journeys)
    if got > wanted:
        chains = journeys["child"].unique()
        kept = chains[rng.random(chains.size) < wanted / got]
        journeys = journeys[journeys["child"].isin(kept)].reset_index(drop=True)
    return journeys, people


def referral_chains(ctx: Context, people: People, n_chains: int, again_p: dict[str, float]) -> pd.DataFrame:
    """`n_chains` children's referral chains over the simulated span; the journeys in the emitted window."""
    rng = ctx.rng
    first_day = np.sort(rng.integers(ctx.sim_start, ctx.data_end + 1, n_chains))
    child = people.add(birth_months(rng, first_day))
    adult_day = eighteenth_birthday(people.birth_month)

    day = first_day
    had_cp = np.zeros(n_chains, dtype=bool)
    batches: list[pd.DataFrame] = []
    for _ in range(MAX_REFERRALS_PER_CHILD):
        if child.size == 0 and batches:
            break
        batch = journey_batch(ctx, child, day, had_cp, adult_day[child])
        batches.append(batch)
        again = rng.random(child.size) < batch["kind"].map(again_p).to_numpy()
        soon = rng.random(child.size) < batch["kind"].map(REREFERRAL_SOON_P).to_numpy()
        gap = np.where(
            soon,
            14 + rng.exponential(REREFERRAL_SOON_MEAN_DAYS, child.size),
            rng.uniform(365, 4 * 365, child.size),
        ).astype(np.int64)
        next_day = batch["close_day"].to_numpy() + gap
        keep = again & (next_day <= ctx.data_end) & (next_day < adult_day[child])
        had_cp = (had_cp | (batch["cp_start"].to_numpy() >= 0))[keep]
        child, day = child[keep], next_day[keep]

    journeys = pd.concat(batches, ignore_index=True)
    emitted = (journeys["contact_s"] // DAY >= ctx.emit_start) & (
        journeys["contact_s"] // DAY <= ctx.data_end
    )
    return journeys[emitted].sort_values(["contact_s", "child"], kind="stable").reset_index(drop=True)


def journey_batch(
    ctx: Context, child: np.ndarray, contact_day: np.ndarray, had_cp: np.ndarray, adult: np.ndarray
) -> pd.DataFrame:
    """One referral per child, from the contact to the referral's closure (dates may pass the data end).

    `adult` is each child's 18th birthday: plans and the referral end by then, as children's services do.
    """
    rng = ctx.rng
    s = ctx.settings
    n = child.size
    out: dict[str, np.ndarray] = {"child": child}

    # Contact and its decision: contacts carry a time of day, decisions mostly within 24 hours.
    out["contact_s"] = contact_day * DAY + time_of_day(rng, n)
    out["decision_s"] = out["contact_s"] + decision_delay(rng, n)
    source = choose(rng, CONTACT_SOURCES, CONTACT_SOURCE_P, n)
    out["contact_source"] = source
    ref_day = out["decision_s"] // DAY
    out["ref_day"] = ref_day
    out["ref_code"] = referral_source_codes(rng, source)
    nfa = rng.random(n) < REFERRAL_NFA_P
    out["ref_nfa"] = nfa

    # Assessment: starts within a few working days; 94-95% authorised within 45 working days.
    assessed = ~nfa
    ass_start = add_wd(ctx, ref_day, rng.choice(4, n, p=[0.4, 0.3, 0.2, 0.1]))
    ass_wd = np.where(
        rng.random(n) < s.assessments_in_45wd_pct / 100,
        np.round(rng.triangular(2, 30, 45, n)),
        rng.integers(46, 131, n),  # the late ones run long: ~8% of those open at a month end
    ).astype(np.int64)
    ass_end = add_wd(ctx, ass_start, ass_wd)
    outcome = np.where(
        had_cp,
        choose(rng, ASSESSMENT_OUTCOMES, ASSESSMENT_OUTCOME_P_AFTER_CP, n),
        choose(rng, ASSESSMENT_OUTCOMES, ASSESSMENT_OUTCOME_P, n),
    )
    seen = assessed & (rng.random(n) < ASSESSMENT_SEEN_P)
    seen_day = add_wd(ctx, ass_start, rng.integers(0, np.minimum(ass_wd, 10) + 1))
    out["ass_start"] = np.where(assessed, ass_start, NA)
    out["ass_end"] = np.where(assessed, ass_end, NA)
    out["outcome"] = np.where(assessed, outcome, None)
    out["factors"] = np.where(assessed, assessment_factors(rng, n), None)
    out["seen_day"] = np.where(seen, seen_day, NA)

    # S47 and ICPC: the ICPC is due within 15 working days of the strategy discussion.
    s47 = assessed & (outcome == "s47")
    sd_day = add_wd(ctx, ass_start, rng.integers(0, 4, n))
    s47_day = add_wd(ctx, sd_day, (rng.random(n) > 0.8).astype(np.int64))
    icpc_p = np.minimum(np.where(had_cp, ICPC_P_AFTER_CP * s.cp_repeat_factor, ICPC_P) * s.cp_factor, 0.95)
    icpc = s47 & (rng.random(n) < icpc_p)
    icpc_wd = np.where(
        rng.random(n) < s.icpc_in_15wd_pct / 100, rng.integers(5, 16, n), rng.integers(16, 31, n)
    )
    icpc_day = add_wd(ctx, sd_day, icpc_wd)
    plan = icpc & (rng.random(n) < ICPC_PLAN_P)
    not_required = s47 & ~icpc & (rng.random(n) < ICPC_NOT_REQUIRED_RECORDED_P)
    nr_day = add_wd(ctx, s47_day, rng.integers(3, 16, n))
    out["sd_day"] = np.where(s47, sd_day, NA)
    out["s47_day"] = np.where(s47, s47_day, NA)
    out["icpc_day"] = np.where(icpc, icpc_day, NA)
    out["icpc_outcome"] = np.where(icpc, np.where(plan, "plan", "no_plan"), None)
    out["nr_day"] = np.where(not_required, nr_day, NA)

    # CP plan from the ICPC; reviews and visits are expanded later, only for emitted plans.
    cp_months = rng.gamma(CP_DURATION_SHAPE, s.cp_duration_months / CP_DURATION_SHAPE, n)
    cp_end = end_by_adulthood(
        icpc_day + np.maximum((cp_months * MONTH_DAYS).astype(np.int64), 21), icpc_day, adult
    )
    out["cp_start"] = np.where(plan, icpc_day, NA)
    out["cp_end"] = np.where(plan, cp_end, NA)
    out["cp_category"] = np.where(plan, choose(rng, CP_CATEGORIES, CP_CATEGORY_P, n), None)

    # CIN plan: after an assessment with outcome cin, after an S47 with no CP plan, or as the step
    # down from a CP plan (one CIN plan per referral at most).
    s47_done = np.maximum.reduce([ass_end, np.where(icpc, icpc_day, NA), np.where(not_required, nr_day, NA)])
    cin_after_cin = assessed & (outcome == "cin") & (rng.random(n) < CIN_PLAN_P)
    cin_after_s47 = s47 & ~plan & (rng.random(n) < CIN_PLAN_P)
    step_down = plan & (cp_end < adult) & (rng.random(n) < CP_STEP_DOWN_TO_CIN_P)
    cin_start = np.select(
        [cin_after_cin, cin_after_s47, step_down],
        [ass_end + rng.integers(0, 16, n), s47_done + rng.integers(0, 16, n), cp_end],
        NA,
    )
    has_cin = cin_start >= 0
    cin_end = end_by_adulthood(
        cin_start + gamma_days(rng, 2.0, CIN_PLAN_MEAN_MONTHS * MONTH_DAYS * s.cin_duration_factor, n, 28),
        cin_start,
        adult,
    )
    out["cin_start"] = cin_start
    out["cin_end"] = np.where(has_cin, cin_end, NA)

    # Closure: when the child's work ends. Children in need without a plan stay open for months.
    quick = nfa | np.isin(outcome, ["nfa", "early_help"])
    close_day = np.select(
        [
            nfa,
            quick,
            has_cin,
            plan,
            outcome == "cin",
        ],
        [
            ref_day + rng.integers(0, 6, n),
            ass_end + rng.integers(0, QUICK_CLOSE_MAX_DAYS + 1, n),
            cin_end + rng.integers(0, AFTER_PLAN_CLOSE_MAX_DAYS + 1, n),
            cp_end + rng.integers(0, AFTER_PLAN_CLOSE_MAX_DAYS + 1, n),
            ass_end + gamma_days(rng, 2.5, CIN_NO_PLAN_MEAN_DAYS * s.cin_duration_factor, n, 14),
        ],
        s47_done + gamma_days(rng, 2.0, S47_NO_PLAN_MEAN_DAYS, n, 7),
    )
    # Never before any other event of the referral, whatever the branch.
    work_end = np.maximum.reduce(
        [ref_day, out["ass_end"], out["icpc_day"], out["nr_day"], out["cp_end"], out["cin_end"]]
    )
    out["close_day"] = np.maximum(np.minimum(close_day, adult), work_end)
    out["close_code"] = np.where(quick, "RC8", choose(rng, CLOSE_CODES, CLOSE_CODE_P_AFTER_SERVICES, n))
    out["kind"] = np.where(plan, "cp", np.where(quick, "quick", "cin"))
    return pd.DataFrame(out)


def end_by_adulthood(end: np.ndarray, start: np.ndarray, adult: np.ndarray) -> np.ndarray:
    """Ends past the 18th birthday move to it (a week after the start if that is later still)."""
    return np.where(end > adult, np.maximum(adult, start + 7), end)


def time_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds after midnight: mostly office hours, a quarter out of hours (police, hospitals)."""
    office = rng.integers(8 * 3600, 18 * 3600, n)
    any_time = rng.integers(0, DAY, n)
    return np.where(rng.random(n) < 0.75, office, any_time)


def decision_delay(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds from contact to decision: ~85% within 24 hours, the rest 1-5 days."""
    fast = rng.integers(600, DAY - 60, n)
    slow = rng.integers(DAY + 3600, 5 * DAY, n)
    return np.where(rng.random(n) < DECISION_24H_P, fast, slow)


def referral_source_codes(rng: np.random.Generator, contact_source: np.ndarray) -> np.ndarray:
    out = np.empty(contact_source.size, dtype=object)
    for source, (codes, p) in REFERRAL_SOURCE_CODES.items():
        rows = np.flatnonzero(contact_source == source)
        out[rows] = choose(rng, codes, p, rows.size)
    return out


def assessment_factors(rng: np.random.Generator, n: int) -> np.ndarray:
    """1-3 distinct CIN census assessment factors per assessment, ';'-separated."""
    w = np.log(np.asarray(ASSESSMENT_FACTOR_W, dtype=float))
    keys = w + rng.gumbel(size=(n, w.size))  # Gumbel top-k: weighted sampling without replacement
    top = np.argsort(-keys, axis=1, kind="stable")[:, :3]
    k = rng.choice([1, 2, 3], size=n, p=[0.35, 0.4, 0.25])
    top = np.where(np.arange(3) < k[:, None], top, w.size)
    top.sort(axis=1)
    codes = np.asarray([*ASSESSMENT_FACTORS, ""], dtype=object)[top]
    joined = codes[:, 0] + np.where(codes[:, 1] != "", ";", "") + codes[:, 1]
    return joined + np.where(codes[:, 2] != "", ";", "") + codes[:, 2]
