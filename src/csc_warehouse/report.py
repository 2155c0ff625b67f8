"""The quarterly performance report: one self-contained HTML file per authority, in the shape of the
committee reports councils publish (kpi-catalogue 3).

It reads only published, aggregate marts (`marts.rpt_scorecard`, `marts.dim_month`, `reference.dim_kpi`)
from the serving file BI tools read, never child-level rows. Sections and their order come from dim_kpi
(`section`, `display_order`); each indicator has this quarter and last, the target (the nearest year's,
said so, when the year has none), neighbour and national averages, quartile, direction of travel, RAG,
a 13-month trend chart with honest axes and target and average lines, the latest month where the data
run past the quarter, and a glossary. Every display string comes from `presentation.py`.

`suppress=True` makes it safe to publish (`suppression.py`): counts of 1-4 and what is built on them are
"x", so is any figure from which one could be worked out, and nothing derived from a hidden figure is
shown (RAG, quartile, arrow, chart point: a gap). The page prints to A4 (print styles in the template).
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
from jinja2 import Environment, FileSystemLoader, select_autoescape

from csc_warehouse import presentation
from csc_warehouse.presentation import (
    PARTIAL_NOTE,
    POLARITY_WORDS,
    SUPPRESSED_NOTE,
    Presented,
    Shown,
    format_benchmark,
    format_figure,
    present,
)
from csc_warehouse.suppression import SUPPRESSED, FigureKey, Suppression

__all__ = ["Cell", "ReportError", "format_cell", "write_reports"]

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
Cell = Shown  # a cell as printed (text, suppressed, partial)


class ReportError(ValueError):
    """The report cannot be written as asked; the message says what is available."""


def format_cell(
    unit: str,
    value: float | None,
    numerator: float | None,
    denominator: float | None,
    *,
    suppress: bool = False,
    publish: bool | None = None,
) -> Cell:
    """One figure as the report prints it (presentation.format_figure), "x" when `suppress` and it
    rests on a count of 1-4 (primary suppression; secondary needs the whole report: build_report)."""
    from csc_warehouse.suppression import Figure, is_primary

    suppress = suppress if publish is None else publish
    figure = Figure(FigureKey("", "month", date.min), unit, "", numerator, denominator)
    if suppress and is_primary(figure):
        return Cell(SUPPRESSED, is_suppressed=True)
    return Cell(format_figure(unit, value, numerator, denominator))


@dataclass
class Indicator:
    kpi_id: str
    name: str
    definition: str
    unit: str
    period_type: str
    polarity: str
    is_headline: bool
    shown: Presented
    latest_month: str | None  # "April 2018: 228.8 (6,100)" when the data runs past the quarter
    chart_svg: str
    chart_note: str = ""

    # The template's names for the presented strings.
    @property
    def current(self) -> Shown:
        return self.shown.current

    @property
    def previous(self) -> Shown:
        return self.shown.previous

    @property
    def first_reported(self) -> Shown | None:
        return self.shown.first_reported


@dataclass
class Report:
    la_code: str
    la_name: str
    period_label: str  # Q4 2017-18
    period_words: str  # January to March 2018
    period_end: date
    previous_label: str
    sections: list[tuple[str, list[Indicator]]] = field(default_factory=list)
    suppress: bool = False
    generated_at: str = ""
    source: str = ""
    suppression: Suppression | None = None
    displayed: list[FigureKey] = field(default_factory=list)

    @property
    def has_partial(self) -> bool:
        return any(i.current.is_partial or i.previous.is_partial for _, items in self.sections for i in items)

    @property
    def has_nearest_target(self) -> bool:
        return any(i.shown.target_note for _, items in self.sections for i in items)


def _axis(unit: str, values: list[float]) -> tuple[float, float, str]:
    """Zero-based axes: 0-100 for a percentage; 0 to a round number above the largest value (or line)
    for counts, rates, days and scores. Returns (low, high, what the range is)."""
    if unit == "pct":
        return 0.0, 100.0, "0-100%"
    top = max([v for v in values if v is not None] + [0.0])
    if top <= 0:
        return 0.0, 5.0, "from 0"
    magnitude = 10 ** (len(str(int(top))) - 1)
    step = magnitude / 2 if top / magnitude <= 5 else magnitude
    high = (int(top / step) + 1) * step
    return 0.0, float(high), "from 0"


def trend_svg(
    points: list[tuple[date, float | None, bool]],
    unit: str,
    *,
    highlight: date,
    title: str,
    lines: dict[str, float | None] | None = None,
) -> str:
    """A small line chart (inline SVG) of the monthly values on a zero-based axis (0-100 for a
    percentage), with the target and averages as labelled horizontal lines. A month without a value
    (suppressed, or missing) is a gap in the line; a figure whose window is not yet covered is a hollow
    point. The period's month is marked."""
    width, height, left, right, top, bottom = 300, 120, 40, 56, 10, 22
    shown = [(d, v) for d, v, _ in points if v is not None]
    if len(shown) < 2:
        return '<p class="nochart">Not enough months to chart.</p>'
    lines = {k: v for k, v in (lines or {}).items() if v is not None}
    low, high, _ = _axis(unit, [v for _, v in shown] + list(lines.values()))
    n = len(points)

    def x(i: int) -> float:
        return left + (width - left - right) * i / (n - 1)

    def y(v: float) -> float:
        return top + (height - top - bottom) * (1 - (v - low) / (high - low))

    path = " ".join(
        f"{'M' if i == 0 or points[i - 1][1] is None else 'L'}{x(i):.1f},{y(v):.1f}"
        for i, (_, v, _) in enumerate(points)
        if v is not None
    )
    dots = "".join(
        f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="{3.2 if d == highlight else 1.8}" '
        f'class="dot{" now" if d == highlight else ""}{" partial" if partial else ""}">'
        f"<title>{d:%b %Y}: {format_benchmark(unit, v)}{' (window not yet covered)' if partial else ''}"
        "</title></circle>"
        for i, (d, v, partial) in enumerate(points)
        if v is not None
    )
    gaps = "".join(
        f'<line x1="{x(i):.1f}" y1="{y(low):.1f}" x2="{x(i):.1f}" y2="{y(low) - 5:.1f}" class="gap">'
        f"<title>{d:%b %Y}: not shown</title></line>"
        for i, (d, v, _) in enumerate(points)
        if v is None
    )
    reference = "".join(
        f'<line x1="{left}" y1="{y(v):.1f}" x2="{width - right}" y2="{y(v):.1f}" class="ref {name}"/>'
        f'<text x="{width - right + 3}" y="{y(v) + 3:.1f}" class="axis {name}">{label} '
        f"{format_benchmark(unit, v)}</text>"
        for name, label, v in (
            (name, {"target": "Target", "national": "England", "neighbour": "Neighbours"}[name], v)
            for name, v in lines.items()
        )
    )
    first, last = points[0][0], points[-1][0]
    labels = (
        f'<text x="{left - 4}" y="{y(high) + 4:.1f}" class="axis" text-anchor="end">'
        f"{format_benchmark(unit, high)}</text>"
        f'<text x="{left - 4}" y="{y(low) + 3:.1f}" class="axis" text-anchor="end">'
        f"{format_benchmark(unit, low)}</text>"
        f'<text x="{left}" y="{height - 6}" class="axis">{first:%b %Y}</text>'
        f'<text x="{width - right}" y="{height - 6}" class="axis" text-anchor="end">{last:%b %Y}</text>'
    )
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{html.escape(title)}: '
        f'monthly trend">'
        f'<line x1="{left}" y1="{y(low):.1f}" x2="{width - right}" y2="{y(low):.1f}" class="base"/>'
        f'<line x1="{left}" y1="{y(high):.1f}" x2="{width - right}" y2="{y(high):.1f}" class="grid"/>'
        f'{reference}<path d="{path}" class="line"/>{dots}{gaps}{labels}</svg>'
    )


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


class _Row:
    """A rpt_scorecard row with attribute access (what presentation.present reads)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)

    def __getattr__(self, name: str) -> Any:  # a column an older serving file lacks
        return None


def _months_back(end: date, months: int) -> date:
    index = end.year * 12 + end.month - 1 - months
    year, month = divmod(index, 12)
    following = date(year + (month == 11), (month + 1) % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


def _indicator(
    row: _Row,
    months: list[_Row],
    later: _Row | None,
    *,
    suppression: Suppression | None,
    pools: tuple[frozenset[str], frozenset[str]],
) -> Indicator:
    """One indicator of the report: its presented strings, its chart and its latest month."""
    national, neighbour = pools
    shown = present(row, suppression=suppression, unsafe_national=national, unsafe_neighbour=neighbour)
    hidden = suppression.suppressed if suppression is not None else set()
    points = [
        (
            m.period_end,
            None if FigureKey(m.kpi_id, "month", m.period_end) in hidden else m.value,
            m.is_window_complete is False,
        )
        for m in months
    ]
    lines = {
        "target": row.target,
        "national": row.national_average if shown.national else None,
        "neighbour": row.neighbour_average if shown.neighbour else None,
    }
    note = ""
    if any(v is None and FigureKey(row.kpi_id, "month", d) in hidden for d, v, _ in points):
        note = "Gaps: months not shown, to protect small numbers."
    latest_text = None
    if later is not None:
        text = (
            SUPPRESSED
            if FigureKey(later.kpi_id, "month", later.period_end) in hidden
            else format_figure(later.unit, later.value, later.numerator, later.denominator)
        )
        latest_text = f"{later.period_end:%B %Y}: {text}"
    return Indicator(
        kpi_id=row.kpi_id,
        name=row.kpi_name,
        definition=row.definition or "",
        unit=row.unit,
        period_type=row.period_type,
        polarity=row.polarity,
        is_headline=bool(row.is_headline),
        shown=shown,
        latest_month=latest_text,
        chart_svg=trend_svg(points, row.unit, highlight=row.period_end, title=row.kpi_name, lines=lines),
        chart_note=note,
    )


def build_report(
    con: duckdb.DuckDBPyConnection,
    la_code: str,
    quarter_end: date,
    *,
    suppress: bool = False,
    source: str = "",
    publish: bool | None = None,
) -> Report:
    suppress = suppress if publish is None else publish
    rows = [
        _Row(r)
        for r in _rows(
            con,
            """select s.*, k.definition from marts.rpt_scorecard s join reference.dim_kpi k using (kpi_id)
               where s.la_code = ? and s.reporting_period = 'quarter' and s.period_end = ?
               order by s.display_order, s.kpi_id""",
            [la_code, quarter_end],
        )
    ]
    if not rows:
        raise ReportError(f"no quarter ending {quarter_end} for {la_code} in marts.rpt_scorecard")
    first_month = _months_back(quarter_end, 12)
    monthly = [
        _Row(m)
        for m in _rows(
            con,
            """select * from marts.rpt_scorecard
               where la_code = ? and reporting_period = 'month' and period_end >= ?
               order by kpi_id, period_end""",
            [la_code, first_month],
        )
    ]
    trends: dict[str, list[_Row]] = {}
    latest: dict[str, _Row] = {}
    for m in monthly:
        if m.period_end <= quarter_end:
            trends.setdefault(m.kpi_id, []).append(m)
        else:
            latest[m.kpi_id] = m  # ordered by month: the last one wins
    # What the page shows: both quarters of the table, the chart's months, the latest month.
    displayed = [FigureKey(r.kpi_id, "quarter", quarter_end) for r in rows]
    displayed += [
        FigureKey(r.kpi_id, "quarter", r.previous_period_end) for r in rows if r.previous_period_end
    ]
    displayed += [FigureKey(m.kpi_id, "month", m.period_end) for ms in trends.values() for m in ms]
    displayed += [FigureKey(m.kpi_id, "month", m.period_end) for m in latest.values()]
    suppression = None
    pools: tuple[frozenset[str], frozenset[str]] = (frozenset(), frozenset())
    if suppress:
        suppression = presentation.suppress_shown(con, la_code, displayed, _months_back(quarter_end, 24))
        pools = presentation.unsafe_pools(con, la_code, "quarter", [quarter_end])
    first = rows[0]
    report = Report(
        la_code=la_code,
        la_name=la_code,
        period_label=first.period_label,
        period_words=first.period_name or "",
        period_end=quarter_end,
        previous_label=first.previous_period_label or "previous quarter",
        suppress=suppress,
        generated_at=datetime.now().strftime("%d %B %Y %H:%M"),
        source=source,
        suppression=suppression,
        displayed=displayed,
    )
    for title, items in presentation.sections(rows):
        report.sections.append(
            (
                title,
                [
                    _indicator(
                        r,
                        trends.get(r.kpi_id, []),
                        latest.get(r.kpi_id),
                        suppression=suppression,
                        pools=pools,
                    )
                    for r in items
                ],
            )
        )
    return report


def render(report: Report) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATE_DIR), autoescape=select_autoescape(["html", "j2"]))
    template = env.get_template("report.html.j2")
    return template.render(
        report=report,
        polarity_words=POLARITY_WORDS,
        suppressed=SUPPRESSED,
        suppressed_note=SUPPRESSED_NOTE,
        partial_note=PARTIAL_NOTE,
    )


def available_quarters(con: duckdb.DuckDBPyConnection) -> list[date]:
    found = con.execute(
        "select distinct period_end from marts.rpt_scorecard where reporting_period = 'quarter' order by 1"
    ).fetchall()
    return [row[0] for row in found]


def quarter_holding(con: duckdb.DuckDBPyConnection, month: date) -> date | None:
    """The end of the quarter holding `month`, from dim_month."""
    found = con.execute(
        "select quarter_end_date from marts.dim_month where ? between month_start_date and month_end_date",
        [month],
    ).fetchall()
    return found[0][0] if found else None


def write_reports(
    database: Path,
    out_dir: Path,
    *,
    period: str | None = None,
    la_code: str | None = None,
    suppress: bool = False,
    publish: bool | None = None,
) -> list[Path]:
    """Write report_<la>_<Qn_YYYY-YY>.html for the quarter holding `period` (YYYY-MM; default the latest
    quarter), for `la_code` or every authority; returns the files written. `suppress` (or its older
    name `publish`) suppresses small numbers for publication (files ..._suppressed.html)."""
    suppress = suppress if publish is None else publish
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
            quarter_end = quarter_holding(con, month)
            if quarter_end not in quarters:
                shown = ", ".join(f"{q:%Y-%m}" for q in quarters[-8:])
                ending = f" ending {quarter_end:%Y-%m}" if quarter_end else f" holding {period}"
                raise ReportError(f"no complete quarter{ending} in the data; quarters: {shown}")
        codes = [
            r[0]
            for r in con.execute("select distinct la_code from marts.rpt_scorecard order by 1").fetchall()
        ]
        if la_code is not None and la_code not in codes:
            raise ReportError(f"no authority {la_code} in the data; authorities: {', '.join(codes[:20])}")
        out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        for code in [la_code] if la_code else codes:
            report = build_report(con, code, quarter_end, suppress=suppress, source=Path(database).name)
            label = report.period_label.replace(" ", "_")
            path = out_dir / f"report_{code}_{label}{'_suppressed' if suppress else ''}.html"
            tmp = path.with_suffix(".html.tmp")
            tmp.write_text(render(report), encoding="utf-8")
            os.replace(tmp, path)  # a reader never sees half a file
            written.append(path)
    return written
