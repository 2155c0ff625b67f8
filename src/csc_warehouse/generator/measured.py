"""The rates the generator aims at for the v2 indicators, counted straight from events (latest view), so
calibration can check them without the warehouse's models. Each rate follows the rule of
`kpis.md` (v2) it stands for, pooled over every authority and read like `calibrate` reads a KPI:
R12M rates at the last month end, PIT and IN-MONTH ones over the 12 month ends together.

Two simplifications, fine for calibration and said here: "looked after" is "in an open period of care
that is not a short break" (a period that starts V3/V4 and changes later counts from its start), and a
child's current placement is the latest placement event of the period on or before the month end.

`events` is a frame with columns la_code, child_id, event_type, day (days since 1970-01-01), event_id,
episode_id, code, code2, value: one row per event, its latest version, tombstones left out.
"""

from __future__ import annotations

from collections.abc import Callable

import holidays
import numpy as np
import pandas as pd

from csc_warehouse.generator.context import add_months, add_working_days

TWENTY_MILES_KM = 32.19
MEASURED_TYPES = (
    "referral_received", "referral_closed", "cp_plan_started", "cp_plan_ended", "cp_review",
    "cla_period_started", "cla_placement_changed", "cla_legal_status_changed", "cla_period_ended",
    "cla_review", "health_assessment", "early_help_started", "early_help_ended", "worker_allocated",
)  # fmt: skip

Ratio = tuple[float, float]  # numerator, denominator


def bank_holidays(first_year: int, last_year: int) -> np.ndarray:
    days = holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))
    return np.array(sorted(days), dtype="datetime64[D]")


def episodes(events: pd.DataFrame, start_type: str, end_type: str) -> pd.DataFrame:
    """la_code, episode_id, child_id, start, end (NaN while open), code: the earliest start and end."""
    first = events.sort_values(["day", "event_id"], kind="stable")
    starts = first[first["event_type"] == start_type].drop_duplicates(["la_code", "episode_id"])
    ends = first[first["event_type"] == end_type].drop_duplicates(["la_code", "episode_id"])
    out = starts[["la_code", "episode_id", "child_id", "day", "code"]].rename(columns={"day": "start"})
    ends = ends[["la_code", "episode_id", "day"]].rename(columns={"day": "end"})
    return out.merge(ends, on=["la_code", "episode_id"], how="left").reset_index(drop=True)


def periods_of_care(events: pd.DataFrame) -> pd.DataFrame:
    """Periods of care that are not short breaks (V3/V4 at the start and at every change)."""
    periods = episodes(events, "cla_period_started", "cla_period_ended")
    changes = events[
        (events["event_type"] == "cla_legal_status_changed") & ~events["code"].isin(["V3", "V4"])
    ]
    changed = set(zip(changes["la_code"], changes["episode_id"], strict=True))
    keys = list(zip(periods["la_code"], periods["episode_id"], strict=True))
    short = periods["code"].isin(["V3", "V4"]).to_numpy() & ~np.array(
        [k in changed for k in keys], dtype=bool
    )
    return periods[~short].reset_index(drop=True)


def reviews_with_due(
    events: pd.DataFrame, owners: pd.DataFrame, review_type: str, first_due: np.ndarray, second_months: int
) -> pd.DataFrame:
    """Each owner's reviews from its start to its end (one per date) with its own due date: the first's
    is `first_due`, the second's r1 + `second_months`, each later one the previous review + 6 months.
    Adds `late_so_far` (this or an earlier review was late) and `next_due` (after this review)."""
    owners = owners.assign(due1=first_due, owner=np.arange(len(owners)))
    rev = events.loc[events["event_type"] == review_type, ["la_code", "episode_id", "day"]].drop_duplicates()
    rev = rev.merge(
        owners[["la_code", "episode_id", "owner", "start", "end", "due1"]], on=["la_code", "episode_id"]
    )
    rev = rev[(rev["day"] >= rev["start"]) & (rev["end"].isna() | (rev["day"] <= rev["end"]))]
    rev = rev.sort_values(["owner", "day"], kind="stable").reset_index(drop=True)
    k = rev.groupby("owner").cumcount().to_numpy()
    day = rev["day"].to_numpy(dtype=np.int64)
    previous = np.concatenate([[0], day[:-1]])
    after_first = add_months(previous, second_months)
    after_later = add_months(previous, 6)
    rev["due"] = np.select([k == 0, k == 1], [rev["due1"].to_numpy(dtype=np.int64), after_first], after_later)
    rev["late_so_far"] = (rev["day"] > rev["due"]).groupby(rev["owner"]).cummax()
    rev["next_due"] = np.where(k == 0, add_months(day, second_months), add_months(day, 6))
    return rev


def held_on_time(reviews: pd.DataFrame, window: tuple[int, int]) -> Ratio:
    """Review dates in the window (first, last day) on or before their own due date."""
    inside = reviews[(reviews["day"] >= window[0]) & (reviews["day"] <= window[1])]
    return float((inside["day"] <= inside["due"]).sum()), float(len(inside))


def chains_in_timescale(owners: pd.DataFrame, first_due: np.ndarray, reviews: pd.DataFrame, pe: int) -> Ratio:
    """Of owners open at `pe` whose first review was due by then, those whose chain is in timescale."""
    open_ = (owners["start"].to_numpy() <= pe) & (
        owners["end"].isna().to_numpy() | (owners["end"].to_numpy() > pe)
    )
    cohort = np.flatnonzero(open_ & (first_due <= pe))
    last = reviews[reviews["day"] <= pe].groupby("owner").tail(1).set_index("owner")
    late = last["late_so_far"].reindex(cohort).fillna(False).to_numpy(dtype=bool)
    next_due = last["next_due"].reindex(cohort).fillna(pd.Series(first_due[cohort], index=cohort)).to_numpy()
    return float((~late & (next_due > pe)).sum()), float(cohort.size)


def measure(events: pd.DataFrame, last_pe: int, population: int) -> dict[str, float | None]:
    """Every measured rate: percentages, and early help episodes started in the year per 10,000 of the
    `population` (children aged 0-17)."""
    years = pd.to_datetime(events["day"], unit="D").dt.year
    hol = bank_holidays(int(years.min()), int(years.max()) + 1)
    month_ends = [add_months(np.asarray([last_pe + 1]), -i)[0] - 1 for i in range(12)]
    window = (add_months(np.asarray([last_pe + 1]), -12)[0], last_pe)

    cp = episodes(events, "cp_plan_started", "cp_plan_ended")
    cp_due1 = add_months(cp["start"].to_numpy(dtype=np.int64), 3)
    cp_reviews = reviews_with_due(events, cp, "cp_review", cp_due1, 6)
    cla = periods_of_care(events)
    cla_due1 = add_working_days(cla["start"].to_numpy(dtype=np.int64), 20, hol)
    cla_reviews = reviews_with_due(events, cla, "cla_review", cla_due1, 3)

    def pooled(rate: Callable[[int], Ratio]) -> Ratio:
        parts = [rate(pe) for pe in month_ends]
        return sum(p[0] for p in parts), sum(p[1] for p in parts)

    ratios: dict[str, Ratio] = {
        "cp_reviews_held_in_timescale_pct": held_on_time(cp_reviews, window),
        "cla_reviews_held_in_timescale_pct": held_on_time(cla_reviews, window),
        "cp_reviews_in_timescale_pct": pooled(lambda pe: chains_in_timescale(cp, cp_due1, cp_reviews, pe)),
        "cla_reviews_in_timescale_pct": pooled(
            lambda pe: chains_in_timescale(cla, cla_due1, cla_reviews, pe)
        ),
        "cla_iha_20wd_pct_r12m": initial_health(events, cla, hol, window),
        "cla_placed_20_miles_plus_pct": pooled(lambda pe: placed_far(events, cla, pe)),
        "children_allocated_pct": pooled(lambda pe: allocated(events, pe)),
        "eh_stepped_up_pct_r12m": stepped_up(events, window),
    }
    out: dict[str, float | None] = {k: (100 * n / d if d else None) for k, (n, d) in ratios.items()}
    eh = episodes(events, "early_help_started", "early_help_ended")
    started = ((eh["start"] >= window[0]) & (eh["start"] <= window[1])).sum()
    out["eh_episodes_started_per_10k"] = 10_000 * float(started) / population if population else None
    return out


def initial_health(
    events: pd.DataFrame, cla: pd.DataFrame, hol: np.ndarray, window: tuple[int, int]
) -> Ratio:
    """Periods started in the window with add_wd(start, 20) by its end: a health assessment of the
    child from the start to add_wd(start, 20)."""
    due = add_working_days(cla["start"].to_numpy(dtype=np.int64), 20, hol)
    rows = cla[(cla["start"] >= window[0]) & (cla["start"] <= window[1]) & (due <= window[1])].assign(
        due=due[(cla["start"] >= window[0]) & (cla["start"] <= window[1]) & (due <= window[1])]
    )
    ha = events.loc[events["event_type"] == "health_assessment", ["la_code", "child_id", "day"]]
    both = rows.merge(ha, on=["la_code", "child_id"], suffixes=("", "_ha"))
    done = both[(both["day"] >= both["start"]) & (both["day"] <= both["due"])]
    hit = done.drop_duplicates(["la_code", "episode_id"])
    return float(len(hit)), float(len(rows))


def placed_far(events: pd.DataFrame, cla: pd.DataFrame, pe: int) -> Ratio:
    """Looked after at `pe` with a distance on the current placement: more than 20 miles."""
    open_ = cla[(cla["start"] <= pe) & (cla["end"].isna() | (cla["end"] > pe))]
    open_ = open_.sort_values("start").drop_duplicates(["la_code", "child_id"], keep="last")
    places = events[
        events["event_type"].isin(["cla_period_started", "cla_placement_changed"]) & (events["day"] <= pe)
    ]
    current = places.sort_values(["day", "event_id"]).drop_duplicates(["la_code", "episode_id"], keep="last")
    km = open_.merge(current[["la_code", "episode_id", "value"]], on=["la_code", "episode_id"])[
        "value"
    ].dropna()
    return float((km > TWENTY_MILES_KM).sum()), float(len(km))


def allocated(events: pd.DataFrame, pe: int) -> Ratio:
    """Children with an open referral at `pe` whose latest allocation by then is dated on or after the
    start of their latest-started open referral."""
    refs = episodes(events, "referral_received", "referral_closed")
    open_ = refs[(refs["start"] <= pe) & (refs["end"].isna() | (refs["end"] > pe))]
    latest = open_.groupby(["la_code", "child_id"], as_index=False)["start"].max()
    alloc = events[(events["event_type"] == "worker_allocated") & (events["day"] <= pe)]
    last = alloc.groupby(["la_code", "child_id"], as_index=False)["day"].max()
    both = latest.merge(last, on=["la_code", "child_id"], how="left")
    return float((both["day"] >= both["start"]).sum()), float(len(both))


def stepped_up(events: pd.DataFrame, window: tuple[int, int]) -> Ratio:
    ends = events[events["event_type"] == "early_help_ended"].sort_values(["day", "event_id"])
    ends = ends.drop_duplicates(["la_code", "episode_id"])
    inside = ends[(ends["day"] >= window[0]) & (ends["day"] <= window[1])]
    return float((inside["code2"] == "step_up").sum()), float(len(inside))


def latest_events(con: object, relation: str = "raw.events") -> pd.DataFrame:
    """The measured types' events from a DuckDB relation in the contract's columns, latest view."""
    types = ", ".join(f"'{t}'" for t in MEASURED_TYPES)
    query = f"""
        select la_code, child_id, event_type, event_id, episode_id, code, code2, value,
               datediff('day', date '1970-01-01', cast(event_at as date)) as day
        from (select *, row_number() over (partition by la_code, event_id order by recorded_at desc) as v
              from {relation} where event_type in ({types}))
        where v = 1 and not coalesce(is_deleted, false)"""
    return con.sql(query).df()  # type: ignore[attr-defined]
