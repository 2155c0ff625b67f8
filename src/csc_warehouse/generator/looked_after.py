"""Stage 3: periods of care, from CP and CIN plans that end with the child coming into care and
straight into care (with a referral of their own), each with how it will end (adoption, SGO, home, at
18, other), its legal statuses, placements and, for adoption, the adoption journey; then readmissions.

Entries are simulated 18 years before the first emitted day, so the stock of long stays is steady; a
period still open then is shown as starting on the first emitted day, with the legal status and
placement it had that day. A looked-after child's referral stays open while they are in care. Reviews,
visits, health, missing episodes, short breaks and care leavers' contacts hang off the periods."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from csc_warehouse.generator.adoption import adoption_events
from csc_warehouse.generator.care_leavers import care_leaver_events
from csc_warehouse.generator.cla_entries import cla_entrants
from csc_warehouse.generator.cla_practice import cla_reviews_and_visits, health_events, missing_events
from csc_warehouse.generator.constants import (
    A2_MEAN_DAYS,
    A2_SHAPE,
    ADOPT,
    ADOPTED_REC,
    ADOPTION_CEASED_P,
    AGE_18_REC,
    CLA_ENTRY_STATUS,
    CLA_ENTRY_STATUS_P,
    CLA_HOME_SUB_P,
    CLA_MAX_PERIODS,
    CLA_READMIT_MEAN_DAYS,
    CLA_READMIT_P,
    CLA_REMAND_P,
    CLA_ROUTE_P,
    DAY,
    EARLY_PERMANENCE_P,
    HOME,
    HOME_REC,
    LONG,
    NA,
    OTHER,
    OTHER_REC,
    PROCEEDINGS_MEAN_DAYS,
    SGO,
    SGO_AT_FINAL_HEARING_P,
    SGO_REC_BEFORE_2016,
    SGO_REC_FROM_2016,
    UASC_UNTIL_18_P,
)
from csc_warehouse.generator.context import Context, to_days
from csc_warehouse.generator.draws import draw_codes, draw_rows, gamma_days, make_ids
from csc_warehouse.generator.event_buffer import EventBuffer
from csc_warehouse.generator.people import People, age_at, age_band, eighteenth_birthday
from csc_warehouse.generator.placements import legal_statuses, period_events, simulate_placements
from csc_warehouse.generator.short_breaks import short_break_events, short_breaks


def simulate_looked_after(
    ctx: Context, journeys: pd.DataFrame, people: People
) -> tuple[pd.DataFrame, People, EventBuffer, np.ndarray]:
    """Periods of care and everything that hangs off them.

    Returns the journeys to emit (a child's referral stays open while they are looked after, and
    referrals that would arrive while they are in care are dropped; children who come straight into
    care get one), the people, the events, and the children on short breaks (recorded as disabled).
    """
    journeys = journeys.assign(jkey=np.arange(len(journeys)))
    first_new_key = len(journeys)
    breaks, to_care, people = short_breaks(ctx, people)
    entrants, journeys, people = cla_entrants(ctx, journeys, people, to_care)
    periods = cla_chains(ctx, entrants, people)
    journeys, periods = cla_referrals(ctx, journeys, periods, first_new_key)
    shown, breaks = cla_ids(ctx, periods, breaks)
    buf = EventBuffer()
    statuses = legal_statuses(shown)
    placements = simulate_placements(ctx, shown, people)
    period_events(ctx, buf, shown, statuses, placements)
    adoption_events(ctx, buf, shown)
    cla_reviews_and_visits(ctx, buf, shown)
    health_events(ctx, buf, shown, people)
    missing_events(ctx, buf, shown, people)
    care_leaver_events(ctx, buf, periods, people)
    short_break_events(ctx, buf, breaks)
    return journeys, people, buf, np.unique(breaks["child"].to_numpy())


def cla_chains(ctx: Context, entrants: pd.DataFrame, people: People) -> pd.DataFrame:
    """Every period of care: each entrant's first period, then readmissions after going home."""
    rng = ctx.rng
    batch = entrants.assign(chain=np.arange(len(entrants)), seq=0)
    parts = []
    for seq in range(CLA_MAX_PERIODS):
        if batch.empty:
            break
        child = batch["child"].to_numpy()
        p = cla_period_batch(
            ctx,
            batch["start"].to_numpy(),
            people.birth_month[child],
            batch["uasc"].to_numpy(),
            batch["v3"].to_numpy(),
        )
        period = pd.concat([batch.reset_index(drop=True), p], axis=1)
        parts.append(period)
        route, rec = p["route"].to_numpy(), p["rec"].to_numpy()
        again_p = np.select(
            [route == HOME, (route == OTHER) & ~np.isin(rec, ["E2", "E3", "E14", "E15", "E16"])],
            [CLA_READMIT_P["home"], CLA_READMIT_P["other"]],
            0.0,
        )
        nxt = p["end"].to_numpy() + 30 + gamma_days(rng, 1.2, CLA_READMIT_MEAN_DAYS, len(p), 0)
        keep = (rng.random(len(p)) < again_p) & (nxt < p["adult"].to_numpy() - 60) & (nxt <= ctx.data_end)
        batch = pd.DataFrame(
            {
                "child": child[keep],
                "start": nxt[keep],
                "jkey": batch["jkey"].to_numpy()[keep],
                "uasc": batch["uasc"].to_numpy()[keep],
                "v3": False,
                "chain": batch["chain"].to_numpy()[keep],
                "seq": seq + 1,
            }
        )
    return pd.concat(parts, ignore_index=True)


def cla_period_batch(
    ctx: Context, start: np.ndarray, birth_month: np.ndarray, uasc: np.ndarray, v3: np.ndarray
) -> pd.DataFrame:
    """One period of care per row: how it ends (route, day, reason), its legal statuses and, for
    adoption, the adoption journey. Days may pass the data end (those events are dropped later)."""
    rng = ctx.rng
    n = start.size
    adult = eighteenth_birthday(birth_month)
    age = age_at(birth_month, start)
    route = draw_rows(rng, np.asarray(CLA_ROUTE_P)[age_band(age)])
    route = np.where(uasc, np.where(rng.random(n) < UASC_UNTIL_18_P, LONG, OTHER), route)
    route = np.where(v3, LONG, route)
    home_sub = rng.choice(3, n, p=CLA_HOME_SUB_P)
    remand = (route == OTHER) & ~uasc & (age >= 12) & (rng.random(n) < CLA_REMAND_P)
    older = (age >= 16) | uasc
    has_proc = np.select(
        [route <= SGO, route == HOME, route == LONG],
        [True, home_sub > 0, ~v3 & (~older | (~uasc & (rng.random(n) < 0.25)))],
        ~remand & ~older & (rng.random(n) < 0.4),
    )

    # Legal status at entry and care proceedings (interim care order until the final hearing).
    kind = rng.choice(len(CLA_ENTRY_STATUS), n, p=CLA_ENTRY_STATUS_P)
    s0 = np.where(has_proc, np.asarray(CLA_ENTRY_STATUS, dtype=object)[kind], "V2")
    s0 = np.where(remand, "J2", np.where(v3, "V3", s0))
    lead = np.select([kind == 0, kind < 3], [0, rng.integers(1, 9, n)], 7 + gamma_days(rng, 2.0, 75.0, n, 0))
    proc_start = start + lead
    proc_end = proc_start + gamma_days(rng, 4.0, PROCEEDINGS_MEAN_DAYS, n, 28)

    # Adoption: the ADM decision a few months before the final hearing, where the placement order is
    # made; matched (A2 after the order, or before it for early permanence), placed, then the order.
    adopt = route == ADOPT
    po = proc_end
    decision = np.maximum(start + 14, po - gamma_days(rng, 3.0, 75.0, n, 7))
    early = rng.random(n) < EARLY_PERMANENCE_P
    match = np.where(
        early,
        np.maximum(decision + 7, po - rng.integers(1, 60, n)),
        po + gamma_days(rng, A2_SHAPE, A2_MEAN_DAYS, n, 7),
    )
    placed = np.where(early, po + rng.integers(3, 30, n), match + rng.integers(7, 43, n))
    order = placed + rng.integers(180, 301, n)
    ceased = adopt & (rng.random(n) < ADOPTION_CEASED_P)
    ceased_day = decision + 1 + ((placed - decision - 1) * rng.uniform(0.15, 0.95, n)).astype(np.int64)
    alt = rng.choice([LONG, SGO, HOME], n, p=[0.5, 0.35, 0.15])
    after = np.maximum(ceased_day, proc_end)
    after_ceased_end = np.select(
        [alt == LONG, alt == SGO],
        [adult, after + gamma_days(rng, 2.0, 250.0, n, 30)],
        after + gamma_days(rng, 1.5, 200.0, n, 30),
    )

    end = np.select(
        [adopt & ~ceased, adopt, route == SGO, route == HOME, route == LONG],
        [
            order,
            after_ceased_end,
            np.where(
                rng.random(n) < SGO_AT_FINAL_HEARING_P,
                proc_end,
                proc_end + gamma_days(rng, 2.0, 300.0, n, 30),
            ),
            np.select(
                [home_sub == 0, home_sub == 1],
                [start + 1 + gamma_days(rng, 0.8, 140.0, n, 0), proc_end],
                proc_end + gamma_days(rng, 1.5, 550.0, n, 30),
            ),
            adult,
        ],
        start + 1 + np.where(remand, gamma_days(rng, 1.0, 45.0, n, 0), gamma_days(rng, 1.0, 420.0, n, 0)),
    )
    route = np.where(ceased, alt, route)
    home_sub = np.where(ceased, 2, home_sub)
    at_18 = end >= adult
    end = np.maximum(np.minimum(end, adult), start + 1)

    to_e1 = adopt & (~ceased | (ceased_day > po))
    out = {
        "adult": adult,
        "age": age,
        "route": route,
        "home_sub": home_sub,
        "end": end,
        "rec": reasons_ceased(ctx, route, home_sub, remand, uasc, at_18, end, birth_month),
        "s0": s0,
        "c1_day": np.where(has_proc & (kind > 0), proc_start, NA),
        "c2_day": np.where(v3, start + rng.integers(14, 120, n), np.where(has_proc & ~to_e1, proc_end, NA)),
        "e1_day": np.where(to_e1, po, NA),
        "revoke_day": np.where(adopt & ceased & (ceased_day > po), ceased_day, NA),
        "adopt": adopt,
        "early": early & adopt,
        "decision": np.where(adopt, decision, NA),
        "po": np.where(adopt & (~ceased | (po < ceased_day)), po, NA),
        "match": np.where(adopt & (~ceased | (match < ceased_day)), match, NA),
        "placed": np.where(adopt & ~ceased, placed, NA),
        "ceased": np.where(ceased, ceased_day, NA),
        "order": np.where(adopt & ~ceased, order, NA),
    }
    return pd.DataFrame(out)


def reasons_ceased(
    ctx: Context,
    route: np.ndarray,
    home_sub: np.ndarray,
    remand: np.ndarray,
    uasc: np.ndarray,
    at_18: np.ndarray,
    end: np.ndarray,
    birth_month: np.ndarray,
) -> np.ndarray:
    """SSDA903 REC codes: SGO codes E43/E44 until March 2016 and E45-E48 from April 2016."""
    rng = ctx.rng
    n = route.size
    sgo_switch = to_days(date(2016, 4, 1))
    home = np.select(
        [home_sub == 0, home_sub == 1],
        [draw_codes(rng, HOME_REC[0], n), draw_codes(rng, HOME_REC[1], n)],
        draw_codes(rng, HOME_REC[2], n),
    )
    other = draw_codes(rng, OTHER_REC, n)
    other = np.where(np.isin(other, ["E5", "E6"]) & (age_at(birth_month, end) < 16), "E8", other)
    other = np.where(uasc, np.where(rng.random(n) < 0.6, "E15", "E8"), np.where(remand, "E14", other))
    rec = np.select(
        [route == ADOPT, route == SGO, route == HOME],
        [
            draw_codes(rng, ADOPTED_REC, n),
            np.where(
                end < sgo_switch,
                draw_codes(rng, SGO_REC_BEFORE_2016, n),
                draw_codes(rng, SGO_REC_FROM_2016, n),
            ),
            home,
        ],
        other,
    )
    return np.where(at_18 & (route != ADOPT), draw_codes(rng, AGE_18_REC, n), rec).astype(object)


def cla_referrals(
    ctx: Context, journeys: pd.DataFrame, periods: pd.DataFrame, first_new_key: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keeps each looked-after child's referral open until they leave care (after the last readmission
    of the chain); drops their other referrals that would arrive meanwhile. The referrals made for
    children who came straight into care take the place of as many referrals that ended quickly (nfa or
    early help), so the referral volume stays as calibrated. Journeys come back in time order, and each
    period gets its referral's id."""
    rng = ctx.rng
    added = int((journeys["jkey"] >= first_new_key).sum())
    linked = periods[periods["jkey"] >= 0]
    block = linked.groupby("chain").agg(
        jkey=("jkey", "first"),
        child=("child", "first"),
        start=("start", "min"),
        end=("end", "max"),
        adult=("adult", "first"),
    )
    day = journeys["contact_s"].to_numpy() // DAY
    pairs = pd.DataFrame(
        {"child": journeys["child"].to_numpy(), "jkey": journeys["jkey"].to_numpy(), "day": day}
    ).merge(block.rename(columns={"jkey": "own"}), on="child")
    inside = (
        (pairs["day"] >= pairs["start"]) & (pairs["day"] <= pairs["end"]) & (pairs["jkey"] != pairs["own"])
    )
    dropped = pairs.loc[inside, "jkey"].unique()
    journeys = journeys[~journeys["jkey"].isin(dropped)]
    # Only referrals with no other referral of the child within a year either side, so that the
    # re-referral rate stays as calibrated.
    by_child = journeys.assign(day=journeys["contact_s"] // DAY).sort_values(["child", "day"], kind="stable")
    same = by_child["child"].to_numpy()
    gap_before = np.diff(by_child["day"].to_numpy(), prepend=-(10**6))
    gap_before[np.r_[True, same[1:] != same[:-1]]] = 10**6
    gap_after = np.r_[gap_before[1:], 10**6]
    alone = pd.Series((gap_before > 366) & (gap_after > 366), index=by_child.index).loc[journeys.index]
    quick = np.flatnonzero(
        (journeys["kind"].to_numpy() == "quick")
        & alone.to_numpy()
        & (journeys["jkey"].to_numpy() < first_new_key)
        & ~journeys["jkey"].isin(block["jkey"]).to_numpy()
    )
    excess = min(max(added - dropped.size, 0), quick.size)
    journeys = journeys.drop(index=journeys.index[rng.choice(quick, excess, replace=False)])

    close_after = np.minimum(
        block["end"].to_numpy() + rng.integers(0, 31, len(block)), block["adult"].to_numpy()
    )
    new_close = pd.Series(close_after, index=block["jkey"].to_numpy())
    wanted = journeys["jkey"].map(new_close)
    journeys = journeys.assign(
        close_day=np.maximum(journeys["close_day"].to_numpy(), wanted.fillna(NA).astype(np.int64))
    )
    journeys = journeys.sort_values(["contact_s", "child"], kind="stable").reset_index(drop=True)
    ref_of = pd.Series(make_ids("R", np.arange(1, len(journeys) + 1)), index=journeys["jkey"].to_numpy())
    periods = periods.assign(
        referral=periods["jkey"].map(ref_of).astype(object).where(periods["jkey"] >= 0, None)
    )
    return journeys, periods


def cla_ids(ctx: Context, periods: pd.DataFrame, breaks: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The periods with events in the window, each with its id and `shown` day: periods open when the
    events begin are shown as starting on the first emitted day, with the status and placement they had
    then. Period ids (short breaks too) and adoption ids are numbered in time order."""
    shown = periods[(periods["end"] > ctx.emit_start) & (periods["start"] <= ctx.data_end)].copy()
    shown["shown"] = np.maximum(shown["start"].to_numpy(), ctx.emit_start)
    both = np.concatenate([shown["shown"].to_numpy(), breaks["start"].to_numpy()])
    kids = np.concatenate([shown["child"].to_numpy(), breaks["child"].to_numpy()])
    order = np.lexsort((kids, both))
    ids = np.empty(both.size, dtype=object)
    ids[order] = make_ids("CLA", np.arange(1, both.size + 1))
    shown["period_id"] = ids[: len(shown)]
    breaks = breaks.assign(period_id=ids[len(shown) :])
    shown = shown.sort_values(["shown", "child"], kind="stable").reset_index(drop=True)
    adopt = shown["decision"].to_numpy() >= 0
    shown["adoption_id"] = None
    shown.loc[adopt, "adoption_id"] = make_ids("AD", np.arange(1, adopt.sum() + 1))
    return shown, breaks
