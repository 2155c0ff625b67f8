"""The quarterly performance report: one self-contained HTML file per authority, in the shape of the
committee reports councils publish (kpi-catalogue 3).

It reads only published, aggregate marts (`marts.rpt_scorecard`, `marts.fct_kpi_monthly`,
`reference.dim_kpi`) from the serving file BI tools read, never child-level rows. Sections follow the
service areas; each indicator has this quarter and last ("x% (n out of m)", "rate (count)"), the
target, neighbour and national averages, quartile, direction of travel against its polarity, RAG, a
13-month trend chart (so the same month a year before is its first point), the latest month where the
data runs past the quarter, and, for a figure revised since it was first reported, that first figure.
A glossary gives every definition. The page prints to A4 (print styles in the template).

`publish=True` makes it safe to publish as English official statistics are: every count from 1 to 4,
and every percentage, rate or average built on such a count, is shown as "x" (DfE convention), and a
note says so. Zero is shown.
"""

from __future__ import annotations

import calendar
import html
import os
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
from jinja2 import Environment, FileSystemLoader, select_autoescape

__all__ = ["Cell", "ReportError", "format_cell", "write_reports"]

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
SUPPRESSED = "x"
SMALL_COUNTS = range(1, 5)  # 1-4 are suppressed when publishing

# Service areas of dim_kpi, grouped as the committee reports group them.
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Early help and front door", ("Front door",)),
    ("Referral and assessment", ("Referrals", "Assessments", "Children in need")),
    ("Child protection", ("Child protection",)),
    ("Children looked after", ("Children looked after", "Placement stability", "Health")),
    ("Care leavers", ("Care leavers",)),
    ("Adoption and permanence", ("Adoption", "Permanence")),
)
QUARTILE_WORDS = {1: "Top", 2: "Second", 3: "Third", 4: "Fourth"}
POLARITY_WORDS = {"high": "High is good", "low": "Low is good", "none": "N/A"}


class ReportError(ValueError):
    """The report cannot be written as asked; the message says what is available."""


@dataclass(frozen=True)
class Cell:
    text: str
    is_suppressed: bool = False


def _whole(number: float | None) -> str:
    return "-" if number is None else f"{round(number):,}"


def _is_small(number: float | None) -> bool:
    return number is not None and round(number) in SMALL_COUNTS


def format_cell(
    unit: str, value: float | None, numerator: float | None, denominator: float | None, *, publish: bool
) -> Cell:
    """A figure as the reports print it: count 903 · pct 94.0% (485 out of 510) · rate10k 224.0 (5,974) ·
    days or score 532 (51 children). With `publish`, small counts and what is built on them are "x"."""
    if value is None and numerator is None:
        return Cell("-")
    # A rate's denominator is the child population, never small; every other denominator counts children.
    counts = [numerator] if unit in ("count", "rate10k") else [numerator, denominator]
    if publish and any(_is_small(c) for c in counts):
        return Cell(SUPPRESSED, is_suppressed=True)
    if unit == "count":
        return Cell(_whole(value))
    if value is None:
        return Cell(f"- ({_whole(numerator)} out of {_whole(denominator)})" if unit == "pct" else "-")
    if unit == "pct":
        return Cell(f"{value:.1f}% ({_whole(numerator)} out of {_whole(denominator)})")
    if unit == "rate10k":
        return Cell(f"{value:,.1f} ({_whole(numerator)})")
    return Cell(f"{value:,.1f} ({_whole(denominator)} children)")


def _benchmark(unit: str, value: float | None) -> str:
    if value is None:
        return "N/A"
    if unit == "pct":
        return f"{value:.1f}%"
    if unit == "count":
        return f"{round(value):,}"
    return f"{value:,.1f}"


@dataclass
class Indicator:
    kpi_id: str
    name: str
    definition: str
    unit: str
    period_type: str
    polarity: str
    previous: Cell
    current: Cell
    first_reported: Cell | None  # set when the current figure was revised since first reported
    target: str
    neighbour: str
    national: str
    quartile: str
    direction: str  # improved / declined / no change / n/a
    arrow: str  # the value's movement since last quarter: ↑ ↓ → (or blank)
    rag: str | None
    latest_month: str | None  # "April 2018: 228.8 (6,100)" when the data runs past the quarter
    chart_svg: str
    suppressed_any: bool = False


@dataclass
class Report:
    la_code: str
    la_name: str
    period_label: str  # Q4 2017-18
    period_words: str  # January to March 2018
    period_end: date
    previous_label: str
    sections: list[tuple[str, list[Indicator]]] = field(default_factory=list)
    publish: bool = False
    generated_at: str = ""
    source: str = ""


def _quarter_end(month: date) -> date:
    """The end of the financial quarter (Apr-Jun, Jul-Sep, Oct-Dec, Jan-Mar) holding `month`."""
    end_month = ((month.month - 1) // 3 + 1) * 3
    return date(month.year, end_month, calendar.monthrange(month.year, end_month)[1])


def _quarter_words(end: date) -> tuple[str, str]:
    first = date(end.year, end.month - 2, 1)
    fy_start = end.year if end.month >= 4 else end.year - 1
    quarter = {6: 1, 9: 2, 12: 3, 3: 4}[end.month]
    words = f"{calendar.month_name[first.month]} to {calendar.month_name[end.month]} {end.year}"
    return f"Q{quarter} {fy_start}-{str(fy_start + 1)[2:]}", words


def _previous_quarter_end(end: date) -> date:
    month = end.month - 3 if end.month > 3 else end.month + 9
    year = end.year if end.month > 3 else end.year - 1
    return date(year, month, calendar.monthrange(year, month)[1])


def _month_end(day: date) -> date:
    return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return _month_end(date(index // 12, index % 12 + 1, 1))


def trend_svg(points: list[tuple[date, float | None]], unit: str, *, highlight: date, title: str) -> str:
    """A small line chart (inline SVG) of the monthly values; the period's month is marked, and the first
    point (the same month a year before) is labelled, so the year-on-year change reads at a glance."""
    width, height, left, right, top, bottom = 300, 110, 38, 8, 10, 22
    shown = [(d, v) for d, v in points if v is not None]
    if len(shown) < 2:
        return '<p class="nochart">Not enough months to chart.</p>'
    low, high = min(v for _, v in shown), max(v for _, v in shown)
    if high == low:
        low, high = low - 1, high + 1
    span = high - low
    low, high = low - span * 0.1, high + span * 0.1
    n = len(points)

    def x(i: int) -> float:
        return left + (width - left - right) * i / (n - 1)

    def y(v: float) -> float:
        return top + (height - top - bottom) * (1 - (v - low) / (high - low))

    path = " ".join(
        f"{'M' if i == 0 or points[i - 1][1] is None else 'L'}{x(i):.1f},{y(v):.1f}"
        for i, (_, v) in enumerate(points)
        if v is not None
    )
    dots = "".join(
        f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="{3.2 if d == highlight else 1.8}" '
        f'class="{"dot now" if d == highlight else "dot"}">'
        f"<title>{d:%b %Y}: {_benchmark(unit, v)}</title></circle>"
        for i, (d, v) in enumerate(points)
        if v is not None
    )
    first, last = points[0][0], points[-1][0]
    labels = (
        f'<text x="{left - 4}" y="{y(high - span * 0.1) + 4:.1f}" class="axis" text-anchor="end">'
        f"{_benchmark(unit, high - span * 0.1)}</text>"
        f'<text x="{left - 4}" y="{y(low + span * 0.1) + 4:.1f}" class="axis" text-anchor="end">'
        f"{_benchmark(unit, low + span * 0.1)}</text>"
        f'<text x="{left}" y="{height - 6}" class="axis">{first:%b %Y}</text>'
        f'<text x="{width - right}" y="{height - 6}" class="axis" text-anchor="end">{last:%b %Y}</text>'
    )
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{html.escape(title)}: '
        f'monthly trend">'
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" class="base"/>'
        f'<path d="{path}" class="line"/>{dots}{labels}</svg>'
    )


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


Point = tuple[date, float | None, float | None, float | None]  # month end, value, numerator, denominator


def _indicator(row: dict[str, Any], trend: list[Point], latest: Point | None, *, publish: bool) -> Indicator:
    """One scorecard row (rpt_scorecard joined to dim_kpi's definition) as the report shows it."""
    unit = row["unit"]
    current = format_cell(unit, row["value"], row["numerator"], row["denominator"], publish=publish)
    previous = format_cell(
        unit, row["previous_value"], row["previous_numerator"], row["previous_denominator"], publish=publish
    )
    first = None
    if row.get("is_revised"):
        first = format_cell(
            unit,
            row["first_reported_value"],
            row["first_reported_numerator"],
            row["first_reported_denominator"],
            publish=publish,
        )
    # A month's trend point is hidden like its cell would be.
    points = []
    suppressed_any = current.is_suppressed or previous.is_suppressed
    for month, value, numerator, denominator in trend:
        cell = format_cell(unit, value, numerator, denominator, publish=publish)
        suppressed_any |= cell.is_suppressed
        points.append((month, None if cell.is_suppressed else value))
    latest_text = None
    if latest is not None:
        cell = format_cell(unit, latest[1], latest[2], latest[3], publish=publish)
        latest_text = f"{latest[0]:%B %Y}: {cell.text}"
    quartile = row.get("quartile")
    arrow = ""
    if not (current.is_suppressed or previous.is_suppressed) and None not in (
        row["value"],
        row["previous_value"],
    ):
        arrow = (
            "↑"
            if row["value"] > row["previous_value"]
            else "↓"
            if row["value"] < row["previous_value"]
            else "→"
        )
    return Indicator(
        kpi_id=row["kpi_id"],
        name=row["kpi_name"],
        definition=row.get("definition") or "",
        unit=unit,
        period_type=row["period_type"],
        polarity=row["polarity"],
        previous=previous,
        current=current,
        first_reported=first,
        target="N/A" if row.get("target") is None else _benchmark(unit, row["target"]),
        neighbour=_benchmark(unit, row.get("neighbour_average")),
        national=_benchmark(unit, row.get("national_average")),
        quartile=QUARTILE_WORDS.get(int(quartile), "N/A") if quartile is not None else "N/A",
        direction=(row.get("direction_of_travel") or "n/a") if arrow else "n/a",
        arrow=arrow,
        rag=None if current.is_suppressed else row.get("rag"),
        latest_month=latest_text,
        chart_svg=trend_svg(points, unit, highlight=row["period_end"], title=row["kpi_name"]),
        suppressed_any=suppressed_any,
    )


def build_report(
    con: duckdb.DuckDBPyConnection, la_code: str, quarter_end: date, *, publish: bool, source: str
) -> Report:
    rows = _rows(
        con,
        """select s.*, k.definition, k.display_order as kpi_order
           from marts.rpt_scorecard s join reference.dim_kpi k using (kpi_id)
           where s.la_code = ? and s.reporting_period = 'quarter' and s.period_end = ?
           order by k.display_order""",
        [la_code, quarter_end],
    )
    if not rows:
        raise ReportError(f"no quarter ending {quarter_end} for {la_code} in marts.rpt_scorecard")
    first_month = _add_months(quarter_end, -12)
    monthly = _rows(
        con,
        """select kpi_id, period_end, value, numerator, denominator from marts.fct_kpi_monthly
           where la_code = ? and period_end >= ? order by kpi_id, period_end""",
        [la_code, first_month],
    )
    trends: dict[str, list[Point]] = {}
    latest: dict[str, Point] = {}
    for m in monthly:
        point = (m["period_end"], m["value"], m["numerator"], m["denominator"])
        if m["period_end"] <= quarter_end:
            trends.setdefault(m["kpi_id"], []).append(point)
        else:
            latest[m["kpi_id"]] = point  # ordered by month: the last one wins
    label, words = _quarter_words(quarter_end)
    previous_label, _ = _quarter_words(_previous_quarter_end(quarter_end))
    report = Report(
        la_code=la_code,
        la_name=la_code,
        period_label=label,
        period_words=words,
        period_end=quarter_end,
        previous_label=previous_label,
        publish=publish,
        generated_at=datetime.now().strftime("%d %B %Y %H:%M"),
        source=source,
    )
    by_area: dict[str, list[Indicator]] = {}
    for row in rows:
        indicator = _indicator(row, trends.get(row["kpi_id"], []), latest.get(row["kpi_id"]), publish=publish)
        by_area.setdefault(row["area"], []).append(indicator)
    for title, areas in SECTIONS:
        items = [i for area in areas for i in by_area.pop(area, [])]
        if items:
            report.sections.append((title, items))
    for area, items in sorted(by_area.items()):  # an area a user added to dim_kpi gets its own section
        report.sections.append((area, items))
    return report


def render(report: Report) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATE_DIR), autoescape=select_autoescape(["html", "j2"]))
    template = env.get_template("report.html.j2")
    return template.render(report=report, polarity_words=POLARITY_WORDS, suppressed=SUPPRESSED)


def available_quarters(con: duckdb.DuckDBPyConnection) -> list[date]:
    found = con.execute(
        "select distinct period_end from marts.rpt_scorecard where reporting_period = 'quarter' order by 1"
    ).fetchall()
    return [row[0] for row in found]


def write_reports(
    database: Path,
    out_dir: Path,
    *,
    period: str | None = None,
    la_code: str | None = None,
    publish: bool = False,
) -> list[Path]:
    """Write report_<la>_<YYYY-QN>.html for the quarter holding `period` (YYYY-MM; default the latest
    quarter), for `la_code` or every authority; returns the files written."""
    if not Path(database).is_file():
        raise ReportError(f"{database} not found: run `cscw refresh` first (it publishes the serving file)")
    with duckdb.connect(str(database), read_only=True) as con:
        quarters = available_quarters(con)
        if not quarters:
            raise ReportError(f"{database} has no complete quarter in marts.rpt_scorecard")
        if period is None:
            quarter_end = quarters[-1]
        else:
            try:
                month = date.fromisoformat(f"{period}-01" if len(period) == 7 else period)
            except ValueError:
                raise ReportError(f"--period must be a month as YYYY-MM, not {period!r}") from None
            quarter_end = _quarter_end(month)
            if quarter_end not in quarters:
                shown = ", ".join(f"{q:%Y-%m}" for q in quarters[-8:])
                raise ReportError(
                    f"no complete quarter ending {quarter_end:%Y-%m} in the data; quarters: {shown}"
                )
        codes = [
            r[0]
            for r in con.execute("select distinct la_code from marts.rpt_scorecard order by 1").fetchall()
        ]
        if la_code is not None and la_code not in codes:
            raise ReportError(f"no authority {la_code} in the data; authorities: {', '.join(codes[:20])}")
        out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        for code in [la_code] if la_code else codes:
            report = build_report(con, code, quarter_end, publish=publish, source=Path(database).name)
            label = report.period_label.replace(" ", "_")
            path = out_dir / f"report_{code}_{label}{'_publish' if publish else ''}.html"
            tmp = path.with_suffix(".html.tmp")
            tmp.write_text(render(report), encoding="utf-8")
            os.replace(tmp, path)  # a reader never sees half a file
            written.append(path)
    return written
