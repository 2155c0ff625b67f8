"""The monthly scorecard: the latest month's value of every KPI per authority, beside the month before.

Reads `marts.rpt_scorecard` (the latest month's rows, with target, RAG, neighbour and national averages,
quartile and revisions) from the warehouse or the serving file; a file built before rpt_scorecard
existed is read from `marts.fct_kpi_monthly` and `reference.dim_kpi` (values only). A KPI's name, area,
unit and polarity come from the seed, never from code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from itertools import groupby
from pathlib import Path

import duckdb
from rich.console import Console
from rich.table import Table

_QUERY = """
with ranked as (
    select
        la_code, kpi_id, period_end, numerator, denominator, value,
        dense_rank() over (partition by la_code order by period_end desc) as month_rank
    from marts.fct_kpi_monthly
)
select
    cur.la_code, cur.period_end, prev.period_end as previous_period_end,
    k.area, k.kpi_id, k.kpi_name, k.unit, k.polarity,
    cur.numerator, cur.denominator, cur.value,
    prev.numerator as previous_numerator,
    prev.denominator as previous_denominator,
    prev.value as previous_value
from ranked as cur
inner join reference.dim_kpi as k on cur.kpi_id = k.kpi_id
left join ranked as prev
    on cur.la_code = prev.la_code and cur.kpi_id = prev.kpi_id and prev.month_rank = 2
where cur.month_rank = 1 and ($la_code is null or cur.la_code = $la_code)
order by
    cur.la_code,
    min(k.display_order) over (partition by cur.la_code, k.area),
    k.area,
    k.display_order,
    k.kpi_id
"""

# The latest month of each authority from rpt_scorecard, in the same shape (and order) as _QUERY, then
# the comparison columns.
_SCORECARD_QUERY = """
with latest as (
    select la_code, max(period_end) as period_end
    from marts.rpt_scorecard
    where reporting_period = 'month'
    group by 1
)
select
    s.la_code, s.period_end,
    case when s.previous_value is not null or s.previous_numerator is not null then s.previous_period_end end
        as previous_period_end,
    s.area, s.kpi_id, s.kpi_name, s.unit, s.polarity,
    s.numerator, s.denominator, s.value,
    s.previous_numerator, s.previous_denominator, s.previous_value,
    s.target, s.rag, s.neighbour_average, s.national_average, s.quartile, s.direction_of_travel,
    s.is_revised, s.first_reported_value, s.previous_is_revised, s.previous_first_reported_value
from marts.rpt_scorecard as s
inner join latest on s.la_code = latest.la_code and s.period_end = latest.period_end
where s.reporting_period = 'month' and ($la_code is null or s.la_code = $la_code)
order by
    s.la_code,
    min(s.display_order) over (partition by s.la_code, s.area),
    s.area,
    s.display_order,
    s.kpi_id
"""

QUARTILE_WORDS = {1: "Top", 2: "Second", 3: "Third", 4: "Fourth"}


@dataclass(frozen=True)
class ScorecardRow:
    la_code: str
    period_end: date
    previous_period_end: date | None
    area: str
    kpi_id: str
    kpi_name: str
    unit: str
    polarity: str
    numerator: float | None
    denominator: float | None
    value: float | None
    previous_numerator: float | None
    previous_denominator: float | None
    previous_value: float | None
    # From rpt_scorecard (None when read from an older file without it).
    target: float | None = None
    rag: str | None = None
    neighbour_average: float | None = None
    national_average: float | None = None
    quartile: int | None = None
    direction_of_travel: str | None = None
    is_revised: bool = False
    first_reported_value: float | None = None
    previous_is_revised: bool = False
    previous_first_reported_value: float | None = None


def _whole(number: float | None) -> str:
    if number is None:
        return "-"
    return f"{round(number):,}" if float(number).is_integer() else f"{number:,.1f}"


def format_value(unit: str, value: float | None, numerator: float | None, denominator: float | None) -> str:
    """A KPI value as the reports print it: count 1,234 · pct 94.9% (485 / 510) · rate10k 224.0 (5,974)."""
    unit = (unit or "").lower()
    if unit == "count":
        return _whole(value)
    if unit == "pct":
        shown = "-" if value is None else f"{value:.1f}%"
        if denominator is None:
            return shown
        return f"{shown} ({_whole(numerator)} / {_whole(denominator)})"
    if unit == "rate10k":
        shown = "-" if value is None else f"{value:,.1f}"
        return shown if numerator is None else f"{shown} ({_whole(numerator)})"
    # days, score and anything new: the mean with one decimal.
    return "-" if value is None else f"{value:,.1f}"


def format_benchmark(unit: str, value: float | None) -> str:
    """A target or an average in the KPI's unit, without counts: 91.0% · 260.0 · 1,234."""
    if value is None:
        return ""
    unit = (unit or "").lower()
    if unit == "pct":
        return f"{value:.1f}%"
    if unit == "count":
        return _whole(value)
    return f"{value:,.1f}"


def quartile_word(quartile: int | None) -> str:
    return QUARTILE_WORDS.get(int(quartile), "") if quartile is not None else ""


def trend(polarity: str, value: float | None, previous: float | None) -> str:
    """An arrow for the change since last month, green when it moved the good way (polarity high/low)."""
    if value is None or previous is None or value == previous:
        return "" if value is None or previous is None else "[dim]=[/dim]"
    up = value > previous
    arrow = "▲" if up else "▼"
    polarity = (polarity or "").lower()
    if polarity not in ("high", "low"):
        return f"[dim]{arrow}[/dim]"
    good = up == (polarity == "high")
    return f"[green]{arrow}[/green]" if good else f"[red]{arrow}[/red]"


def read_scorecard(database: Path, *, la_code: str | None = None) -> list[ScorecardRow]:
    """Rows of the latest month per authority, one per KPI, ordered by area then display order."""
    database = Path(database)
    if not database.is_file():
        raise FileNotFoundError(f"database not found: {database}")
    with duckdb.connect(str(database), read_only=True) as con:
        has_scorecard = con.execute(
            "select count(*) from duckdb_tables() "
            "where schema_name = 'marts' and table_name = 'rpt_scorecard'"
        ).fetchall()[0][0]
        query = _SCORECARD_QUERY if has_scorecard else _QUERY
        rows = con.execute(query, {"la_code": la_code}).fetchall()
    return [ScorecardRow(*row) for row in rows]


def _month(day: date | None) -> str:
    return day.strftime("%b %Y") if day else "previous"


def render(rows: list[ScorecardRow]) -> list[Table]:
    """One rich table per authority, KPIs grouped by area."""
    tables = []
    for la_code, la_rows in groupby(rows, key=lambda r: r.la_code):
        la_rows = list(la_rows)
        first = la_rows[0]
        table = Table(
            title=f"Scorecard {la_code}: month ending {first.period_end:%d %B %Y}",
            title_justify="left",
            show_lines=False,
        )
        table.add_column("Area", style="bold")
        table.add_column("KPI")
        table.add_column(_month(first.period_end), justify="right")
        table.add_column(_month(first.previous_period_end), justify="right", style="dim")
        table.add_column("", justify="center")
        comparisons = any(
            r.target is not None or r.neighbour_average is not None or r.national_average is not None
            for r in la_rows
        )
        if comparisons:
            for heading in ("Target", "RAG", "Neighbours", "National", "Quartile"):
                table.add_column(heading, justify="right")
        for index, (area, area_rows) in enumerate(groupby(la_rows, key=lambda r: r.area)):
            if index:
                table.add_section()
            for position, row in enumerate(area_rows):
                previous = (
                    format_value(
                        row.unit, row.previous_value, row.previous_numerator, row.previous_denominator
                    )
                    if row.previous_period_end
                    else ""
                )
                if row.previous_is_revised:
                    previous += " (revised)"
                cells = [
                    area if position == 0 else "",
                    row.kpi_name,
                    format_value(row.unit, row.value, row.numerator, row.denominator),
                    previous,
                    trend(row.polarity, row.value, row.previous_value),
                ]
                if comparisons:
                    cells += [
                        format_benchmark(row.unit, row.target),
                        _RAG_STYLE.get(row.rag or "", ""),
                        format_benchmark(row.unit, row.neighbour_average),
                        format_benchmark(row.unit, row.national_average),
                        quartile_word(row.quartile),
                    ]
                table.add_row(*cells)
        tables.append(table)
    return tables


_RAG_STYLE = {"green": "[green]green[/green]", "amber": "[yellow]amber[/yellow]", "red": "[red]red[/red]"}


def print_scorecard(database: Path, *, la_code: str | None = None, console: Console | None = None) -> int:
    """Print the scorecard of every authority (or one); returns the number of KPI rows printed."""
    console = console or Console()
    rows = read_scorecard(database, la_code=la_code)
    if not rows:
        which = f"for {la_code} " if la_code else ""
        console.print(f"[yellow]No KPI rows {which}in {database}[/yellow] (marts.fct_kpi_monthly).")
        return 0
    if not console.is_terminal:
        # Piped or logged output has no width of its own: keep KPI names on one line.
        console.width = max(console.width, 132)
    for table in render(rows):
        console.print(table)
    return len(rows)
