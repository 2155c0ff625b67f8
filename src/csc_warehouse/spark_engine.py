"""Run the project's dbt models on Spark (dbt-spark) instead of DuckDB.

The loader stays on DuckDB: it checks every row and quarantines the ones that break the contract. The
checked `raw.*` tables are then exported to Parquet, one folder per table, and the `on-run-start` hook
`register_raw_parquet` (macros/spark_sources.sql) registers each folder as an external Spark table, so
the models read the same rows on both engines through `source()`. Spark writes its tables as Parquet
under `<spark dir>/warehouse/<schema>.db/<table>/`; `copy_back` reads the marts and reference tables
from there into the DuckDB warehouse, so the steps after the build (validation, publishing, reports)
run unchanged.

dbt-spark and pyspark live in their own virtual environment (`.venv-spark`, pinned by
requirements-spark.lock): pyspark is a 450 MB download that DuckDB users do not need, so dbt runs there
as a subprocess. `$CSCW_SPARK_DBT` names another dbt executable with dbt-spark (or dbt-databricks).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from csc_warehouse import settings
from csc_warehouse.build import BuildFailed, BuildResult, dbt_args, summarise_nodes

MIN_JAVA = 17
SPARK_VENV: Path = settings.PROJECT_ROOT / ".venv-spark"
DBT_ENV = "CSCW_SPARK_DBT"
# Every table the loader and the publication log keep in raw.*; the ones missing are skipped.
RAW_TABLES: tuple[str, ...] = ("children", "events", "population", "loads", "kpi_published")
# What the steps after the build read from the warehouse (validate marts, publish, report).
COPIED_SCHEMAS: tuple[str, ...] = ("marts", "reference")

JAVA_HELP = (
    "Spark needs Java {need} or newer ({found}). Install a JDK, e.g."
    " `apt-get install openjdk-17-jre-headless` (Debian/Ubuntu), `brew install openjdk@17` (macOS)"
    " or Temurin 17 from adoptium.net, then put its `java` on the PATH or set JAVA_HOME."
)
VENV_HELP = (
    "dbt-spark is not installed: {path} is missing. Run `make test-spark` once (it creates .venv-spark from"
    " requirements-spark.lock), or `python3.11 -m venv .venv-spark && .venv-spark/bin/pip install -r"
    " requirements-spark.lock`, or set {env} to a dbt executable that has dbt-spark."
)


class SparkUnavailable(RuntimeError):
    """Spark cannot run here: Java or dbt-spark is missing; the message says how to install it."""


@dataclass(frozen=True)
class SparkDirs:
    """Where one Spark warehouse keeps its files (all below `root`, so a test can delete it)."""

    root: Path

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse"

    @property
    def target(self) -> Path:
        return self.root / "target"

    def table(self, schema: str, table: str) -> Path:
        # Spark's managed tables: <spark.sql.warehouse.dir>/<database>.db/<table>/part-*.parquet.
        return self.warehouse / f"{schema}.db" / table


def default_dirs(warehouse: Path) -> SparkDirs:
    """The Spark folder of a DuckDB warehouse: `spark/` beside it (data/spark for data/warehouse.duckdb)."""
    return SparkDirs(Path(warehouse).resolve().parent / "spark")


def java_major_version() -> int | None:
    """The major version of the `java` Spark would start ($JAVA_HOME/bin/java, else the PATH), or None."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java or not Path(java).exists():
        return None
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return None
    # `openjdk version "17.0.15"`, `java version "1.8.0_402"`: Java 8 and older say 1.x.
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def check_java() -> int:
    """Return Java's major version; raise SparkUnavailable with install instructions when it is too old."""
    version = java_major_version()
    if version is None or version < MIN_JAVA:
        found = "no java found" if version is None else f"found Java {version}"
        raise SparkUnavailable(JAVA_HELP.format(need=MIN_JAVA, found=found))
    return version


def dbt_executable() -> Path:
    """The dbt that has dbt-spark: $CSCW_SPARK_DBT, else .venv-spark/bin/dbt."""
    path = Path(os.environ.get(DBT_ENV) or SPARK_VENV / "bin" / "dbt")
    if not path.exists():
        raise SparkUnavailable(VENV_HELP.format(path=path, env=DBT_ENV))
    return path


def export_raw(warehouse: Path, raw_dir: Path) -> dict[str, int]:
    """Write each raw.* table of the DuckDB warehouse to `raw_dir/<table>/data.parquet`; rows per table."""
    rows: dict[str, int] = {}
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        present = {
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'raw'"
            ).fetchall()
        }
        for table in RAW_TABLES:
            if table not in present:
                continue
            folder = raw_dir / table
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            target = str(folder / "data.parquet").replace("'", "''")
            con.execute(f"copy (select * from raw.{table}) to '{target}' (format parquet)")
            rows[table] = con.execute(f"select count(*) from raw.{table}").fetchall()[0][0]
    finally:
        con.close()
    return rows


def spark_environment(dirs: SparkDirs, tables: list[str]) -> dict[str, str]:
    """The variables profiles.yml's `spark` target and macros/spark_sources.sql read."""
    env = dict(os.environ)
    env.update(settings.TELEMETRY_ENV)
    env.update(
        {
            "CSCW_TARGET": "spark",
            "CSCW_SPARK_DIR": str(dirs.root),
            "CSCW_SPARK_RAW_DIR": str(dirs.raw),
            "CSCW_SPARK_RAW_TABLES": ",".join(tables),
            "DBT_PROFILES_DIR": str(settings.PROJECT_ROOT),
        }
    )
    # pyspark starts the JVM from JAVA_HOME when set: point it at the java on the PATH otherwise.
    if "JAVA_HOME" not in env and (java := shutil.which("java")):
        env["JAVA_HOME"] = str(Path(java).resolve().parent.parent)
    return env


def _summarise(run_results: Path, seconds: float) -> tuple[BuildResult, list[str]]:
    """Count passes and failures from dbt's run_results.json (the subprocess has no result objects)."""
    if not run_results.exists():
        return BuildResult(seconds=seconds), []
    results = json.loads(run_results.read_text())["results"]
    return summarise_nodes(
        ((r["unique_id"].split(".", 1)[0], r["status"], r["unique_id"], r.get("message")) for r in results),
        seconds,
    )


def build(
    warehouse: Path,
    *,
    dirs: SparkDirs | None = None,
    select: str | None = None,
    vars: dict | None = None,
) -> BuildResult:
    """Export raw.* of `warehouse` to Parquet, run `dbt build --target spark`; raise BuildFailed on failure.

    Unit tests are left out: their fixtures are written in DuckDB SQL (they test the model logic, which
    the DuckDB build covers). dbt's artefacts and log go to `<spark dir>/target` and `<spark dir>/logs`,
    so a Spark build never overwrites those of a DuckDB build.
    """
    check_java()
    dbt = dbt_executable()
    dirs = dirs or default_dirs(warehouse)
    dirs.root.mkdir(parents=True, exist_ok=True)
    exported = export_raw(Path(warehouse), dirs.raw)
    # Always a full build: the incremental strategy of the DuckDB models deletes rows, which plain
    # Parquet tables on Spark cannot (a Delta or Iceberg deployment would use merge instead).
    args = dbt_args("build", project_dir=settings.PROJECT_ROOT, select=select, vars=vars, full_refresh=True)
    args += [
        "--target",
        "spark",
        "--exclude-resource-type",
        "unit_test",
        "--target-path",
        str(dirs.target),
        "--log-path",
        str(dirs.root / "logs"),
    ]
    started = time.perf_counter()
    # cwd: pyspark may still drop a derby.log or spark-warehouse/ in it despite the settings.
    process = subprocess.run(
        [str(dbt), *args],
        cwd=dirs.root,
        env=spark_environment(dirs, sorted(exported)),
        capture_output=True,
        text=True,
        check=False,
    )
    summary, failures = _summarise(dirs.target / "run_results.json", time.perf_counter() - started)
    if process.returncode != 0:
        if not failures:
            tail = "\n".join((process.stdout + process.stderr).strip().splitlines()[-30:])
            failures = [f"dbt on Spark exited with {process.returncode}:\n{tail}"]
        raise BuildFailed(failures, skipped=summary.skipped)
    return summary


def parquet_scan(dirs: SparkDirs, schema: str, table: str) -> str:
    """A DuckDB table function reading one Spark table's Parquet files."""
    folder = dirs.table(schema, table)
    if not folder.is_dir():
        raise FileNotFoundError(f"Spark table {schema}.{table} not found at {folder}")
    pattern = str(folder / "*.parquet").replace("'", "''")
    return f"read_parquet('{pattern}')"


def copy_back(warehouse: Path, dirs: SparkDirs, schemas: tuple[str, ...] = COPIED_SCHEMAS) -> dict[str, int]:
    """Replace the DuckDB warehouse's tables of `schemas` by Spark's; rows per `schema.table` copied."""
    copied: dict[str, int] = {}
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("begin transaction")
        for schema in schemas:
            folder = dirs.warehouse / f"{schema}.db"
            tables = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
            if tables:
                con.execute(f"create schema if not exists {schema}")
            for table in tables:
                name = f"{schema}.{table}"
                con.execute(
                    f"create or replace table {name} as select * from {parquet_scan(dirs, schema, table)}"
                )
                copied[name] = con.execute(f"select count(*) from {name}").fetchall()[0][0]
        con.execute("commit")
    finally:
        con.close()
    return copied


def build_and_copy_back(warehouse: Path, *, dirs: SparkDirs | None = None, **kwargs: Any) -> BuildResult:
    """The refresh's build step on Spark: build there, then bring marts and reference back to DuckDB."""
    dirs = dirs or default_dirs(warehouse)
    result = build(warehouse, dirs=dirs, **kwargs)
    copy_back(Path(warehouse), dirs)
    return result


def main(argv: list[str] | None = None) -> int:
    """`python -m csc_warehouse.spark_engine check-java | build [--warehouse FILE] [--select SEL]`."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m csc_warehouse.spark_engine")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check-java", help="exit 1, saying how to install it, without Java 17+")
    run = commands.add_parser("build", help="export raw.*, dbt build on Spark, copy marts back to DuckDB")
    run.add_argument("--warehouse", type=Path, default=settings.DEFAULT_WAREHOUSE)
    run.add_argument("--spark-dir", type=Path, default=None, help="default: spark/ beside the warehouse")
    run.add_argument("--select", default=None)
    run.add_argument("--no-copy-back", action="store_true", help="leave the DuckDB warehouse as it is")
    args = parser.parse_args(argv)
    try:
        if args.command == "check-java":
            print(f"Java {check_java()}: fine for Spark")
            return 0
        dirs = SparkDirs(args.spark_dir.resolve()) if args.spark_dir else default_dirs(args.warehouse)
        result = build(args.warehouse, dirs=dirs, select=args.select)
        built = f"{result.models_passed} models, {result.tests_passed} tests"
        print(f"dbt build on Spark: {built} in {result.seconds:.0f} s")
        if not args.no_copy_back:
            copied = copy_back(args.warehouse, dirs)
            print(f"copied {len(copied)} tables ({sum(copied.values()):,} rows) into {args.warehouse}")
    except (SparkUnavailable, BuildFailed) as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
