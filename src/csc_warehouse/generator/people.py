"""Every simulated child (`People`, indexed by position) and the ages and birth months drawn for them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from csc_warehouse.generator.constants import CLA_AGE_BANDS, EPOCH, FIRST_CONTACT_AGE_W


@dataclass
class People:
    """Every simulated child (also those never emitted), indexed by position."""

    birth_month: np.ndarray  # days since epoch of the first of the birth month

    def add(self, birth_month: np.ndarray) -> np.ndarray:
        """Appends children, returning their indices."""
        first = self.birth_month.size
        self.birth_month = np.concatenate([self.birth_month, birth_month])
        return np.arange(first, self.birth_month.size)


def birth_months(rng: np.random.Generator, first_day: np.ndarray) -> np.ndarray:
    """Birth months for children first seen on `first_day`, aged 0-17 then (skewed to older ages)."""
    w = np.asarray(FIRST_CONTACT_AGE_W)
    age_years = rng.choice(w.size, size=first_day.size, p=w / w.sum())
    # Whole months back from the month of first contact: the age then is 0 to 17 years 11 months (and
    # some days), never 18.
    age_months = age_years * 12 + rng.integers(0, 12, first_day.size)
    first_month = first_day.astype("datetime64[D]").astype("datetime64[M]")
    return ((first_month - age_months).astype("datetime64[D]") - EPOCH).astype(np.int64)


def eighteenth_birthday(birth_month: np.ndarray) -> np.ndarray:
    months = (birth_month.astype("datetime64[D]").astype("datetime64[M]") + 18 * 12).astype("datetime64[D]")
    return (months - EPOCH).astype(np.int64)


def months_of(days: np.ndarray) -> np.ndarray:
    return np.asarray(days).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def age_at(birth_month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Completed years on `day`, the birthday being the first of the birth month."""
    return (months_of(day) - months_of(birth_month)) // 12


def birth_month_at_age(rng: np.random.Generator, day: np.ndarray, age: np.ndarray) -> np.ndarray:
    """Birth months that make a child `age` completed years old on `day`."""
    age_months = age * 12 + rng.integers(0, 12, day.size)
    return ((months_of(day) - age_months).astype("datetime64[M]").astype("datetime64[D]") - EPOCH).astype(
        np.int64
    )


def age_band(age: np.ndarray) -> np.ndarray:
    return np.searchsorted(np.asarray(CLA_AGE_BANDS), age, side="right") - 1
