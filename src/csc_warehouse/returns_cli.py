"""`cscw returns ...`: the statutory returns and Ofsted's Annex A, written from the warehouse.

Each command reads the warehouse's latest view (``formats.returns_source.from_warehouse``: the events,
episodes and children the KPIs are built from) and writes one set of files per authority under
``--out/<la_code>/``. The writers are in ``csc_warehouse.formats`` (``returns_cin_census``,
``returns_ssda903``, ``annex_a``). Exit codes: 0 written, 1 nothing could be written (the message says why).
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from csc_warehouse import settings

returns_app = typer.Typer(
    name="returns",
    help="Write the DfE's CIN census and SSDA903 returns and Ofsted's Annex A from the warehouse.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
console = Console()
errors = Console(stderr=True)

WarehouseOption = Annotated[
    Path, typer.Option("--warehouse", "-w", help="DuckDB warehouse file.", dir_okay=False)
]
OutOption = Annotated[
    Path,
    typer.Option("--out", "-o", help="Folder for the files (a subfolder per authority).", file_okay=False),
]
LaOption = Annotated[str | None, typer.Option("--la", help="Only this authority (la_code).")]
YearOption = Annotated[
    int,
    typer.Option(
        "--year", "-y", min=2015, max=2026, help="Collection year, named by its last year (2018 = 2017-18)."
    ),
]
DEFAULT_OUT = settings.DATA_DIR / "returns"


def _fail(message: str) -> typer.Exit:
    errors.print(f"[bold red]Not written:[/bold red] {message}")
    return typer.Exit(code=1)


def _sources(warehouse: Path, la: str | None, as_of: date | None = None) -> list:
    """The warehouse's authorities (or one) as the writers read them; with ``as_of``, as known then."""
    from csc_warehouse.formats.returns_source import SourceError, from_warehouse

    try:
        return from_warehouse(warehouse, la, as_of)
    except SourceError as exc:
        raise _fail(str(exc)) from None


def _recoded(recoded: Counter[str]) -> None:
    for change, n in sorted(recoded.items()):
        console.print(f"  [yellow]recoded for the year:[/yellow] {change} ({n:,})")


@returns_app.command("cin-census")
def cin_census_command(
    year: YearOption,
    warehouse: WarehouseOption = settings.DEFAULT_WAREHOUSE,
    out: OutOption = DEFAULT_OUT,
    la: LaOption = None,
    lea: Annotated[
        str | None,
        typer.Option("--lea", help="The authority's three-digit DfE number for the header (e.g. 919)."),
    ] = None,
) -> None:
    """Write the CIN census XML of a collection year: referrals open in the year, their assessments,
    CIN plans, S47 enquiries, ICPCs and CP plans, with the elements and codes of that year's schema."""
    from csc_warehouse.formats.returns_cin_census import write_cin_census

    for source in _sources(warehouse, la):
        try:
            path, recoded = write_cin_census(source, out / source.la_code, year, lea=lea)
        except ValueError as exc:
            raise _fail(str(exc)) from None
        console.print(f"CIN census {year} ({source.la_code}): {path}")
        _recoded(recoded)


@returns_app.command("ssda903")
def ssda903_command(
    year: YearOption,
    warehouse: WarehouseOption = settings.DEFAULT_WAREHOUSE,
    out: OutOption = DEFAULT_OUT,
    la: LaOption = None,
) -> None:
    """Write the SSDA903 return of a collection year (header, episodes, UASC, reviews, missing, OC2,
    OC3, AD1, placed for adoption, previous permanence) as CSVs, with that year's codes."""
    from csc_warehouse.formats.returns_ssda903 import write_ssda903

    for source in _sources(warehouse, la):
        folder, recoded = write_ssda903(source, out / source.la_code / "ssda903" / str(year), year)
        rows = sum(max(sum(1 for _ in f.open()) - 1, 0) for f in folder.glob("*.csv"))
        console.print(f"SSDA903 {year} ({source.la_code}): {rows:,} rows in {folder}")
        _recoded(recoded)


@returns_app.command("annex-a")
def annex_a_command(
    out: OutOption = DEFAULT_OUT,
    warehouse: WarehouseOption = settings.DEFAULT_WAREHOUSE,
    la: LaOption = None,
    as_at: Annotated[
        str | None,
        typer.Option(
            "--as-at", help="As-at date YYYY-MM-DD (default: the last day of the latest complete month)."
        ),
    ] = None,
    months: Annotated[int, typer.Option("--months", min=1, max=24, help="Window in months.")] = 6,
) -> None:
    """Write Ofsted's Annex A lists (one workbook per authority: List 1 .. List 10 and a notes sheet)."""
    from csc_warehouse.formats.annex_a import default_as_at, write_annex_a

    try:
        day = date.fromisoformat(as_at) if as_at else default_as_at(date.today())
    except ValueError:
        raise _fail(f"--as-at must be a date YYYY-MM-DD, not {as_at!r}.") from None
    for source in _sources(warehouse, la, as_of=day):  # what was known by the end of the as-at day
        path, counts = write_annex_a(source, out / source.la_code, day, months)
        listed = ", ".join(f"{name} {n:,}" for name, n in counts.items())
        console.print(f"Annex A as at {day} ({source.la_code}, {months} months): {path}\n  rows: {listed}")
