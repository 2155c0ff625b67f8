"""Events collected type by type as column arrays (`EventBuffer`), never one row at a time."""

from __future__ import annotations

import numpy as np
import pandas as pd

from csc_warehouse.contract import EVENT_TYPES

TYPE_INDEX = {name: i for i, name in enumerate(EVENT_TYPES)}


class EventBuffer:
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
        value: np.ndarray | None = None,
    ) -> None:
        n = len(child)
        self.parts.append(
            {
                "type": np.full(n, TYPE_INDEX[event_type], dtype=np.int16),
                "child": np.asarray(child, dtype=np.int64),
                "event_at": np.asarray(at_s, dtype=np.int64),
                "episode_id": column(episode, n),
                "referral_id": column(referral, n),
                "code": column(code, n),
                "code2": column(code2, n),
                "value": np.full(n, np.nan) if value is None else np.asarray(value, dtype=float),
            }
        )


def column(values: np.ndarray | str | None, n: int) -> np.ndarray:
    if values is None or isinstance(values, str):
        return np.full(n, values, dtype=object)
    return np.asarray(values, dtype=object)


def concat_events(buffers: list[EventBuffer]) -> pd.DataFrame:
    parts = [part for buffer in buffers for part in buffer.parts]
    return pd.DataFrame({col: np.concatenate([p[col] for p in parts]) for col in parts[0]})
