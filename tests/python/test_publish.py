"""serve(): only marts and reference reach the serving file, in 1.5 format, swapped in atomically."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from csc_warehouse.serve import ServeFailed, serve, storage_version

SYSTEM_SCHEMAS = {"main", "information_schema", "pg_catalog"}


def make_warehouse(path: Path, cp_plans: int) -> Path:
    """A warehouse shaped like dbt's: raw, staging views, marts tables, a marts view, reference seeds."""
    with duckdb.connect(str(path)) as con:
        for schema in ("raw", "quarantine", "staging", "marts", "reference"):
            con.execute(f"create schema if not exists {schema}")
        con.execute("create or replace table raw.events as select 'e1' as event_id")
        con.execute("create or replace table quarantine.rows as select 'bad' as reason")
        con.execute("create or replace view staging.stg_case__events as select * from raw.events")
        con.execute(
            """
            create or replace table marts.fct_kpi_monthly as
            select 'E10000015' as la_code, 'cp_plans_open' as kpi_id, date '2024-03-31' as period_end,
                   ?::double as numerator, null::double as denominator, ?::double as value
            """,
            [cp_plans, cp_plans],
        )
        con.execute("comment on table marts.fct_kpi_monthly is 'One row per LA, KPI and month end'")
        con.execute("comment on column marts.fct_kpi_monthly.value is 'The KPI value'")
        # dbt names a view's parents with the file's catalog name: the copy must resolve it.
        con.execute(
            f'create or replace view marts.rpt_latest as select * from "{path.stem}".marts.fct_kpi_monthly'
        )
        con.execute(
            "create or replace table reference.dim_kpi as "
            "select 'cp_plans_open' as kpi_id, 'Children on a CP plan' as kpi_name"
        )
    return path


def value_in(serving: Path) -> float:
    """Read the served value in another process, as a BI tool would."""
    code = (
        "import duckdb, sys\n"
        "con = duckdb.connect(sys.argv[1], read_only=True)\n"
        "print(con.sql('select value from marts.fct_kpi_monthly').fetchall()[0][0])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(serving)], capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip())


def test_child_level_tables_are_never_served(tmp_path):
    """A marts table or view with a child_id column (one row per child) stays in the warehouse."""
    warehouse = make_warehouse(tmp_path / "warehouse.duckdb", cp_plans=510)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "create table marts.fct_child_month as "
            "select 'E10000015' as la_code, 'C1' as child_id, date '2024-03-31' as period_end"
        )
        con.execute(
            f'create view marts.rpt_children as select child_id from "{warehouse.stem}".marts.fct_child_month'
        )

    result = serve(warehouse, tmp_path / "serving.duckdb")

    assert set(result.tables) == {"marts.fct_kpi_monthly", "marts.rpt_latest", "reference.dim_kpi"}
    with duckdb.connect(str(tmp_path / "serving.duckdb"), read_only=True) as con:
        assert con.sql("select count(*) from duckdb_columns() where column_name = 'child_id'").fetchall() == [
            (0,)
        ]


def test_serve_copies_only_marts_and_reference(tmp_path):
    warehouse = make_warehouse(tmp_path / "warehouse.duckdb", cp_plans=510)
    serving = tmp_path / "serving.duckdb"

    result = serve(warehouse, serving)

    assert set(result.tables) == {"marts.fct_kpi_monthly", "marts.rpt_latest", "reference.dim_kpi"}
    assert result.tables["marts.fct_kpi_monthly"] == 1
    with duckdb.connect(str(serving), read_only=True) as con:
        schemas = {
            row[0]
            for row in con.sql("select schema_name from duckdb_schemas() where not internal").fetchall()
        }
        relations = con.sql(
            "select schema_name, table_name, comment from duckdb_tables() "
            "where database_name = current_database()"
        ).fetchall()
        views = con.sql("select count(*) from duckdb_views() where not internal").fetchall()[0][0]
        column_comment = con.sql(
            "select comment from duckdb_columns() "
            "where table_name = 'fct_kpi_monthly' and column_name = 'value'"
        ).fetchall()[0][0]
        latest = con.sql("select value from marts.rpt_latest").fetchall()
    assert schemas - SYSTEM_SCHEMAS == {"marts", "reference"}
    assert {schema for schema, _, _ in relations} == {"marts", "reference"}, "main must stay empty"
    assert ("marts", "fct_kpi_monthly", "One row per LA, KPI and month end") in relations
    assert views == 0, "views are materialised: their parents are not in the serving file"
    assert column_comment == "The KPI value"
    assert latest == [(510.0,)]
    assert storage_version(serving).startswith("v1.5.0")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["serving.duckdb", "warehouse.duckdb"]


def test_replace_is_atomic_for_an_open_reader(tmp_path):
    serving = tmp_path / "serving.duckdb"
    serve(make_warehouse(tmp_path / "warehouse.duckdb", cp_plans=510), serving)
    reader = duckdb.connect(str(serving), read_only=True)
    try:
        assert reader.sql("select value from marts.fct_kpi_monthly").fetchall() == [(510.0,)]

        serve(make_warehouse(tmp_path / "warehouse.duckdb", cp_plans=485), serving)

        # The open reader keeps its copy and keeps working; a new reader gets the new file.
        assert reader.sql("select value from marts.fct_kpi_monthly").fetchall() == [(510.0,)]
        assert reader.sql("select count(*) from reference.dim_kpi").fetchall() == [(1,)]
        assert value_in(serving) == 485.0
    finally:
        reader.close()
    with duckdb.connect(str(serving), read_only=True) as con:
        assert con.sql("select value from marts.fct_kpi_monthly").fetchall() == [(485.0,)]


def test_failed_serve_leaves_serving_untouched(tmp_path):
    serving = tmp_path / "serving.duckdb"
    serve(make_warehouse(tmp_path / "warehouse.duckdb", cp_plans=510), serving)
    before = serving.read_bytes()
    empty = tmp_path / "empty.duckdb"
    with duckdb.connect(str(empty)) as con:
        con.execute("create schema raw; create table raw.events as select 1 as x")

    with pytest.raises(ServeFailed, match="no table in schemas marts, reference"):
        serve(empty, serving)

    assert serving.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "empty.duckdb",
        "serving.duckdb",
        "warehouse.duckdb",
    ]


def test_missing_warehouse_is_refused(tmp_path):
    with pytest.raises(ServeFailed, match="warehouse not found"):
        serve(tmp_path / "nope.duckdb", tmp_path / "serving.duckdb")
    assert not (tmp_path / "serving.duckdb").exists()


# --------------------------------------------------------------------------------------------------
# A real DuckDB 1.5 client (what DBeaver, Metabase, Superset and Evidence bundle) opens the serving file.
# `make test-bi-compat` creates .venv-duckdb15 with the pinned client and runs this with it required.

BI_CHECK = """
import sys
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
rows = con.sql("select count(*) from marts.fct_kpi_monthly").fetchall()[0][0]
print(duckdb.__version__, rows)
"""


def bi_python() -> Path:
    """The DuckDB 1.5 venv's python: $CSCW_BI_PYTHON (required when set), else .venv-duckdb15 (else skip)."""
    from csc_warehouse import settings

    explicit = os.environ.get("CSCW_BI_PYTHON")
    python = Path(explicit) if explicit else settings.PROJECT_ROOT / ".venv-duckdb15" / "bin" / "python"
    if not python.exists():
        if explicit:
            pytest.fail(f"CSCW_BI_PYTHON={explicit} does not exist: run `make test-bi-compat`")
        pytest.skip("no DuckDB 1.5 client venv (.venv-duckdb15): `make test-bi-compat` creates it")
    return python


def run_bi_client(python: Path, database: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(python), "-c", BI_CHECK, str(database)], capture_output=True, text=True, timeout=60
    )


def test_serving_file_opens_in_a_duckdb_15_client(tmp_path):
    python = bi_python()
    serving = tmp_path / "serving.duckdb"
    serve(make_warehouse(tmp_path / "warehouse.duckdb", cp_plans=510), serving)

    out = run_bi_client(python, serving)

    assert out.returncode == 0, out.stderr
    version, rows = out.stdout.split()
    assert version.startswith("1.5."), f"the BI venv has DuckDB {version}, not 1.5"
    pinned = os.environ.get("CSCW_BI_DUCKDB_VERSION")
    assert pinned is None or version == pinned
    assert int(rows) == 1
    # The control: the same data in a file written in DuckDB 2.0's default format is refused by 1.5,
    # so the check above proves the publish's storage version, not a lenient client.
    native = tmp_path / "native.duckdb"
    with duckdb.connect(str(native)) as con:
        con.execute("create schema marts; create table marts.fct_kpi_monthly as select 1 as x")
    refused = run_bi_client(python, native)
    assert refused.returncode != 0


READER = """
import sys
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
query = "select value from marts.fct_kpi_monthly"
print(con.sql(query).fetchall()[0][0], flush=True)
sys.stdin.readline()  # the publish happens here, while this process holds the file open
print(con.sql(query).fetchall()[0][0], flush=True)
con.close()  # DuckDB shares one open database per path within a process: close it to see the new file
print(duckdb.connect(sys.argv[1], read_only=True).sql(query).fetchall()[0][0], flush=True)
"""


def test_reader_in_another_process_keeps_the_old_copy_during_a_serve(tmp_path):
    """A BI tool is another process: holding the file open, it neither blocks the publish nor sees it."""
    serving = tmp_path / "serving.duckdb"
    serve(make_warehouse(tmp_path / "warehouse.duckdb", cp_plans=510), serving)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(serving)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert float(reader.stdout.readline()) == 510.0

        serve(make_warehouse(tmp_path / "warehouse.duckdb", cp_plans=485), serving)

        out, err = reader.communicate("go\n", timeout=60)
    finally:
        if reader.poll() is None:
            reader.kill()
    assert reader.returncode == 0, err
    still_open, reopened = (float(line) for line in out.split())
    assert still_open == 510.0, "the open connection keeps reading the copy it opened"
    assert reopened == 485.0, "reconnecting gets the published file"
    assert value_in(serving) == 485.0


def test_the_old_publish_module_still_serves_and_says_it_is_deprecated(tmp_path):
    """csc_warehouse.publish is kept one release as a shim of csc_warehouse.serve."""
    import importlib
    import sys

    from csc_warehouse import serve as serving_module

    sys.modules.pop("csc_warehouse.publish", None)
    with pytest.warns(DeprecationWarning, match="use csc_warehouse.serve"):
        old = importlib.import_module("csc_warehouse.publish")
    assert old.publish is serving_module.serve and old.PublishFailed is serving_module.ServeFailed
    result = old.publish(make_warehouse(tmp_path / "warehouse.duckdb", cp_plans=510), tmp_path / "s.duckdb")
    assert result.tables["marts.fct_kpi_monthly"] == 1
