"""The referral journeys as events (contacts, referrals, assessments, S47s, plans),
and the contacts that did not become a referral."""

from __future__ import annotations

import numpy as np
import pandas as pd

from csc_warehouse.generator.child_protection import cp_reviews
from csc_warehouse.generator.constants import (
    CONTACT_SOURCE_P,
    CONTACT_SOURCES,
    CONTACT_TO_REFERRAL,
    DAY,
    EXTRA_CONTACTS_PER_CONTACT_CHILD,
    NON_REFERRAL_OUTCOME_P,
    NON_REFERRAL_OUTCOMES,
    PRE_REFERRAL_CONTACT_P,
)
from csc_warehouse.generator.context import Context
from csc_warehouse.generator.draws import choose, make_ids
from csc_warehouse.generator.event_buffer import EventBuffer
from csc_warehouse.generator.people import People, birth_months
from csc_warehouse.generator.referrals import decision_delay, time_of_day
from csc_warehouse.generator.visits import visits


def referral_events(ctx: Context, j: pd.DataFrame) -> EventBuffer:
    """The journeys as events. Events after the data end are dropped later, in `finalise_events`."""
    buf = EventBuffer()
    n = len(j)
    child = j["child"].to_numpy()
    contact = make_ids("CT", np.arange(1, n + 1))  # renumbered with the other contacts later
    ref = make_ids("R", np.arange(1, n + 1))
    buf.add("contact_received", child, j["contact_s"], episode=contact, code=j["contact_source"])
    buf.add("contact_decision", child, j["decision_s"], episode=contact, code="referral")
    nfa = j["ref_nfa"].to_numpy()
    buf.add(
        "referral_received",
        child,
        j["ref_day"] * DAY,
        episode=ref,
        referral=ref,
        code=j["ref_code"],
        code2=np.where(nfa, "nfa", None),
    )
    buf.add("referral_closed", child, j["close_day"] * DAY, episode=ref, referral=ref, code=j["close_code"])

    def sub(mask: np.ndarray, prefix: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows with an episode of this kind: their index, child and a fresh episode id."""
        rows = np.flatnonzero(mask)
        return rows, child[rows], make_ids(prefix, np.arange(1, rows.size + 1))

    def days(col: str, rows: np.ndarray) -> np.ndarray:
        return j[col].to_numpy()[rows] * DAY

    rows, kid, ass = sub(j["ass_start"].to_numpy() >= 0, "A")
    buf.add("assessment_started", kid, days("ass_start", rows), episode=ass, referral=ref[rows])
    buf.add(
        "assessment_authorised",
        kid,
        days("ass_end", rows),
        episode=ass,
        referral=ref[rows],
        code=j["outcome"].to_numpy()[rows],
        code2=j["factors"].to_numpy()[rows],
    )
    seen = j["seen_day"].to_numpy()[rows] >= 0
    buf.add(
        "child_seen",
        kid[seen],
        days("seen_day", rows)[seen],
        episode=ass[seen],
        referral=ref[rows][seen],
        code="assessment",
    )

    rows, kid, s47 = sub(j["sd_day"].to_numpy() >= 0, "S")
    buf.add("strategy_discussion", kid, days("sd_day", rows), episode=s47, referral=ref[rows])
    buf.add("s47_started", kid, days("s47_day", rows), episode=s47, referral=ref[rows])
    icpc = j["icpc_day"].to_numpy()[rows] >= 0
    buf.add(
        "icpc_held",
        kid[icpc],
        days("icpc_day", rows)[icpc],
        episode=s47[icpc],
        referral=ref[rows][icpc],
        code=j["icpc_outcome"].to_numpy()[rows][icpc],
    )
    nr = j["nr_day"].to_numpy()[rows] >= 0
    buf.add("icpc_not_required", kid[nr], days("nr_day", rows)[nr], episode=s47[nr], referral=ref[rows][nr])

    rows, kid, cp = sub(j["cp_start"].to_numpy() >= 0, "CP")
    start, end = j["cp_start"].to_numpy()[rows], j["cp_end"].to_numpy()[rows]
    buf.add(
        "cp_plan_started",
        kid,
        start * DAY,
        episode=cp,
        referral=ref[rows],
        code=j["cp_category"].to_numpy()[rows],
    )
    buf.add("cp_plan_ended", kid, end * DAY, episode=cp, referral=ref[rows])
    cp_reviews(ctx, buf, kid, cp, ref[rows], start, end)
    visits(ctx, buf, "cp", kid, cp, ref[rows], start, end, first_wd=(1, 6), gap_wd=(5, 11), late_p=0.07)

    rows, kid, cin = sub(j["cin_start"].to_numpy() >= 0, "CIN")
    start, end = j["cin_start"].to_numpy()[rows], j["cin_end"].to_numpy()[rows]
    buf.add("cin_plan_started", kid, start * DAY, episode=cin, referral=ref[rows])
    buf.add("cin_plan_ended", kid, end * DAY, episode=cin, referral=ref[rows])
    visits(ctx, buf, "cin", kid, cin, ref[rows], start, end, first_wd=(3, 11), gap_wd=(10, 31), late_p=0.0)
    return buf


def other_contacts(ctx: Context, journeys: pd.DataFrame, people: People) -> tuple[EventBuffer, People]:
    """Contacts that were not referred: some before a later referral, most for children never referred."""
    rng = ctx.rng
    buf = EventBuffer()

    # Contacts about a child shortly before the contact that is referred.
    pre = rng.random(len(journeys)) < PRE_REFERRAL_CONTACT_P
    pre_child = journeys["child"].to_numpy()[pre]
    pre_day = journeys["contact_s"].to_numpy()[pre] // DAY - rng.integers(7, 150, pre.sum())
    ok = (pre_day >= ctx.emit_start) & (pre_day >= people.birth_month[pre_child])
    pre_child, pre_day = pre_child[ok], pre_day[ok]

    # Children known only through contacts: the rest of the contact volume.
    years = (ctx.data_end - ctx.emit_start + 1) / 365.25
    referrals_per_year = ctx.settings.referrals_per_10k * ctx.population / 10_000
    wanted = referrals_per_year * (1 / CONTACT_TO_REFERRAL - 1) * years - pre_child.size
    n_children = rng.poisson(max(wanted, 0) / (1 + EXTRA_CONTACTS_PER_CONTACT_CHILD))
    first_day = np.sort(rng.integers(ctx.emit_start, ctx.data_end + 1, n_children))
    new_child = people.add(birth_months(rng, first_day))
    extra = rng.poisson(EXTRA_CONTACTS_PER_CONTACT_CHILD, n_children)
    owner = np.repeat(np.arange(n_children), extra)
    later = first_day[owner] + rng.exponential(120, owner.size).astype(np.int64) + 1
    kept = later <= ctx.data_end

    child = np.concatenate([pre_child, new_child, new_child[owner[kept]]])
    day = np.concatenate([pre_day, first_day, later[kept]])
    n = child.size
    contact_s = day * DAY + time_of_day(rng, n)
    decision_s = contact_s + decision_delay(rng, n)
    order = np.lexsort((child, contact_s))
    # Numbered after the referred contacts so the two sets never share an id; renumbered in time order later.
    ids = make_ids("CT", np.arange(len(journeys) + 1, len(journeys) + n + 1))
    buf.add(
        "contact_received",
        child[order],
        contact_s[order],
        episode=ids,
        code=choose(rng, CONTACT_SOURCES, CONTACT_SOURCE_P, n),
    )
    buf.add(
        "contact_decision",
        child[order],
        decision_s[order],
        episode=ids,
        code=choose(rng, NON_REFERRAL_OUTCOMES, NON_REFERRAL_OUTCOME_P, n),
    )
    return buf, people
