"""Read SSDA903 returns (the CSV set or the XML) into checked tables, one set per collection year.

**Files.** A folder may hold several years' returns, each as the DfE's CSV set and/or the XML
(``EXPSSDA903``). A CSV file's table is told by its columns, not its name (header, episodes, uasc,
reviews, missing, oc2, oc3, ad1, placed_for_adoption, previous_permanence, sw_episodes), as the DfE's
own tools do. Its collection year comes from a year in its path (``2018/episodes.csv``,
``SSDA903_2018_header.csv``, ``episodes_2017-18.csv`` are all the return for April 2017 to March
2018), else from ``year`` (the command's ``--year``), else from the latest date in the episodes file
of the same folder.

**Refused whole** (``ImportRefused``, nothing written): a file that is not UTF-8 text (UTF-16,
Windows-1252, an Excel workbook), whose columns match no SSDA903 table, that lacks a column the
conversion needs, that is of another year's layout (SEX coded 1/2 in a return from 2024/25 on, or
M/F/U before; a social worker table before 2023/24), or of a collection year not supported.
Tolerated: a UTF-8 byte-order mark, upper/lower case and spaces around column names, extra columns
(ignored, with a warning), dates written d/m/yyyy or with a midnight time (as Excel re-saves them),
empty trailing fields.

**Year labels.** A year in a path is the year the collection ends (the DfE's naming). Files named by
the year it starts (``2017-episodes.csv`` for April 2017 to March 2018, as Data to Insight's samples)
are refused with that cause named when a tenth or more of their episode dates fall after the named
31 March and none a year later; ``year_label="start"`` (``--year-label start``) reads them so.

**Forgiven.** No header file: the return's children are taken from its other tables (date of birth;
sex and ethnicity unknown), with a warning. An end date after the return's 31 March (DEC, MIS_END,
DATE_PLACED_CEASED, SW_DEC): the end and what goes with it (REC, reasons) are left out and the row is
kept as open at 31 March, so its start is not lost; the value is kept in the quarantine file with its
reason (a record that does not count the row as quarantined). An empty SEX: the child is kept with sex
unknown, likewise. A placement type, reason ceased or activity of another year's return: accepted as
given and counted in a warning. Restated and overlapping episodes across or within returns: see
``repair``.

**Quarantined rows** (file, line, column, reason): a missing child id, a date that is not a date or
(but for the end dates above) is after the return's 31 March, an unknown code, an episode ending
before it starts or with a reason ceased but no end date, a second, different row for the same key in
the same return (the first is kept), and rows of a child with no (valid) header row in that return.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from csc_warehouse.contract import EARLIEST_EVENT_DATE
from csc_warehouse.formats import codes
from csc_warehouse.formats.common import (
    FileSummary,
    ImportRefused,
    Quarantine,
    collection_year_of,
    drop_quarantined,
    number_rows,
    parse_dates,
    read_csv_table,
    reference_date,
)
from csc_warehouse.formats.xmltree import Node, parse


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[str, ...]  # in the DfE's order
    marker: str  # the column that tells this table from the others
    required: tuple[str, ...]  # columns the conversion needs: without them the file is refused
    keys: tuple[str, ...]  # one row per child and these, per return
    dates: tuple[str, ...] = ()


TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        TableSpec(
            "header",
            ("CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"),
            "ETHNIC",
            ("CHILD", "SEX", "DOB", "ETHNIC"),
            (),
            ("DOB",),
        ),
        TableSpec(
            "episodes",
            (
                "CHILD",
                "DECOM",
                "RNE",
                "LS",
                "CIN",
                "PLACE",
                "PLACE_PROVIDER",
                "DEC",
                "REC",
                "REASON_PLACE_CHANGE",
                "HOME_POST",
                "PL_POST",
                "URN",
            ),
            "DECOM",
            ("CHILD", "DECOM", "RNE", "LS", "PLACE", "DEC", "REC"),
            ("DECOM",),
            ("DECOM", "DEC"),
        ),
        TableSpec("uasc", ("CHILD", "SEX", "DOB", "DUC"), "DUC", ("CHILD", "DUC"), (), ("DUC",)),
        TableSpec(
            "reviews",
            ("CHILD", "DOB", "REVIEW", "REVIEW_CODE"),
            "REVIEW",
            ("CHILD", "REVIEW"),
            ("REVIEW",),
            ("REVIEW",),
        ),
        TableSpec(
            "missing",
            ("CHILD", "DOB", "MISSING", "MIS_START", "MIS_END"),
            "MIS_START",
            ("CHILD", "MISSING", "MIS_START", "MIS_END"),
            ("MIS_START",),
            ("MIS_START", "MIS_END"),
        ),
        TableSpec(
            "oc2",
            (
                "CHILD",
                "DOB",
                "SDQ_SCORE",
                "SDQ_REASON",
                "CONVICTED",
                "HEALTH_CHECK",
                "IMMUNISATIONS",
                "TEETH_CHECK",
                "HEALTH_ASSESSMENT",
                "SUBSTANCE_MISUSE",
                "INTERVENTION_RECEIVED",
                "INTERVENTION_OFFERED",
            ),
            "HEALTH_CHECK",
            ("CHILD", "SDQ_SCORE", "HEALTH_CHECK", "TEETH_CHECK"),
            (),
        ),
        TableSpec(
            "oc3",
            ("CHILD", "DOB", "IN_TOUCH", "ACTIV", "ACCOM"),
            "IN_TOUCH",
            ("CHILD", "IN_TOUCH", "ACTIV", "ACCOM"),
            (),
        ),
        TableSpec(
            "ad1",
            ("CHILD", "DOB", "DATE_INT", "DATE_MATCH", "FOSTER_CARE", "NB_ADOPTR", "SEX_ADOPTR", "LS_ADOPTR"),
            "DATE_INT",
            ("CHILD", "DATE_INT", "DATE_MATCH"),
            ("DATE_INT",),
            ("DATE_INT", "DATE_MATCH"),
        ),
        TableSpec(
            "placed_for_adoption",
            ("CHILD", "DOB", "DATE_PLACED", "DATE_PLACED_CEASED", "REASON_PLACED_CEASED"),
            "DATE_PLACED",
            ("CHILD", "DATE_PLACED", "DATE_PLACED_CEASED", "REASON_PLACED_CEASED"),
            ("DATE_PLACED",),
            ("DATE_PLACED", "DATE_PLACED_CEASED"),
        ),
        TableSpec(
            "previous_permanence",
            ("CHILD", "DOB", "PREV_PERM", "LA_PERM", "DATE_PERM"),
            "PREV_PERM",
            ("CHILD", "PREV_PERM", "DATE_PERM"),
            (),
        ),
        TableSpec(
            "sw_episodes",
            ("CHILD", "DOB", "SW_ID", "SW_DECOM", "SW_DEC", "SW_REASON"),
            "SW_ID",
            ("CHILD", "SW_ID", "SW_DECOM", "SW_DEC"),
            ("SW_DECOM",),
            ("SW_DECOM", "SW_DEC"),
        ),
        # Deprivation of liberty orders (from 2026/27): recognised so the folder can be read, not converted.
        TableSpec("dolo", ("CHILD", "DOB", "DOLO_START", "DOLO_END"), "DOLO_START", ("CHILD",), ()),
    )
}

# Dates that may lie after the return's 31 March: the date a child stops being UASC is often the
# (future) 18th birthday; a date of birth is checked on its own.
FUTURE_ALLOWED = {"DUC"}
# End dates a return may hold by mistake after its 31 March, with the columns that go with each.
END_COLUMNS = {
    "DEC": ("DEC", "REC", "REASON_PLACE_CHANGE"),
    "MIS_END": ("MIS_END",),
    "DATE_PLACED_CEASED": ("DATE_PLACED_CEASED", "REASON_PLACED_CEASED"),
    "SW_DEC": ("SW_DEC", "SW_REASON"),
}


def expected_tables() -> str:
    return "; ".join(f"{t.name} ({', '.join(t.columns)})" for t in TABLES.values())


EXPECTED_CSV = f"an SSDA903 CSV file, UTF-8, with the header of one of its tables: {expected_tables()}"
EXPECTED_XML = "SSDA903 XML (root element EXPSSDA903, one CHILD element per child)"


@dataclass
class Ssda903Data:
    """Every return read: the rows that passed their checks, per table, and what happened per file."""

    tables: dict[str, pd.DataFrame]
    summaries: list[FileSummary]
    quarantine: Quarantine
    years: list[int]
    warnings: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------------
# Finding files and their year

_YEAR = re.compile(r"(?<!\d)(20\d{2})(?:[-_ ]?(?:20)?(\d{2}))?(?!\d)")


def year_in_path(path: Path, root: Path) -> int | None:
    """The collection year a path names (file name first, then folders); '2016-17' is 2017."""
    parts = path.relative_to(root).parts if path.is_relative_to(root) else (path.name,)
    for part in reversed(parts):
        found = list(_YEAR.finditer(Path(part).stem))
        if found:
            first, second = int(found[-1].group(1)), found[-1].group(2)
            if second is not None and int(second) == (first + 1) % 100:
                return first + 1
            return first
    return None


def identify(path: Path, header: list[str]) -> TableSpec:
    """The table a CSV header belongs to; refuses headers that match none or lack needed columns."""
    matches = [t for t in TABLES.values() if t.marker in header]
    if len(matches) != 1 or "CHILD" not in header:
        hint = ""
        if len(header) == 1 and ";" in header[0]:
            hint = " The header is one column holding semicolons: save the file with commas as separators."
        raise ImportRefused(
            f"{path.name}: its columns ({', '.join(header)}) match no SSDA903 table.{hint} "
            f"Expected {EXPECTED_CSV}."
        )
    spec = matches[0]
    missing = [c for c in spec.required if c not in header]
    if missing:
        raise ImportRefused(
            f"{path.name} looks like the SSDA903 {spec.name} table (it has {spec.marker}) but lacks "
            f"{', '.join(missing)}. Expected the columns {', '.join(spec.columns)}."
        )
    if duplicated := sorted({c for c in header if header.count(c) > 1}):
        raise ImportRefused(f"{path.name} has duplicated columns {', '.join(duplicated)}.")
    return spec


def infer_year(episodes: pd.DataFrame, where: str) -> int:
    """The collection year holding the latest episode date (a return ends on its 31 March)."""
    dates = pd.concat([parse_dates(episodes[c])[0] for c in ("DECOM", "DEC") if c in episodes])
    if dates.dropna().empty:
        raise ImportRefused(
            f"{where}: cannot tell the collection year (no year in the path and no episode dates). "
            f"Name the folder or files by year (e.g. 2018/episodes.csv) or pass --year."
        )
    return collection_year_of(dates.max())


# --------------------------------------------------------------------------------------------------
# Reading


def _as_table(frame: pd.DataFrame, spec: TableSpec, file: str, year: int) -> pd.DataFrame:
    frame = frame.copy()
    for column in spec.columns:
        if column not in frame:
            frame[column] = ""
    frame = frame[[*spec.columns, "_line"]].fillna("")
    frame["_file"] = file
    frame["_year"] = year
    frame["_table"] = spec.name
    return frame


def _xml_tables(root: Node) -> dict[str, pd.DataFrame]:
    """The XML's children flattened into the CSV tables (element names as the CSV's columns)."""
    rows: dict[str, list[dict[str, object]]] = {name: [] for name in TABLES}

    def put(table: str, child: str, node: Node, values: dict[str, str]) -> None:
        rows[table].append({"CHILD": child, "_line": node.line, **values})

    def pick(node: Node, names: tuple[str, ...], rename: dict[str, str] | None = None) -> dict[str, str]:
        rename = rename or {}
        return {name: node.value(rename.get(name, name)) for name in names}

    for child in root.findall("CHILD"):
        header = child.find("HEADER")
        if header is None:
            continue
        cid = header.value("CHILDID")
        put("header", cid, header, pick(header, ("SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB")))
        dob = header.value("DOB")
        if header.value("UASC") == "1" or header.value("DUC"):
            put("uasc", cid, header, {"SEX": header.value("SEX"), "DOB": dob, "DUC": header.value("DUC")})
        if header.value("DATE_INT") or header.value("DATE_MATCH"):
            put("ad1", cid, header, {"DOB": dob, **pick(header, TABLES["ad1"].columns[2:])})
        if header.value("IN_TOUCH"):
            put("oc3", cid, header, {"DOB": dob, **pick(header, ("IN_TOUCH", "ACTIV", "ACCOM"))})
        for node in header.findall("AMISSING"):
            put("missing", cid, node, {"DOB": dob, **pick(node, ("MISSING", "MIS_START", "MIS_END"))})
        for node in header.findall("AREVIEW"):
            put("reviews", cid, node, {"DOB": dob, **pick(node, ("REVIEW", "REVIEW_CODE"))})
        for node in header.findall("PERMANENCE"):
            put(
                "previous_permanence",
                cid,
                node,
                {"DOB": dob, **pick(node, ("PREV_PERM", "LA_PERM", "DATE_PERM"))},
            )
        for node in header.findall("OC2"):
            put("oc2", cid, node, {"DOB": dob, **pick(node, TABLES["oc2"].columns[2:])})
        for node in header.findall("AD_PLACED"):
            put(
                "placed_for_adoption",
                cid,
                node,
                {"DOB": dob, **pick(node, TABLES["placed_for_adoption"].columns[2:])},
            )
        for node in child.findall("EPISODE"):
            # The XML calls the placement type PL where the CSV says PLACE.
            put("episodes", cid, node, pick(node, TABLES["episodes"].columns[1:], {"PLACE": "PL"}))
    return {
        name: pd.DataFrame(found, dtype=object) if found else pd.DataFrame(columns=["CHILD", "_line"])
        for name, found in rows.items()
    }


YEAR_LABELS = ("end", "start")


def _label_check(read: list, folder: Path) -> None:
    """Refuse, with the likely cause, files whose dates run past the 31 March their path names: a
    folder named by the year a collection starts (2017 for April 2017 to March 2018)."""
    late: dict[int, list[str]] = {}
    for path, spec, frame, _ in read:
        y = year_in_path(path, folder)
        # Episodes tell it best: a return's episodes start and end all through its year.
        if y is None or spec.name != "episodes" or frame.empty:
            continue
        columns = [c for c in spec.dates if c in frame and c not in ("DOB", *FUTURE_ALLOWED)]
        dates = pd.concat([parse_dates(frame[c])[0] for c in columns]).dropna()
        if dates.empty:
            continue
        after = dates > reference_date(y)
        beyond = (dates > reference_date(y + 1)).any()
        # A few late dates are typing errors (quarantined); a tenth or more is another year's file.
        if after.sum() >= 3 and after.mean() >= 0.1 and not beyond:
            late.setdefault(y, []).append(f"{path.relative_to(folder)} (to {dates.max():%d/%m/%Y})")
    if late:
        y, files = min(late.items())
        raise ImportRefused(
            f"the files named {y} hold dates after 31 March {y}, up to 31 March {y + 1}: "
            f"{'; '.join(files[:3])}. They look named by the year the collection starts (April {y} to "
            f"March {y + 1}), as Data to Insight's samples are, while the import reads a year as the one "
            f"a collection ends. Pass --year-label start to read them so (or rename the folders)."
        )


def read_folder(
    folder: Path, year: int | None = None, year_label: str = "end"
) -> tuple[list[pd.DataFrame], list[FileSummary], list[str]]:
    """Every SSDA903 file under `folder` as table rows (text), with a summary per file and table."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ImportRefused(f"{folder} is not a folder")
    csvs = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() == ".csv")
    xmls = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() == ".xml")
    if not csvs and not xmls:
        raise ImportRefused(
            f"{folder} holds no .csv or .xml file. Expected {EXPECTED_CSV}, or {EXPECTED_XML}."
        )
    warnings: list[str] = []
    read: list[tuple[Path, TableSpec, pd.DataFrame, list[tuple[int, str]]]] = []
    for path in csvs:
        header, frame, broken = read_csv_table(path, EXPECTED_CSV)
        spec = identify(path, header)
        if extra := [c for c in header if c not in spec.columns]:
            warnings.append(
                f"{path.name}: ignored column(s) not in the SSDA903 {spec.name} table: {', '.join(extra)}"
            )
        read.append((path, spec, frame, broken))

    # Years: from the path, else the option, else the latest episode date of the folder's episodes.
    if year_label not in YEAR_LABELS:
        raise ImportRefused(f"--year-label must be end or start, not {year_label!r}.")
    shift = 1 if year_label == "start" else 0
    if not shift:
        _label_check(read, folder)
    folder_episodes = {p.parent: f for p, s, f, _ in read if s.name == "episodes"}
    tables: list[pd.DataFrame] = []
    summaries: list[FileSummary] = []
    broken_rows: list[pd.DataFrame] = []
    for path, spec, frame, broken in read:
        named = year_in_path(path, folder)
        y = named + shift if named is not None else year
        if y is None:
            if path.parent not in folder_episodes:
                raise ImportRefused(
                    f"{path.name}: cannot tell its collection year (no year in its path, no episodes file "
                    f"beside it). Name the folder or file by year (e.g. 2018/header.csv) or pass --year."
                )
            y = infer_year(folder_episodes[path.parent], str(path.parent))
        _check_year(path.name, spec, frame, y)
        rel = str(path.relative_to(folder))
        tables.append(_as_table(frame, spec, rel, y))
        summaries.append(FileSummary(rel, spec.name, y, rows_read=len(frame) + len(broken)))
        if broken:
            broken_rows.append(
                pd.DataFrame(
                    {
                        "_file": rel,
                        "_line": [b[0] for b in broken],
                        "_table": spec.name,
                        "_year": y,
                        "_reason": [b[1] for b in broken],
                    }
                )
            )

    for path in xmls:
        root = parse(path, EXPECTED_XML)
        if root.tag != "EXPSSDA903":
            raise ImportRefused(
                f"{path.name}: the root element is {root.tag}, not EXPSSDA903. Expected {EXPECTED_XML}."
            )
        flat = _xml_tables(root)
        named = year_in_path(path, folder)
        y = named + shift if named is not None else year
        if y is None:
            y = infer_year(flat["episodes"], path.name)
        rel = str(path.relative_to(folder))
        for name, frame in flat.items():
            spec = TABLES[name]
            _check_year(path.name, spec, frame, y)
            tables.append(_as_table(frame, spec, rel, y))
            if len(frame):
                summaries.append(FileSummary(rel, name, y, rows_read=len(frame)))
    if broken_rows:
        tables.append(pd.concat(broken_rows, ignore_index=True).assign(_broken=True))
    return tables, summaries, warnings


def _check_year(name: str, spec: TableSpec, frame: pd.DataFrame, year: int) -> None:
    """Refuse a file of a collection year not supported, or laid out as another year's return."""
    if year not in codes.SSDA903_YEARS:
        raise ImportRefused(
            f"{name}: collection year {year} is not supported (supported: {codes.SSDA903_YEARS.start} to "
            f"{codes.SSDA903_YEARS.stop - 1}, named by the year they end)."
        )
    if spec.name == "sw_episodes" and year < codes.SW_FROM and len(frame):
        raise ImportRefused(
            f"{name}: a social worker episodes table in the {year} return; the table exists from the "
            f"{codes.SW_FROM} return (April {codes.SW_FROM - 1} to March {codes.SW_FROM}). Is this another "
            f"year's file, or is the year in its path wrong?"
        )
    if spec.name in ("header", "uasc") and "SEX" in frame and len(frame):
        given = frame["SEX"].dropna().astype(str).str.strip()
        given = given[given != ""]
        new = year >= codes.SEX_NEW_CODING_FROM
        expected, other = (codes.SEX_NEW, codes.SEX_OLD) if new else (codes.SEX_OLD, codes.SEX_NEW)
        if len(given) and not given.isin(list(expected)).any() and given.isin(list(other)).all():
            raise ImportRefused(
                f"{name}: SEX is coded {'/'.join(sorted(set(given)))}, the coding of returns "
                f"{'before' if new else 'from'} {codes.SEX_NEW_CODING_FROM}; the {year} return codes it "
                f"{'/'.join(expected)}. Is this another year's file, or is the year in its path wrong?"
            )


# --------------------------------------------------------------------------------------------------
# Row checks


class _Checks:
    """Collects the problems of one table's rows, then keeps the rows with none."""

    def __init__(self, frame: pd.DataFrame, quarantine: Quarantine):
        self.frame = frame
        self.quarantine = quarantine
        self.bad = pd.Series(False, index=frame.index)

    def add(self, mask: pd.Series, column: str | None, reason: str | pd.Series) -> None:
        mask = mask.fillna(False).astype(bool)
        if mask.any():
            self.quarantine.add(
                self.frame[mask], column, reason[mask] if isinstance(reason, pd.Series) else reason
            )
            self.bad |= mask

    def given(self, column: str) -> pd.Series:
        return self.frame[column].fillna("").astype(str) != ""

    def required(self, *columns: str) -> None:
        for column in columns:
            self.add(~self.given(column), column, f"{column} is empty")

    def code(self, column: str, allowed: tuple[str, ...] | list[str], *, what: str | None = None) -> None:
        values = self.frame[column].fillna("").astype(str)
        bad = self.given(column) & ~values.isin(list(allowed))
        listed = ", ".join(allowed) if len(allowed) <= 30 else f"{', '.join(list(allowed)[:30])}, ..."
        self.add(bad, column, f"{column} " + values + f" is not {what or 'a code of this return'} ({listed})")

    def kept(self) -> pd.DataFrame:
        return self.frame[~self.bad]


def _year_text(year: int) -> str:
    return f"the {year} collection year (April {year - 1} to March {year})"


def check_rows(tables: list[pd.DataFrame], quarantine: Quarantine) -> dict[str, pd.DataFrame]:
    """The rows that pass every check, per table, with their dates parsed (``<COLUMN>_date``)."""
    broken = [t for t in tables if "_broken" in t]
    for k, frame in enumerate(broken):
        frame["_row"] = [f"broken{k}:{i}" for i in range(len(frame))]
        for reason, rows in frame.groupby("_reason"):
            quarantine.add(rows, None, str(reason))
    by_table: dict[str, pd.DataFrame] = {}
    for name in TABLES:
        parts = [t for t in tables if "_broken" not in t and len(t) and t["_table"].iloc[0] == name]
        if parts:
            by_table[name] = number_rows(pd.concat(parts, ignore_index=True), name)
        else:
            by_table[name] = pd.DataFrame(
                columns=[*TABLES[name].columns, "_row", "_line", "_file", "_year", "_table"]
            ).assign(**{f"{c}_date": pd.Series(dtype="datetime64[s]") for c in TABLES[name].dates})
    out = {name: _check_table(TABLES[name], frame, quarantine) for name, frame in by_table.items()}
    out = {name: _one_per_key(TABLES[name], frame, quarantine) for name, frame in out.items()}
    return _children_with_header(out, quarantine)


def _check_table(spec: TableSpec, frame: pd.DataFrame, quarantine: Quarantine) -> pd.DataFrame:
    if frame.empty:
        return frame
    frame = frame.reset_index(drop=True)
    c = _Checks(frame, quarantine)
    c.required("CHILD")
    ref = frame["_year"].map(lambda y: reference_date(int(y)))
    for column in spec.dates:
        dates, bad = parse_dates(frame[column])
        shown = "" if column == "DOB" else " " + frame[column].astype(str)
        c.add(bad, column, f"{column}" + shown + " is not a date (dd/mm/yyyy)")
        if column != "DOB":
            early = dates < pd.Timestamp(EARLIEST_EVENT_DATE)
            c.add(
                early,
                column,
                column + " " + frame[column].astype(str) + f" is before {EARLIEST_EVENT_DATE}, "
                "the earliest date the warehouse accepts",
            )
        if column not in FUTURE_ALLOWED:
            late = dates > ref
            why = (
                column
                + " "
                + frame[column].astype(str)
                + " is after the end of "
                + frame["_year"].map(lambda y: _year_text(int(y)))
            )
            if column in END_COLUMNS:
                # An end the return could not yet know: the row is kept as open at 31 March (its start
                # is right); only the end, and what goes with it, is left out.
                quarantine.add_part(frame[late], column, why[late] + ": left out, the row is kept as open")
                for dropped in END_COLUMNS[column]:
                    frame.loc[late, dropped] = ""
                dates = dates.where(~late)
            else:
                c.add(late, column, why)
        frame[column + "_date"] = dates
    check = _TABLE_CHECKS.get(spec.name)
    if check:
        check(c, frame)
    return c.kept()


def _header(c: _Checks, f: pd.DataFrame) -> None:
    c.required("DOB")
    # No SEX: the child is kept with sex unknown (only the missing value is noted).
    c.quarantine.add_part(f[~c.given("SEX")], "SEX", "SEX is empty: the child is kept with sex unknown")
    for year, rows in f.groupby("_year"):
        coding = codes.SEX_NEW if int(year) >= codes.SEX_NEW_CODING_FROM else codes.SEX_OLD  # type: ignore[call-overload]
        mask = pd.Series(False, index=f.index)
        mask[rows.index] = True
        values = f["SEX"].astype(str)
        c.add(
            mask & c.given("SEX") & ~values.isin(list(coding)),
            "SEX",
            "SEX " + values + f" is not a code of the {year} return ({', '.join(coding)})",
        )
    c.code("ETHNIC", codes.ETHNIC, what="an ethnicity code")


def _episodes(c: _Checks, f: pd.DataFrame) -> None:
    c.required("DECOM", "RNE", "LS", "PLACE")
    c.code("RNE", codes.RNE, what="a reason for new episode")
    c.code("LS", codes.LEGAL_STATUS, what="a legal status")
    # A placement type of another year's return is accepted (and said, read_returns): its meaning did
    # not change, and a file keyed by the wrong year's list is common.
    allowed = sorted({p for y in codes.SSDA903_YEARS for p in codes.placement_codes(y)})
    c.code("PLACE", allowed, what="a placement type of any SSDA903 return")
    c.code("REC", codes.REASON_CEASED, what="a reason episode ceased")
    c.code("REASON_PLACE_CHANGE", codes.REASON_PLACE_CHANGE, what="a reason for placement change")
    ended = c.given("REC") & (f["REC"] != "X1")
    c.add(
        ended & ~c.given("DEC"),
        "DEC",
        "REC " + f["REC"].astype(str) + " says the episode ended, but DEC is empty",
    )
    c.add(c.given("DEC") & ~c.given("REC"), "REC", "DEC is given but REC (reason episode ceased) is empty")
    c.add(
        f["DEC_date"] < f["DECOM_date"],
        "DEC",
        "DEC " + f["DEC"].astype(str) + " is before DECOM " + f["DECOM"].astype(str),
    )


def _uasc(c: _Checks, f: pd.DataFrame) -> None:
    pass


def _reviews(c: _Checks, f: pd.DataFrame) -> None:
    c.required("REVIEW")
    c.code("REVIEW_CODE", codes.REVIEW_CODE, what="a participation code")


def _missing(c: _Checks, f: pd.DataFrame) -> None:
    c.required("MISSING", "MIS_START")
    c.code("MISSING", list(codes.MISSING), what="M (missing) or A (away)")
    c.add(
        f["MIS_END_date"] < f["MIS_START_date"],
        "MIS_END",
        "MIS_END " + f["MIS_END"].astype(str) + " is before MIS_START " + f["MIS_START"].astype(str),
    )


def _oc2(c: _Checks, f: pd.DataFrame) -> None:
    score = pd.to_numeric(f["SDQ_SCORE"], errors="coerce")
    c.add(
        c.given("SDQ_SCORE") & ~score.between(0, 40),
        "SDQ_SCORE",
        "SDQ_SCORE " + f["SDQ_SCORE"].astype(str) + " is not a score from 0 to 40",
    )
    c.code("HEALTH_CHECK", codes.FLAG, what="0 or 1")
    c.code("TEETH_CHECK", codes.FLAG, what="0 or 1")


def _oc3(c: _Checks, f: pd.DataFrame) -> None:
    c.required("IN_TOUCH")
    c.code("IN_TOUCH", codes.IN_TOUCH, what="an in-touch code")
    c.code("ACTIV", codes.ACTIVITY, what="an activity code")
    c.code("ACCOM", codes.ACCOMMODATION, what="an accommodation code")


def _ad1(c: _Checks, f: pd.DataFrame) -> None:
    c.add(
        ~c.given("DATE_INT") & ~c.given("DATE_MATCH"), "DATE_INT", "neither DATE_INT nor DATE_MATCH is given"
    )


def _placed(c: _Checks, f: pd.DataFrame) -> None:
    c.required("DATE_PLACED")
    c.code("REASON_PLACED_CEASED", codes.REASON_PLACED_CEASED, what="a reason placed for adoption ceased")
    c.add(
        f["DATE_PLACED_CEASED_date"] < f["DATE_PLACED_date"],
        "DATE_PLACED_CEASED",
        "DATE_PLACED_CEASED " + f["DATE_PLACED_CEASED"].astype(str) + " is before DATE_PLACED",
    )


def _previous(c: _Checks, f: pd.DataFrame) -> None:
    # DATE_PERM is often partial ("zz/zz/2010"): such a row is kept, and skipped at conversion.
    f["DATE_PERM_date"] = parse_dates(f["DATE_PERM"])[0]
    c.code("PREV_PERM", codes.PREVIOUS_PERMANENCE, what="a previous permanence code")


def _sw(c: _Checks, f: pd.DataFrame) -> None:
    c.required("SW_ID", "SW_DECOM")
    c.code("SW_REASON", codes.SW_REASON, what="a reason for social worker change")
    c.add(
        f["SW_DEC_date"] < f["SW_DECOM_date"],
        "SW_DEC",
        "SW_DEC " + f["SW_DEC"].astype(str) + " is before SW_DECOM",
    )


_TABLE_CHECKS = {
    "header": _header,
    "episodes": _episodes,
    "uasc": _uasc,
    "reviews": _reviews,
    "missing": _missing,
    "oc2": _oc2,
    "oc3": _oc3,
    "ad1": _ad1,
    "placed_for_adoption": _placed,
    "previous_permanence": _previous,
    "sw_episodes": _sw,
}


def _one_per_key(spec: TableSpec, frame: pd.DataFrame, quarantine: Quarantine) -> pd.DataFrame:
    """One row per child (and key) per return: identical repeats are dropped (they say the same thing);
    a different second row is quarantined, naming the line of the one kept."""
    if frame.empty:
        return frame
    key = ["_year", "CHILD", *spec.keys]
    data = [c for c in spec.columns if c in frame and c not in key]
    first = frame.groupby(key, sort=False).cumcount() == 0
    firsts = frame[first].set_index(key)
    repeat = frame[~first]
    if repeat.empty:
        return frame
    kept = firsts.loc[pd.MultiIndex.from_frame(repeat[key])]
    same = (repeat[data].to_numpy() == kept[data].to_numpy()).all(axis=1)
    differs = repeat[~same]
    what = " and ".join(["child", *spec.keys])
    quarantine.add(
        differs,
        None,
        f"a different row for the same {what} is in this return at "
        + kept["_file"].to_numpy()[~same]
        + " line "
        + pd.Series(kept["_line"].to_numpy()[~same], index=differs.index).astype(str)
        + " (kept)",
    )
    return frame[first]


def _children_with_header(tables: dict[str, pd.DataFrame], quarantine: Quarantine) -> dict[str, pd.DataFrame]:
    """Rows of a child with no header row in the same return cannot be converted: quarantined."""
    header = _made_header(tables)
    known = set(zip(header["_year"], header["CHILD"], strict=True))
    out = {"header": header}
    for name, frame in tables.items():
        if name == "header":
            continue
        if frame.empty:
            out[name] = frame
            continue
        has = np.fromiter(
            ((y, c) in known for y, c in zip(frame["_year"], frame["CHILD"], strict=True)), bool, len(frame)
        )
        quarantine.add(frame[~has], "CHILD", "the child has no valid row in the header table of this return")
        out[name] = frame[has]
    return out


def _made_header(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The header rows, and for a return with none (no header file), rows made from the child ids and
    dates of birth its other tables carry: sex and ethnicity unknown."""
    header = tables["header"]
    have = set(header["_year"].astype(int)) if len(header) else set()
    made = []
    for name, frame in tables.items():
        if name == "header" or frame.empty:
            continue
        rows = frame[~frame["_year"].astype(int).isin(have)]
        if "DOB" not in rows:  # episodes: the child, with no date of birth
            rows = rows.assign(DOB="", DOB_date=pd.NaT)
        elif "DOB_date" not in rows:
            rows = rows.assign(DOB_date=parse_dates(rows["DOB"])[0])
        made.append(rows[["_year", "CHILD", "DOB", "DOB_date"]])
    if not made or all(m.empty for m in made):
        return header
    # Per child, a row with a date of birth first.
    rows = pd.concat(made, ignore_index=True)
    rows = rows.sort_values("DOB_date", na_position="last", kind="stable").drop_duplicates(["_year", "CHILD"])
    rows = rows.assign(
        SEX="",
        ETHNIC="",
        _row=[f"header-made:{y}:{c}" for y, c in zip(rows["_year"], rows["CHILD"], strict=True)],
        _line=0,
        _file="(no header file)",
        _table="header",
    )
    return pd.concat([header, rows], ignore_index=True)


def _other_year_codes(tables: dict[str, pd.DataFrame]) -> list[str]:
    """Codes a return holds that belong to another year's return: accepted as given, and said."""
    notes: Counter[str] = Counter()
    ep = tables["episodes"]
    for (year, place), n in ep.groupby(["_year", "PLACE"]).size().items() if len(ep) else ():
        if place and place not in codes.placement_codes(int(year)):
            notes[f"PLACE {place} in the {year} return (a placement type of other years)"] += int(n)
    for (year, rec), n in ep.groupby(["_year", "REC"]).size().items() if len(ep) else ():
        if rec and codes.reason_ceased_in(str(rec), int(year)) != rec:
            notes[f"REC {rec} in the {year} return (a reason ceased of other years)"] += int(n)
    oc3 = tables["oc3"]
    for (year, act), n in oc3.groupby(["_year", "ACTIV"]).size().items() if len(oc3) else ():
        if act and codes.activity_in(str(act), int(year)) != act:
            notes[f"ACTIV {act} in the {year} return (an activity code of other years)"] += int(n)
    return [f"{n} rows have {what}: accepted as given." for what, n in sorted(notes.items())]


def read_returns(
    folder: Path, quarantine: Quarantine, year: int | None = None, year_label: str = "end"
) -> Ssda903Data:
    """Read and check every return under `folder` (see the module docstring)."""
    raw, summaries, warnings = read_folder(folder, year, year_label)
    tables = check_rows(raw, quarantine)
    tables = {name: drop_quarantined(frame, quarantine) for name, frame in tables.items()}
    years = sorted({int(s.year) for s in summaries if s.year is not None})
    with_header = {int(s.year) for s in summaries if s.table == "header" and s.year is not None}
    for y in sorted(set(years) - with_header):
        warnings.append(
            f"The {y} return has no header table: its children are taken from the other tables (date of "
            "birth only; sex and ethnicity unknown)."
        )
    if quarantine.parts():
        warnings.append(
            f"{quarantine.parts()} values were left out of rows that were kept (an end date after its "
            "return's 31 March: the row is open at 31 March; an empty SEX: sex unknown); each is in the "
            "quarantine file with its reason."
        )
    warnings += _other_year_codes(tables)
    return Ssda903Data(tables, summaries, quarantine, years, warnings)
