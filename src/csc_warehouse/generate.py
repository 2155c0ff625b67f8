"""Synthetic case events for one local authority, in the canonical input contract (case-events v1).

The generator simulates the front door to child protection: contacts, referrals, assessments,
S47 enquiries and ICPCs, CIN plans and CP plans. Volumes are calibrated to a large, low-demand
shire county (0-17 population 267,000; see kpi-catalogue section 2.1) and scale linearly with
``population``.

How it works, stage by stage (each stage is one small function, so later stages such as looked-after
children, adoption and care leavers can be added without touching the earlier ones):

1. ``_population``: the denominators table.
2. ``_simulate_referrals``: one row per referral with every date of its journey. Children are simulated
   as *chains* of referrals (a child's next referral can only come after the previous one closed), which
   gives realistic re-referrals and repeat CP plans. The simulation starts some warm-up years before the
   first emitted day and only journeys whose contact falls in the emitted window are kept, so the volumes
   and the re-referral history are steady from the first emitted month.
3. ``_referral_events`` / ``_other_contacts``: the journeys and the contacts that did not become a
   referral, as events.
4. ``_finalise_events``: recording lags, event ids, corrected versions and tombstones.
5. ``_children``: one row per child that appears in the events.

Everything is vectorised with numpy: Python loops run over stages, chain positions and code lists only,
never over events. Dates are held as int64 days since 1970-01-01 and timestamps as int64 seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

import holidays
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from csc_warehouse.contract import (
    CHILDREN_COLUMNS,
    EARLIEST_EVENT_DATE,
    END_TO_START,
    EVENT_TYPES,
    EVENTS_COLUMNS,
    POPULATION_COLUMNS,
    Column,
)

__all__ = ["GenerateSummary", "generate"]

# --- calibration (large county, kpi-catalogue 2.1; national shapes from domain-anchors 5) -------------

BASE_POPULATION = 267_000
REFERRALS_PER_10K = 224.0  # 5,974 referrals in 2017/18
# Referrals a first referral brings along on average (the chain's re-referrals within the horizon):
# measured on the simulation itself, so the first-referral rate gives REFERRALS_PER_10K in total.
REFERRALS_PER_CHAIN = 1.52
CONTACT_TO_REFERRAL = 0.215  # ~28,000 contacts a year for ~6,000 referrals
PRE_REFERRAL_CONTACT_P = 0.45  # share of referrals preceded by an earlier contact that was not referred
EXTRA_CONTACTS_PER_CONTACT_CHILD = 0.35  # Poisson mean of further contacts of a contact-only child
# Simulated but never emitted: long enough for re-referrals (up to 4 years after a closure) to reach a
# steady rate, so referral volumes are flat from the first emitted day.
WARMUP_YEARS = 8
# Emitted before `start` so that stocks have built up by the first reported month. One year fills the
# CP stock to ~85% of its steady level; the CIN stock (long CIN cases) only to ~75%.
BURN_IN_YEARS = 1
MAX_REFERRALS_PER_CHILD = 12

CONTACT_SOURCES = ("police", "school", "health", "la", "individual", "other")
CONTACT_SOURCE_P = (0.30, 0.18, 0.16, 0.12, 0.12, 0.12)
# CIN census referral source codes by contact source, with their shares.
REFERRAL_SOURCE_CODES: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {
    "police": (("6",), (1.0,)),
    "school": (("2A", "2B"), (0.85, 0.15)),
    "health": (("3A", "3B", "3C", "3D", "3E", "3F"), (0.2, 0.2, 0.05, 0.1, 0.3, 0.15)),
    "la": (("5A", "5B", "5C", "5D"), (0.45, 0.25, 0.15, 0.15)),
    "individual": (("1A", "1B", "1C", "1D"), (0.6, 0.15, 0.1, 0.15)),
    "other": (("4", "7", "8", "9", "10"), (0.2, 0.2, 0.3, 0.15, 0.15)),
}
DECISION_24H_P = 0.85
NON_REFERRAL_OUTCOMES = ("early_help", "advice", "nfa")
NON_REFERRAL_OUTCOME_P = (0.25, 0.40, 0.35)

REFERRAL_NFA_P = 0.05
ASSESSMENT_OUTCOMES = ("nfa", "early_help", "cin", "s47")
ASSESSMENT_OUTCOME_P = (0.24, 0.18, 0.28, 0.30)
# A child who had a CP plan before is more likely to go to S47 again.
ASSESSMENT_OUTCOME_P_AFTER_CP = (0.12, 0.08, 0.25, 0.55)
ASSESSMENT_IN_45WD_P = 0.945
ASSESSMENT_SEEN_P = 0.95
ASSESSMENT_FACTORS = (
    "1B", "2B", "3A", "3B", "4A", "4B", "5B", "6B", "7A", "8B", "9A",
    "10A", "12A", "13A", "14A", "15A", "16A", "17A", "18A", "20", "22A", "24A",
)  # fmt: skip
ASSESSMENT_FACTOR_W = (
    6, 6, 10, 12, 6, 12, 3, 3, 2, 3, 2,
    2, 1, 3, 3, 8, 8, 4, 2, 0.3, 0.3, 0.5,
)  # fmt: skip

# ICPCs per S47 enquiry: national 31%, higher here so CP starts reach ~730 a year (the county's
# 35-42 ICPCs a month look like conferences, one per family; here each child has its own icpc_held).
ICPC_P = 0.43
ICPC_P_AFTER_CP = 0.65
ICPC_IN_15WD_P = 0.87
ICPC_PLAN_P = 0.86
ICPC_NOT_REQUIRED_RECORDED_P = 0.75  # of S47s without an ICPC
CP_CATEGORIES = ("N", "E", "P", "S", "M")
CP_CATEGORY_P = (0.62, 0.22, 0.08, 0.05, 0.03)
# Gamma; with plans ending at 18 the mean is ~9 months and ~3% of plans last two years or more.
CP_DURATION_SHAPE, CP_DURATION_MEAN_MONTHS = 2.0, 9.8
CP_STEP_DOWN_TO_CIN_P = 0.5
CIN_PLAN_P = 0.40  # of assessments with outcome cin, and of S47s that end without a CP plan
CIN_PLAN_MEAN_MONTHS = 8.0
CIN_NO_PLAN_MEAN_DAYS = 680.0  # children in need supported without a plan: the bulk of the CIN stock
S47_NO_PLAN_MEAN_DAYS = 240.0
QUICK_CLOSE_MAX_DAYS = 30  # closing the referral after an nfa / early-help assessment
AFTER_PLAN_CLOSE_MAX_DAYS = 45  # closing it after the last plan ended

# Chance a child is referred again after the referral closes, by how the referral ended.
REREFERRAL_P = {"quick": 0.40, "cin": 0.3, "cp": 0.8}
# Of the next referrals, those soon after the closure (else 1-4 years later). A child whose CP plan
# ended is more often referred again years later: repeat plans within two years are only ~8%.
REREFERRAL_SOON_P = {"quick": 0.65, "cin": 0.55, "cp": 0.3}
REREFERRAL_SOON_MEAN_DAYS = 110.0

CLOSE_CODES = ("RC1", "RC2", "RC3", "RC4", "RC5", "RC6", "RC7", "RC8")
CLOSE_CODE_P_AFTER_SERVICES = (0.012, 0.003, 0.04, 0.03, 0.06, 0.025, 0.78, 0.05)

SEX_P = {"M": 0.51, "F": 0.485, "U": 0.005}
POPULATION_MALE_SHARE = 0.512
DISABLED_P = 0.05
ETHNICITY_P: dict[str, float] = {
    "WBRI": 0.80, "WIRI": 0.005, "WIRT": 0.003, "WOTH": 0.045, "WROM": 0.002,
    "MWBC": 0.022, "MWBA": 0.007, "MWAS": 0.01, "MOTH": 0.014,
    "AIND": 0.009, "APKN": 0.01, "ABAN": 0.009, "AOTH": 0.007,
    "BCRB": 0.008, "BAFR": 0.014, "BOTH": 0.003, "CHNE": 0.002, "OOTH": 0.008,
    "REFU": 0.012, "NOBT": 0.01,
}  # fmt: skip
# Relative chance of first contact at each age 0..17: older children come to the front door more.
FIRST_CONTACT_AGE_W = (1.2, 0.75, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0, 1.0, 1.0,
                       1.05, 1.1, 1.2, 1.35, 1.5, 1.55, 1.4, 1.0)  # fmt: skip

CORRECTION_P = 0.01
TOMBSTONE_P = 0.003

DAY = 86_400
MONTH_DAYS = 30.4375
_NA = -1  # "no such date" in the int64 day columns
_EPOCH = np.datetime64("1970-01-01", "D")


# --- public interface --------------------------------------------------------------------------------


@dataclass(frozen=True)
class GenerateSummary:
    """What `generate` wrote. `events` counts rows of the events file (every version)."""

    out_dir: Path
    children: int
    events: int
    population_rows: int
    first_event_date: date
    last_event_date: date


def generate(
    out_dir: Path,
    *,
    seed: int = 42,
    years: int = 5,
    start: date | None = None,
    file_format: Literal["csv", "parquet"] = "csv",
    la_code: str = "E10000015",
    population: int = 267_000,
    progress: bool = False,
) -> GenerateSummary:
    """Write children, events and population files for one synthetic local authority.

    The reported window is `years` years from `start` (default: ending 2018-03-31); events start one
    burn-in year earlier. The same arguments always give byte-identical files.
    """
    if years < 1:
        raise ValueError("years must be at least 1")
    if population < 100:
        raise ValueError("population must be at least 100 children (fewer give almost no events)")
    if file_format not in ("csv", "parquet"):
        raise ValueError(f"file_format must be 'csv' or 'parquet', not {file_format!r}")
    ctx = _make_context(seed, years, start, la_code, population)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    with _stages(progress) as stage:
        with stage("population"):
            pop = _population(ctx)
        with stage("referral journeys"):
            journeys, people = _simulate_referrals(ctx)
        with stage("contacts"):
            contacts, people = _other_contacts(ctx, journeys, people)
        with stage("events"):
            raw = _concat_events([_referral_events(ctx, journeys), contacts])
            events = _finalise_events(ctx, raw, people)
            if events.empty:
                raise ValueError(f"a population of {population} gave no events: use a larger one")
        with stage("children"):
            children, events = _children(ctx, people, events)
        with stage("write"):
            _write(out_dir, "children", _children_table(ctx, children), file_format)
            _write(out_dir, "events", _events_table(ctx, events), file_format)
            _write(out_dir, "population", _population_table(ctx, pop), file_format)

    event_days = events["event_at"] // DAY
    return GenerateSummary(
        out_dir=out_dir,
        children=len(children),
        events=len(events),
        population_rows=len(pop),
        first_event_date=_to_date(int(event_days.min())),
        last_event_date=_to_date(int(event_days.max())),
    )


# --- context and small helpers -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    rng: np.random.Generator
    la_code: str
    population: int
    scale: float  # population / BASE_POPULATION: every volume scales with it
    start: int  # first reported day (days since epoch)
    emit_start: int  # first emitted day: `start` minus the burn-in
    sim_start: int  # first simulated day: `emit_start` minus the warm-up
    data_end: int  # last day with events
    extract_at: int  # seconds: the end of `data_end`; no version is recorded later
    holidays: np.ndarray  # England and Wales bank holidays, datetime64[D]


def _make_context(seed: int, years: int, start: date | None, la_code: str, population: int) -> _Context:
    if start is None:
        start = _add_years(date(2018, 4, 1), -years)
    end = _add_years(start, years) - timedelta(days=1)
    emit_start = _add_years(start, -BURN_IN_YEARS)
    sim_start = _add_years(emit_start, -WARMUP_YEARS)
    if emit_start < date.fromisoformat(EARLIEST_EVENT_DATE):
        raise ValueError(f"events would start on {emit_start}, before {EARLIEST_EVENT_DATE}")
    if end >= date.today():
        raise ValueError(f"events would run to {end}: the data must end before today")
    bank_holidays = holidays.country_holidays("GB", subdiv="ENG", years=range(sim_start.year, end.year + 6))
    return _Context(
        rng=np.random.default_rng(seed),
        la_code=la_code,
        population=population,
        scale=population / BASE_POPULATION,
        start=_to_days(start),
        emit_start=_to_days(emit_start),
        sim_start=_to_days(sim_start),
        data_end=_to_days(end),
        extract_at=(_to_days(end) + 1) * DAY - 1,
        holidays=np.array(sorted(bank_holidays), dtype="datetime64[D]"),
    )


def _add_years(d: date, n: int) -> date:
    """`d` plus `n` years, 29 February clamped to the 28th."""
    try:
        return d.replace(year=d.year + n)
    except ValueError:
        return d.replace(year=d.year + n, day=28)


def _to_days(d: date) -> int:
    return int((np.datetime64(d, "D") - _EPOCH).astype(np.int64))


def _to_date(days: int) -> date:
    return date(1970, 1, 1) + timedelta(days=days)


def _add_wd(ctx: _Context, days: np.ndarray, n: np.ndarray | int) -> np.ndarray:
    """The n-th working day after each day (the day itself is day 0 even if it is not a working day)."""
    days = np.asarray(days, dtype=np.int64)
    n = np.broadcast_to(np.asarray(n, dtype=np.int64), days.shape)
    # roll="backward" makes a weekend day count from the Friday before, so n=1 gives the Monday;
    # n=0 must stay on the day itself, which busday_offset would roll back too.
    out = np.busday_offset(days.astype("datetime64[D]"), n, roll="backward", holidays=ctx.holidays)
    return np.where(n == 0, days, out.astype(np.int64))


def _wd_index(ctx: _Context, days: np.ndarray) -> np.ndarray:
    """Working days from the epoch to each day: a monotone scale to step through working days on."""
    return np.busday_count(_EPOCH, days.astype("datetime64[D]"), holidays=ctx.holidays).astype(np.int64)


def _wd_to_day(ctx: _Context, wd_index: np.ndarray) -> np.ndarray:
    return np.busday_offset(_EPOCH, wd_index, roll="forward", holidays=ctx.holidays).astype(np.int64)


def _choice(rng: np.random.Generator, options: tuple[str, ...], p: tuple[float, ...], n: int) -> np.ndarray:
    """n draws from `options` with probabilities `p` (normalised), as an object array of str."""
    probs = np.asarray(p, dtype=float)
    idx = rng.choice(len(options), size=n, p=probs / probs.sum())
    return np.asarray(options, dtype=object)[idx]


def _gamma_days(rng: np.random.Generator, shape: float, mean_days: float, n: int, minimum: int) -> np.ndarray:
    return np.maximum(rng.gamma(shape, mean_days / shape, n).round().astype(np.int64), minimum)


def _ids(prefix: str, numbers: np.ndarray, width: int = 6) -> np.ndarray:
    """'R000123'-style ids; the width grows when the numbers need it."""
    numbers = np.asarray(numbers, dtype=np.int64)
    if numbers.size == 0:
        return np.empty(0, dtype=object)
    width = max(width, len(str(int(numbers.max()))))
    return np.char.add(prefix, np.char.zfill(numbers.astype(str), width)).astype(object)


@contextmanager
def _stages(show: bool) -> Iterator[Callable[[str], AbstractContextManager[None]]]:
    """Yields `stage(name)`, a context manager that shows one progress bar per stage when `show`."""
    if not show:

        @contextmanager
        def quiet(name: str) -> Iterator[None]:
            yield

        yield quiet
        return

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description:<20}"), BarColumn(), TimeElapsedColumn()) as bar:

        @contextmanager
        def shown(name: str) -> Iterator[None]:
            task = bar.add_task(name, total=1)
            yield
            bar.update(task, completed=1)

        yield shown


# --- stage 1: population ------------------------------------------------------------------------------


def _population(ctx: _Context) -> pd.DataFrame:
    """Children resident by year x age x sex, each year summing exactly to `population`."""
    rng = ctx.rng
    years = np.arange(_to_date(ctx.emit_start).year, _to_date(ctx.data_end).year + 1)
    ages = np.arange(18)
    # Roughly flat by age, with a small fixed profile and a small drift from year to year.
    profile = 1.0 + rng.normal(0.0, 0.02, ages.size)
    rows = []
    for year in years:
        age_w = profile * (1.0 + rng.normal(0.0, 0.005, ages.size))
        weights = np.concatenate([age_w * POPULATION_MALE_SHARE, age_w * (1 - POPULATION_MALE_SHARE)])
        counts = _apportion(ctx.population, weights)
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


def _apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to `weights` that sum exactly to `total` (largest remainder)."""
    exact = total * weights / weights.sum()
    counts = np.floor(exact).astype(np.int64)
    short = total - counts.sum()
    counts[np.argsort(-(exact - counts), kind="stable")[:short]] += 1
    return counts


# --- stage 2: referral journeys -----------------------------------------------------------------------


@dataclass
class _People:
    """Every simulated child (also those never emitted), indexed by position."""

    birth_month: np.ndarray  # days since epoch of the first of the birth month

    def add(self, birth_month: np.ndarray) -> np.ndarray:
        """Appends children, returning their indices."""
        first = self.birth_month.size
        self.birth_month = np.concatenate([self.birth_month, birth_month])
        return np.arange(first, self.birth_month.size)


def _birth_months(rng: np.random.Generator, first_day: np.ndarray) -> np.ndarray:
    """Birth months for children first seen on `first_day`, aged 0-17 then (skewed to older ages)."""
    w = np.asarray(FIRST_CONTACT_AGE_W)
    age_years = rng.choice(w.size, size=first_day.size, p=w / w.sum())
    # Whole months back from the month of first contact: the age then is 0 to 17 years 11 months (and
    # some days), never 18.
    age_months = age_years * 12 + rng.integers(0, 12, first_day.size)
    first_month = first_day.astype("datetime64[D]").astype("datetime64[M]")
    return ((first_month - age_months).astype("datetime64[D]") - _EPOCH).astype(np.int64)


def _eighteenth_birthday(birth_month: np.ndarray) -> np.ndarray:
    months = (birth_month.astype("datetime64[D]").astype("datetime64[M]") + 18 * 12).astype("datetime64[D]")
    return (months - _EPOCH).astype(np.int64)


def _simulate_referrals(ctx: _Context) -> tuple[pd.DataFrame, _People]:
    """Every referral journey whose contact falls in the emitted window, as one row per referral.

    Each chain is one child: its first referral arrives at a constant rate over the simulated span, and
    after each referral closes the child may be referred again. Looping over the chain position keeps
    the work vectorised across all children at once.
    """
    rng = ctx.rng
    span_years = (ctx.data_end - ctx.sim_start + 1) / 365.25
    per_year = REFERRALS_PER_10K * ctx.population / 10_000 / REFERRALS_PER_CHAIN
    n_chains = rng.poisson(per_year * span_years)
    first_day = np.sort(rng.integers(ctx.sim_start, ctx.data_end + 1, n_chains))
    people = _People(birth_month=np.empty(0, dtype=np.int64))
    child = people.add(_birth_months(rng, first_day))
    adult_day = _eighteenth_birthday(people.birth_month)

    day = first_day
    had_cp = np.zeros(n_chains, dtype=bool)
    batches: list[pd.DataFrame] = []
    for _ in range(MAX_REFERRALS_PER_CHILD):
        if child.size == 0 and batches:
            break
        batch = _journey_batch(ctx, child, day, had_cp, adult_day[child])
        batches.append(batch)
        again = rng.random(child.size) < batch["kind"].map(REREFERRAL_P).to_numpy()
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
    journeys = journeys[emitted].sort_values(["contact_s", "child"], kind="stable").reset_index(drop=True)
    return journeys, people


def _journey_batch(
    ctx: _Context, child: np.ndarray, contact_day: np.ndarray, had_cp: np.ndarray, adult: np.ndarray
) -> pd.DataFrame:
    """One referral per child, from the contact to the referral's closure (dates may pass the data end).

    `adult` is each child's 18th birthday: plans and the referral end by then, as children's services do.
    """
    rng = ctx.rng
    n = child.size
    out: dict[str, np.ndarray] = {"child": child}

    # Contact and its decision: contacts carry a time of day, decisions mostly within 24 hours.
    out["contact_s"] = contact_day * DAY + _time_of_day(rng, n)
    out["decision_s"] = out["contact_s"] + _decision_delay(rng, n)
    source = _choice(rng, CONTACT_SOURCES, CONTACT_SOURCE_P, n)
    out["contact_source"] = source
    ref_day = out["decision_s"] // DAY
    out["ref_day"] = ref_day
    out["ref_code"] = _referral_source_codes(rng, source)
    nfa = rng.random(n) < REFERRAL_NFA_P
    out["ref_nfa"] = nfa

    # Assessment: starts within a few working days; 94-95% authorised within 45 working days.
    assessed = ~nfa
    ass_start = _add_wd(ctx, ref_day, rng.choice(4, n, p=[0.4, 0.3, 0.2, 0.1]))
    ass_wd = np.where(
        rng.random(n) < ASSESSMENT_IN_45WD_P,
        np.round(rng.triangular(2, 30, 45, n)),
        rng.integers(46, 131, n),  # the late ones run long: ~8% of those open at a month end
    ).astype(np.int64)
    ass_end = _add_wd(ctx, ass_start, ass_wd)
    outcome = np.where(
        had_cp,
        _choice(rng, ASSESSMENT_OUTCOMES, ASSESSMENT_OUTCOME_P_AFTER_CP, n),
        _choice(rng, ASSESSMENT_OUTCOMES, ASSESSMENT_OUTCOME_P, n),
    )
    seen = assessed & (rng.random(n) < ASSESSMENT_SEEN_P)
    seen_day = _add_wd(ctx, ass_start, rng.integers(0, np.minimum(ass_wd, 10) + 1))
    out["ass_start"] = np.where(assessed, ass_start, _NA)
    out["ass_end"] = np.where(assessed, ass_end, _NA)
    out["outcome"] = np.where(assessed, outcome, None)
    out["factors"] = np.where(assessed, _assessment_factors(rng, n), None)
    out["seen_day"] = np.where(seen, seen_day, _NA)

    # S47 and ICPC: the ICPC is due within 15 working days of the strategy discussion.
    s47 = assessed & (outcome == "s47")
    sd_day = _add_wd(ctx, ass_start, rng.integers(0, 4, n))
    s47_day = _add_wd(ctx, sd_day, (rng.random(n) > 0.8).astype(np.int64))
    icpc = s47 & (rng.random(n) < np.where(had_cp, ICPC_P_AFTER_CP, ICPC_P))
    icpc_wd = np.where(rng.random(n) < ICPC_IN_15WD_P, rng.integers(5, 16, n), rng.integers(16, 31, n))
    icpc_day = _add_wd(ctx, sd_day, icpc_wd)
    plan = icpc & (rng.random(n) < ICPC_PLAN_P)
    not_required = s47 & ~icpc & (rng.random(n) < ICPC_NOT_REQUIRED_RECORDED_P)
    nr_day = _add_wd(ctx, s47_day, rng.integers(3, 16, n))
    out["sd_day"] = np.where(s47, sd_day, _NA)
    out["s47_day"] = np.where(s47, s47_day, _NA)
    out["icpc_day"] = np.where(icpc, icpc_day, _NA)
    out["icpc_outcome"] = np.where(icpc, np.where(plan, "plan", "no_plan"), None)
    out["nr_day"] = np.where(not_required, nr_day, _NA)

    # CP plan from the ICPC; reviews and visits are expanded later, only for emitted plans.
    cp_months = rng.gamma(CP_DURATION_SHAPE, CP_DURATION_MEAN_MONTHS / CP_DURATION_SHAPE, n)
    cp_end = _end_by_adulthood(
        icpc_day + np.maximum((cp_months * MONTH_DAYS).astype(np.int64), 21), icpc_day, adult
    )
    out["cp_start"] = np.where(plan, icpc_day, _NA)
    out["cp_end"] = np.where(plan, cp_end, _NA)
    out["cp_category"] = np.where(plan, _choice(rng, CP_CATEGORIES, CP_CATEGORY_P, n), None)

    # CIN plan: after an assessment with outcome cin, after an S47 with no CP plan, or as the step
    # down from a CP plan (one CIN plan per referral at most).
    s47_done = np.maximum.reduce(
        [ass_end, np.where(icpc, icpc_day, _NA), np.where(not_required, nr_day, _NA)]
    )
    cin_after_cin = assessed & (outcome == "cin") & (rng.random(n) < CIN_PLAN_P)
    cin_after_s47 = s47 & ~plan & (rng.random(n) < CIN_PLAN_P)
    step_down = plan & (cp_end < adult) & (rng.random(n) < CP_STEP_DOWN_TO_CIN_P)
    cin_start = np.select(
        [cin_after_cin, cin_after_s47, step_down],
        [ass_end + rng.integers(0, 16, n), s47_done + rng.integers(0, 16, n), cp_end],
        _NA,
    )
    has_cin = cin_start >= 0
    cin_end = _end_by_adulthood(
        cin_start + _gamma_days(rng, 2.0, CIN_PLAN_MEAN_MONTHS * MONTH_DAYS, n, 28), cin_start, adult
    )
    out["cin_start"] = cin_start
    out["cin_end"] = np.where(has_cin, cin_end, _NA)

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
            ass_end + _gamma_days(rng, 2.5, CIN_NO_PLAN_MEAN_DAYS, n, 14),
        ],
        s47_done + _gamma_days(rng, 2.0, S47_NO_PLAN_MEAN_DAYS, n, 7),
    )
    # Never before any other event of the referral, whatever the branch.
    work_end = np.maximum.reduce(
        [ref_day, out["ass_end"], out["icpc_day"], out["nr_day"], out["cp_end"], out["cin_end"]]
    )
    out["close_day"] = np.maximum(np.minimum(close_day, adult), work_end)
    out["close_code"] = np.where(quick, "RC8", _choice(rng, CLOSE_CODES, CLOSE_CODE_P_AFTER_SERVICES, n))
    out["kind"] = np.where(plan, "cp", np.where(quick, "quick", "cin"))
    return pd.DataFrame(out)


def _end_by_adulthood(end: np.ndarray, start: np.ndarray, adult: np.ndarray) -> np.ndarray:
    """Ends past the 18th birthday move to it (a week after the start if that is later still)."""
    return np.where(end > adult, np.maximum(adult, start + 7), end)


def _time_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds after midnight: mostly office hours, a quarter out of hours (police, hospitals)."""
    office = rng.integers(8 * 3600, 18 * 3600, n)
    any_time = rng.integers(0, DAY, n)
    return np.where(rng.random(n) < 0.75, office, any_time)


def _decision_delay(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds from contact to decision: ~85% within 24 hours, the rest 1-5 days."""
    fast = rng.integers(600, DAY - 60, n)
    slow = rng.integers(DAY + 3600, 5 * DAY, n)
    return np.where(rng.random(n) < DECISION_24H_P, fast, slow)


def _referral_source_codes(rng: np.random.Generator, contact_source: np.ndarray) -> np.ndarray:
    out = np.empty(contact_source.size, dtype=object)
    for source, (codes, p) in REFERRAL_SOURCE_CODES.items():
        rows = np.flatnonzero(contact_source == source)
        out[rows] = _choice(rng, codes, p, rows.size)
    return out


def _assessment_factors(rng: np.random.Generator, n: int) -> np.ndarray:
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


# --- stage 3: events ---------------------------------------------------------------------------------

_TYPE_INDEX = {name: i for i, name in enumerate(EVENT_TYPES)}


class _EventBuffer:
    """Collects events type by type as column arrays (one array per column, never one row at a time)."""

    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []

    def add(
        self,
        event_type: str,
        child: np.ndarray,
        at_s: np.ndarray,
        *,
        episode: np.ndarray | None = None,
        referral: np.ndarray | None = None,
        code: np.ndarray | str | None = None,
        code2: np.ndarray | None = None,
    ) -> None:
        n = len(child)
        self.parts.append(
            {
                "type": np.full(n, _TYPE_INDEX[event_type], dtype=np.int16),
                "child": np.asarray(child, dtype=np.int64),
                "event_at": np.asarray(at_s, dtype=np.int64),
                "episode_id": _column(episode, n),
                "referral_id": _column(referral, n),
                "code": _column(code, n),
                "code2": _column(code2, n),
            }
        )


def _column(values: np.ndarray | str | None, n: int) -> np.ndarray:
    if values is None or isinstance(values, str):
        return np.full(n, values, dtype=object)
    return np.asarray(values, dtype=object)


def _concat_events(buffers: list[_EventBuffer]) -> pd.DataFrame:
    parts = [part for buffer in buffers for part in buffer.parts]
    return pd.DataFrame({col: np.concatenate([p[col] for p in parts]) for col in parts[0]})


def _referral_events(ctx: _Context, j: pd.DataFrame) -> _EventBuffer:
    """The journeys as events. Events after the data end are dropped later, in `_finalise_events`."""
    buf = _EventBuffer()
    n = len(j)
    child = j["child"].to_numpy()
    contact = _ids("CT", np.arange(1, n + 1))  # renumbered with the other contacts later
    ref = _ids("R", np.arange(1, n + 1))
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
        return rows, child[rows], _ids(prefix, np.arange(1, rows.size + 1))

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
    _cp_reviews(ctx, buf, kid, cp, ref[rows], start, end)
    _visits(ctx, buf, "cp", kid, cp, ref[rows], start, end, first_wd=(1, 6), gap_wd=(5, 11), late_p=0.07)

    rows, kid, cin = sub(j["cin_start"].to_numpy() >= 0, "CIN")
    start, end = j["cin_start"].to_numpy()[rows], j["cin_end"].to_numpy()[rows]
    buf.add("cin_plan_started", kid, start * DAY, episode=cin, referral=ref[rows])
    buf.add("cin_plan_ended", kid, end * DAY, episode=cin, referral=ref[rows])
    _visits(ctx, buf, "cin", kid, cin, ref[rows], start, end, first_wd=(3, 11), gap_wd=(10, 31), late_p=0.0)
    return buf


def _expand(
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


def _cp_reviews(
    ctx: _Context,
    buf: _EventBuffer,
    kid: np.ndarray,
    cp: np.ndarray,
    ref: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
) -> None:
    """First review within 3 months of the ICPC, then every 6 months while the plan is open."""
    rng = ctx.rng
    end = np.minimum(end, ctx.data_end + 1)
    first = rng.integers(55, 91, start.size)
    owner, day = _expand(start, end, first, lambda k: rng.integers(150, 183, k), min_gap=150)
    buf.add("cp_review", kid[owner], day * DAY, episode=cp[owner], referral=ref[owner])


def _visits(
    ctx: _Context,
    buf: _EventBuffer,
    code: str,
    kid: np.ndarray,
    episode: np.ndarray,
    ref: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    *,
    first_wd: tuple[int, int],
    gap_wd: tuple[int, int],
    late_p: float,
) -> None:
    """`child_seen` visits on working days while a plan is open; `late_p` of the gaps run late."""
    rng = ctx.rng
    start_wd = _wd_index(ctx, start)
    end_wd = _wd_index(ctx, np.minimum(end, ctx.data_end + 1))

    def gap(k: int) -> np.ndarray:
        regular = rng.integers(*gap_wd, k)
        return np.where(rng.random(k) < late_p, regular + rng.integers(2, 10, k), regular)

    first = rng.integers(*first_wd, start.size)
    owner, wd = _expand(start_wd, end_wd, first, gap, min_gap=gap_wd[0])
    day = _wd_to_day(ctx, wd)
    buf.add("child_seen", kid[owner], day * DAY, episode=episode[owner], referral=ref[owner], code=code)


def _other_contacts(ctx: _Context, journeys: pd.DataFrame, people: _People) -> tuple[_EventBuffer, _People]:
    """Contacts that were not referred: some before a later referral, most for children never referred."""
    rng = ctx.rng
    buf = _EventBuffer()

    # Contacts about a child shortly before the contact that is referred.
    pre = rng.random(len(journeys)) < PRE_REFERRAL_CONTACT_P
    pre_child = journeys["child"].to_numpy()[pre]
    pre_day = journeys["contact_s"].to_numpy()[pre] // DAY - rng.integers(7, 150, pre.sum())
    ok = (pre_day >= ctx.emit_start) & (pre_day >= people.birth_month[pre_child])
    pre_child, pre_day = pre_child[ok], pre_day[ok]

    # Children known only through contacts: the rest of the contact volume.
    years = (ctx.data_end - ctx.emit_start + 1) / 365.25
    referrals_per_year = REFERRALS_PER_10K * ctx.population / 10_000
    wanted = referrals_per_year * (1 / CONTACT_TO_REFERRAL - 1) * years - pre_child.size
    n_children = rng.poisson(max(wanted, 0) / (1 + EXTRA_CONTACTS_PER_CONTACT_CHILD))
    first_day = np.sort(rng.integers(ctx.emit_start, ctx.data_end + 1, n_children))
    new_child = people.add(_birth_months(rng, first_day))
    extra = rng.poisson(EXTRA_CONTACTS_PER_CONTACT_CHILD, n_children)
    owner = np.repeat(np.arange(n_children), extra)
    later = first_day[owner] + rng.exponential(120, owner.size).astype(np.int64) + 1
    kept = later <= ctx.data_end

    child = np.concatenate([pre_child, new_child, new_child[owner[kept]]])
    day = np.concatenate([pre_day, first_day, later[kept]])
    n = child.size
    contact_s = day * DAY + _time_of_day(rng, n)
    decision_s = contact_s + _decision_delay(rng, n)
    order = np.lexsort((child, contact_s))
    # Numbered after the referred contacts so the two sets never share an id; renumbered in time order later.
    ids = _ids("CT", np.arange(len(journeys) + 1, len(journeys) + n + 1))
    buf.add(
        "contact_received",
        child[order],
        contact_s[order],
        episode=ids,
        code=_choice(rng, CONTACT_SOURCES, CONTACT_SOURCE_P, n),
    )
    buf.add(
        "contact_decision",
        child[order],
        decision_s[order],
        episode=ids,
        code=_choice(rng, NON_REFERRAL_OUTCOMES, NON_REFERRAL_OUTCOME_P, n),
    )
    return buf, people


# --- stage 4: recording, ids, versions -----------------------------------------------------------------


def _finalise_events(ctx: _Context, ev: pd.DataFrame, people: _People) -> pd.DataFrame:
    """Drops events after the data end, then adds recording times, ids, corrections and tombstones."""
    ev = ev[ev["event_at"] // DAY <= ctx.data_end].reset_index(drop=True)
    ev = _renumber_contacts(ev)
    ev["recorded_at"] = _recorded_at(ctx, ev)
    ev["is_deleted"] = False
    ev = ev.iloc[np.lexsort((ev["child"], ev["type"], ev["event_at"]))].reset_index(drop=True)
    ev["event_id"] = _ids("E", np.arange(1, len(ev) + 1), width=7)
    first, latest = _corrections(ctx, ev, people)
    tombstoned = _tombstoned_duplicates(ctx, ev)
    ev = pd.concat([ev.drop(index=first.index), first, latest, tombstoned], ignore_index=True)
    return ev.sort_values(["event_id", "recorded_at"], kind="stable").reset_index(drop=True)


def _renumber_contacts(ev: pd.DataFrame) -> pd.DataFrame:
    """Contact ids numbered in time order across the referred and the other contacts."""
    is_contact = ev["type"].to_numpy() == _TYPE_INDEX["contact_received"]
    received = ev.loc[is_contact, ["episode_id", "event_at"]].sort_values(
        ["event_at", "episode_id"], kind="stable"
    )
    new_id = dict(zip(received["episode_id"], _ids("CT", np.arange(1, len(received) + 1)), strict=True))
    is_contact_event = ev["type"].isin([_TYPE_INDEX["contact_received"], _TYPE_INDEX["contact_decision"]])
    ev.loc[is_contact_event, "episode_id"] = ev.loc[is_contact_event, "episode_id"].map(new_id)
    return ev


def _recorded_at(ctx: _Context, ev: pd.DataFrame) -> np.ndarray:
    """When each event was entered: contacts within minutes; other work the same or next working day,
    with a tail of weeks. Never later than the extract (the end of the last day)."""
    rng = ctx.rng
    n = len(ev)
    at = ev["event_at"].to_numpy()
    timed = np.isin(ev["type"].to_numpy(), [_TYPE_INDEX["contact_received"], _TYPE_INDEX["contact_decision"]])
    u = rng.random(n)
    timed_lag = np.select(
        [u < 0.7, u < 0.9, u < 0.98],
        [rng.integers(60, 3600, n), rng.integers(3600, 8 * 3600, n), rng.integers(DAY, 3 * DAY, n)],
        rng.integers(4 * DAY, 30 * DAY, n),
    )
    lag_days = np.select(
        [u < 0.55, u < 0.80, u < 0.93],
        [np.zeros(n, np.int64), np.ones(n, np.int64), rng.integers(2, 8, n)],
        rng.integers(8, 43, n),
    )
    dated_lag = lag_days * DAY + rng.integers(8 * 3600, 19 * 3600, n)
    recorded = at + np.where(timed, timed_lag, dated_lag)
    return np.maximum(np.minimum(recorded, ctx.extract_at), at)


def _pick(ctx: _Context, ev: pd.DataFrame, p: float) -> np.ndarray:
    """Rows to revise: a share `p` of events with room for a later version before the extract."""
    room = (ev["recorded_at"].to_numpy() <= ctx.extract_at - 2 * DAY) & (
        ev["event_at"].to_numpy() // DAY >= ctx.emit_start + 15
    )
    return np.flatnonzero(room & (ctx.rng.random(len(ev)) < p))


def _corrections(ctx: _Context, ev: pd.DataFrame, people: _People) -> tuple[pd.DataFrame, pd.DataFrame]:
    """~1% of events are entered wrongly and corrected later under the same event_id.

    The corrected (later) version holds the true values, so the latest view is always coherent. The
    wrong first version has an earlier event_at, except for end events, which must never move before
    their start: those were first entered with another code (or re-saved unchanged).
    """
    rng = ctx.rng
    rows = _pick(ctx, ev, CORRECTION_P)
    first = ev.iloc[rows].copy()
    latest = ev.iloc[rows].copy()
    lag = rng.integers(3600, 30 * DAY, rows.size)
    latest["recorded_at"] = np.minimum(first["recorded_at"].to_numpy() + lag, ctx.extract_at)

    end_types = [_TYPE_INDEX[t] for t in END_TO_START]
    is_end = first["type"].isin(end_types).to_numpy()
    # A few days too early, but never before the child's birth month.
    room = first["event_at"].to_numpy() - people.birth_month[first["child"].to_numpy()] * DAY
    shift = np.minimum(rng.integers(1, 11, rows.size) * DAY, room // DAY * DAY)
    first["event_at"] = np.where(is_end, first["event_at"], first["event_at"] - shift)
    wrong_code = {
        "referral_closed": ("RC7", "RC8"),
        "assessment_authorised": ("nfa", "early_help", "cin", "s47"),
    }
    for name, options in wrong_code.items():
        mask = (first["type"] == _TYPE_INDEX[name]).to_numpy()
        codes = _choice(rng, options, tuple(1.0 for _ in options), int(mask.sum()))
        first.loc[mask, "code"] = codes
    # The original row is replaced by the wrong first version and its correction.
    return first, latest


def _tombstoned_duplicates(ctx: _Context, ev: pd.DataFrame) -> pd.DataFrame:
    """~0.3% of events were entered twice; the duplicate is deleted later (a tombstone version).

    Deleting duplicates, not genuine events, keeps every end's start in the latest view while still
    showing deletions in the as-reported figures.
    """
    rng = ctx.rng
    rows = _pick(ctx, ev, TOMBSTONE_P)
    dup = ev.iloc[rows].copy()
    dup["event_id"] = _ids("E", np.arange(len(ev) + 1, len(ev) + 1 + rows.size), width=7)
    dup["recorded_at"] = dup["recorded_at"] + rng.integers(5, 600, rows.size)
    tomb = dup.copy()
    tomb["recorded_at"] = np.minimum(
        dup["recorded_at"] + rng.integers(3600, 20 * DAY, rows.size), ctx.extract_at
    )
    tomb["is_deleted"] = True
    return pd.concat([dup, tomb], ignore_index=True)


# --- stage 5: children --------------------------------------------------------------------------------


def _children(ctx: _Context, people: _People, ev: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per child in the events, with ids in order of first event; `ev` gets the ids too."""
    rng = ctx.rng
    first = ev.groupby("child", sort=True).agg(
        first_at=("event_at", "min"), first_recorded=("recorded_at", "min")
    )
    first = first.sort_values(["first_at"], kind="stable")
    idx = first.index.to_numpy()
    n = idx.size
    child_id = _ids("C", np.arange(1, n + 1))
    # The child's record is usually created with their first event, sometimes a little before.
    earlier = np.where(rng.random(n) < 0.2, rng.integers(0, 30 * DAY, n), 0)
    children = pd.DataFrame(
        {
            "child": idx,
            "child_id": child_id,
            "sex": _choice(rng, tuple(SEX_P), tuple(SEX_P.values()), n),
            "birth_month": people.birth_month[idx],
            "ethnicity": _choice(rng, tuple(ETHNICITY_P), tuple(ETHNICITY_P.values()), n),
            "disabled": rng.random(n) < DISABLED_P,
            "recorded_at": first["first_recorded"].to_numpy() - earlier,
        }
    )
    ev["child_id"] = ev["child"].map(pd.Series(child_id, index=idx))
    return children, ev


# --- writing ------------------------------------------------------------------------------------------

_ARROW_TYPES = {
    "varchar": pa.string(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("s"),
    "boolean": pa.bool_(),
    "double": pa.float64(),
    "integer": pa.int32(),
}


def _schema(columns: tuple[Column, ...]) -> pa.Schema:
    return pa.schema([pa.field(c.name, _ARROW_TYPES[c.type], nullable=not c.required) for c in columns])


def _children_table(ctx: _Context, children: pd.DataFrame) -> pa.Table:
    data = {
        "la_code": np.full(len(children), ctx.la_code, dtype=object),
        "child_id": children["child_id"].to_numpy(),
        "sex": children["sex"].to_numpy(),
        "birth_month": children["birth_month"].to_numpy().astype("datetime64[D]"),
        "ethnicity": children["ethnicity"].to_numpy(),
        "disabled": children["disabled"].to_numpy(),
        "recorded_at": children["recorded_at"].to_numpy().astype("datetime64[s]"),
    }
    return _table(data, CHILDREN_COLUMNS)


def _events_table(ctx: _Context, ev: pd.DataFrame) -> pa.Table:
    data = {
        "event_id": ev["event_id"].to_numpy(),
        "la_code": np.full(len(ev), ctx.la_code, dtype=object),
        "child_id": ev["child_id"].to_numpy(),
        "event_type": np.asarray(EVENT_TYPES, dtype=object)[ev["type"].to_numpy()],
        "event_at": ev["event_at"].to_numpy().astype("datetime64[s]"),
        "recorded_at": ev["recorded_at"].to_numpy().astype("datetime64[s]"),
        "episode_id": ev["episode_id"].to_numpy(),
        "referral_id": ev["referral_id"].to_numpy(),
        "code": ev["code"].to_numpy(),
        "code2": ev["code2"].to_numpy(),
        "value": np.full(len(ev), np.nan),
        "is_deleted": ev["is_deleted"].to_numpy(dtype=bool),
    }
    return _table(data, EVENTS_COLUMNS)


def _population_table(ctx: _Context, pop: pd.DataFrame) -> pa.Table:
    data = {"la_code": np.full(len(pop), ctx.la_code, dtype=object), **{c: pop[c].to_numpy() for c in pop}}
    return _table(data, POPULATION_COLUMNS)


def _table(data: dict[str, np.ndarray], columns: tuple[Column, ...]) -> pa.Table:
    schema = _schema(columns)
    arrays = []
    for field in schema:
        values = data[field.name]
        # NaN in the double column and None in text columns are nulls (empty in CSV).
        mask = pd.isna(values) if values.dtype.kind in "fO" else None
        arrays.append(pa.array(values, type=field.type, mask=mask))
    return pa.Table.from_arrays(arrays, schema=schema)


def _write(out_dir: Path, name: str, table: pa.Table, file_format: str) -> Path:
    path = out_dir / f"{name}.{file_format}"
    if file_format == "csv":
        pa_csv.write_csv(table, path)
    else:
        pq.write_table(table, path, compression="zstd")
    return path
