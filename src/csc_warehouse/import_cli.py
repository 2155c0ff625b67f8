"""`cscw import ...`: convert the DfE's SSDA903 and CIN census returns into canonical case events.

The conversion itself is in ``csc_warehouse.formats`` (docs/importing.md); this module is the command
line: options, the summary table (rows read, converted, skipped, quarantined per file and table) and
exit codes (0 done, 1 a file refused or the pseudonymisation key missing; nothing is written then).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from csc_warehouse.formats.anonymise import KEY_ENV, KeyMissing
from csc_warehouse.formats.common import ImportRefused

if TYPE_CHECKING:  # the conversion modules load pandas: only when a command runs
    from csc_warehouse.formats.imports import ImportResult

import_app = typer.Typer(
    name="import",
    help="Convert SSDA903 and CIN census returns, Annex A lists and SSD extracts into canonical files for "
    f"`cscw load`. Child ids are pseudonymised with the key in ${KEY_ENV}.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
console = Console()
errors = Console(stderr=True)

OutOption = Annotated[
    Path,
    typer.Option("--out", "-o", help="Folder for the canonical files (created if missing).", file_okay=False),
]
LaOption = Annotated[
    str | None,
    typer.Option("--la", help="The authority's code in the warehouse (e.g. E10000015 or the DfE number)."),
]
PopulationOption = Annotated[
    Path | None,
    typer.Option(
        "--population",
        help="Population file (CSV or Parquet: year, age, sex, count, optionally la_code), copied as "
        "population.csv.",
        dir_okay=False,
    ),
]


def _summary(result: ImportResult) -> None:
    table = Table(
        title=f"{result.source} -> canonical ({result.la_code}, years {', '.join(map(str, result.years))})"
    )
    for name, justify in (
        ("file", "left"),
        ("table", "left"),
        ("year", "right"),
        ("read", "right"),
        ("converted", "right"),
        ("skipped", "right"),
        ("quarantined", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for f in result.files:
        table.add_row(
            f.file,
            f.table,
            str(f.year),
            f"{f.rows_read:,}",
            f"{f.converted:,}",
            f"{f.skipped:,}",
            f"[red]{f.quarantined:,}[/red]" if f.quarantined else "0",
        )
    console.print(table)
    console.print(
        f"{result.children_rows:,} children rows and {result.event_rows:,} event rows (versions) written in "
        f"{result.seconds:.1f} s; {result.rows_quarantined:,} rows quarantined."
    )
    for name, path in result.outputs.items():
        console.print(f"  {name}: {path}")
    for warning in result.warnings:
        console.print(f"[yellow]Note:[/yellow] {warning}")
    console.print(f"Next: cscw load {result.outputs['events'].parent}")


def _run(action: Callable[[], ImportResult]) -> None:
    try:
        result = action()
    except (ImportRefused, KeyMissing) as exc:
        errors.print(f"[bold red]Refused:[/bold red] {exc} Nothing was written.")
        raise typer.Exit(code=1) from exc
    _summary(result)


@import_app.command("ssda903")
def ssda903_command(
    folder: Annotated[
        Path,
        typer.Argument(help="Folder of SSDA903 returns (CSV sets and/or XML), any years.", file_okay=False),
    ],
    out: OutOption,
    la: LaOption = None,
    population: PopulationOption = None,
    year: Annotated[
        int | None,
        typer.Option(help="Collection year (e.g. 2018 for 2017-18) of files with no year in their path."),
    ] = None,
    year_label: Annotated[
        str,
        typer.Option(
            "--year-label",
            help="What a year in a file or folder name means: end (2018 = April 2017 to March 2018, the "
            "DfE's naming) or start (2017 = April 2017 to March 2018, as Data to Insight's samples).",
        ),
    ] = "end",
) -> None:
    """Convert SSDA903 returns (header, episodes, UASC, reviews, missing, OC2, OC3, AD1, placed for
    adoption, previous permanence, social worker episodes) into canonical children and events."""
    from csc_warehouse.formats.imports import import_ssda903

    _run(
        lambda: import_ssda903(
            folder, out, la_code=la, population=population, year=year, year_label=year_label
        )
    )


@import_app.command("cin-census")
def cin_census_command(
    files: Annotated[list[Path], typer.Argument(help="CIN census XML files, one per year.", dir_okay=False)],
    out: OutOption,
    la: LaOption = None,
    population: PopulationOption = None,
) -> None:
    """Convert CIN census XML returns into canonical children and events."""
    from csc_warehouse.formats.imports import import_cin_census

    _run(lambda: import_cin_census(files, out, la_code=la, population=population))


@import_app.command("annex-a")
def annex_a_command(
    files: Annotated[
        list[Path], typer.Argument(help="Annex A workbooks (.xlsx), one or several months.", dir_okay=False)
    ],
    out: OutOption,
    la: Annotated[str, typer.Option("--la", help="The authority's code in the warehouse (e.g. E10000015).")],
    as_at: Annotated[
        str | None,
        typer.Option("--as-at", help="The workbook's as-at day YYYY-MM-DD (default: the latest date in it)."),
    ] = None,
    population: PopulationOption = None,
) -> None:
    """Convert an authority's own Annex A lists (Lists 1-10, any subset) into canonical children and
    events, recorded at the workbook's as-at day."""
    from datetime import date

    from csc_warehouse.formats.annex_a_import import import_annex_a

    try:
        day = date.fromisoformat(as_at) if as_at else None
    except ValueError:
        errors.print(f"[bold red]Refused:[/bold red] --as-at must be a date YYYY-MM-DD, not {as_at!r}.")
        raise typer.Exit(code=1) from None
    _run(lambda: import_annex_a(files, out, la_code=la, as_at=day, population=population))


@import_app.command("ssd")
def ssd_command(
    folder: Annotated[
        Path,
        typer.Argument(
            help="An SSD extract (a folder of ssd_<table>.csv), or a folder of dated extract folders "
            "(2018-01-31/, 2018-02-28/, ...), read oldest first as successive versions.",
            file_okay=False,
        ),
    ],
    out: OutOption,
    la: Annotated[str, typer.Option("--la", help="The authority's code in the warehouse (e.g. E10000015).")],
    extract_date: Annotated[
        str | None,
        typer.Option(
            "--extract-date", help="The day a single extract was taken, YYYY-MM-DD (else its folder name)."
        ),
    ] = None,
    window_years: Annotated[
        int,
        typer.Option(
            "--window-years",
            min=1,
            help="The extract's window: an event older than this that leaves it is not deleted.",
        ),
    ] = 6,
    population: PopulationOption = None,
) -> None:
    """Convert Standard Safeguarding Dataset extracts into canonical children and events: each extract
    is recorded on its day, a changed row is a new version, a vanished event a tombstone."""
    from datetime import date

    from csc_warehouse.formats.ssd import import_ssd

    try:
        day = date.fromisoformat(extract_date) if extract_date else None
    except ValueError:
        errors.print(
            f"[bold red]Refused:[/bold red] --extract-date must be YYYY-MM-DD, not {extract_date!r}."
        )
        raise typer.Exit(code=1) from None
    _run(
        lambda: import_ssd(
            folder, out, la_code=la, extract_date=day, window_years=window_years, population=population
        )
    )
