"""The monthly scorecard: the latest month's value of every KPI per authority, beside the month before.

Reads `marts.rpt_scorecard` (the latest month's rows, with target, RAG, neighbour and national averages,
quartile, revisions and whole-window flags) from the warehouse or the serving file; a file built before
rpt_scorecard existed is read from `marts.fct_kpi_monthly` and `reference.dim_kpi` (values only). A KPI's
name, section, unit and polarity come from the seed; every display string from `presentation.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from itertools import groupby
from pathlib import Path

import duckdb
from rich import box
from rich.console import Console
from rich.table import Table

from csc_warehouse import presentation
from csc_warehouse.presentation import PARTIAL_NOTE, SUPPRESSED_NOTE, Presented, present
from csc_warehouse.suppression import FigureKey, Suppression

# The name older callers import; the one formatter is presentation.format_figure.
format_value = presentation.format_figure

_QUERY = """
with ranked as (
    select
        la_code, kpi_id, period_end, numerator, denominator, value,
        dense_rank() over (partition by la_code order by period_end desc) as month_rank
    from marts.fct_kpi_monthly
)
select
    cur.la_code, cur.period_end, prev.period_end as previous_period_end,
    k.area, k.kpi_id, k.kpi_name, k.unit, k.polarity, k.period_type, k.display_order,
    cur.numerator, cur.denominator, cur.value,
    prev.numerator as previous_numerator,
    prev.denominator as previous_denominator,
    prev.value as previous_value
from ranked as cur
inner join reference.dim_kpi as k on cur.kpi_id = k.kpi_id
left join ranked as prev
    on cur.la_code = prev.la_code and cur.kpi_id = prev.kpi_id and prev.month_rank = 2
where cur.month_rank = 1 and ($la_code is null or cur.la_code = $la_code)
order by cur.la_code, k.display_order, k.kpi_id
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
    s.area, s.kpi_id, s.kpi_name, s.unit, s.polarity, s.period_type, s.display_order,
    s.numerator, s.denominator, s.value,
    s.previous_numerator, s.previous_denominator, s.previous_value,
    s.target, s.rag, s.neighbour_average, s.national_average, s.quartile, s.direction_of_travel,
    s.is_revised, s.first_reported_value, s.previous_is_revised, s.previous_first_reported_value,
    s.first_reported_numerator, s.first_reported_denominator, s.change, s.is_window_complete,
    s.previous_is_window_complete, s.target_basis, s.target_financial_year_start, s.section,
    s.national_average_basis, s.neighbour_average_basis, s.period_label, s.previous_period_label
from marts.rpt_scorecard as s
inner join latest on s.la_code = latest.la_code and s.period_end = latest.period_end
where s.reporting_period = 'month' and ($la_code is null or s.la_code = $la_code)
order by s.la_code, s.display_order, s.kpi_id
"""


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
    period_type: str
    display_order: int
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
    first_reported_numerator: float | None = None
    first_reported_denominator: float | None = None
    change: str | None = None
    is_window_complete: bool = True
    previous_is_window_complete: bool | None = True
    target_basis: str | None = None
    target_financial_year_start: int | None = None
    section: str | None = None
    national_average_basis: str | None = None
    neighbour_average_basis: str | None = None
    period_label: str | None = None
    previous_period_label: str | None = None
    reporting_period: str = "month"


def read_scorecard(database: Path, *, la_code: str | None = None) -> list[ScorecardRow]:
    """Rows of the latest month per authority, one per KPI, in dim_kpi's display order."""
    database = Path(database)
    if not database.is_file():
        raise FileNotFoundError(f"database not found: {database}")
    with duckdb.connect(str(database), read_only=True) as con:
        query = _SCORECARD_QUERY if _has_scorecard(con) else _QUERY
        rows = con.execute(query, {"la_code": la_code}).fetchall()
    found = [ScorecardRow(*row) for row in rows]
    if found and query is _QUERY:  # values only: the change is worked out here
        found = [_with_change(r) for r in found]
    return found


def _with_change(row: ScorecardRow) -> ScorecardRow:
    from dataclasses import replace

    if row.value is None or row.previous_value is None:
        return row
    same = round(row.value, 6) == round(row.previous_value, 6)
    return replace(row, change="same" if same else ("up" if row.value > row.previous_value else "down"))


def _has_scorecard(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() "
            "where schema_name = 'marts' and table_name = 'rpt_scorecard'"
        ).fetchall()[0][0]
    )


@dataclass(frozen=True)
class PresentedRow:
    row: ScorecardRow
    shown: Presented


def present_scorecard(database: Path, rows: list[ScorecardRow], *, suppress: bool) -> list[PresentedRow]:
    """Every row's display strings; with `suppress`, small numbers suppressed as for publication (the
    latest month and the month before are what a scorecard shows)."""
    if not suppress:
        return [PresentedRow(r, present(r)) for r in rows]
    out: list[PresentedRow] = []
    with duckdb.connect(str(database), read_only=True) as con:
        if not _has_scorecard(con):
            raise ValueError(f"{database} has no marts.rpt_scorecard: small numbers cannot be suppressed")
        for la_code, la_rows in groupby(rows, key=lambda r: r.la_code):
            la_rows = list(la_rows)
            latest = la_rows[0].period_end
            displayed = [FigureKey(r.kpi_id, "month", r.period_end) for r in la_rows] + [
                FigureKey(r.kpi_id, "month", r.previous_period_end) for r in la_rows if r.previous_period_end
            ]
            since = date(latest.year - 2, latest.month, 1)
            suppression: Suppression = presentation.suppress_shown(con, la_code, displayed, since)
            national, neighbour = presentation.unsafe_pools(con, la_code, "month", [latest])
            out += [
                PresentedRow(
                    r,
                    present(r, suppression=suppression, unsafe_national=national, unsafe_neighbour=neighbour),
                )
                for r in la_rows
            ]
    return out


def _month(day: date | None) -> str:
    return day.strftime("%b %Y") if day else "previous"


_RAG_STYLE = {"green": "[green]green[/green]", "amber": "[yellow]amber[/yellow]", "red": "[red]red[/red]"}


def _arrow(shown: Presented) -> str:
    if not shown.arrow:
        return ""
    colour = {"improved": "green", "declined": "red"}.get(shown.direction, "dim")
    return f"[{colour}]{shown.arrow}[/{colour}]"


def render(
    rows: list[ScorecardRow] | list[PresentedRow], *, width: int | None = None, suppress: bool = False
) -> list[Table]:
    """One rich table per authority, KPIs under their sections. At `width` under 120 columns the
    averages are left out and long names wrap, so the table fits an 80-column terminal."""
    presented = [r if isinstance(r, PresentedRow) else PresentedRow(r, present(r)) for r in rows]
    wide = width is None or width >= 120
    tables = []
    for la_code, la_rows in groupby(presented, key=lambda p: p.row.la_code):
        la_rows = list(la_rows)
        first = la_rows[0].row
        notes = []
        if any(p.shown.current.is_partial or p.shown.previous.is_partial for p in la_rows):
            notes.append(PARTIAL_NOTE)
        if suppress:
            notes.append(SUPPRESSED_NOTE)
        table = Table(
            title=f"Scorecard {la_code}: month ending {first.period_end:%d %B %Y}",
            title_justify="left",
            caption="\n".join(notes) or None,
            caption_justify="left",
            show_lines=False,
            box=box.HEAVY_HEAD if wide else box.SIMPLE_HEAD,
            padding=(0, 1),
            pad_edge=wide,
            width=None if wide else width,
        )
        table.add_column("KPI", ratio=None if wide else 1)
        table.add_column(_month(first.period_end), justify="right", no_wrap=not wide)
        table.add_column(_month(first.previous_period_end), justify="right", style="dim", no_wrap=not wide)
        table.add_column("", justify="center", no_wrap=True)
        comparisons = any(
            r.row.target is not None
            or r.row.neighbour_average is not None
            or r.row.national_average is not None
            for r in la_rows
        )
        headings = (
            ("Target", "RAG", "Neighbours", "National", "Quartile") if wide else ("Target", "RAG", "Qrt")
        )
        if comparisons:
            for heading in headings:
                table.add_column(heading, justify="right", no_wrap=True)
        for index, (section, section_rows) in enumerate(
            groupby(la_rows, key=lambda p: p.row.section or p.row.area)
        ):
            if index:
                table.add_section()
            table.add_row(f"[bold]{section}[/bold]")
            for item in section_rows:
                row, shown = item.row, item.shown
                previous = shown.previous.text if wide else shown.previous_brief
                if shown.previous_first_reported is not None and previous:
                    previous += " (revised)"
                cells = [row.kpi_name, shown.current.text, previous, _arrow(shown)]
                if comparisons:
                    target = shown.target + ("*" if shown.target_note else "")
                    cells += [target, _RAG_STYLE.get(shown.rag, "")]
                    cells += (
                        [shown.neighbour, shown.national, shown.quartile] if wide else [shown.quartile[:3]]
                    )
                table.add_row(*cells)
        if any(p.shown.target_note for p in la_rows):
            year = next(p.shown.target_note for p in la_rows if p.shown.target_note)
            table.caption = "\n".join([*notes, f"* no target of its own for this year: the {year} is used"])
        tables.append(table)
    return tables


def print_scorecard(
    database: Path,
    *,
    la_code: str | None = None,
    console: Console | None = None,
    width: int | None = None,
    suppress: bool = False,
) -> int:
    """Print the scorecard of every authority (or one), fitted to `width` columns (default: the
    console's); returns the number of KPI rows printed."""
    console = console or Console()
    rows = read_scorecard(database, la_code=la_code)
    if not rows:
        which = f"for {la_code} " if la_code else ""
        console.print(f"[yellow]No KPI rows {which}in {database}[/yellow] (marts.fct_kpi_monthly).")
        return 0
    if width is not None:
        console.width = width
    elif not console.is_terminal:
        # Piped or logged output has no width of its own: keep KPI names on one line.
        console.width = max(console.width, 132)
    for table in render(present_scorecard(database, rows, suppress=suppress), width=console.width,
                        suppress=suppress):  # fmt: skip
        console.print(table)
    return len(rows)
