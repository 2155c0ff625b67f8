"""Bad rows on request (`cscw generate --faults SHARE`): rows of every kind the loader must quarantine,
written beside the good data and labelled, so tests can prove none is loaded and none is lost.

The bad rows go to `events_faults.csv`, `children_faults.csv` and `population_faults.csv` (the loader
reads every `events*` file of a folder; these sort after the good files, so a duplicate is always the
later row). `fault_labels.csv` names each one: file, line (the header is line 1), table, fault and the
words the loader's reason must contain. Faults are built around the first authority's real rows (a
real child, a real episode start, a real event version), so each row has exactly one thing wrong.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from csc_warehouse.contract import CHILDREN_COLUMNS, EVENTS_COLUMNS, POPULATION_COLUMNS

__all__ = ["FAULTS", "LABELS_FILE", "Fault", "write_faults"]

LABELS_FILE = "fault_labels.csv"
LABEL_COLUMNS = ("file", "line", "table", "fault", "expected_reason")

Row = dict[str, str]


@dataclass(frozen=True)
class Fault:
    name: str
    table: str
    expected_reason: str  # words the quarantine reason contains
    make: Callable[[_Material, int], Row | str]  # a row, or a raw CSV line for a malformed row


@dataclass(frozen=True)
class _Material:
    """Real rows of one authority to build faults around."""

    la_code: str
    events: list[Row]  # real event versions
    cp_starts: list[Row]  # real cp_plan_started versions (not deleted)
    children: list[Row]
    year: int  # a population year of the data


def _event(m: _Material, i: int, **changes: str) -> Row:
    """A new, valid-looking event of a real child (its own event_id), with `changes` applied."""
    base = m.events[i % len(m.events)]
    row = dict(base)
    row.update(event_id=f"FAULT-E{i:06d}", recorded_at=base["recorded_at"])
    row.update(changes)
    return row


def _cp_end_before_start(m: _Material, i: int) -> Row:
    start = m.cp_starts[i % len(m.cp_starts)]
    before = np.datetime64(start["event_at"][:10]) - np.timedelta64(30, "D")
    return _event(
        m, i, event_type="cp_plan_ended", child_id=start["child_id"], episode_id=start["episode_id"],
        event_at=f"{before} 00:00:00", code="", code2="", value="",
    )  # fmt: skip


def _duplicate_event(m: _Material, i: int) -> Row:
    row = dict(m.events[(i * 7919) % len(m.events)])
    row["code2"] = "FAULT-different-content"
    return row


def _duplicate_child(m: _Material, i: int) -> Row:
    row = dict(m.children[(i * 7919) % len(m.children)])
    row["ethnicity"] = "FAULT" if row["ethnicity"] != "FAULT" else "WBRI"
    return row


def _child(m: _Material, i: int, **changes: str) -> Row:
    row = dict(m.children[i % len(m.children)])
    row.update(child_id=f"FAULT-C{i:06d}")
    row.update(changes)
    return row


def _population(m: _Material, i: int, **changes: str) -> Row:
    row = {"la_code": m.la_code, "year": str(m.year), "age": str(i % 18), "sex": "F", "count": "100"}
    row.update(changes)
    return row


FAULTS: tuple[Fault, ...] = (
    Fault("event_required_empty", "events", "required field event_id is empty",
          lambda m, i: _event(m, i, event_id="")),
    Fault("event_bad_timestamp", "events", "is not a valid date or timestamp",
          lambda m, i: _event(m, i, event_at="31/02/2017")),
    Fault("event_bad_number", "events", "is not a valid number", lambda m, i: _event(m, i, value="high")),
    Fault("event_bad_boolean", "events", "is not a valid boolean",
          lambda m, i: _event(m, i, is_deleted="maybe")),
    Fault("event_before_1990", "events", "before 1990-01-01",
          lambda m, i: _event(m, i, event_at="1989-12-31 10:00:00")),
    Fault("event_in_future", "events", "is in the future",
          lambda m, i: _event(m, i, event_at="2099-01-01 09:00:00")),
    Fault("event_bad_code", "events", "is not a cp_plan_started code",
          lambda m, i: _event(m, i, event_type="cp_plan_started", episode_id=f"FAULT-CP{i}", code="X")),
    Fault("event_unknown_child", "events", "is in no children row",
          lambda m, i: _event(m, i, child_id=f"FAULT-NOCHILD-{i}")),
    Fault("event_end_without_start", "events", "has no cp_plan_started",
          lambda m, i: _event(m, i, event_type="cp_plan_ended", episode_id=f"FAULT-NOSTART-{i}", code="")),
    Fault("event_end_without_episode", "events", "has no episode_id",
          lambda m, i: _event(m, i, event_type="cp_plan_ended", episode_id="", code="")),
    Fault("event_end_before_start", "events", "is before the start of episode_id", _cp_end_before_start),
    Fault("event_duplicate_different_content", "events", "different content", _duplicate_event),
    Fault("event_malformed_csv_row", "events", "not a well-formed CSV row",
          lambda m, i: f"FAULT-E{i:06d},{m.la_code},only-three-fields"),
    Fault("child_bad_sex", "children", "sex X is not one of", lambda m, i: _child(m, i, sex="X")),
    Fault("child_bad_birth_month", "children", "is not a valid date",
          lambda m, i: _child(m, i, birth_month="2010-13-01")),
    Fault("child_required_empty", "children", "required field recorded_at is empty",
          lambda m, i: _child(m, i, recorded_at="")),
    Fault("child_duplicate_different_content", "children", "different content", _duplicate_child),
    Fault("population_age_out_of_range", "population", "is outside 0-17",
          lambda m, i: _population(m, i, age="18")),
    Fault("population_negative_count", "population", "is negative",
          lambda m, i: _population(m, i, count="-5")),
    Fault("population_bad_sex", "population", "sex U is not one of", lambda m, i: _population(m, i, sex="U")),
)  # fmt: skip

COLUMNS = {"events": EVENTS_COLUMNS, "children": CHILDREN_COLUMNS, "population": POPULATION_COLUMNS}


def write_faults(out_dir: Path, children: pa.Table, events: pa.Table, *, share: float, seed: int) -> int:
    """Write `share` x the authority's events as bad rows (at least one of every fault); returns how many.

    Population faults use the first year of the data with ages 0-17 only, so each breaks one rule.
    """
    material = _material(children, events, seed)
    total = max(round(share * events.num_rows), len(FAULTS))
    rows: dict[str, list[Row | str]] = {table: [] for table in COLUMNS}
    labels: list[tuple[str, int, str, str, str]] = []
    for i in range(total):
        fault = FAULTS[i % len(FAULTS)]
        made = fault.make(material, i)
        rows[fault.table].append(made)
        line = len(rows[fault.table]) + 1  # the header is line 1
        labels.append((f"{fault.table}_faults.csv", line, fault.table, fault.name, fault.expected_reason))
    for table, table_rows in rows.items():
        _write_csv(out_dir / f"{table}_faults.csv", [c.name for c in COLUMNS[table]], table_rows)
    with (out_dir / LABELS_FILE).open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(LABEL_COLUMNS)
        writer.writerows(labels)
    return total


def _write_csv(path: Path, header: list[str], rows: list[Row | str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            if isinstance(row, str):
                f.write(row + "\n")  # written as it is: it must stay malformed
            else:
                writer.writerow([row.get(name, "") for name in header])


def _material(children: pa.Table, events: pa.Table, seed: int) -> _Material:
    rng = np.random.default_rng(seed)
    live = events.filter(pc.invert(events["is_deleted"]))
    pick = np.sort(rng.choice(live.num_rows, size=min(live.num_rows, 2_000), replace=False))
    sample = _as_text(live.take(pa.array(pick)))
    starts = _as_text(live.filter(pc.equal(live["event_type"], "cp_plan_started")).slice(0, 500))
    kids = _as_text(children.slice(0, 2_000))
    la_code = str(children["la_code"][0])
    return _Material(
        la_code=la_code,
        events=sample,
        cp_starts=starts or sample,
        children=kids,
        year=pc.min(events["event_at"]).as_py().year,
    )


def _as_text(table: pa.Table) -> list[Row]:
    """Rows as the CSV writer spells them (ISO timestamps, lower-case booleans, empty for null)."""
    out: list[Row] = []
    for record in table.to_pylist():
        row: Row = {}
        for key, value in record.items():
            if value is None:
                row[key] = ""
            elif isinstance(value, bool):
                row[key] = "true" if value else "false"
            elif hasattr(value, "isoformat"):
                row[key] = value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
            else:
                row[key] = str(value)
        out.append(row)
    return out
