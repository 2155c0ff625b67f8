"""The monthly report as files: the latest month's scorecard as CSV and Markdown under data/reports/.

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

from csc_warehouse.scorecard import (
    ScorecardRow,
    format_benchmark,
    format_value,
    quartile_word,
    read_scorecard,
)

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


def change_word(polarity: str | None, value: float | None, previous: float | None) -> str:
    """up / down / same, and whether that is better or worse where the KPI has a polarity."""
    if value is None or previous is None:
        return ""
    if value == previous:
        return "same"
    up = value > previous
    word = "up" if up else "down"
    polarity = (polarity or "").lower()
    if polarity in ("high", "low"):
        word += " (better)" if up == (polarity == "high") else " (worse)"
    return word


def _number(value: float | None) -> Any:
    if value is None:
        return ""
    return int(value) if float(value).is_integer() else round(float(value), 4)


def csv_text(rows: Iterable[ScorecardRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        writer.writerow(
            [
                r.la_code,
                r.period_end.isoformat(),
                r.area,
                r.kpi_id,
                r.kpi_name,
                r.unit,
                r.polarity,
                _number(r.numerator),
                _number(r.denominator),
                _number(r.value),
                r.previous_period_end.isoformat() if r.previous_period_end else "",
                _number(r.previous_numerator),
                _number(r.previous_denominator),
                _number(r.previous_value),
                change_word(r.polarity, r.value, r.previous_value),
                r.direction_of_travel or "",
                _number(r.target),
                r.rag or "",
                _number(r.neighbour_average),
                _number(r.national_average),
                "" if r.quartile is None else int(r.quartile),
                "true" if r.is_revised else "false",
                _number(r.first_reported_value),
                "true" if r.previous_is_revised else "false",
                _number(r.previous_first_reported_value),
            ]
        )
    return out.getvalue()


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_text(
    rows: list[ScorecardRow], *, source: Path, notes: Iterable[str] = (), generated: datetime | None = None
) -> str:
    generated = generated or datetime.now().replace(microsecond=0)
    lines: list[str] = []
    for la_code, la_rows in groupby(rows, key=lambda r: r.la_code):
        la_rows = list(la_rows)
        first = la_rows[0]
        previous = f"{first.previous_period_end:%b %Y}" if first.previous_period_end else "Previous"
        lines += [
            f"# Scorecard {la_code}: month ending {first.period_end:%d %B %Y}",
            "",
            f"| Area | KPI | {first.period_end:%b %Y} | {previous} | Change "
            "| Target | RAG | Neighbours | National | Quartile |",
            "|---|---|--:|--:|---|--:|---|--:|--:|---|",
        ]
        for r in la_rows:
            current = format_value(r.unit, r.value, r.numerator, r.denominator)
            if r.is_revised:
                current += f" (revised; first reported {format_benchmark(r.unit, r.first_reported_value)})"
            before = (
                format_value(r.unit, r.previous_value, r.previous_numerator, r.previous_denominator)
                if r.previous_period_end
                else ""
            )
            if before and r.previous_is_revised:
                first_reported = format_benchmark(r.unit, r.previous_first_reported_value)
                before += f" (revised; first reported {first_reported})"
            change = change_word(r.polarity, r.value, r.previous_value)
            comparisons = " | ".join(
                [
                    format_benchmark(r.unit, r.target),
                    r.rag or "",
                    format_benchmark(r.unit, r.neighbour_average),
                    format_benchmark(r.unit, r.national_average),
                    quartile_word(r.quartile),
                ]
            )
            lines.append(
                f"| {_cell(r.area)} | {_cell(r.kpi_name)} | {current} | {before} | {change} | {comparisons} |"
            )
        lines.append("")
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
    database: Path, out_dir: Path, *, la_code: str | None = None, notes: Iterable[str] = ()
) -> ReportFiles:
    """Write the latest month's scorecard of `database` to `out_dir`; `notes` are listed as warnings."""
    database, out_dir = Path(database), Path(out_dir)
    rows = read_scorecard(database, la_code=la_code)
    if not rows:
        return ReportFiles(None, None, None, 0)
    out_dir.mkdir(parents=True, exist_ok=True)
    latest = max(r.period_end for r in rows)
    stem = f"scorecard_{latest:%Y-%m}" + (f"_{la_code}" if la_code else "")
    csv_path, md_path = out_dir / f"{stem}.csv", out_dir / f"{stem}.md"
    _write(csv_path, csv_text(rows))
    _write(md_path, markdown_text(rows, source=database, notes=notes))
    return ReportFiles(latest.isoformat(), csv_path, md_path, len(rows))


def reports_next_to(warehouse: Path) -> Path:
    """Default report folder for a warehouse: `reports/` in the same folder (data/reports)."""
    return Path(warehouse).with_name("reports")
