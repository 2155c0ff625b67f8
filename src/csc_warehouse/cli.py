"""`cscw`: generate synthetic case events, load them, build the warehouse, serve it, print the scorecard.

Words used once each: "serve" writes the serving file BI tools read, "publish" records months as first
reported, "suppress" hides small numbers in a report, "export" writes the served tables as CSV or
Parquet and "returns" are the statutory returns (SSDA903, CIN census).
"""

from __future__ import annotations

import gc
import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from enum import StrEnum
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from csc_warehouse import settings
from csc_warehouse.import_cli import import_app
from csc_warehouse.returns_cli import returns_app

app = typer.Typer(
    name="cscw",
    help="Children's social care case-event warehouse: DuckDB + dbt + Prefect.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
console = Console()
errors = Console(stderr=True)

# `cscw import ssda903 ...` / `cscw import cin-census ...`: the adapters of the returns councils already make.
app.add_typer(import_app, name="import")
app.add_typer(returns_app, name="returns")


def _version() -> str:
    try:
        return package_version("csc-warehouse")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _print_version(show: bool) -> None:
    if show:
        console.print(f"cscw {_version()}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Children's social care case-event warehouse: DuckDB + dbt + Prefect."""


class FileFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"


class Engine(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


def _shown(path: Path) -> str:
    """A default path as --help shows it: relative to the project root when inside it."""
    try:
        return str(path.relative_to(settings.PROJECT_ROOT))
    except ValueError:
        return str(path)


WarehouseOption = Annotated[
    Path,
    typer.Option(
        "--warehouse",
        "-w",
        help="DuckDB warehouse file.",
        dir_okay=False,
        show_default=_shown(settings.DEFAULT_WAREHOUSE),
    ),
]


def _fail(message: str) -> typer.Exit:
    errors.print(f"[bold red]Error:[/bold red] {message}", highlight=False)
    return typer.Exit(code=1)


def _deprecated(old: str, new: str) -> None:
    """Old option names keep working for one release, saying what replaces them."""
    errors.print(
        f"[yellow]Deprecated:[/yellow] {old} is now {new}; {old} will be removed in the next release"
    )


def _either(new: Any, old: Any, old_name: str, new_name: str) -> Any:
    """The value of a renamed option, given under its new name or (with a warning) its old one."""
    if old is not None and old is not False:
        _deprecated(old_name, new_name)
        return new if new not in (None, False) else old
    return new


def _parse_date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"expected YYYY-MM-DD, got {text!r}") from exc


def _int(number: Any) -> str:
    return f"{int(number or 0):,}"


def load_table(report: Any) -> Table:
    """Rows in / loaded / unchanged / quarantined per file, and the totals."""
    table = Table(title=f"Load {getattr(report, 'load_id', '')}".strip(), title_justify="left")
    table.add_column("File")
    table.add_column("Table")
    for heading in ("Rows in", "Loaded", "Unchanged", "Quarantined"):
        table.add_column(heading, justify="right")
    for item in report.tables:
        table.add_row(
            Path(str(item.file)).name,
            item.table,
            _int(item.rows_in),
            _int(item.rows_loaded),
            _int(item.rows_unchanged),
            _int(item.rows_quarantined),
        )
    table.add_section()
    table.add_row(
        "[bold]Total[/bold]",
        "",
        _int(report.rows_in),
        _int(report.rows_loaded),
        _int(report.rows_unchanged),
        _int(report.rows_quarantined),
    )
    return table


def _print_load_notes(report: Any) -> None:
    for item in report.tables:
        unknown = getattr(item, "unknown_event_types", None)
        if unknown:  # event type -> rows
            names = ", ".join(f"{name} ({_int(count)})" for name, count in sorted(unknown.items()))
            console.print(
                f"[yellow]{item.table}: event types outside the contract (kept, unused):[/yellow] {names}"
            )
    seen = sum(getattr(item, "rows_already_quarantined", 0) for item in report.tables)
    if seen:
        console.print(
            f"{_int(seen)} of the unchanged rows were quarantined by an earlier load and are not added "
            "again: `cscw quarantine` lists them"
        )
    for warning in getattr(report, "warnings", None) or []:
        console.print(f"[yellow]Warning:[/yellow] {warning}")


def flow_module(name: str = "monthly_refresh") -> ModuleType:
    """The flow module csc_warehouse.flows.<name> (monthly_refresh or backfill): part of the package, so
    an installed cscw runs it from any folder."""
    return importlib.import_module(f"csc_warehouse.flows.{name}")


@contextmanager
def flow_run(warehouse: Path) -> Iterator[Path]:
    """Around a Prefect flow run from the CLI: use a running Prefect server when there is one, keep
    tracebacks off the terminal (they go to logs/cscw.log beside the warehouse, yielded), and release
    every DuckDB handle before the interpreter exits, so the client prints no leak report."""
    from csc_warehouse.flows.console import route_logs, unroute_logs
    from csc_warehouse.flows.server import ServerUnreachable, use_running_server

    try:
        use_running_server()
    except ServerUnreachable as exc:
        raise _fail(str(exc)) from None
    flow_module()  # imports Prefect, which sets up its console handlers
    log_file = settings.log_file_for(warehouse)
    handler = route_logs(log_file)
    try:
        yield log_file
    finally:
        unroute_logs(handler)
        _release_duckdb()


def _release_duckdb() -> None:
    """Close dbt's kept-open DuckDB connection and collect what a failed run's traceback still holds
    (its frames keep connections and relations alive until exit otherwise)."""
    if "dbt.adapters.duckdb" in sys.modules:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager

        DuckDBConnectionManager.close_all_connections()
    sys.last_traceback = sys.last_value = sys.last_type = None
    gc.collect()


def _reason(exc: BaseException) -> str:
    """What a failed flow run says to the terminal: the exception's own message for the failures the
    steps report on purpose, else its type too (an unexpected error)."""
    from csc_warehouse import load as loading
    from csc_warehouse.as_reported import PublishMonthsFailed
    from csc_warehouse.build import BuildFailed
    from csc_warehouse.serve import ServeFailed
    from csc_warehouse.spark_engine import SparkUnavailable
    from csc_warehouse.validate import GateFailed, ValidationError

    if isinstance(exc, loading.LoadRefused):
        return f"load refused: {exc}"
    expected = (GateFailed, ValidationError, BuildFailed, ServeFailed, PublishMonthsFailed, SparkUnavailable)
    if isinstance(exc, (*expected, FileNotFoundError)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _failed(message: str, exc: BaseException, log_file: Path) -> typer.Exit:
    """A flow failure as its reason and where the details are: no traceback on the terminal."""
    from csc_warehouse.flows.console import log_failure

    log_failure(message, exc)
    exc.__traceback__ = None  # drop the frames (and the DuckDB handles they hold) now
    errors.print(f"[bold red]Error:[/bold red] {message}", highlight=False)
    errors.print(f"Details: {log_file}", highlight=False, soft_wrap=True)
    return typer.Exit(code=1)


ProfileOption = Annotated[
    str,
    typer.Option(
        "--profile",
        "-p",
        help="Profile: large-county, mid-county, small-unitary, england (profiles/), or a YAML file.",
    ),
]
ScaleOption = Annotated[
    float,
    typer.Option(min=0.0001, help="Multiply every authority's children by this (same rates, smaller data)."),
]


@app.command()
def generate(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Folder to write children, events and population files into.",
            show_default=_shown(settings.DEFAULT_INPUT_DIR),
        ),
    ] = settings.DEFAULT_INPUT_DIR,
    profile: ProfileOption = "large-county",
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same files.")] = 42,
    years: Annotated[int, typer.Option(min=1, help="Years of case history to generate.")] = 5,
    start: Annotated[
        str | None, typer.Option(help="First day of the history, YYYY-MM-DD (default: set by the generator).")
    ] = None,
    file_format: Annotated[FileFormat, typer.Option("--format", help="Output file format.")] = FileFormat.csv,
    la_code: Annotated[
        str | None, typer.Option("--la", help="Code of the authority (one-authority profiles only).")
    ] = None,
    old_la_code: Annotated[str | None, typer.Option("--la-code", hidden=True)] = None,
    population: Annotated[
        int | None, typer.Option(min=100, help="Children aged 0-17 (one-authority profiles only).")
    ] = None,
    scale: ScaleOption = 1.0,
    faults: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=0.5,
            help="Also write this share of bad rows of every kind the loader quarantines "
            "(*_faults.csv, labelled in fault_labels.csv).",
        ),
    ] = 0.0,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Processes generating authorities (default: 2 when several).")
    ] = None,
) -> None:
    """Write deterministic synthetic authorities in the canonical case-event format."""
    from csc_warehouse.generate import generate as run_generate
    from csc_warehouse.profile import ProfileError

    la_code = _either(la_code, old_la_code, "--la-code", "--la")
    try:
        summary = run_generate(
            out,
            profile=profile,
            seed=seed,
            years=years,
            start=_parse_date(start),
            file_format=file_format.value,
            la_code=la_code,
            population=population,
            scale=scale,
            faults=faults,
            workers=workers,
            progress=sys.stderr.isatty(),
        )
    except (ProfileError, ValueError) as exc:
        raise _fail(str(exc)) from None
    authorities = "1 authority" if summary.authorities == 1 else f"{summary.authorities:,} authorities"
    console.print(
        f"Generated {summary.profile} ({authorities}): [bold]{summary.children:,}[/bold] children, "
        f"[bold]{summary.events:,}[/bold] events and {summary.population_rows:,} population rows "
        f"({summary.first_event_date} to {summary.last_event_date}) in {summary.out_dir}, "
        f"{summary.seconds:.1f} s ({summary.events_per_second:,.0f} events/s)"
    )
    if summary.fault_rows:
        console.print(
            f"Also wrote {summary.fault_rows:,} bad rows to *_faults.csv, each labelled in fault_labels.csv"
        )


@app.command()
def calibrate(
    profile: ProfileOption = "large-county",
    years: Annotated[
        int, typer.Option(min=3, help="Years to generate (3+: stability needs 2.5 years; repeat CP plans 5).")
    ] = 5,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    scale: ScaleOption = 1.0,
    keep: Annotated[
        Path | None, typer.Option(help="Keep the generated files and warehouse in this folder.")
    ] = None,
) -> None:
    """Generate a profile, build it, and print each headline KPI beside its target with the gap.

    Exits with code 1 when any KPI is outside its tolerance.
    """
    from csc_warehouse.calibrate import calibrate as run_calibrate
    from csc_warehouse.profile import ProfileError

    try:
        result = run_calibrate(profile, years=years, seed=seed, scale=scale, work_dir=keep,
                               progress=sys.stderr.isatty())  # fmt: skip
    except (ProfileError, ValueError) as exc:
        raise _fail(str(exc)) from None
    console.print(calibration_table(result))
    timing = ", ".join(f"{step} {sec:.1f} s" for step, sec in result.seconds.items())
    console.print(
        f"{result.generated.authorities:,} authorities, {result.profile.population:,} children, "
        f"{result.generated.events:,} events; {timing}"
    )
    outside = [r.target.label for r in result.readings if not r.within]
    if outside:
        errors.print(f"[bold red]Outside tolerance:[/bold red] {', '.join(outside)}")
        raise typer.Exit(code=1)
    console.print(f"All {len(result.readings)} headline KPIs within tolerance.")


def calibration_table(result: Any) -> Table:
    """Each target: the KPI, what the data gave, the target and tolerance, the gap, and the source."""
    table = Table(
        title=f"{result.profile.name}: months {result.period_from} to {result.period_to}",
        title_justify="left",
    )
    for heading in ("KPI", "Got", "Target", "Gap", ""):
        table.add_column(heading, justify="left" if heading == "KPI" else "right")
    table.add_column("Source", overflow="fold", max_width=60)
    for r in result.readings:
        got = "-" if r.value is None else f"{r.value:,.1f}"
        gap = "-" if r.gap is None else f"{r.gap:+,.1f}"
        mark = "[green]ok[/green]" if r.within else "[red]OUT[/red]"
        target = f"{r.target.target:,.1f} ± {r.target.tolerance:g}"
        table.add_row(r.target.label, got, target, gap, mark, r.target.source)
    return table


@app.command()
def load(
    input_dir: Annotated[
        Path,
        typer.Argument(
            help="Folder with children, events and population files (CSV or Parquet).",
            exists=True,
            file_okay=False,
        ),
    ],
    warehouse: WarehouseOption = settings.DEFAULT_WAREHOUSE,
) -> None:
    """Load canonical case-event files into the warehouse's raw schema; bad rows go to quarantine."""
    from csc_warehouse import load as loading

    try:
        report = loading.load(input_dir, warehouse, progress=sys.stderr.isatty())
    except loading.LoadRefused as exc:
        raise _fail(f"load refused: {exc}") from None
    except FileNotFoundError as exc:
        raise _fail(str(exc)) from None
    console.print(load_table(report))
    _print_load_notes(report)


@app.command()
def build(
    warehouse: WarehouseOption = settings.DEFAULT_WAREHOUSE,
    select: Annotated[str | None, typer.Option("--select", "-s", help="dbt node selection.")] = None,
    full_refresh: Annotated[bool, typer.Option("--full-refresh", help="Rebuild incremental models.")] = False,
    dbt_vars: Annotated[
        str | None, typer.Option("--vars", help='dbt vars as YAML or JSON, e.g. \'{"as_of": "2024-03-31"}\'.')
    ] = None,
    timings_dir: Annotated[
        Path | None,
        typer.Option(
            "--timings",
            help="Write per-model timings (timings.csv) and EXPLAIN ANALYZE of the 3 slowest models here.",
            file_okay=False,
        ),
    ] = None,
    old_profile_dir: Annotated[Path | None, typer.Option("--profile", hidden=True, file_okay=False)] = None,
) -> None:
    """Run dbt build (seeds, models, tests) on the warehouse."""
    import yaml

    # "--profile" names a synthetic authority's profile elsewhere (generate, calibrate).
    timings_dir = _either(timings_dir, old_profile_dir, "cscw build --profile DIR", "--timings DIR")
    from csc_warehouse.build import BuildFailed
    from csc_warehouse.build import build as run_build

    parsed = yaml.safe_load(dbt_vars) if dbt_vars else None
    if parsed is not None and not isinstance(parsed, dict):
        raise typer.BadParameter("--vars must be a mapping")
    try:
        result = run_build(warehouse, select=select, vars=parsed, full_refresh=full_refresh)
    except BuildFailed as exc:
        raise _fail(str(exc)) from None
    console.print(
        f"dbt build passed in {result.seconds:.1f} s: {result.models_passed} models, "
        f"{result.seeds_passed} seeds, {result.tests_passed} tests passed ({result.tests_warned} warned)"
    )
    if timings_dir is not None:
        from csc_warehouse.profiling import write_profile

        timings = write_profile(warehouse, timings_dir)
        slowest = [t for t in timings if t.resource_type == "model"][:5]
        console.print(f"Timings and plans in {timings_dir}; slowest models:")
        for t in slowest:
            console.print(f"  {t.seconds:7.2f} s  {t.name}")


@app.command()
def report(
    period: Annotated[
        str | None,
        typer.Option(help="A month, YYYY-MM: the report covers the quarter holding it (default: latest)."),
    ] = None,
    la_code: Annotated[
        str | None, typer.Option("--la", help="One authority (default: every authority).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Folder for the HTML files (default: reports/ beside the warehouse).",
            file_okay=False,
        ),
    ] = None,
    source: Annotated[
        Path | None,
        typer.Option(
            "--serving",
            help="Serving file to read (default: serving.duckdb beside the warehouse).",
            dir_okay=False,
        ),
    ] = None,
    warehouse: WarehouseOption = settings.DEFAULT_WAREHOUSE,
    suppress: Annotated[
        bool,
        typer.Option("--suppress", help="Suppress counts of 1-4 and figures built on them, for publication."),
    ] = False,
    old_publish: Annotated[bool, typer.Option("--publish", hidden=True)] = False,
) -> None:
    """Write the quarterly performance report (self-contained HTML) from the serving file."""
    from csc_warehouse.report import ReportError, write_reports

    suppress = _either(suppress, old_publish, "cscw report --publish", "--suppress")
    database = source or settings.serving_next_to(warehouse)
    out = out or Path(warehouse).with_name("reports")
    try:
        written = write_reports(database, out, period=period, la_code=la_code, suppress=suppress)
    except ReportError as exc:
        raise _fail(str(exc)) from None
    for path in written[:5]:
        console.print(f"Report: {path}")
    if len(written) > 5:
        console.print(f"... and {len(written) - 5} more in {out}")


@app.command()
def export(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Folder for the files (default: exports/ beside the warehouse).",
            file_okay=False,
        ),
    ] = None,
    file_format: Annotated[
        FileFormat, typer.Option("--format", help="csv (for Excel) or parquet.")
    ] = FileFormat.csv,
    source: Annotated[
        Path | None,
        typer.Option(
            "--serving", help="Serving file (default: serving.duckdb beside the warehouse).", dir_okay=False
        ),
    ] = None,
    warehouse: WarehouseOption = settings.DEFAULT_WAREHOUSE,
) -> None:
    """Export every served mart and reference table to CSV or Parquet files (aggregate figures only).

    Statutory returns (SSDA903, CIN census) are not exports: see `cscw returns`.
    """
    from csc_warehouse.exports import ExportError, export_tables

    out = out or Path(warehouse).with_name("exports")
    try:
        written = export_tables(
            source or settings.serving_next_to(warehouse), out, file_format=file_format.value
        )
    except ExportError as exc:
        raise _fail(str(exc)) from None
    console.print(f"Exported {len(written)} tables to {out}")


@app.command()
def refresh(
    input_dir: Annotated[
        Path,
        typer.Option(
            "--input",
            "-i",
            help="Folder of canonical files to load.",
            exists=True,
            file_okay=False,
            show_default=_shown(settings.DEFAULT_INPUT_DIR),
        ),
    ] = settings.DEFAULT_INPUT_DIR,
    warehouse: WarehouseOption = settings.DEFAULT_WAREHOUSE,
    serving: Annotated[
        Path | None,
        typer.Option(
            help="File BI tools read (default: serving.duckdb beside the warehouse).", dir_okay=False
        ),
    ] = None,
    engine: Annotated[
        Engine,
        typer.Option(
            help="Where dbt builds: duckdb, or spark (.venv-spark and Java 17+; README: Running on Spark)."
        ),
    ] = Engine.duckdb,
    full_refresh: Annotated[
        bool,
        typer.Option(
            "--full-refresh",
            help="Rebuild every incremental table (after changing a model or a seed, e.g. dim_kpi).",
        ),
    ] = False,
) -> None:
    """Run the monthly refresh flow (Prefect): load, validate, build, validate, publish months, serve, report.

    The dbt build is incremental: it rebuilds only the children and months that the newly loaded
    versions reach (docs/incremental.md); --full-refresh rebuilds everything.

    A failed step (or a failed "stop" check of a validation gate) leaves the serving file as it was.
    """
    with flow_run(warehouse) as log_file:
        try:
            summary = flow_module().monthly_refresh(
                str(input_dir),
                str(warehouse),
                str(serving) if serving else None,
                engine=engine.value,
                full_refresh=full_refresh,
            )
        except Exception as exc:
            raise _failed(_reason(exc), exc, log_file) from None

    totals = summary["load"]
    build_result = summary["build"]
    months = (summary.get("publish_months") or {}).get("months") or {}
    console.print(
        f"Loaded {totals['rows_loaded']:,} of {totals['rows_in']:,} rows "
        f"({totals['rows_unchanged']:,} unchanged, {totals['rows_quarantined']:,} quarantined); "
        f"dbt built {build_result['models_passed']} models and passed {build_result['tests_passed']} tests "
        f"in {build_result['seconds']:.1f} s; published {len(months)} month(s) as first reported; "
        f"served {len(summary['serve']['tables'])} tables."
    )
    gate_warnings = [
        *(summary.get("validate_events") or {}).get("warnings", []),
        *(summary.get("validate_marts") or {}).get("warnings", []),
    ]
    for warning in gate_warnings:
        console.print(f"[yellow]Validation warning:[/yellow] {warning}")
    console.print(f"Warehouse: {summary['warehouse']}\nServing:   {summary['serving']}")
    report = summary.get("report") or {}
    if report.get("markdown"):
        console.print(f"Report:    {report['markdown']} (and .csv)")


class Gate(StrEnum):
    events = "events"
    marts = "marts"
    all = "all"


def _gate_table(result: Any) -> Table:
    table = Table(
        title=f"Validation gate '{result.gate}' ({result.seconds:.1f} s)",
        title_justify="left",
        show_lines=False,
    )
    table.add_column("Check")
    table.add_column("Severity")
    table.add_column("Result")
    table.add_column("Detail")
    for check in result.checks:
        if check.success:
            outcome, detail = "[green]pass[/green]", ""
        else:
            colour = "red" if check.severity == "stop" else "yellow"
            outcome = f"[{colour}]FAIL[/{colour}]"
            detail = check.describe().split(": expected ", 1)[-1]
        table.add_row(check.name, check.severity, outcome, detail)
    return table


@app.command()
def validate(
    warehouse: WarehouseOption = settings.DEFAULT_WAREHOUSE,
    gate: Annotated[
        Gate, typer.Option("--gate", "-g", help="events (raw.events), marts (fct_kpi_monthly) or all.")
    ] = Gate.all,
    docs: Annotated[
        bool, typer.Option("--docs/--no-docs", help="Build Great Expectations Data Docs.")
    ] = True,
) -> None:
    """Run the Great Expectations gates on the warehouse: exit 1 if a "stop" check fails.

    [bold]all[/bold] validates the marts only when they have been built. Data Docs (HTML):
    gx/uncommitted/data_docs/local_site/index.html beside the warehouse ($CSCW_GX_ROOT overrides it).
    """
    from csc_warehouse import validate as validating

    gates = ["events", "marts"] if gate is Gate.all else [gate.value]
    stops = 0
    for name in gates:
        try:
            result = validating.validate_gate(
                warehouse, name, docs=docs, project_root=settings.gx_root_for(warehouse)
            )
        except validating.ValidationError as exc:
            if gate is Gate.all and name == "marts":
                console.print(f"[yellow]Marts not validated:[/yellow] {exc}")
                continue
            raise _fail(str(exc)) from None
        console.print(_gate_table(result))
        for check in result.failures:
            style = "bold red" if check.severity == "stop" else "yellow"
            console.print(f"[{style}]{check.severity.upper()}[/{style}] {check.describe()}", highlight=False)
        stops += len(result.stops)
        if result.docs:
            console.print(f"Data Docs: {result.docs}")
    if stops:
        raise _fail(f"{stops} stop check(s) failed: fix the data (or the rule) before publishing")


@app.command()
def backfill(
    start: Annotated[str, typer.Option("--from", help="First month, YYYY-MM.")],
    end: Annotated[str, typer.Option("--to", help="Last month, YYYY-MM.")],
    warehouse: WarehouseOption = settings.DEFAULT_WAREHOUSE,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Publish months already published again (the new figures supersede the old; both are kept).",
        ),
    ] = False,
    serving: Annotated[
        Path | None,
        typer.Option(
            help="File BI tools read, served again after (default: serving.duckdb beside the warehouse).",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Run the backfill flow (Prefect): publish past months as they would have been first reported.

    Each month's KPIs are computed from the event versions recorded by its reporting cut-off and stored
    in marts.fct_kpi_published (via the append-only log raw.kpi_published). Months already published are
    left as they were unless --replace is given; the monthly refresh publishes the recent months itself.
    The warehouse's own marts keep the latest view (the dbt runs happen in a scratch copy); the serving
    file is written again afterwards, so BI tools see the same published months.
    """
    from csc_warehouse.as_reported import month_ends

    try:
        month_ends(start, end)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    with flow_run(warehouse) as log_file:
        try:
            summary = flow_module("backfill").backfill(
                str(warehouse), start, end, replace, str(serving) if serving else None
            )
        except Exception as exc:
            raise _failed(_reason(exc), exc, log_file) from None
    for month in summary["published"]:
        authorities = len(month["la_codes"])
        console.print(
            f"{month['period_end'][:7]}: {month['rows']:,} KPI rows as at cut-off {month['cutoff_date']} "
            f"({authorities} authorit{'y' if authorities == 1 else 'ies'})"
        )
        for old in month["replaced"]:
            console.print(
                f"  replaced {old['la_code']}'s publication {old['publication_id']} of {old['published_at']} "
                f"({old['reason']}, cut-off {old['cutoff_date']}): {old['changed']} of {old['rows']} "
                "figures differ; the old rows stay in raw.kpi_published"
            )
    if summary["already_published"]:
        console.print(
            "[yellow]Already published, left as they were:[/yellow] "
            f"{', '.join(summary['already_published'])} (--replace publishes them again)"
        )
    if summary["not_reached"]:
        console.print(
            "[yellow]Not published, the data do not reach their reporting cut-off:[/yellow] "
            + ", ".join(summary["not_reached"])
        )
    console.print(
        f"Published {summary['rows']:,} rows ({len(summary['published'])} months) to {summary['table']} "
        f"of {summary['warehouse']}; marts.fct_kpi_published and the reports on it are rebuilt"
    )
    if summary.get("serve"):
        console.print(f"Served {len(summary['serve']['tables'])} tables in {summary['serve']['serving']}")


@app.command()
def scorecard(
    warehouse: Annotated[
        Path,
        typer.Option(
            "--warehouse",
            "-w",
            help="Warehouse or serving file to read.",
            dir_okay=False,
            show_default=_shown(settings.DEFAULT_WAREHOUSE),
        ),
    ] = settings.DEFAULT_WAREHOUSE,
    la_code: Annotated[str | None, typer.Option("--la", help="Only this authority.")] = None,
    old_la_code: Annotated[str | None, typer.Option("--la-code", hidden=True)] = None,
    suppress: Annotated[
        bool, typer.Option("--suppress", help="Hide small numbers (1-4) and what would give them away.")
    ] = False,
) -> None:
    """Print the latest month's KPIs per authority, grouped by area, beside the month before."""
    import duckdb

    from csc_warehouse.scorecard import print_scorecard

    la_code = _either(la_code, old_la_code, "--la-code", "--la")
    try:
        # As wide as the terminal (rich reads it, or $COLUMNS).
        print_scorecard(warehouse, la_code=la_code, console=console, width=console.width, suppress=suppress)
    except FileNotFoundError as exc:
        raise _fail(f"{exc}; run `cscw refresh` first") from None
    except duckdb.Error as exc:
        raise _fail(f"cannot read the scorecard from {warehouse}: {exc}") from None


@app.command()
def quarantine(
    warehouse: WarehouseOption = settings.DEFAULT_WAREHOUSE,
    load_id: Annotated[
        int | None, typer.Option("--load", help="Only the rows of this load (raw.loads).")
    ] = None,
    reason: Annotated[
        str | None,
        typer.Option(
            help="Only this reason code (e.g. unknown_child), or rows whose reason contains the words."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write every matching row to this CSV file.", dir_okay=False),
    ] = None,
    limit: Annotated[int, typer.Option(min=0, help="Rows to list on the terminal (0: counts only).")] = 20,
) -> None:
    """Count the rows loads rejected by reason, list them with file, line and reason, or export them."""
    from csc_warehouse import quarantine as quarantined

    try:
        counts = quarantined.count_by_reason(warehouse, load_id=load_id, reason=reason)
        rows = quarantined.list_rows(warehouse, load_id=load_id, reason=reason, limit=limit) if limit else []
        written = quarantined.export_rows(warehouse, out, load_id=load_id, reason=reason) if out else None
    except quarantined.QuarantineError as exc:
        raise _fail(str(exc)) from None
    which = " ".join(part for part in (f"load {load_id}" if load_id else "", reason or "") if part)
    if not counts:
        console.print(f"No quarantined rows{' for ' + which if which else ''} in {warehouse}.")
        return
    table = Table(
        title=f"Quarantined rows by reason{' (' + which + ')' if which else ''}", title_justify="left"
    )
    for heading in ("Table", "Reason", "Column", "Rows", "Loads"):
        table.add_column(heading, justify="right" if heading == "Rows" else "left")
    for c in counts:
        table.add_row(c.table_name, c.reason_code, c.column_name or "", _int(c.rows), c.loads)
    table.add_section()
    table.add_row("[bold]Total[/bold]", "", "", _int(sum(c.rows for c in counts)), "")
    console.print(table)
    if rows:
        listing = Table(title=f"First {len(rows)} rows", title_justify="left")
        for heading in ("Load", "File", "Line", "Column", "Reason"):
            listing.add_column(heading, overflow="fold")
        for r in rows:
            listing.add_row(
                str(r["load_id"]),
                str(r["file_name"]),
                str(r["source_line"]),
                r["column_name"] or "",
                r["reason"],
            )
        console.print(listing)
    if written is not None:
        console.print(f"Wrote {written:,} rows with their reasons and content to {out}")


@app.command()
def serve(
    warehouse: WarehouseOption = settings.DEFAULT_WAREHOUSE,
    serving: Annotated[
        Path | None,
        typer.Option(
            help="File BI tools read (default: serving.duckdb beside the warehouse).", dir_okay=False
        ),
    ] = None,
) -> None:
    """Write the serving file BI tools read: marts and reference only, DuckDB 1.5 format, swapped in whole."""
    from csc_warehouse.serve import ServeFailed
    from csc_warehouse.serve import serve as run_serve

    try:
        result = run_serve(warehouse, serving or settings.serving_next_to(warehouse))
    except ServeFailed as exc:
        raise _fail(str(exc)) from None
    console.print(
        f"Served {len(result.tables)} tables ({sum(result.tables.values()):,} rows) in {result.serving}"
    )


if __name__ == "__main__":  # pragma: no cover
    app()
