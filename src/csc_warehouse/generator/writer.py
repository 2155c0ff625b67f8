"""Writing: Arrow tables in the contract's schema, streamed to one CSV or Parquet file per table."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from csc_warehouse.contract import CHILDREN_COLUMNS, EVENT_TYPES, EVENTS_COLUMNS, POPULATION_COLUMNS, Column
from csc_warehouse.generator.context import Context


@dataclass(frozen=True)
class AuthorityFiles:
    """One authority's tables, as a worker hands them back."""

    la_code: str
    children: pa.Table
    events: pa.Table
    population: pa.Table
    first_event_date: date
    last_event_date: date


@contextmanager
def table_writers(out_dir: Path, file_format: str) -> Iterator[dict[str, Any]]:
    """One streaming writer per table: each authority's rows are appended as they come."""
    schemas = {"children": CHILDREN_COLUMNS, "events": EVENTS_COLUMNS, "population": POPULATION_COLUMNS}
    writers: dict[str, Any] = {}
    try:
        for name, columns in schemas.items():
            path = out_dir / f"{name}.{file_format}"
            for other in out_dir.glob(f"{name}.*"):
                if other.suffix in (".csv", ".parquet") and other != path:
                    other.unlink()  # the loader would read both formats of a table
            if file_format == "csv":
                writers[name] = pa_csv.CSVWriter(path, arrow_schema(columns))
            else:
                writers[name] = pq.ParquetWriter(path, arrow_schema(columns), compression="zstd")
        yield writers
    finally:
        for writer in writers.values():
            writer.close()


ARROW_TYPES = {
    "varchar": pa.string(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("s"),
    "boolean": pa.bool_(),
    "double": pa.float64(),
    "integer": pa.int32(),
}


def arrow_schema(columns: tuple[Column, ...]) -> pa.Schema:
    return pa.schema([pa.field(c.name, ARROW_TYPES[c.type], nullable=not c.required) for c in columns])


def children_table(ctx: Context, children: pd.DataFrame) -> pa.Table:
    data = {
        "la_code": np.full(len(children), ctx.la_code, dtype=object),
        "child_id": children["child_id"].to_numpy(),
        "sex": children["sex"].to_numpy(),
        "birth_month": children["birth_month"].to_numpy().astype("datetime64[D]"),
        "ethnicity": children["ethnicity"].to_numpy(),
        "disabled": children["disabled"].to_numpy(),
        "recorded_at": children["recorded_at"].to_numpy().astype("datetime64[s]"),
    }
    return arrow_table(data, CHILDREN_COLUMNS)


def events_table(ctx: Context, ev: pd.DataFrame) -> pa.Table:
    data = {
        "event_id": ev["event_id"].to_numpy(),
        "la_code": np.full(len(ev), ctx.la_code, dtype=object),
        "child_id": ev["child_id"].to_numpy(),
        "event_type": np.asarray(EVENT_TYPES, dtype=object)[ev["type"].to_numpy()],
        "event_at": ev["event_at"].to_numpy().astype("datetime64[s]"),
        "recorded_at": ev["recorded_at"].to_numpy().astype("datetime64[s]"),
        "episode_id": ev["episode_id"].to_numpy(),
        "referral_id": ev["referral_id"].to_numpy(),
        "code": ev["code"].to_numpy(),
        "code2": ev["code2"].to_numpy(),
        "value": ev["value"].to_numpy(dtype=float),
        "is_deleted": ev["is_deleted"].to_numpy(dtype=bool),
    }
    return arrow_table(data, EVENTS_COLUMNS)


def population_table(ctx: Context, pop: pd.DataFrame) -> pa.Table:
    data = {"la_code": np.full(len(pop), ctx.la_code, dtype=object), **{c: pop[c].to_numpy() for c in pop}}
    return arrow_table(data, POPULATION_COLUMNS)


def arrow_table(data: dict[str, np.ndarray], columns: tuple[Column, ...]) -> pa.Table:
    schema = arrow_schema(columns)
    arrays = []
    for field in schema:
        values = data[field.name]
        # NaN in the double column and None in text columns are nulls (empty in CSV).
        mask = pd.isna(values) if values.dtype.kind in "fO" else None
        arrays.append(pa.array(values, type=field.type, mask=mask))
    return pa.Table.from_arrays(arrays, schema=schema)
