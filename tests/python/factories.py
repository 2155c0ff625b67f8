"""Canonical rows for tests that build tiny inputs by hand."""

from __future__ import annotations

from typing import Any

from csc_warehouse import contract

LA = "E10000015"


def event_row(event_id: str, event_type: str, event_at: str, **overrides: Any) -> dict[str, Any]:
    """One canonical event with every contract column: child C1, recorded mid-2025, codes empty."""
    row: dict[str, Any] = {column.name: None for column in contract.EVENTS_COLUMNS}
    row |= {
        "event_id": event_id,
        "la_code": LA,
        "child_id": "C1",
        "event_type": event_type,
        "event_at": event_at,
        "recorded_at": "2025-06-01 10:00:00",
        "is_deleted": False,
    }
    return row | overrides
