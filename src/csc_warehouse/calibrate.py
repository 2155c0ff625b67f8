"""Calibration you can see: generate a profile, load and build it, and read each headline KPI beside the
profile's target.

A KPI is read over the last 12 months generated, pooled over every authority of the profile (so the
`england` profile is read as England): numerators and denominators are summed, then
- R12M KPIs: the last month's rolling year;
- PIT and IN-MONTH KPIs: the 12 months together (a stock's mean over the year; a timeliness share of
  the year's events);
- counts: per month (R12M counts: the year).
A target with `per` is a share: 100 * the KPI's numerator / the other KPI's numerator.

The v2 rates the generator aims at (review timeliness, early help, allocation, placement distance,
initial health assessments) are also counted straight from the loaded events
(`csc_warehouse.generator.measured`), without the models, and read against `event_targets`: the
profile's settings where it has one (their defaults are the published figures), else the published
figure.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np

from csc_warehouse.build import build
from csc_warehouse.generator import GenerateSummary, generate
from csc_warehouse.generator.measured import latest_events, measure
from csc_warehouse.load import load
from csc_warehouse.profile import Profile, Target, load_profile

__all__ = ["Calibration", "Reading", "calibrate", "event_targets", "read_event_rates", "read_targets"]

UNIT_SCALE = {"pct": 100.0, "rate10k": 10_000.0, "days": 1.0, "score": 1.0, "count": 1.0}
READ_MONTHS = 12


@dataclass(frozen=True)
class Reading:
    target: Target
    value: float | None  # None: the data gave no denominator in the window
    unit: str

    @property
    def gap(self) -> float | None:
        return None if self.value is None else self.value - self.target.target

    @property
    def within(self) -> bool:
        return self.gap is not None and abs(self.gap) <= self.target.tolerance


@dataclass(frozen=True)
class Calibration:
    profile: Profile
    generated: GenerateSummary
    readings: tuple[Reading, ...]
    period_from: str
    period_to: str
    seconds: dict[str, float]
    event_readings: tuple[Reading, ...] = ()  # v2 rates counted from the events (`event_targets`)


def calibrate(
    profile: str | Path | Profile,
    *,
    years: int = 5,
    seed: int = 42,
    scale: float = 1.0,
    work_dir: Path | None = None,
    progress: bool = False,
) -> Calibration:
    """Generate `years` of the profile (times `scale` children), load, build and read its targets.

    Works in `work_dir` (kept) or a temporary folder (removed afterwards). Three years is the least that
    gives long-term stability (two and a half years in care) a full history; repeat CP plans, counted
    over the history loaded, reach their steady share after about five, the default.
    """
    chosen = (profile if isinstance(profile, Profile) else load_profile(profile)).scaled(scale)
    if not chosen.targets:
        raise ValueError(f"profile {chosen.name} has no targets to calibrate against")
    owned = work_dir is None
    folder = Path(tempfile.mkdtemp(prefix="cscw-calibrate-")) if owned else Path(work_dir)
    folder.mkdir(parents=True, exist_ok=True)
    seconds: dict[str, float] = {}
    try:
        started = time.perf_counter()
        generated = generate(
            folder / "input", profile=chosen, seed=seed, years=years, file_format="parquet", progress=progress
        )
        seconds["generate"] = time.perf_counter() - started
        warehouse = folder / "warehouse.duckdb"
        warehouse.unlink(missing_ok=True)
        started = time.perf_counter()
        load(folder / "input", warehouse, progress=progress)
        seconds["load"] = time.perf_counter() - started
        started = time.perf_counter()
        build(warehouse, select="+fct_kpi_monthly")
        seconds["build"] = time.perf_counter() - started
        with duckdb.connect(str(warehouse), read_only=True) as con:
            readings, first, last = read_targets(con, chosen.targets)
            started = time.perf_counter()
            event_readings = read_event_rates(con, chosen, last)
            seconds["event rates"] = time.perf_counter() - started
    finally:
        if owned:
            shutil.rmtree(folder, ignore_errors=True)
    return Calibration(chosen, generated, readings, first, last, seconds, event_readings)


def event_targets(profile: Profile) -> tuple[Target, ...]:
    """The v2 rates to hold the generated events to, for this profile's authorities."""
    weights = np.asarray([a.population for a in profile.authorities], dtype=float)

    def setting(name: str) -> float:
        values = np.asarray([getattr(a.settings, name) for a in profile.authorities], dtype=float)
        return float(np.average(values, weights=weights))

    per_10k = setting("early_help_per_10k")
    return (
        Target("cp_reviews_held_in_timescale_pct", setting("cp_reviews_on_time_pct"), 2.0,
               "setting cp_reviews_on_time_pct; default 97.5: LEI Q2 2017/18 97.2%, GLO Q3 2018/19 97.7%"),
        Target("cla_reviews_held_in_timescale_pct", setting("cla_reviews_on_time_pct"), 3.0,
               "setting cla_reviews_on_time_pct; default 95: RUT 93% (2020-21), 96% (Q1 2021-22)"),
        Target("cla_iha_20wd_pct_r12m", setting("iha_in_20wd_pct"), 8.0,
               "setting iha_in_20wd_pct; default 60 (most); GLO December 2018: 32%"),
        Target("eh_stepped_up_pct_r12m", setting("early_help_step_up_pct"), 5.0,
               "setting early_help_step_up_pct; default 14: RUT 2020-21 14% (target 5%)"),
        Target("eh_episodes_started_per_10k", per_10k, 0.25 * per_10k,
               "setting early_help_per_10k; default 45: HRT 2017/18 1,198 Families First assessments "
               "started, 267,000 children"),
        Target("children_allocated_pct", 99.1, 1.0, "GLO end Q3 2018/19: 99.1% (98.5%-99.3% in 2018)"),
        Target("cla_placed_20_miles_plus_pct", 8.9, 4.0,
               "HRT November 2017: 83 of 930 looked after placed at a distance, beyond neighbouring LAs"),
    )  # fmt: skip


def read_event_rates(con: duckdb.DuckDBPyConnection, profile: Profile, last: str) -> tuple[Reading, ...]:
    """Each event target's reading, counted from raw.events up to the month end `last`."""
    last_day = int((np.datetime64(last, "D") - np.datetime64("1970-01-01", "D")).astype(np.int64))
    # A cursor of its own: read_targets may leave a result unread on `con`, which blocks it.
    rates = measure(latest_events(con.cursor()), last_day, profile.population)
    return tuple(
        Reading(t, rates[t.kpi_id], "rate10k" if t.kpi_id.endswith("per_10k") else "pct")
        for t in event_targets(profile)
    )


def read_targets(
    con: duckdb.DuckDBPyConnection, targets: tuple[Target, ...]
) -> tuple[tuple[Reading, ...], str, str]:
    """Each target's reading from marts.fct_kpi_monthly, and the months read (first, last)."""
    last = con.execute("select max(period_end) from marts.fct_kpi_monthly").fetchone()[0]
    if last is None:
        raise ValueError("marts.fct_kpi_monthly is empty: nothing to calibrate")
    con.execute(
        f"""create or replace temp table window_kpis as
            select k.kpi_id, k.unit, k.period_type, f.period_end,
                   sum(f.numerator) as numerator, sum(f.denominator) as denominator
            from marts.fct_kpi_monthly f
            join reference.dim_kpi k using (kpi_id)
            where f.period_end > ?::date - interval {READ_MONTHS} month
            group by all""",
        [last],
    )
    first = con.execute("select min(period_end) from window_kpis").fetchone()[0]
    found = {
        row[0]: (row[1], row[2])
        for row in con.execute("select distinct kpi_id, unit, period_type from window_kpis").fetchall()
    }
    readings = []
    for target in targets:
        for kpi in (target.kpi_id, target.per_kpi_id):
            if kpi is not None and kpi not in found:
                raise ValueError(
                    f"target {target.label}: no KPI {kpi} in fct_kpi_monthly (see seeds/dim_kpi.csv)"
                )
        unit, period_type = found[target.kpi_id]
        if target.per_kpi_id:
            num = _pooled(con, target.kpi_id, period_type, "numerator", last)
            den = _pooled(con, target.per_kpi_id, found[target.per_kpi_id][1], "numerator", last)
            value = 100.0 * num / den if den else None
            readings.append(Reading(target, value, "pct"))
            continue
        num = _pooled(con, target.kpi_id, period_type, "numerator", last)
        if unit == "count":
            months = 1 if period_type == "R12M" else READ_MONTHS
            readings.append(Reading(target, num / months, unit))
            continue
        den = _pooled(con, target.kpi_id, period_type, "denominator", last)
        value = UNIT_SCALE[unit] * num / den if den else None
        readings.append(Reading(target, value, unit))
    return tuple(readings), str(first), str(last)


def _pooled(
    con: duckdb.DuckDBPyConnection, kpi_id: str, period_type: str, column: str, last: object
) -> float:
    """The column summed over the reading window: the last month for R12M KPIs, else all 12 months."""
    where = "and period_end = ?" if period_type == "R12M" else ""
    params: list[object] = [kpi_id, last] if period_type == "R12M" else [kpi_id]
    total = con.execute(f"select sum({column}) from window_kpis where kpi_id = ? {where}", params).fetchone()[
        0
    ]
    return float(total or 0.0)
