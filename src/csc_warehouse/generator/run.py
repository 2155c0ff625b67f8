"""`generate`: authorities simulated one at a time (by one or more processes), each from its own random
stream, stage by stage, and streamed to the files."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa

from csc_warehouse.generator.added_events import added_events
from csc_warehouse.generator.children import children_of_events
from csc_warehouse.generator.constants import DAY
from csc_warehouse.generator.context import make_context, to_date, window
from csc_warehouse.generator.event_buffer import concat_events
from csc_warehouse.generator.fault_rows import write_fault_rows
from csc_warehouse.generator.front_door_events import other_contacts, referral_events
from csc_warehouse.generator.looked_after import simulate_looked_after
from csc_warehouse.generator.population import simulate_population
from csc_warehouse.generator.recording import finalise_events
from csc_warehouse.generator.referrals import simulate_referrals
from csc_warehouse.generator.writer import (
    AuthorityFiles,
    children_table,
    events_table,
    population_table,
    table_writers,
)
from csc_warehouse.profile import DEFAULT_PROFILE, Authority, Profile, load_profile


@dataclass(frozen=True)
class GenerateSummary:
    """What `generate` wrote. `events` counts rows of the events files (every version)."""

    out_dir: Path
    profile: str
    authorities: int
    children: int
    events: int
    population_rows: int
    first_event_date: date
    last_event_date: date
    fault_rows: int = 0
    seconds: float = 0.0

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def generate(
    out_dir: Path,
    *,
    profile: str | Path | Profile = DEFAULT_PROFILE,
    seed: int = 42,
    years: int = 5,
    start: date | None = None,
    file_format: Literal["csv", "parquet"] = "csv",
    la_code: str | None = None,
    population: int | None = None,
    scale: float = 1.0,
    faults: float = 0.0,
    workers: int | None = None,
    progress: bool = False,
) -> GenerateSummary:
    """Write children, events and population files for the authorities of a profile.

    The reported window is `years` years from `start` (default: ending 2018-03-31); events start one
    burn-in year earlier. `la_code` and `population` override those of a one-authority profile; `scale`
    multiplies every authority's children (a miniature with the same rates). Authorities are generated
    one at a time (by `workers` processes) and streamed to one file per table, so memory stays bounded
    by the largest authority. `faults` > 0 also writes that share of bad rows (see `faults.py`). The
    same arguments always give byte-identical files.
    """
    started = time.perf_counter()
    chosen = chosen_profile(profile, la_code, population, scale)
    if years < 1:
        raise ValueError("years must be at least 1")
    if file_format not in ("csv", "parquet"):
        raise ValueError(f"file_format must be 'csv' or 'parquet', not {file_format!r}")
    if not 0 <= faults <= 0.5:
        raise ValueError(f"faults is a share of the events, between 0 and 0.5, not {faults}")
    window(years, start)  # fails early on an impossible window
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("*_faults.csv"):
        stale.unlink()  # a previous run's bad rows must not ride along with this run's data

    jobs = [(a, i, seed, years, start) for i, a in enumerate(chosen.authorities)]
    n_workers = workers or (min(2, os.cpu_count() or 1) if len(jobs) > 1 else 1)
    totals = {"children": 0, "events": 0, "population": 0}
    first_day, last_day = None, None
    sample: AuthorityFiles | None = None
    with (
        table_writers(out_dir, file_format) as sinks,
        authority_progress(progress, chosen, len(jobs) > 1) as tick,
    ):
        for result in run_jobs(jobs, n_workers, stage_bars=progress and len(jobs) == 1):
            for name, table in (("children", result.children), ("events", result.events),
                                ("population", result.population)):  # fmt: skip
                sinks[name].write_table(table)
                totals[name] += table.num_rows
            first_day = min(first_day or result.first_event_date, result.first_event_date)
            last_day = max(last_day or result.last_event_date, result.last_event_date)
            sample = sample or result
            tick(result)

    fault_rows = 0
    if faults > 0 and sample is not None:
        fault_rows = write_fault_rows(out_dir, sample, share=faults, seed=seed)
    assert first_day is not None and last_day is not None
    return GenerateSummary(
        out_dir=out_dir,
        profile=chosen.name,
        authorities=len(jobs),
        children=totals["children"],
        events=totals["events"],
        population_rows=totals["population"],
        first_event_date=first_day,
        last_event_date=last_day,
        fault_rows=fault_rows,
        seconds=time.perf_counter() - started,
    )


def chosen_profile(
    profile: str | Path | Profile, la_code: str | None, population: int | None, scale: float
) -> Profile:
    chosen = profile if isinstance(profile, Profile) else load_profile(profile)
    if la_code is not None or population is not None:
        if len(chosen.authorities) != 1:
            raise ValueError(
                f"--la-code and --population apply to a one-authority profile; {chosen.name} has "
                f"{len(chosen.authorities)} authorities (use --scale to shrink them all)"
            )
        if population is not None and population < 100:
            raise ValueError("population must be at least 100 children (fewer give almost no events)")
        only = chosen.authorities[0]
        only = replace(only, la_code=la_code or only.la_code, population=population or only.population)
        chosen = replace(chosen, authorities=(only,))
    return chosen.scaled(scale)


def run_jobs(
    jobs: list[tuple[Authority, int, int, int, date | None]], workers: int, *, stage_bars: bool
) -> Iterator[AuthorityFiles]:
    """Each authority's tables, in profile order. Several workers each take whole authorities."""
    if workers <= 1:
        for job in jobs:
            yield generate_authority(*job, stage_bars=stage_bars)
        return
    # spawn, not fork: the parent may hold DuckDB or Arrow threads that a fork would copy half-way.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield from pool.map(generate_authority, *zip(*jobs, strict=True))


@contextmanager
def authority_progress(
    show: bool, profile: Profile, many: bool
) -> Iterator[Callable[[AuthorityFiles], None]]:
    """A bar over the authorities (children generated so far, events written) when there are many."""
    if not (show and many):
        yield lambda result: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, TextColumn("{task.fields[events]:,} events")) as bar:
        task = bar.add_task(f"{profile.name}: authorities", total=len(profile.authorities), events=0)
        written = 0

        def tick(result: AuthorityFiles) -> None:
            nonlocal written
            written += result.events.num_rows
            bar.update(task, advance=1, events=written)

        yield tick


def generate_authority(
    authority: Authority, index: int, seed: int, years: int, start: date | None, *, stage_bars: bool = False
) -> AuthorityFiles:
    """Simulate one authority. Its random stream depends on the seed and its place in the profile only."""
    ctx = make_context(np.random.SeedSequence((seed, index)), years, start, authority)
    with stages(stage_bars) as stage:
        with stage("population"):
            pop = simulate_population(ctx)
        with stage("referral journeys"):
            journeys, people = simulate_referrals(ctx)
        with stage("looked after"):
            journeys, people, cla, short_break_children = simulate_looked_after(ctx, journeys, people)
        with stage("contacts"):
            contacts, people = other_contacts(ctx, journeys, people)
        with stage("events"):
            raw = concat_events([referral_events(ctx, journeys), contacts, cla])
            events = finalise_events(ctx, raw, people)
            if events.empty:
                raise ValueError(
                    f"{authority.la_code}: a population of {authority.population} gave no events: "
                    "use a larger one"
                )
        with stage("children"):
            children, events = children_of_events(ctx, people, events, disabled=short_break_children)
        with stage("added events"):
            kept, added = added_events(ctx, events, children, people)
        with stage("tables"):
            event_days = (
                np.concatenate([events["event_at"].to_numpy()[kept], added["event_at"].to_numpy()]) // DAY
            )
            return AuthorityFiles(
                la_code=authority.la_code,
                children=children_table(ctx, children),
                events=pa.concat_tables([events_table(ctx, events).filter(kept), events_table(ctx, added)]),
                population=population_table(ctx, pop),
                first_event_date=to_date(int(event_days.min())),
                last_event_date=to_date(int(event_days.max())),
            )


@contextmanager
def stages(show: bool) -> Iterator[Callable[[str], AbstractContextManager[None]]]:
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
