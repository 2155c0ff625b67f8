"""Early help episodes: `early_help_started` / `early_help_ended` sharing an episode id.

They come from the front door's own decisions: contacts decided `early_help` and assessments that end
in early help (a step-down), thinned to the setting `early_help_per_10k` episodes a year. An episode
lasts some months; a child has one at a time, ending by their 18th birthday. An episode ends stepped up
to social care (`code2 = step_up`) when the child is referred while in it (on the referral's day), and
others are stepped up at random so that the share of episodes ended that were stepped up is the
setting `early_help_step_up_pct`. Episodes still open at the end of the data have no end event.
"""

from __future__ import annotations

import numpy as np

from csc_warehouse.generator.case_view import CaseView
from csc_warehouse.generator.constants import (
    DAY,
    EH_FROM_CONTACT_SHARE,
    EH_KEPT_SHARE,
    EH_MEAN_DAYS,
    EH_MIN_DAYS,
    EH_SHAPE,
    EH_START_WD,
    EH_STEP_UP_LOOKAHEAD_DAYS,
)
from csc_warehouse.generator.context import Context, add_wd
from csc_warehouse.generator.draws import gamma_days, make_ids
from csc_warehouse.generator.event_buffer import EventBuffer
from csc_warehouse.generator.people import People, eighteenth_birthday

_KEY = 1 << 20  # child * _KEY + day: one sortable key per child and day (days stay below 2**20)


def early_help_episodes(ctx: Context, buf: EventBuffer, case: CaseView, people: People) -> None:
    rng = ctx.stream("early_help")
    child, start = _episode_starts(ctx, rng, case)
    end = start + gamma_days(rng, EH_SHAPE, EH_MEAN_DAYS, start.size, EH_MIN_DAYS)
    adult = eighteenth_birthday(people.birth_month[child])
    young = start < adult - EH_MIN_DAYS
    child, start, end, adult = child[young], start[young], end[young], adult[young]
    end = np.minimum(end, adult)
    child, start, end = _one_at_a_time(child, start, end)

    # Referred while in early help: stepped up on the referral's day.
    referral_day = _next_referral(case, child, start)
    natural = (referral_day >= 0) & (referral_day < end) & (referral_day <= start + EH_STEP_UP_LOOKAHEAD_DAYS)
    end = np.where(natural, referral_day, end)
    ended = end <= ctx.data_end
    wanted = ctx.settings.early_help_step_up_pct / 100
    share = (natural & ended).sum() / max(ended.sum(), 1)
    p_natural = min(1.0, wanted / share) if share > 0 else 0.0
    p_other = max(0.0, (wanted - share) / (1 - share)) if share < 1 else 0.0
    stepped = np.where(natural, rng.random(end.size) < p_natural, rng.random(end.size) < p_other)

    order = np.lexsort((child, start))
    child, start, end, stepped, ended = child[order], start[order], end[order], stepped[order], ended[order]
    ids = make_ids("EH", np.arange(1, child.size + 1))
    buf.add("early_help_started", child, start * DAY, episode=ids)
    buf.add(
        "early_help_ended",
        child[ended],
        end[ended] * DAY,
        episode=ids[ended],
        code2=np.where(stepped[ended], "step_up", None),
    )


def _episode_starts(ctx: Context, rng: np.random.Generator, case: CaseView) -> tuple[np.ndarray, np.ndarray]:
    """(child, start day) of the episodes: decisions thinned to the wanted volume, started a few
    working days after the decision, within the data."""
    years = (ctx.data_end - ctx.emit_start + 1) / 365.25
    wanted = ctx.settings.early_help_per_10k * ctx.population / 10_000 * years / EH_KEPT_SHARE
    decisions = case.of_type("contact_decision")
    decisions = decisions[decisions["code"].to_numpy() == "early_help"]
    assessments = case.of_type("assessment_authorised")
    assessments = assessments[assessments["code"].to_numpy() == "early_help"]
    parts = []
    for frame, share in ((decisions, EH_FROM_CONTACT_SHARE), (assessments, 1 - EH_FROM_CONTACT_SHARE)):
        p = min(1.0, share * wanted / max(len(frame), 1))
        chosen = frame[rng.random(len(frame)) < p]
        parts.append((chosen["child"].to_numpy(), chosen["day"].to_numpy()))
    child = np.concatenate([c for c, _ in parts]).astype(np.int64)
    day = np.concatenate([d for _, d in parts]).astype(np.int64)
    start = add_wd(ctx, day, rng.integers(EH_START_WD[0], EH_START_WD[1] + 1, day.size))
    keep = start <= ctx.data_end
    return child[keep], start[keep]


def _one_at_a_time(child: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, ...]:
    """Drops episodes that start while an earlier one of the child is still open."""
    order = np.lexsort((start, child))
    child, start, end = child[order], start[order], end[order]
    running = np.maximum.accumulate(child * _KEY + end)
    previous_end = np.concatenate([[-1], running[:-1]]) - child * _KEY  # negative: another child's
    keep = start > previous_end
    return child[keep], start[keep], end[keep]


def _next_referral(case: CaseView, child: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Each episode's child's first referral day after the episode's start (-1 if none)."""
    referrals = case.episodes("referral_received", "referral_closed")
    keys = np.sort(referrals["child"].to_numpy().astype(np.int64) * _KEY + referrals["start"].to_numpy())
    if keys.size == 0:
        return np.full(child.size, -1, dtype=np.int64)
    at = np.searchsorted(keys, child * _KEY + start, side="right")
    found = keys[np.minimum(at, keys.size - 1)]
    return np.where((at < keys.size) & (found // _KEY == child), found % _KEY, -1)
