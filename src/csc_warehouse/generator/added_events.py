"""Stage 6: events simulated from the case as recorded (`CaseView`), after everything else, each purpose
from a random stream of its own (`Context.stream`): review chains, initial health assessments, early
help episodes and worker allocations.

Because they come last and draw from their own streams, every row written before them stays exactly as
it was: the same seed gives the same earlier rows whether or not these are added. They are recorded
like the others (lags, a few corrected or deleted duplicates), from a recording stream of their own,
and numbered after the earlier events' ids. The plain `cp_review` / `cla_review` rows of the earlier
stages (always on time, drawn there only so that their random stream stays as it was) are replaced by
the review chains.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from csc_warehouse.generator.allocations import worker_allocations
from csc_warehouse.generator.case_view import CaseView
from csc_warehouse.generator.constants import DAY
from csc_warehouse.generator.context import Context
from csc_warehouse.generator.draws import make_ids
from csc_warehouse.generator.early_help import early_help_episodes
from csc_warehouse.generator.event_buffer import TYPE_INDEX, EventBuffer, concat_events
from csc_warehouse.generator.initial_health import initial_health_assessments
from csc_warehouse.generator.people import People
from csc_warehouse.generator.recording import corrections, recorded_at, tombstoned_duplicates
from csc_warehouse.generator.reviews import cla_review_chains, cp_review_chains

REPLACED_TYPES = ("cp_review", "cla_review")


def added_events(
    ctx: Context, events: pd.DataFrame, children: pd.DataFrame, people: People
) -> tuple[np.ndarray, pd.DataFrame]:
    """(which earlier events to keep: all but the replaced types, the added events with ids, versions
    and child ids). The two are written one after the other."""
    case = CaseView.of(events)
    buf = EventBuffer()
    cp_review_chains(ctx, buf, case)
    cla_review_chains(ctx, buf, case)
    initial_health_assessments(ctx, buf, case)
    early_help_episodes(ctx, buf, case, people)
    worker_allocations(ctx, buf, case)
    added = _recorded(ctx, concat_events([buf]), events, children, people)
    kept = ~np.isin(events["type"].to_numpy(), [TYPE_INDEX[t] for t in REPLACED_TYPES])
    return kept, added


def _recorded(
    ctx: Context, ev: pd.DataFrame, events: pd.DataFrame, children: pd.DataFrame, people: People
) -> pd.DataFrame:
    """Recording times (never before the child's record was created), ids after the earlier events'
    (and their duplicates'), corrected versions and tombstoned duplicates, child ids."""
    recording = replace(ctx, rng=ctx.stream("added_recording"))
    ev = ev[ev["event_at"].to_numpy() // DAY <= ctx.data_end].reset_index(drop=True)
    by_child = children.set_index("child")
    ev["recorded_at"] = np.maximum(
        recorded_at(recording, ev), ev["child"].map(by_child["recorded_at"]).to_numpy(dtype=np.int64)
    )
    ev["is_deleted"] = False
    ev = ev.iloc[np.lexsort((ev["child"], ev["type"], ev["event_at"]))].reset_index(drop=True)
    first_number = int(str(events["event_id"].max())[1:]) + 1  # ids of one width: the greatest sorts last
    ev["event_id"] = make_ids("E", np.arange(first_number, first_number + len(ev)), width=7)
    first, latest = corrections(recording, ev, people)
    tombstoned = tombstoned_duplicates(recording, ev, first_number=first_number + len(ev))
    ev = pd.concat([ev.drop(index=first.index), first, latest, tombstoned], ignore_index=True)
    ev["child_id"] = ev["child"].map(by_child["child_id"])
    return ev.sort_values(["event_id", "recorded_at"], kind="stable").reset_index(drop=True)
