"""The two imports end to end: read the returns, pseudonymise, rebuild the history once per return,
write the canonical files and the import quarantine file, and say what happened to every row."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from csc_warehouse.formats import cin_census, ssda903, ssda903_events
from csc_warehouse.formats.anonymise import Pseudonymiser, key_from_environment
from csc_warehouse.formats.canonical import (
    CHILD_CONTENT,
    CONTENT,
    copy_population,
    recorded_at,
    versions,
    write_canonical,
    write_quarantine,
)
from csc_warehouse.formats.common import FileSummary, ImportRefused, Quarantine
from csc_warehouse.formats.repair import RULES

NO_POPULATION = (
    "No population file given (--population FILE): the output has children and events only. The first "
    "load into a warehouse needs population.csv (children resident by year, age 0-17 and sex, e.g. ONS "
    "mid-year estimates, columns la_code, year, age, sex, count); later loads can do without."
)


@dataclass
class ImportResult:
    source: str  # ssda903 | cin_census
    la_code: str
    years: list[int]
    files: list[FileSummary]
    outputs: dict[str, Path]
    children_rows: int
    event_rows: int
    population_rows: int | None
    warnings: list[str] = field(default_factory=list)
    repairs: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.quarantined for f in self.files)


def _account(
    files: list[FileSummary], quarantine: Quarantine, skipped: set[str], tables: dict[str, pd.DataFrame]
) -> None:
    """Fill in each file's quarantined and skipped counts (a row with several problems counts once)."""
    q_counts = quarantine.counts()
    s_counts: dict[tuple[str, str], int] = {}
    for name, frame in tables.items():
        hit = frame[frame["_row"].isin(skipped)] if skipped and not frame.empty else frame.iloc[:0]
        for file, n in hit.groupby("_file").size().items():
            s_counts[(str(file), name)] = int(n)
    for f in files:
        f.quarantined = q_counts.get((f.file, f.table), 0)
        f.skipped = s_counts.get((f.file, f.table), 0)


def _finish(
    source: str,
    out_dir: Path,
    la_code: str,
    states: list[tuple[int, pd.DataFrame, pd.DataFrame]],
    quarantine: Quarantine,
    child_offset: int,
) -> tuple[dict[str, Path], int, int]:
    event_rows = versions([(recorded_at(y), ev) for y, _, ev in states], "event_id", CONTENT, tombstones=True)
    child_rows = versions(
        [(recorded_at(y, seconds_before=child_offset), ch) for y, ch, _ in states],
        "child_id",
        CHILD_CONTENT,
        tombstones=False,
    )
    # An import rewrites its own files only (the other source's files in the folder stay).
    paths = write_canonical(out_dir, source, la_code, child_rows, event_rows)
    paths["quarantine"] = write_quarantine(out_dir, source, quarantine.frame())
    return paths, len(child_rows), len(event_rows)


def _population(
    population: Path | None, out_dir: Path, la_code: str, warnings: list[str], paths: dict[str, Path]
) -> int | None:
    if population is None:
        warnings.append(NO_POPULATION)
        return None
    path, rows = copy_population(population, out_dir, la_code)
    paths["population"] = path
    return rows


def import_ssda903(
    folder: Path,
    out_dir: Path,
    *,
    la_code: str | None,
    population: Path | None = None,
    year: int | None = None,
    year_label: str = "end",
) -> ImportResult:
    """SSDA903 returns under `folder` -> canonical files in `out_dir` (ssda903, repair, ssda903_events).

    `year_label`: whether a year in a path names the year a collection ends (the DfE's naming, default)
    or starts (Data to Insight's samples)."""
    started = time.perf_counter()
    key = key_from_environment()
    if not la_code:
        raise ImportRefused(
            "the SSDA903 files do not say which authority they are from: pass --la CODE (the code the "
            "warehouse uses for the authority, e.g. E10000015 or the DfE number 919)."
        )
    pseudo = Pseudonymiser(key, la_code)
    quarantine = Quarantine(describe=pseudo.describe())
    data = ssda903.read_returns(Path(folder), quarantine, year, year_label)
    tables = {name: frame.assign(child=pseudo.ids(frame["CHILD"])) for name, frame in data.tables.items()}
    states = []
    repairs: dict[str, int] = {}
    for y in data.years:
        # Only the newest state's quarantine counts: an earlier state may lack what a later return adds.
        q = quarantine if y == data.years[-1] else Quarantine()
        children, events, repairs = ssda903_events.convert_state(tables, y, q, pseudo)
        states.append((y, children, events))
    out_dir = Path(out_dir)
    paths, n_children, n_events = _finish("ssda903", out_dir, la_code, states, quarantine, child_offset=1)
    warnings = list(data.warnings)
    population_rows = _population(population, out_dir, la_code, warnings, paths)
    _account(data.summaries, quarantine, ssda903_events.skipped_rows(tables), tables)
    warnings += [f"{n} {RULES[rule]}" for rule, n in repairs.items() if n]
    return ImportResult(
        "ssda903",
        la_code,
        data.years,
        data.summaries,
        paths,
        n_children,
        n_events,
        population_rows,
        warnings,
        repairs,
        time.perf_counter() - started,
    )


def import_cin_census(
    files: list[Path],
    out_dir: Path,
    *,
    la_code: str | None = None,
    population: Path | None = None,
) -> ImportResult:
    """CIN census XML files (several years) -> canonical files in `out_dir` (see cin_census)."""
    started = time.perf_counter()
    key = key_from_environment()
    per_table, summaries, la, years = cin_census.read_files([Path(f) for f in files], la_code)
    pseudo = Pseudonymiser(key, la)
    quarantine = Quarantine(describe=pseudo.describe())
    tables = cin_census.check(per_table, quarantine)
    tables = {name: frame.assign(child=pseudo.ids(frame["LAchildID"])) for name, frame in tables.items()}
    states = [(y, *cin_census.convert_state(tables, y)) for y in years]
    out_dir = Path(out_dir)
    paths, n_children, n_events = _finish("cin_census", out_dir, la, states, quarantine, child_offset=0)
    warnings: list[str] = []
    population_rows = _population(population, out_dir, la, warnings, paths)
    _account(summaries, quarantine, set(), tables)
    return ImportResult(
        "cin_census",
        la,
        years,
        summaries,
        paths,
        n_children,
        n_events,
        population_rows,
        warnings,
        {},
        time.perf_counter() - started,
    )
