"""The case as recorded: the latest view of the events written so far (per event id the latest version,
tombstones dropped), with the episodes later stages hang their events on. Reading the recorded events,
not the simulation's internals, keeps what is added coherent with what the loader and the KPIs see."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from csc_warehouse.generator.constants import DAY, NA
from csc_warehouse.generator.event_buffer import TYPE_INDEX

SHORT_BREAK_STATUSES = ("V3", "V4")
# The types later stages read.
CASE_TYPES = (
    "contact_decision",
    "referral_received",
    "referral_closed",
    "assessment_authorised",
    "cp_plan_started",
    "cp_plan_ended",
    "cla_period_started",
    "cla_legal_status_changed",
    "cla_period_ended",
)


@dataclass(frozen=True)
class CaseView:
    # The latest rows of the case types: type, child, event_at, day, episode_id, referral_id, code.
    latest: pd.DataFrame
    first_days: pd.Series  # each child's first event day (their record exists from then)

    @classmethod
    def of(cls, events: pd.DataFrame) -> CaseView:
        # The events come sorted by event id and recorded_at: an id's last row is its latest version.
        ids = pa.array(events["event_id"])
        is_last = np.ones(len(events), dtype=bool)
        if len(events) > 1:
            is_last[:-1] = pc.not_equal(ids.slice(1), ids.slice(0, len(ids) - 1)).to_numpy(
                zero_copy_only=False
            )
        is_latest = is_last & ~events["is_deleted"].to_numpy(dtype=bool)
        day = events["event_at"].to_numpy() // DAY
        first_days = pd.Series(day[is_latest]).groupby(events["child"].to_numpy()[is_latest]).min()
        wanted = np.isin(events["type"].to_numpy(), [TYPE_INDEX[t] for t in CASE_TYPES])
        rows = np.flatnonzero(is_latest & wanted)
        cols = ["type", "child", "event_at", "episode_id", "referral_id", "code"]
        latest = events.iloc[rows][cols].assign(day=day[rows])
        order = np.lexsort(
            (latest["child"].to_numpy(), latest["type"].to_numpy(), latest["event_at"].to_numpy())
        )
        return cls(latest.iloc[order].reset_index(drop=True), first_days)

    def of_type(self, event_type: str) -> pd.DataFrame:
        return self.latest[self.latest["type"].to_numpy() == TYPE_INDEX[event_type]]

    def episodes(self, start_type: str, end_type: str) -> pd.DataFrame:
        """One row per episode id: child, referral, start and end day (NA while open), start code;
        the earliest start and end event count, as the KPI rules take them."""
        starts = self.of_type(start_type).drop_duplicates("episode_id", keep="first")
        ends = self.of_type(end_type).drop_duplicates("episode_id", keep="first")
        end_day = ends.set_index("episode_id")["day"]
        out = pd.DataFrame(
            {
                "episode_id": starts["episode_id"].to_numpy(),
                "child": starts["child"].to_numpy(),
                "referral_id": starts["referral_id"].to_numpy(),
                "start": starts["day"].to_numpy(),
                "code": starts["code"].to_numpy(),
            }
        )
        out["end"] = out["episode_id"].map(end_day).fillna(NA).astype(np.int64).to_numpy()
        return out

    def periods_of_care(self) -> pd.DataFrame:
        """Periods of care with `short_break`: V3/V4 at the start and at every status change."""
        periods = self.episodes("cla_period_started", "cla_period_ended")
        changes = self.of_type("cla_legal_status_changed")
        looked_after = changes.loc[~changes["code"].isin(SHORT_BREAK_STATUSES), "episode_id"].unique()
        periods["short_break"] = (
            periods["code"].isin(SHORT_BREAK_STATUSES).to_numpy()
            & ~periods["episode_id"].isin(looked_after).to_numpy()
        )
        return periods
