"""Canonical output of an import: events with stable ids, versions across returns, and the files.

**Ids.** Every id is a hash of the pseudonymised child id and the dates that identify the thing
(``hashed``), so importing the same returns again, or with next year's added, gives the same ids and
the loader sees the rows as unchanged.

**recorded_at.** Neither the SSDA903 nor the CIN census says when anything was recorded. The rule:
a row is recorded at the end of the reference date (31 March, 23:59:59) of the first return that
holds it with this content. The history is rebuilt once per return, oldest first, from that return
and all older ones (``versions``): an event new in a return, or changed by it, gets a version
recorded at that return's reference date; an event a later return no longer gives (an episode
replaced, a repair undone by newer data) gets a tombstone recorded then. So the warehouse's
"as known at" figures show what each year's returns said, and the latest view is the newest history.
Children rows from the SSDA903 are recorded one second earlier (23:59:58), so that where the CIN
census of the same year describes the same child (same id), its row (which has disability) is the
latest and the two rows never clash.

**Files.** ``children_<source>.csv``, ``events_<source>.csv`` (``source``: ``ssda903`` or
``cin_census``), ``population.csv`` when a population file is given, and
``import_quarantine_<source>.csv`` (the loader's quarantine columns less ``load_id``). The names let
both imports write to one folder that ``cscw load`` then reads in one go.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from csc_warehouse import contract
from csc_warehouse.formats.common import QUARANTINE_COLUMNS, ImportRefused

CONTENT = ("child_id", "event_type", "event_at", "episode_id", "referral_id", "code", "code2", "value")
CHILD_CONTENT = ("sex", "birth_month", "ethnicity", "disabled")


def hashed(prefix: str, *parts: pd.Series | str) -> pd.Series:
    """Stable ids: prefix + 20 hex digits of SHA-256 over the parts (as text, '|'-joined)."""
    series = [p for p in parts if isinstance(p, pd.Series)]
    index = series[0].index if series else pd.RangeIndex(1)
    text = pd.Series("", index=index, dtype=object)
    for part in parts:
        text = text + "|" + (part.astype(str) if isinstance(part, pd.Series) else part)
    return text.map(lambda t: prefix + hashlib.sha256(t.encode()).hexdigest()[:20])


def day_text(dates: pd.Series) -> pd.Series:
    return pd.to_datetime(dates).dt.strftime("%Y-%m-%d")


def events(
    event_type: str,
    child: pd.Series,
    at: pd.Series,
    key: pd.Series | str,
    *,
    episode: pd.Series | None = None,
    referral: pd.Series | None = None,
    code: pd.Series | str | None = None,
    code2: pd.Series | str | None = None,
    value: pd.Series | None = None,
) -> pd.DataFrame:
    """Canonical events of one type (without la_code and recorded_at, added on writing).

    The event id hashes the child, the type and `key` (what tells two events of the type apart).
    """
    frame = pd.DataFrame(
        {
            "event_id": hashed("E", child, event_type, key).to_numpy(),
            "child_id": child.to_numpy(),
            "event_type": event_type,
            "event_at": pd.to_datetime(at).astype("datetime64[s]").to_numpy(),
            "episode_id": None if episode is None else episode.to_numpy(),
            "referral_id": None if referral is None else referral.to_numpy(),
            "code": code.to_numpy() if isinstance(code, pd.Series) else code,
            "code2": code2.to_numpy() if isinstance(code2, pd.Series) else code2,
            "value": np.nan if value is None else pd.to_numeric(value).to_numpy(dtype=float),
        }
    )
    return frame.astype({c: object for c in ("episode_id", "referral_id", "code", "code2")})


def combine(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """One frame of events; an event found twice (same id) is kept once."""
    parts = [p for p in parts if not p.empty]
    if not parts:
        return events("none", pd.Series(dtype=object), pd.Series(dtype="datetime64[s]"), "none")
    return (
        pd.concat(parts, ignore_index=True).drop_duplicates("event_id", keep="first").reset_index(drop=True)
    )


def recorded_at(year: int, *, seconds_before: int = 0) -> pd.Timestamp:
    """The end of a return's reference date (31 March), less `seconds_before`."""
    return pd.Timestamp(year=year, month=3, day=31, hour=23, minute=59, second=59 - seconds_before)


def versions(
    states: list[tuple[pd.Timestamp, pd.DataFrame]], key: str, content: tuple[str, ...], *, tombstones: bool
) -> pd.DataFrame:
    """The version rows of a history rebuilt once per return (oldest first); see the module docstring."""
    if not states:
        return pd.DataFrame()
    stamps = [stamp for stamp, _ in states]
    frames = [frame.assign(_k=k, recorded_at=stamp) for k, (stamp, frame) in enumerate(states)]
    rows = pd.concat(frames, ignore_index=True)
    if rows.empty:
        return rows.drop(columns=["_k"]).assign(is_deleted=pd.Series(dtype=bool))
    rows["_fp"] = pd.util.hash_pandas_object(rows[list(content)].astype(str), index=False).to_numpy()
    rows = rows.sort_values([key, "_k"], kind="stable").reset_index(drop=True)
    by_key = rows.groupby(key, sort=False)
    prev_k, prev_fp = by_key["_k"].shift(1), by_key["_fp"].shift(1)
    changed = prev_k.isna() | (prev_k != rows["_k"] - 1) | (prev_fp != rows["_fp"])
    out = [rows[changed].assign(is_deleted=False)]
    if tombstones:
        next_k = by_key["_k"].shift(-1)
        gone = (next_k.isna() & (rows["_k"] < len(states) - 1)) | (next_k > rows["_k"] + 1)
        tomb = rows[gone].copy()
        tomb["_k"] += 1
        tomb["recorded_at"] = [stamps[k] for k in tomb["_k"]]
        out.append(tomb.assign(is_deleted=True))
    result = pd.concat(out, ignore_index=True).sort_values([key, "recorded_at"], kind="stable")
    return result.drop(columns=["_k", "_fp"]).reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# Writing


def _text(values: pd.Series, fmt: str) -> pd.Series:
    return pd.Series(pd.to_datetime(values).dt.strftime(fmt), index=values.index).fillna("")


def _bool_text(values: pd.Series) -> pd.Series:
    return values.map({True: "true", False: "false"}).fillna("")


def write_canonical(
    out_dir: Path, source: str, la_code: str, children: pd.DataFrame, event_rows: pd.DataFrame
) -> dict[str, Path]:
    """children_<source>.csv and events_<source>.csv in contract column order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    ch = pd.DataFrame(
        {
            "la_code": la_code,
            "child_id": children["child_id"].to_numpy(),
            "sex": children["sex"].to_numpy(),
            "birth_month": _text(children["birth_month"], "%Y-%m-%d").to_numpy(),
            "ethnicity": children["ethnicity"].to_numpy(),
            "disabled": _bool_text(children["disabled"]).to_numpy(),
            "recorded_at": _text(children["recorded_at"], "%Y-%m-%d %H:%M:%S").to_numpy(),
        },
        columns=[c.name for c in contract.CHILDREN_COLUMNS],
    )
    ev = pd.DataFrame(
        {
            "event_id": event_rows["event_id"].to_numpy(),
            "la_code": la_code,
            "child_id": event_rows["child_id"].to_numpy(),
            "event_type": event_rows["event_type"].to_numpy(),
            "event_at": _text(event_rows["event_at"], "%Y-%m-%d %H:%M:%S").to_numpy(),
            "recorded_at": _text(event_rows["recorded_at"], "%Y-%m-%d %H:%M:%S").to_numpy(),
            "episode_id": event_rows["episode_id"].to_numpy(),
            "referral_id": event_rows["referral_id"].to_numpy(),
            "code": event_rows["code"].to_numpy(),
            "code2": event_rows["code2"].to_numpy(),
            "value": event_rows["value"].to_numpy(),
            "is_deleted": _bool_text(event_rows["is_deleted"]).to_numpy(),
        },
        columns=[c.name for c in contract.EVENTS_COLUMNS],
    )
    paths = {"children": out_dir / f"children_{source}.csv", "events": out_dir / f"events_{source}.csv"}
    ch.to_csv(paths["children"], index=False)
    ev.to_csv(paths["events"], index=False, float_format="%.10g")
    return paths


def write_quarantine(out_dir: Path, source: str, quarantine: pd.DataFrame) -> Path:
    path = out_dir / f"import_quarantine_{source}.csv"
    quarantine.reindex(columns=list(QUARANTINE_COLUMNS)).to_csv(path, index=False)
    return path


POPULATION_EXPECTED = (
    "a population file (CSV or Parquet) with columns year, age, sex, count and optionally la_code: "
    "children resident by mid-year estimate year, single year of age 0-17 and sex M/F (ONS mid-year "
    "estimates)"
)


def copy_population(path: Path, out_dir: Path, la_code: str) -> tuple[Path, int]:
    """Checks a population file's columns and writes it as population.csv (la_code filled in if absent).

    The values themselves are checked by the loader, which quarantines bad rows as for any load.
    """
    path = Path(path)
    if not path.is_file():
        raise ImportRefused(f"population file {path} does not exist. Expected {POPULATION_EXPECTED}.")
    reader = "read_parquet" if path.suffix.lower() == ".parquet" else "read_csv"
    options = "" if reader == "read_parquet" else ", all_varchar = true, header = true"
    try:
        with duckdb.connect() as con:
            frame = con.sql(f"select * from {reader}('{path.as_posix()}'{options})").df()
    except duckdb.Error as exc:
        raise ImportRefused(
            f"population file {path.name} is not readable ({exc}). Expected {POPULATION_EXPECTED}."
        ) from exc
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in ("year", "age", "sex", "count") if c not in frame]
    if missing:
        raise ImportRefused(
            f"population file {path.name} lacks {', '.join(missing)} (has {', '.join(frame.columns)}). "
            f"Expected {POPULATION_EXPECTED}."
        )
    if "la_code" not in frame:
        frame["la_code"] = la_code
    out = out_dir / "population.csv"
    frame[[c.name for c in contract.POPULATION_COLUMNS]].to_csv(out, index=False)
    return out, len(frame)
