"""Stage 1: the denominators table (children resident by year, age and sex)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from csc_warehouse.generator.constants import POPULATION_MALE_SHARE
from csc_warehouse.generator.context import Context, to_date


def simulate_population(ctx: Context) -> pd.DataFrame:
    """Children resident by year x age x sex, each year summing exactly to `population`."""
    rng = ctx.rng
    years = np.arange(to_date(ctx.emit_start).year, to_date(ctx.data_end).year + 1)
    ages = np.arange(18)
    # Roughly flat by age, with a small fixed profile and a small drift from year to year.
    profile = 1.0 + rng.normal(0.0, 0.02, ages.size)
    rows = []
    for year in years:
        age_w = profile * (1.0 + rng.normal(0.0, 0.005, ages.size))
        weights = np.concatenate([age_w * POPULATION_MALE_SHARE, age_w * (1 - POPULATION_MALE_SHARE)])
        counts = apportion(ctx.population, weights)
        rows.append(
            pd.DataFrame(
                {
                    "year": year,
                    "age": np.concatenate([ages, ages]),
                    "sex": np.repeat(["M", "F"], ages.size),
                    "count": counts,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to `weights` that sum exactly to `total` (largest remainder)."""
    exact = total * weights / weights.sum()
    counts = np.floor(exact).astype(np.int64)
    short = total - counts.sum()
    counts[np.argsort(-(exact - counts), kind="stable")[:short]] += 1
    return counts
