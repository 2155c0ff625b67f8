"""Stage 5: one row per child that appears in the events, with pseudonymous ids."""

from __future__ import annotations

import numpy as np
import pandas as pd

from csc_warehouse.generator.constants import DAY, DISABLED_P, ETHNICITY_P, SEX_P
from csc_warehouse.generator.context import Context
from csc_warehouse.generator.draws import choose, make_ids
from csc_warehouse.generator.people import People


def children_of_events(
    ctx: Context, people: People, ev: pd.DataFrame, *, disabled: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per child in the events, with ids in order of first event; `ev` gets the ids too.
    The children in `disabled` (short breaks) are recorded as disabled."""
    rng = ctx.rng
    first = ev.groupby("child", sort=True).agg(
        first_at=("event_at", "min"), first_recorded=("recorded_at", "min")
    )
    first = first.sort_values(["first_at"], kind="stable")
    idx = first.index.to_numpy()
    n = idx.size
    child_id = make_ids("C", np.arange(1, n + 1))
    # The child's record is usually created with their first event, sometimes a little before.
    earlier = np.where(rng.random(n) < 0.2, rng.integers(0, 30 * DAY, n), 0)
    children = pd.DataFrame(
        {
            "child": idx,
            "child_id": child_id,
            "sex": choose(rng, tuple(SEX_P), tuple(SEX_P.values()), n),
            "birth_month": people.birth_month[idx],
            "ethnicity": choose(rng, tuple(ETHNICITY_P), tuple(ETHNICITY_P.values()), n),
            "disabled": (rng.random(n) < DISABLED_P) | np.isin(idx, disabled),
            "recorded_at": first["first_recorded"].to_numpy() - earlier,
        }
    )
    ev["child_id"] = ev["child"].map(pd.Series(child_id, index=idx))
    return children, ev
