"""The monthly report as files: the latest month's scorecard as CSV and Markdown under data/reports/.

Display strings, direction and suppression come from `presentation.py`, as for `cscw scorecard`.

The rows are those `cscw scorecard` prints (scorecard.read_scorecard: every KPI of the latest month per
authority beside the month before, with target, RAG, neighbour and national averages, quartile, direction
of travel and revisions from marts.rpt_scorecard), read from the serving file the refresh has just
published. A figure revised since it was first reported is marked "(revised; first reported x)". Names
carry the month: `scorecard_YYYY-MM.csv` and `scorecard_YYYY-MM.md`; a re-run of the same month
replaces them (written to a temporary file, then renamed). The HTML report is `report.py` (`cscw report`).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from pathlib import Path
from typing import Any

from csc_warehouse.presentation import PARTIAL_NOTE, SUPPRESSED_NOTE
from csc_warehouse.scorecard import PresentedRow, present_scorecard, read_scorecard

CSV_COLUMNS: tuple[str, ...] = (
    "la_code",
    "period_end",
    "area",
    "kpi_id",
    "kpi_name",
    "unit",
    "polarity",
    "numerator",
    "denominator",
    "value",
    "previous_period_end",
    "previous_numerator",
    "previous_denominator",
    "previous_value",
    "change",
    "direction_of_travel",
    "target",
    "rag",
    "neighbour_average",
    "national_average",
    "quartile",
    "is_revised",
    "first_reported_value",
    "previous_is_revised",
    "previous_first_reported_value",
    "is_window_complete",
    "shown",
    "previous_shown",
)


@dataclass
class ReportFiles:
    period_end: str | None  # latest month end reported (ISO), None when there was nothing to report
    csv: Path | None
    markdown: Path | None
    rows: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "period_end": self.period_end,
            "csv": str(self.csv) if self.csv else None,
            "markdown": str(self.markdown) if self.markdown else None,
            "rows": self.rows,
        }


def change_word(shown: PresentedRow) -> str:
    """up / down / same, and whether that is better or worse where the KPI has a polarity."""
    word = shown.shown.change
    if word and shown.shown.direction in ("improved", "declined"):
        word += " (better)" if shown.shown.direction == "improved" else " (worse)"
    return word


def _number(value: float | None) -> Any:
    if value is None:
        return ""
    return int(value) if float(value).is_integer() else round(float(value), 4)


def csv_text(rows: Iterable[PresentedRow]) -> str:
    """One line per KPI; a suppressed figure's numbers are left empty and its shown text is "x"."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for item in rows:
        r, shown = item.row, item.shown
        now = (lambda v: "") if shown.current.is_suppressed else _number
        before = (lambda v: "") if shown.previous.is_suppressed else _number
        writer.writerow(
            [
                r.la_code,
                r.period_end.isoformat(),
                r.section or r.area,
                r.kpi_id,
                r.kpi_name,
                r.unit,
                r.polarity,
                now(r.numerator),
                now(r.denominator),
                now(r.value),
                r.previous_period_end.isoformat() if r.previous_period_end else "",
                before(r.previous_numerator),
                before(r.previous_denominator),
                before(r.previous_value),
                change_word(item),
                shown.direction,
                _number(r.target),
                shown.rag,
                shown.neighbour and _number(r.neighbour_average),
                shown.national and _number(r.national_average),
                "" if r.quartile is None or not shown.quartile else int(r.quartile),
                "true" if r.is_revised else "false",
                "" if shown.first_reported is None or shown.first_reported.is_suppressed
                else _number(r.first_reported_value),
                "true" if r.previous_is_revised else "false",
                "" if shown.previous.is_suppressed else _number(r.previous_first_reported_value),
                "true" if r.is_window_complete else "false",
                shown.current.text,
                shown.previous.text,
            ]
        )  # fmt: skip
    return out.getvalue()


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_text(
    rows: list[PresentedRow],
    *,
    source: Path,
    notes: Iterable[str] = (),
    generated: datetime | None = None,
    suppress: bool = False,
) -> str:
    generated = generated or datetime.now().replace(microsecond=0)
    lines: list[str] = []
    for la_code, la_rows in groupby(rows, key=lambda p: p.row.la_code):
        la_rows = list(la_rows)
        first = la_rows[0].row
        previous = f"{first.previous_period_end:%b %Y}" if first.previous_period_end else "Previous"
        lines += [
            f"# Scorecard {la_code}: month ending {first.period_end:%d %B %Y}",
            "",
            f"| Section | KPI | {first.period_end:%b %Y} | {previous} | Change "
            "| Target | RAG | Neighbours | National | Quartile |",
            "|---|---|--:|--:|---|--:|---|--:|--:|---|",
        ]
        for item in la_rows:
            r, shown = item.row, item.shown
            current = shown.current.text
            if shown.first_reported is not None:
                current += f" (revised; first reported {shown.first_reported.text})"
            before = shown.previous.text
            if before and shown.previous_first_reported is not None:
                before += f" (revised; first reported {shown.previous_first_reported.text})"
            target = shown.target + (f" ({shown.target_note})" if shown.target_note else "")
            comparisons = " | ".join([target, shown.rag, shown.neighbour, shown.national, shown.quartile])
            lines.append(
                f"| {_cell(r.section or r.area)} | {_cell(r.kpi_name)} | {current} | {before} "
                f"| {change_word(item)} | {comparisons} |"
            )
        lines.append("")
        if any(p.shown.current.is_partial or p.shown.previous.is_partial for p in la_rows):
            lines += [PARTIAL_NOTE, ""]
    if suppress:
        lines += [SUPPRESSED_NOTE, ""]
    notes = list(notes)
    if notes:
        lines += ["## Data quality warnings", ""] + [f"- {_cell(n)}" for n in notes] + [""]
    lines.append(f"_From {source.name}, written {generated:%Y-%m-%d %H:%M}._")
    return "\n".join(lines) + "\n"


def _write(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def write_scorecard_report(
    database: Path,
    out_dir: Path,
    *,
    la_code: str | None = None,
    notes: Iterable[str] = (),
    suppress: bool = False,
) -> ReportFiles:
    """Write the latest month's scorecard of `database` to `out_dir`; `notes` are listed as warnings.
    With `suppress`, small numbers are suppressed for publication (files named ..._suppressed)."""
    database, out_dir = Path(database), Path(out_dir)
    rows = read_scorecard(database, la_code=la_code)
    if not rows:
        return ReportFiles(None, None, None, 0)
    out_dir.mkdir(parents=True, exist_ok=True)
    latest = max(r.period_end for r in rows)
    stem = (
        f"scorecard_{latest:%Y-%m}" + (f"_{la_code}" if la_code else "") + ("_suppressed" if suppress else "")
    )
    csv_path, md_path = out_dir / f"{stem}.csv", out_dir / f"{stem}.md"
    presented = present_scorecard(database, rows, suppress=suppress)
    _write(csv_path, csv_text(presented))
    _write(md_path, markdown_text(presented, source=database, notes=notes, suppress=suppress))
    return ReportFiles(latest.isoformat(), csv_path, md_path, len(rows))


def reports_next_to(warehouse: Path) -> Path:
    """Default report folder for a warehouse: `reports/` in the same folder (data/reports)."""
    return Path(warehouse).with_name("reports")
