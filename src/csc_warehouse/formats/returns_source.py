"""What the statutory writers read: one authority's children, events and episodes, as known now.

Two readers give the same frames:

- ``from_warehouse``: the warehouse's own latest view, so a return holds the episodes the KPIs count:
  events from ``staging.stg_case__events`` (per event the latest version, tombstones dropped),
  episodes from ``intermediate.int_episodes_built`` (start = earliest start event, end = earliest end
  event) and children from ``raw.children`` (latest version; ``disabled`` kept null when not recorded,
  which the staging view folds into false);
- ``from_canonical``: a folder of canonical files, the same rules applied in pandas (used by the round
  trips of the importers).

Frames (dates as Timestamps, codes as text):
children: ``child_id, sex, birth_month, ethnicity, disabled`` ('true' / 'false' / None);
events: ``la_code, event_id, child_id, event_type, event_at, day, episode_id, referral_id, code, code2,
value``; episodes: ``episode_type, episode_id, child_id, referral_id, start, end, code, code2, end_code,
end_code2`` (start or end may be missing, as in ``int_episodes_built``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

__all__ = [
    "ReturnSource",
    "SourceError",
    "episodes_from_events",
    "from_canonical",
    "from_frames",
    "from_warehouse",
    "lookup",
]

# int_episodes_built's episode types that the returns list, with their start and end event types.
EPISODE_EVENTS = {
    "referral": ("referral_received", "referral_closed"),
    "assessment": ("assessment_started", "assessment_authorised"),
    "cin_plan": ("cin_plan_started", "cin_plan_ended"),
    "cp_plan": ("cp_plan_started", "cp_plan_ended"),
    "s47": ("s47_started", None),
    "early_help": ("early_help_started", "early_help_ended"),
}


class SourceError(ValueError):
    """The warehouse or folder cannot give what a return needs (message says why)."""


@dataclass(frozen=True)
class ReturnSource:
    la_code: str
    children: pd.DataFrame
    events: pd.DataFrame
    episodes: pd.DataFrame

    def of(self, event_type: str) -> pd.DataFrame:
        """The events of one type, in date order (ties by id, so "earliest" is deterministic)."""
        return of(self.events, event_type)


def lookup(keys: pd.Series | pd.Index, table: pd.Series) -> pd.Series:
    """``keys.map(table)``, also when either is empty (pandas cannot map onto an empty date Series)."""
    if len(keys) == 0 or table.empty:
        return pd.Series(index=keys if isinstance(keys, pd.Index) else keys.index, dtype=table.dtype)
    return keys.map(table) if isinstance(keys, pd.Series) else pd.Series(keys.map(table), index=keys)


def of(events: pd.DataFrame, event_type: str) -> pd.DataFrame:
    return events[events["event_type"] == event_type].sort_values(["event_at", "event_id"], kind="stable")


def _typed(children: pd.DataFrame, events: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    events = events.copy()
    events["event_at"] = pd.to_datetime(events["event_at"])
    events["day"] = events["event_at"].dt.normalize()
    children = children.copy()
    children["birth_month"] = pd.to_datetime(children["birth_month"])
    flag = (
        children["disabled"]
        .astype(object)
        .map(
            {True: "true", False: "false", "true": "true", "false": "false", "True": "true", "False": "false"}
        )
    )
    children["disabled"] = flag.where(flag.notna(), None)
    return children, events


def episodes_from_events(events: pd.DataFrame) -> pd.DataFrame:
    """int_episodes_built's rule in pandas: the earliest start and the earliest end event per episode
    (either may be missing: an end whose start is not known still lists in Annex A)."""
    frames = []
    for kind, (start_type, end_type) in EPISODE_EVENTS.items():
        s = of(events, start_type).drop_duplicates("episode_id")
        frame = pd.DataFrame(
            {
                "episode_id": s["episode_id"],
                "child_id": s["child_id"],
                "referral_id": s["referral_id"],
                "start": s["day"],
                "code": s["code"],
                "code2": s["code2"],
            }
        )
        if end_type:
            e = of(events, end_type).drop_duplicates("episode_id")
            e = pd.DataFrame(
                {
                    "episode_id": e["episode_id"],
                    "end_child": e["child_id"],
                    "end_referral": e["referral_id"],
                    "end": e["day"],
                    "end_code": e["code"],
                    "end_code2": e["code2"],
                }
            )
            frame = frame.merge(e, on="episode_id", how="outer")
            frame["child_id"] = frame["child_id"].fillna(frame.pop("end_child"))
            frame["referral_id"] = frame["referral_id"].fillna(frame.pop("end_referral"))
        else:
            frame = frame.assign(end=pd.NaT, end_code=None, end_code2=None)
        frames.append(frame.assign(episode_type=kind))
    out = pd.concat(frames, ignore_index=True)
    for col in ("start", "end"):
        out[col] = pd.to_datetime(out[col])
    return out


def from_frames(la_code: str, children: pd.DataFrame, events: pd.DataFrame) -> ReturnSource:
    """A source from frames already in memory (canonical columns; ``code``/``code2``/``value`` or the
    contract's ``event_code``/``event_code2``/``event_value``), e.g. a few events made by hand."""
    events = events.rename(columns={"event_code": "code", "event_code2": "code2", "event_value": "value"})
    for col in ("episode_id", "referral_id", "code", "code2", "value"):
        if col not in events:
            events = events.assign(**{col: None})
    events = events.assign(la_code=la_code)
    children, events = _typed(children, events)
    return ReturnSource(la_code, children, events, episodes_from_events(events))


def from_canonical(canonical_dir: Path, as_of: date | None = None) -> list[ReturnSource]:
    """Per authority of a canonical folder: the latest version of every child and event (with
    ``as_of``, the latest recorded by the end of that day)."""
    pattern = (Path(canonical_dir) / "{}*.csv").as_posix()
    cut = f"where cast(recorded_at as timestamp) < date '{as_of:%Y-%m-%d}' + interval 1 day" if as_of else ""
    with duckdb.connect() as con:
        events = con.sql(
            f"""select * exclude (rn) from (
                    select *, row_number() over (
                        partition by la_code, event_id order by recorded_at desc) as rn
                    from read_csv('{pattern.format("events")}', header = true, all_varchar = true) {cut})
                where rn = 1 and coalesce(is_deleted, 'false') <> 'true'"""
        ).df()
        children = con.sql(
            f"""select * exclude (rn) from (
                    select *, row_number() over (
                        partition by la_code, child_id order by recorded_at desc) as rn
                    from read_csv('{pattern.format("children")}', header = true, all_varchar = true) {cut})
                where rn = 1"""
        ).df()
    children, events = _typed(children, events)
    sources = []
    for la in sorted(set(events["la_code"])):
        ev = events[events["la_code"] == la].reset_index(drop=True)
        kids = children[children["la_code"] == la].reset_index(drop=True)
        sources.append(ReturnSource(la, kids, ev, episodes_from_events(ev)))
    return sources


_TABLES_SQL = "select table_schema, table_name from information_schema.tables"
_EVENTS_SQL = """
    select la_code, event_id, child_id, event_type, event_at, episode_id, referral_id,
           event_code as code, event_code2 as code2, cast(event_value as varchar) as value
    from staging.stg_case__events where la_code = $la
"""
_CHILDREN_SQL = """
    select child_id, sex, birth_month, ethnicity, disabled from raw.children where la_code = $la
    qualify row_number() over (partition by child_id order by recorded_at desc, load_id desc) = 1
"""
_EPISODES_SQL = """
    select episode_type, episode_id, child_id, referral_id, start_date as start, end_date as "end",
           start_code as code, start_code2 as code2, end_code, end_code2
    from intermediate.int_episodes_built where la_code = $la
"""
# As known at the end of a past day: per event the latest version recorded by then (case-events.md).
_EVENTS_AS_OF_SQL = """
    select la_code, event_id, child_id, event_type, event_at, episode_id, referral_id,
           event_code as code, event_code2 as code2, cast(event_value as varchar) as value
    from staging.stg_case__event_versions
    where la_code = $la and recorded_at < $day + interval 1 day
    qualify row_number() over (partition by event_id order by recorded_at desc, load_id desc) = 1
        and not is_deleted
"""
_CHILDREN_AS_OF_SQL = """
    select child_id, sex, birth_month, ethnicity, disabled from raw.children
    where la_code = $la and recorded_at < $day + interval 1 day
    qualify row_number() over (partition by child_id order by recorded_at desc, load_id desc) = 1
"""


def from_warehouse(
    warehouse: Path, la_code: str | None = None, as_of: date | None = None
) -> list[ReturnSource]:
    """Per authority of the warehouse (or only ``la_code``): its latest children, events, episodes;
    with ``as_of``, the versions recorded by the end of that day (episodes then built here by the same
    rule as ``int_episodes_built``, which holds only the latest view)."""
    warehouse = Path(warehouse)
    if not warehouse.is_file():
        raise SourceError(
            f"{warehouse} not found: build the warehouse first (`cscw refresh` or `cscw build`)."
        )
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = {
            f"{s}.{t}"
            for s, t in con.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        }
        needed = {"staging.stg_case__events", "intermediate.int_episodes_built", "raw.children"}
        if not needed <= tables:
            missing = ", ".join(sorted(needed - tables))
            raise SourceError(f"{warehouse} has no {missing}: run `cscw build` first.")
        las = [r[0] for r in con.execute("select distinct la_code from raw.events order by 1").fetchall()]
        if la_code is not None:
            if la_code not in las:
                raise SourceError(
                    f"authority {la_code} has no events in {warehouse} (it has: {', '.join(las) or 'none'})."
                )
            las = [la_code]
        sources = []
        for la in las:
            if as_of is None:
                events = con.execute(_EVENTS_SQL, {"la": la}).df()
                children = con.execute(_CHILDREN_SQL, {"la": la}).df()
                episodes = con.execute(_EPISODES_SQL, {"la": la}).df()
                for col in ("start", "end"):
                    episodes[col] = pd.to_datetime(episodes[col])
                children, events = _typed(children, events)
            else:
                params = {"la": la, "day": as_of}
                events = con.execute(_EVENTS_AS_OF_SQL, params).df()
                children = con.execute(_CHILDREN_AS_OF_SQL, params).df()
                children, events = _typed(children, events)
                episodes = episodes_from_events(events)
            sources.append(ReturnSource(la, children, events, episodes))
    return sources
