"""Vectorised random draws the stages share: codes by weight, gamma and Poisson days, points along
intervals, and the ids built from numbers."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def choose(rng: np.random.Generator, options: tuple[str, ...], p: tuple[float, ...], n: int) -> np.ndarray:
    """n draws from `options` with probabilities `p` (normalised), as an object array of str."""
    probs = np.asarray(p, dtype=float)
    idx = rng.choice(len(options), size=n, p=probs / probs.sum())
    return np.asarray(options, dtype=object)[idx]


def draw_codes(
    rng: np.random.Generator, spec: tuple[tuple[str, ...], tuple[float, ...]], n: int
) -> np.ndarray:
    return choose(rng, spec[0], spec[1], n)


def gamma_days(rng: np.random.Generator, shape: float, mean_days: float, n: int, minimum: int) -> np.ndarray:
    return np.maximum(rng.gamma(shape, mean_days / shape, n).round().astype(np.int64), minimum)


def draw_rows(rng: np.random.Generator, p: np.ndarray) -> np.ndarray:
    """One index per row of the probability matrix `p` (rows sum to 1)."""
    cum = np.cumsum(p, axis=1)
    return np.minimum((rng.random(p.shape[0])[:, None] > cum).sum(axis=1), p.shape[1] - 1)


def poisson_days(
    rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray, rate_per_day: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """A Poisson process on whole days in [lo, hi) for every interval at once: (interval index, day)."""
    length = np.maximum(hi - lo, 0)
    count = rng.poisson(rate_per_day * length)
    owner = np.repeat(np.arange(lo.size), count)
    day = lo[owner] + (rng.random(owner.size) * length[owner]).astype(np.int64)
    return owner, day


def expand(
    start: np.ndarray,
    end: np.ndarray,
    first: np.ndarray,
    gap: Callable[[int], np.ndarray],
    min_gap: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Points start+first, then +gap, +gap, ... strictly before `end`, for every interval at once.

    Returns (interval index, position) per point. The positions are in whatever unit the caller uses
    (calendar days or working-day indices); `gap(k)` draws k gaps, none shorter than `min_gap` >= 1.
    """
    n_max = np.maximum((end - start - first) // min_gap + 1, 0)
    owner = np.repeat(np.arange(start.size), n_max)
    steps = gap(owner.size)
    # First point of each interval: replace its step by `first`, then cumulative sums within intervals.
    heads = np.cumsum(n_max) - n_max
    steps[heads[n_max > 0]] = first[n_max > 0]
    total = np.cumsum(steps)
    offset = np.repeat(total[heads[n_max > 0]] - steps[heads[n_max > 0]], n_max[n_max > 0])
    pos = start[owner] + total - offset
    keep = pos < end[owner]
    return owner[keep], pos[keep]


def make_ids(prefix: str, numbers: np.ndarray, width: int = 6) -> np.ndarray:
    """'R000123'-style ids; the width grows when the numbers need it."""
    numbers = np.asarray(numbers, dtype=np.int64)
    if numbers.size == 0:
        return np.empty(0, dtype=object)
    width = max(width, len(str(int(numbers.max()))))
    return np.char.add(prefix, np.char.zfill(numbers.astype(str), width)).astype(object)
