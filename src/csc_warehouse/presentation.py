"""How a figure is shown, written once for the terminal scorecard, the report files and the HTML report.

Values come from `marts.rpt_scorecard` (direction of travel, change, RAG, quartile, period labels and
whole-window flags are computed there); this module turns them into text: one formatter for a figure
("94.9% (485 of 510)", "224.0 (5,974)", "1,234", "532.0 (51 children)"), one for a target or an average,
quartile and polarity words, the arrow of a change, the sections in dim_kpi's order, and, when
publishing, small-number suppression (`suppression.py`) applied to every figure shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

import duckdb

from csc_warehouse.suppression import SUPPRESSED, Figure, FigureKey, Suppression, is_primary, suppress

QUARTILE_WORDS = {1: "Top", 2: "Second", 3: "Third", 4: "Fourth"}
POLARITY_WORDS = {"high": "High is good", "low": "Low is good", "none": "N/A"}
ARROWS = {"up": "↑", "down": "↓", "same": "→"}
PARTIAL_MARK = "†"  # the data do not yet cover the figure's window (a rolling year still building up)
PARTIAL_NOTE = f"{PARTIAL_MARK} the data do not yet cover this figure's whole window (not a full figure)"
SUPPRESSED_NOTE = (
    f"{SUPPRESSED}: suppressed, a count of 1 to 4, a figure built on one, or a figure from which one "
    "could be worked out"
)


def _whole(number: float | None) -> str:
    return "-" if number is None else f"{round(number):,}"


def format_figure(unit: str, value: float | None, numerator: float | None, denominator: float | None) -> str:
    """A figure as every output prints it: count 1,234 · pct 94.9% (485 of 510) · rate10k 224.0 (5,974)
    · days or score 532.0 (51 children)."""
    unit = (unit or "").lower()
    if value is None and numerator is None and denominator is None:
        return "-"
    if unit == "count":
        return _whole(value if value is not None else numerator)
    shown = "-" if value is None else (f"{value:.1f}%" if unit == "pct" else f"{value:,.1f}")
    if unit == "pct":
        return f"{shown} ({_whole(numerator)} of {_whole(denominator)})"
    if unit == "rate10k":
        return f"{shown} ({_whole(numerator)})"
    return f"{shown} ({_whole(denominator)} children)"


def format_benchmark(unit: str, value: float | None, missing: str = "") -> str:
    """A target or an average in the KPI's unit, without counts: 91.0% · 260.0 · 1,234."""
    if value is None:
        return missing
    unit = (unit or "").lower()
    if unit == "pct":
        return f"{value:.1f}%"
    if unit == "count":
        return _whole(value)
    return f"{value:,.1f}"


def quartile_word(quartile: int | None) -> str:
    return QUARTILE_WORDS.get(int(quartile), "") if quartile is not None else ""


def financial_year(start: int | None) -> str:
    return "" if start is None else f"{start}-{str(start + 1)[2:]}"


class Row(Protocol):
    """What a scorecard row (month or quarter) of rpt_scorecard offers."""

    la_code: str
    kpi_id: str
    unit: str
    period_type: str
    period_end: date
    numerator: float | None
    denominator: float | None
    value: float | None


@dataclass(frozen=True)
class Shown:
    """One cell as printed: its text, and whether it was suppressed or is not yet a whole figure."""

    text: str
    is_suppressed: bool = False
    is_partial: bool = False


@dataclass(frozen=True)
class Presented:
    """Every display string of one scorecard row, suppression applied."""

    current: Shown
    previous: Shown
    previous_brief: str  # the previous value without its counts ("86.9%"), for narrow tables
    first_reported: Shown | None  # set when the figure was revised since first reported
    previous_first_reported: Shown | None
    change: str  # up / down / same, or "" (missing or suppressed)
    arrow: str
    direction: str  # improved / declined / no change / n/a, or ""
    target: str
    target_note: str  # "2021-22 target" when the year has none of its own
    rag: str
    neighbour: str
    national: str
    quartile: str


def _shown(
    unit: str,
    value: float | None,
    numerator: float | None,
    denominator: float | None,
    *,
    hidden: bool,
    partial: bool = False,
) -> Shown:
    if hidden:
        return Shown(SUPPRESSED, is_suppressed=True)
    text = format_figure(unit, value, numerator, denominator)
    if partial and text != "-":
        text += f" {PARTIAL_MARK}"
    return Shown(text, is_partial=partial and text != "-")


def present(
    row: Any,
    *,
    suppression: Suppression | None = None,
    unsafe_national: frozenset[str] = frozenset(),
    unsafe_neighbour: frozenset[str] = frozenset(),
) -> Presented:
    """The display strings of a rpt_scorecard row. With a `suppression`, a hidden figure is "x" and so is
    all that is built on it: its RAG, quartile, direction; a comparator pooled from loaded authorities
    is left out when one of them has a suppressed figure (`unsafe_*`: KPI ids)."""
    period = row.reporting_period
    now = FigureKey(row.kpi_id, period, row.period_end)
    before = FigureKey(row.kpi_id, period, row.previous_period_end) if row.previous_period_end else None
    hide_now = suppression is not None and now in suppression
    hide_before = suppression is not None and before is not None and before in suppression
    unit = row.unit
    current = _shown(
        unit, row.value, row.numerator, row.denominator, hidden=hide_now,
        partial=getattr(row, "is_window_complete", True) is False,
    )  # fmt: skip
    previous = (
        _shown(
            unit,
            row.previous_value,
            row.previous_numerator,
            row.previous_denominator,
            hidden=hide_before,
            partial=getattr(row, "previous_is_window_complete", True) is False,
        )
        if row.previous_period_end and (row.previous_value is not None or row.previous_numerator is not None)
        else Shown("")
    )
    first = None
    if getattr(row, "is_revised", False):
        first_figure = Figure(now, unit, row.period_type, row.first_reported_numerator,
                              row.first_reported_denominator)  # fmt: skip
        first = _shown(
            unit,
            row.first_reported_value,
            row.first_reported_numerator,
            row.first_reported_denominator,
            hidden=suppression is not None and (hide_now or is_primary(first_figure)),
        )
    previous_first = None
    if getattr(row, "previous_is_revised", False):
        previous_first = Shown(
            SUPPRESSED if hide_before else format_benchmark(unit, row.previous_first_reported_value, "-"),
            is_suppressed=hide_before,
        )
    moved = not (hide_now or hide_before) and (row.change or "") != ""
    change = row.change if moved else ""
    basis = getattr(row, "target_basis", None)
    target_year = getattr(row, "target_financial_year_start", None)
    return Presented(
        current=current,
        previous=previous,
        previous_brief=previous.text
        if previous.is_suppressed or not previous.text
        else format_benchmark(unit, row.previous_value, "-")
        + (f" {PARTIAL_MARK}" if previous.is_partial else ""),
        first_reported=first,
        previous_first_reported=previous_first,
        change=change,
        arrow=ARROWS.get(change, ""),
        direction=(row.direction_of_travel or "") if moved else "",
        target=format_benchmark(unit, row.target),
        target_note=f"{financial_year(target_year)} target" if basis == "nearest year" else "",
        rag="" if hide_now or current.is_partial else (row.rag or ""),
        neighbour=""
        if getattr(row, "neighbour_average_basis", None) == "loaded" and row.kpi_id in unsafe_neighbour
        else format_benchmark(unit, row.neighbour_average),
        national=""
        if getattr(row, "national_average_basis", None) == "loaded" and row.kpi_id in unsafe_national
        else format_benchmark(unit, row.national_average),
        quartile="" if hide_now else quartile_word(row.quartile),
    )


def sections(rows: Iterable[Any]) -> list[tuple[str, list[Any]]]:
    """Rows grouped by dim_kpi's section, sections and rows in display order."""
    grouped: dict[str, list[Any]] = {}
    for row in sorted(rows, key=lambda r: (r.display_order, r.kpi_id)):
        grouped.setdefault(row.section or row.area, []).append(row)
    return list(grouped.items())


# --- Suppression of what an output shows ---------------------------------------------------------------


def month_figures(
    con: duckdb.DuckDBPyConnection, la_code: str, since: date
) -> tuple[list[Figure], dict[str, str]]:
    """The LA's monthly and quarterly figures from `since`, and every KPI's period type."""
    period_types = dict(con.execute("select kpi_id, period_type from reference.dim_kpi").fetchall())
    rows = con.execute(
        """select kpi_id, reporting_period, period_end, unit, period_type, numerator, denominator
           from marts.rpt_scorecard where la_code = ? and period_end >= ?""",
        [la_code, since],
    ).fetchall()
    figures = [Figure(FigureKey(k, rp, pe), u, pt, n, d) for k, rp, pe, u, pt, n, d in rows]
    return figures, period_types


def suppress_shown(
    con: duckdb.DuckDBPyConnection, la_code: str, displayed: Sequence[FigureKey], since: date
) -> Suppression:
    """Primary and secondary suppression of the figures an output shows for one authority."""
    figures, period_types = month_figures(con, la_code, since)
    return suppress(figures, displayed, period_types)


def unsafe_pools(
    con: duckdb.DuckDBPyConnection, la_code: str, reporting_period: str, period_ends: Sequence[date]
) -> tuple[frozenset[str], frozenset[str]]:
    """KPIs whose national (every loaded authority) or neighbour (the LA's loaded neighbours) pooled
    figure includes a small count, so the pool less the others shown could reveal it."""
    marks = ", ".join("?" for _ in period_ends)
    rows = con.execute(
        f"""select la_code, kpi_id, unit, period_type, numerator, denominator from marts.rpt_scorecard
            where reporting_period = ? and period_end in ({marks})""",
        [reporting_period, *period_ends],
    ).fetchall()
    has_neighbours = con.execute(
        "select count(*) from duckdb_tables() "
        "where schema_name = 'reference' and table_name = 'la_neighbours'"
    ).fetchall()[0][0]
    neighbours = set()
    if has_neighbours:
        neighbours = {
            r[0]
            for r in con.execute(
                "select neighbour_la_code from reference.la_neighbours where la_code = ?", [la_code]
            ).fetchall()
        }
    national, neighbour = set(), set()
    for la, kpi, unit, ptype, n, d in rows:
        if is_primary(Figure(FigureKey(kpi, reporting_period, date.min), unit, ptype, n, d)):
            national.add(kpi)
            if la in neighbours:
                neighbour.add(kpi)
    return frozenset(national), frozenset(neighbour)
