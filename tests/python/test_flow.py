"""The Prefect flow runs load -> dbt build -> publish in turn, stops at the first failure, and is what
`cscw refresh` runs. Most tests replace the three steps with recorders (their own tests cover them);
one runs the real pieces end to end on a tiny synthetic authority."""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest
from typer.testing import CliRunner

import csc_warehouse
from csc_warehouse import build as building
from csc_warehouse import cli
from csc_warehouse import publish as publishing
from csc_warehouse.publish import storage_version


@pytest.fixture(scope="session")
def flow_module(tmp_path_factory):
    """flows/monthly_refresh.py against a temporary Prefect server and a temporary PREFECT_HOME."""
    home = tmp_path_factory.mktemp("prefect_home")
    os.environ["PREFECT_HOME"] = str(home)  # before prefect is first imported, if it is not yet
    from prefect.settings import PREFECT_HOME, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with (
        temporary_settings(updates={PREFECT_HOME: str(home)}),
        prefect_test_harness(server_startup_timeout=120),
    ):
        yield cli.flow_module()


@pytest.fixture
def steps(monkeypatch, tmp_path):
    """Replace load, build and publish with recorders; `steps.calls` lists the steps in the order run."""
    try:
        from csc_warehouse import load as loading
    except ImportError:  # load.py not written yet: a stand-in with the agreed interface
        loading = types.ModuleType("csc_warehouse.load")
        loading.LoadRefused = type("LoadRefused", (Exception,), {})
        monkeypatch.setitem(sys.modules, "csc_warehouse.load", loading)
        monkeypatch.setattr(csc_warehouse, "load", loading, raising=False)

    calls: list[tuple] = []
    state = SimpleNamespace(calls=calls, loading=loading, fail_at=None, error=None)

    def fake_load(input_dir, warehouse, **kwargs):
        calls.append(("load", Path(input_dir), Path(warehouse)))
        if state.fail_at == "load":
            raise state.error
        table = SimpleNamespace(
            table="events",
            file=Path(input_dir) / "events.csv",
            rows_in=100,
            rows_loaded=90,
            rows_unchanged=6,
            rows_quarantined=4,
            unknown_event_types=[],
        )
        return SimpleNamespace(
            load_id="L1",
            tables=[table],
            warnings=[],
            rows_in=100,
            rows_loaded=90,
            rows_unchanged=6,
            rows_quarantined=4,
        )

    def fake_build(warehouse, **kwargs):
        calls.append(("build", Path(warehouse)))
        if state.fail_at == "build":
            raise state.error
        return building.BuildResult(models_passed=12, tests_passed=40, seeds_passed=3, seconds=1.5)

    def fake_publish(warehouse, serving, **kwargs):
        calls.append(("publish", Path(warehouse), Path(serving)))
        return publishing.PublishResult(
            serving=Path(serving), tables={"marts.fct_kpi_monthly": 48}, seconds=0.1
        )

    monkeypatch.setattr(loading, "load", fake_load, raising=False)
    monkeypatch.setattr(building, "build", fake_build)
    monkeypatch.setattr(publishing, "publish", fake_publish)
    return state


def test_flow_runs_the_steps_in_order_and_summarises(flow_module, steps, tmp_path):
    warehouse = tmp_path / "w" / "warehouse.duckdb"

    summary = flow_module.monthly_refresh(str(tmp_path / "in"), str(warehouse))

    serving = warehouse.with_name("serving.duckdb")
    assert steps.calls == [
        ("load", tmp_path / "in", warehouse),
        ("build", warehouse),
        ("publish", warehouse, serving),
    ]
    assert summary["load"]["rows_in"] == 100
    assert summary["load"]["rows_loaded"] + summary["load"]["rows_unchanged"] == 96
    assert summary["load"]["rows_quarantined"] == 4
    assert summary["build"]["models_passed"] == 12 and summary["build"]["tests_passed"] == 40
    assert summary["publish"]["tables"] == {"marts.fct_kpi_monthly": 48}
    assert summary["serving"] == str(serving)


def test_failed_build_stops_before_publish(flow_module, steps, tmp_path):
    steps.fail_at, steps.error = "build", building.BuildFailed(["model.csc_warehouse.fct_kpi_monthly: boom"])

    with pytest.raises(building.BuildFailed, match="fct_kpi_monthly"):
        flow_module.monthly_refresh(
            str(tmp_path), str(tmp_path / "warehouse.duckdb"), str(tmp_path / "s.duckdb")
        )

    assert [call[0] for call in steps.calls] == ["load", "build"]


def test_refused_load_stops_the_run(flow_module, steps, tmp_path):
    steps.fail_at, steps.error = "load", steps.loading.LoadRefused("events.csv: no header")

    with pytest.raises(steps.loading.LoadRefused):
        flow_module.monthly_refresh(str(tmp_path), str(tmp_path / "warehouse.duckdb"))

    assert [call[0] for call in steps.calls] == ["load"]


def test_cli_refresh_runs_the_flow(flow_module, steps, tmp_path):
    serving = tmp_path / "bi" / "serving.duckdb"
    result = CliRunner().invoke(
        cli.app,
        [
            "refresh",
            "--input",
            str(tmp_path),
            "--warehouse",
            str(tmp_path / "w.duckdb"),
            "--serving",
            str(serving),
        ],
        env={"COLUMNS": "200"},
    )

    assert result.exit_code == 0, result.output
    assert [call[0] for call in steps.calls] == ["load", "build", "publish"]
    assert steps.calls[-1][2] == serving
    assert "Loaded 90 of 100 rows" in result.output
    assert str(serving) in result.output


def test_cli_refresh_reports_a_failed_build(flow_module, steps, tmp_path):
    steps.fail_at, steps.error = "build", building.BuildFailed(["test.csc_warehouse.not_null_x: 3 rows"])
    result = CliRunner().invoke(
        cli.app, ["refresh", "--input", str(tmp_path), "--warehouse", str(tmp_path / "w.duckdb")]
    )

    assert result.exit_code == 1
    assert "not_null_x" in result.output
    assert [call[0] for call in steps.calls] == ["load", "build"]


@pytest.mark.slow
def test_refresh_end_to_end_on_a_tiny_authority(flow_module, tmp_path):
    """The real generate -> load -> dbt build -> publish on one small authority, then a refused load."""
    generating = pytest.importorskip("csc_warehouse.generate")
    loading = pytest.importorskip("csc_warehouse.load")
    inputs, warehouse = tmp_path / "in", tmp_path / "warehouse.duckdb"
    generating.generate(inputs, seed=7, years=1, population=5_000)

    summary = flow_module.monthly_refresh(str(inputs), str(warehouse))

    load = summary["load"]
    assert load["rows_in"] == load["rows_loaded"] + load["rows_unchanged"] + load["rows_quarantined"] > 0
    assert summary["build"]["models_failed"] == summary["build"]["tests_failed"] == 0
    serving = Path(summary["serving"])
    assert serving == tmp_path / "serving.duckdb"
    with duckdb.connect(str(serving), read_only=True) as con:
        kpi_rows = con.sql("select count(*) from marts.fct_kpi_monthly").fetchall()[0][0]
        schemas = {r[0] for r in con.sql("select distinct schema_name from duckdb_tables()").fetchall()}
    assert kpi_rows > 0
    assert schemas == {"marts", "reference"}
    assert storage_version(serving).startswith("v1.5.0")
    result = CliRunner().invoke(cli.app, ["scorecard", "--warehouse", str(serving)], env={"COLUMNS": "160"})
    assert result.exit_code == 0 and "Scorecard" in result.output

    # A refused load stops the run: the served file is the one published above, byte for byte.
    before = serving.read_bytes()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "events.csv").write_text("not,the,contract\n1,2,3\n")
    with pytest.raises(loading.LoadRefused):
        flow_module.monthly_refresh(str(bad), str(warehouse))
    assert serving.read_bytes() == before
