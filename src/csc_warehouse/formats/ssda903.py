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

**Quarantined rows** (file, line, column, reason): a missing child id, a date that is not a date or
is after the return's 31 March, an unknown code for the year, an episode ending before it starts or
with a reason ceased but no end date, a second, different row for the same key in the same return
(the first is kept), and rows of a child with no (valid) header row in that return.
"""

from __future__ import annotations

import re
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


def read_folder(
    folder: Path, year: int | None = None
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
    folder_episodes = {p.parent: f for p, s, f, _ in read if s.name == "episodes"}
    tables: list[pd.DataFrame] = []
    summaries: list[FileSummary] = []
    broken_rows: list[pd.DataFrame] = []
    for path, spec, frame, broken in read:
        y = year_in_path(path, folder) or year
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
        y = year_in_path(path, folder) or year
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
            )
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
            c.add(
                late,
                column,
                column
                + " "
                + frame[column].astype(str)
                + " is after the end of "
                + frame["_year"].map(lambda y: _year_text(int(y))),
            )
        frame[column + "_date"] = dates
    check = _TABLE_CHECKS.get(spec.name)
    if check:
        check(c, frame)
    return c.kept()


def _header(c: _Checks, f: pd.DataFrame) -> None:
    c.required("SEX", "DOB")
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
    for year in f["_year"].unique():
        allowed = codes.placement_codes(int(year))
        values = f["PLACE"].astype(str)
        c.add(
            (f["_year"] == year) & c.given("PLACE") & ~values.isin(list(allowed)),
            "PLACE",
            "PLACE " + values + f" is not a placement type of the {year} return",
        )
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
    header = tables["header"]
    known = set(zip(header["_year"], header["CHILD"], strict=True))
    out = {"header": header}
    for name, frame in tables.items():
        if name == "header" or frame.empty:
            out[name] = frame
            continue
        has = np.fromiter(
            ((y, c) in known for y, c in zip(frame["_year"], frame["CHILD"], strict=True)), bool, len(frame)
        )
        quarantine.add(frame[~has], "CHILD", "the child has no valid row in the header table of this return")
        out[name] = frame[has]
    return out


def read_returns(folder: Path, quarantine: Quarantine, year: int | None = None) -> Ssda903Data:
    """Read and check every return under `folder` (see the module docstring)."""
    raw, summaries, warnings = read_folder(folder, year)
    tables = check_rows(raw, quarantine)
    tables = {name: drop_quarantined(frame, quarantine) for name, frame in tables.items()}
    years = sorted({int(s.year) for s in summaries if s.year is not None})
    return Ssda903Data(tables, summaries, quarantine, years, warnings)
