"""One authority's run: its random streams, settings and window (`Context`), and the day, month and
working-day arithmetic every stage shares. Days are int64 days since 1970-01-01."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import holidays
import numpy as np

from csc_warehouse.contract import EARLIEST_EVENT_DATE
from csc_warehouse.generator.constants import BASE_POPULATION, BURN_IN_YEARS, DAY, EPOCH, WARMUP_YEARS
from csc_warehouse.profile import Authority, GeneratorSettings


@dataclass(frozen=True)
class Context:
    rng: np.random.Generator
    la_code: str
    population: int
    settings: GeneratorSettings  # the authority's rates (profile)
    scale: float  # population / BASE_POPULATION: volumes without a rate setting scale with it
    start: int  # first reported day (days since epoch)
    emit_start: int  # first emitted day: `start` minus the burn-in
    sim_start: int  # first simulated day: `emit_start` minus the warm-up
    data_end: int  # last day with events
    extract_at: int  # seconds: the end of `data_end`; no version is recorded later
    holidays: np.ndarray  # England and Wales bank holidays, datetime64[D]
    seeds: np.random.SeedSequence  # what `rng` was seeded with: the root of the purpose streams

    def stream(self, purpose: str) -> np.random.Generator:
        """A random stream of its own for one purpose (seed, authority, purpose), independent of `rng`
        and of every other purpose, so events added later leave the earlier draws as they were."""
        key = (*self.seeds.spawn_key, PURPOSE_STREAMS[purpose])
        return np.random.default_rng(np.random.SeedSequence(self.seeds.entropy, spawn_key=key))


# Purposes with a stream of their own; a number, once given, never changes (it would change the data).
PURPOSE_STREAMS: dict[str, int] = {
    "cp_reviews": 1001,
    "cla_reviews": 1002,
    "initial_health": 1003,
    "early_help": 1004,
    "allocations": 1005,
    "added_recording": 1006,
}


def window(years: int, start: date | None) -> tuple[date, date, date, date]:
    """(start, end, first emitted day, first simulated day) of a run."""
    if start is None:
        start = add_years(date(2018, 4, 1), -years)
    end = add_years(start, years) - timedelta(days=1)
    emit_start = add_years(start, -BURN_IN_YEARS)
    sim_start = add_years(emit_start, -WARMUP_YEARS)
    if emit_start < date.fromisoformat(EARLIEST_EVENT_DATE):
        raise ValueError(f"events would start on {emit_start}, before {EARLIEST_EVENT_DATE}")
    if end >= date.today():
        raise ValueError(f"events would run to {end}: the data must end before today")
    return start, end, emit_start, sim_start


def make_context(
    seed: np.random.SeedSequence | int, years: int, start: date | None, authority: Authority
) -> Context:
    start, end, emit_start, sim_start = window(years, start)
    seeds = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    bank_holidays = holidays.country_holidays("GB", subdiv="ENG", years=range(sim_start.year, end.year + 6))
    return Context(
        rng=np.random.default_rng(seeds),
        la_code=authority.la_code,
        population=authority.population,
        settings=authority.settings,
        scale=authority.population / BASE_POPULATION,
        start=to_days(start),
        emit_start=to_days(emit_start),
        sim_start=to_days(sim_start),
        data_end=to_days(end),
        extract_at=(to_days(end) + 1) * DAY - 1,
        holidays=np.array(sorted(bank_holidays), dtype="datetime64[D]"),
        seeds=seeds,
    )


def add_years(d: date, n: int) -> date:
    """`d` plus `n` years, 29 February clamped to the 28th."""
    try:
        return d.replace(year=d.year + n)
    except ValueError:
        return d.replace(year=d.year + n, day=28)


def to_days(d: date) -> int:
    return int((np.datetime64(d, "D") - EPOCH).astype(np.int64))


def to_date(days: int) -> date:
    return date(1970, 1, 1) + timedelta(days=days)


def add_wd(ctx: Context, days: np.ndarray, n: np.ndarray | int) -> np.ndarray:
    """The n-th working day after each day (the day itself is day 0 even if it is not a working day)."""
    return add_working_days(days, n, ctx.holidays)


def add_working_days(days: np.ndarray, n: np.ndarray | int, bank_holidays: np.ndarray) -> np.ndarray:
    """`add_wd` of the KPI rules, given the bank holidays (datetime64[D])."""
    days = np.asarray(days, dtype=np.int64)
    n = np.broadcast_to(np.asarray(n, dtype=np.int64), days.shape)
    # roll="backward" makes a weekend day count from the Friday before, so n=1 gives the Monday;
    # n=0 must stay on the day itself, which busday_offset would roll back too.
    out = np.busday_offset(days.astype("datetime64[D]"), n, roll="backward", holidays=bank_holidays)
    return np.where(n == 0, days, out.astype(np.int64))


def working_day_index(ctx: Context, days: np.ndarray) -> np.ndarray:
    """Working days from the epoch to each day: a monotone scale to step through working days on."""
    return np.busday_count(EPOCH, days.astype("datetime64[D]"), holidays=ctx.holidays).astype(np.int64)


def wd_to_day(ctx: Context, wd_index: np.ndarray) -> np.ndarray:
    return np.busday_offset(EPOCH, wd_index, roll="forward", holidays=ctx.holidays).astype(np.int64)


def add_months(days: np.ndarray, months: int) -> np.ndarray:
    """Each day plus `months` calendar months, keeping the day of the month, clamped to the target
    month's length (2023-08-31 + 6 months = 2024-02-29), as the KPI rules count months."""
    d = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    month = d.astype("datetime64[M]")
    day_of_month = (d - month.astype("datetime64[D]")).astype(np.int64)
    target = month + months
    length = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(np.int64)
    first = (target.astype("datetime64[D]") - EPOCH).astype(np.int64)
    return first + np.minimum(day_of_month, length - 1)
