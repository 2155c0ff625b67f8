"""What every adapter shares: refusing a file, quarantining rows, reading dates and CSV text.

Adapters hold each source table as a pandas DataFrame of *text* columns (as the file has them, trimmed)
plus bookkeeping columns: ``_file`` (file name), ``_line`` (the line of the row, or of the XML element
it came from), ``_year`` (collection year, named by the year it ends: 2018 = April 2017 to March 2018)
and ``_table``. Checks then work on whole columns at once and set rows aside with a reason; the rows
that pass are converted.

A *file* that cannot be read at all is refused with ``ImportRefused`` (its message says what was
expected); a *row* that cannot be converted goes to the import quarantine with its file, line, column
and reason, so that every row read is accounted for: read = converted + skipped + quarantined.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

# The columns of the import quarantine file: the loader's quarantine.rows without load_id (nothing
# has been loaded yet), so the two can be read side by side.
QUARANTINE_COLUMNS: tuple[str, ...] = (
    "table_name",
    "file_name",
    "source_line",
    "column_name",
    "reason",
    "record_json",
)

# Bookkeeping columns every source table carries (never written out). `_row` identifies a row within
# the import (XML written on one line has one line number for every element).
META_COLUMNS: tuple[str, ...] = ("_row", "_file", "_line", "_year", "_table")


# Marks a quarantine record that keeps one value left out of a row that was converted.
PART = "#part"


class ImportRefused(Exception):
    """A file that is not the expected format at all: nothing of the import is written."""


@dataclass
class FileSummary:
    """What happened to the rows of one source table in one file."""

    file: str
    table: str
    year: int | None
    rows_read: int = 0
    quarantined: int = 0
    skipped: int = 0  # rows understood but carrying nothing the canonical form holds (see docs)

    @property
    def converted(self) -> int:
        return self.rows_read - self.quarantined - self.skipped


@dataclass
class Quarantine:
    """Problems found so far, one record per problem (a row with two problems has two records)."""

    records: list[dict[str, object]] = field(default_factory=list)
    # Turns a source row into the record kept with its reason, without raw identifiers (see anonymise).
    describe: Callable[[pd.DataFrame], list[str]] | None = None

    def add(self, rows: pd.DataFrame, column: str | None, reason: str | pd.Series) -> None:
        """Quarantine `rows` (a slice of a source table) for `reason` (one text, or one per row)."""
        if rows.empty:
            return
        reasons = reason.astype(str).tolist() if isinstance(reason, pd.Series) else [reason] * len(rows)
        records = self.describe(rows) if self.describe else [""] * len(rows)
        for row, file, line, table, why, record in zip(
            rows["_row"], rows["_file"], rows["_line"], rows["_table"], reasons, records, strict=True
        ):
            self.records.append(
                {
                    "_row": row,
                    "table_name": table,
                    "file_name": file,
                    "source_line": int(line),
                    "column_name": column,
                    "reason": why,
                    "record_json": record,
                }
            )

    def add_part(self, rows: pd.DataFrame, column: str, reason: str | pd.Series) -> None:
        """Keep a value that was left out of rows that are otherwise converted (the row is not
        quarantined: only the value, with its reason, goes to the quarantine file)."""
        self.add(rows.assign(_row=rows["_row"].astype(str) + PART), column, reason)

    def rows(self) -> set[str]:
        """The `_row` ids of every quarantined row."""
        return {str(r["_row"]) for r in self.records if not str(r["_row"]).endswith(PART)}

    def parts(self) -> int:
        """How many values were left out of rows that were kept."""
        return sum(1 for r in self.records if str(r["_row"]).endswith(PART))

    def counts(self) -> dict[tuple[str, str], int]:
        """Quarantined rows per (file, table): a row with several problems counts once."""
        seen: dict[tuple[str, str], set[str]] = {}
        for r in self.records:
            if str(r["_row"]).endswith(PART):
                continue
            seen.setdefault((str(r["file_name"]), str(r["table_name"])), set()).add(str(r["_row"]))
        return {k: len(v) for k, v in seen.items()}

    def frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.records, columns=["_row", *QUARANTINE_COLUMNS])
        # One record per row and problem, in file order.
        frame = frame.drop_duplicates(["_row", "column_name", "reason"])
        frame = frame.sort_values(["file_name", "source_line"], kind="stable").reset_index(drop=True)
        return frame[list(QUARANTINE_COLUMNS)]


def drop_quarantined(table: pd.DataFrame, quarantine: Quarantine) -> pd.DataFrame:
    """The rows of `table` not quarantined so far."""
    if table.empty or not quarantine.records:
        return table
    return table[~table["_row"].isin(quarantine.rows())]


def number_rows(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Give every row of a source table its `_row` id."""
    return frame.assign(_row=[f"{table}:{i}" for i in range(len(frame))])


# --------------------------------------------------------------------------------------------------
# Dates

# The DfE's returns write dates as dd/mm/yyyy (SSDA903 CSV and XML) or yyyy-mm-dd (CIN census XML).
# Excel, re-saving a CSV, may drop leading zeros (1/4/2017) or add a midnight time (01/04/2017 00:00):
# both still mean one date. Two-digit years and month names are refused (the century or the
# language would be a guess).
_DMY = r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$"
_ISO = r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
DATE_WORDS = "a date (dd/mm/yyyy or yyyy-mm-dd)"


def parse_dates(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(the dates, NaT where empty or bad; a mask of values given that are not a real date)."""
    text = values.fillna("").astype(str).str.strip()
    dmy = text.str.extract(_DMY)
    iso = text.str.extract(_ISO)
    parts = pd.DataFrame(
        {
            "year": pd.to_numeric(dmy[2].fillna(iso[0])),
            "month": pd.to_numeric(dmy[1].fillna(iso[1])),
            "day": pd.to_numeric(dmy[0].fillna(iso[2])),
        },
        index=values.index,
    )
    dates = pd.to_datetime(parts, errors="coerce").astype("datetime64[s]")
    return dates, (text != "") & dates.isna()


def reference_date(year: int) -> pd.Timestamp:
    """31 March of a collection year: the day its returns describe."""
    return pd.Timestamp(year=year, month=3, day=31)


def year_start(year: int) -> pd.Timestamp:
    return pd.Timestamp(year=year - 1, month=4, day=1)


def collection_year_of(day: pd.Timestamp) -> int:
    """The collection year holding a date (April to March, named by the year it ends)."""
    return day.year + 1 if day.month >= 4 else day.year


def ddmmyyyy(dates: pd.Series) -> pd.Series:
    """Dates as the SSDA903 writes them; empty where missing."""
    return pd.Series(pd.to_datetime(dates).dt.strftime("%d/%m/%Y"), index=dates.index).fillna("")


# --------------------------------------------------------------------------------------------------
# CSV text


def _line_of(raw: bytes, offset: int) -> int:
    return raw[:offset].count(b"\n") + 1


def decode_text(path: Path, expected: str) -> str:
    """The file as text; refuses what is not UTF-8 (a UTF-8 byte-order mark, as Excel writes, is fine)."""
    raw = path.read_bytes()
    if not raw.strip():
        raise ImportRefused(f"{path.name} is empty. Expected {expected}.")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ImportRefused(
            f"{path.name} is UTF-16 text (Excel's 'Unicode Text' saves it so), not UTF-8. "
            f"Open it and save it as 'CSV UTF-8 (Comma delimited)'. Expected {expected}."
        )
    if raw.startswith(b"PK\x03\x04"):
        raise ImportRefused(
            f"{path.name} is an Excel workbook or another zip file, not CSV text: save the sheet as "
            f"'CSV UTF-8 (Comma delimited)'. Expected {expected}."
        )
    if b"\x00" in raw[:4096]:
        raise ImportRefused(
            f"{path.name} has NUL bytes: UTF-16 without a byte-order mark, or not text at all. "
            f"Save it as 'CSV UTF-8'. Expected {expected}."
        )
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ImportRefused(
            f"{path.name} is not UTF-8: line {_line_of(raw, exc.start)} has byte 0x{raw[exc.start]:02x} "
            f"(Excel's plain 'CSV (Comma delimited)' writes Windows-1252). Save it as 'CSV UTF-8'. "
            f"Expected {expected}."
        ) from exc


def read_csv_table(path: Path, expected: str) -> tuple[list[str], pd.DataFrame, list[tuple[int, str]]]:
    """(header in upper case, rows as trimmed text with `_line`, [(line, problem)] for broken rows).

    Line numbers count the header as line 1. A row with the wrong number of fields is returned as a
    problem (to quarantine), except for empty trailing fields, which Excel adds and which mean nothing.
    """
    text = decode_text(path, expected)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip().upper() for name in next(reader)]
    except StopIteration as exc:
        raise ImportRefused(f"{path.name} has no header line. Expected {expected}.") from exc
    except csv.Error as exc:
        raise ImportRefused(f"{path.name}: the header line is not CSV ({exc}). Expected {expected}.") from exc
    width = len(header)
    rows: list[list[str]] = []
    lines: list[int] = []
    broken: list[tuple[int, str]] = []
    previous = reader.line_num
    try:
        for record in reader:
            line, previous = previous + 1, reader.line_num
            if not record or (len(record) == 1 and not record[0].strip()):
                continue  # blank line
            if len(record) > width and not any(v.strip() for v in record[width:]):
                record = record[:width]
            if len(record) != width:
                broken.append((line, f"has {len(record)} fields, the header has {width}"))
                continue
            rows.append([v.strip() for v in record])
            lines.append(line)
    except csv.Error as exc:
        raise ImportRefused(
            f"{path.name} is not readable as CSV from line {previous + 1} ({exc}). Expected {expected}."
        ) from exc
    frame = pd.DataFrame(rows, columns=header, dtype=object) if rows else pd.DataFrame(columns=header)
    frame = frame.astype(object)
    frame["_line"] = np.asarray(lines, dtype=np.int64)
    return header, frame, broken


def record_json(rows: pd.DataFrame) -> list[str]:
    """Each row's data columns as JSON (bookkeeping columns left out)."""
    data = rows[[c for c in rows.columns if not c.startswith("_")]]
    return [
        json.dumps({k: v for k, v in rec.items() if v not in ("", None)}) for rec in data.to_dict("records")
    ]


def empty_to_none(frame: pd.DataFrame) -> pd.DataFrame:
    """Empty text becomes missing (None), so that `notna` means given."""
    return frame.replace({"": None})
