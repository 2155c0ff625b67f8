"""The Prefect flow runs load -> validate events -> dbt build -> validate marts -> publish months ->
serve -> report in turn, stops at the first failure (a failed "stop" gate included), and is what
`cscw refresh` runs. Most tests replace the steps with recorders (their own tests cover them); the slow
ones run the real pieces end to end on a tiny synthetic authority, and the backfill flow."""

from __future__ import annotations

import logging
import os
import sys
import types
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest
from typer.testing import CliRunner

import csc_warehouse
from csc_warehouse import as_reported, cli, report_files
from csc_warehouse import build as building
from csc_warehouse import serve as serving_module
from csc_warehouse import validate as validating
from csc_warehouse.serve import storage_version


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
    """Replace every step with a recorder; `steps.calls` lists the steps in the order run.

    `fail_at` / `error` make a step raise; `gate_stops` / `gate_warns` map a gate to the check names that
    fail in it; `gate_errors` lists exceptions the gates raise (once each) before they can run.
    """
    try:
        from csc_warehouse import load as loading
    except ImportError:  # load.py not written yet: a stand-in with the agreed interface
        loading = types.ModuleType("csc_warehouse.load")
        loading.LoadRefused = type("LoadRefused", (Exception,), {})
        monkeypatch.setitem(sys.modules, "csc_warehouse.load", loading)
        monkeypatch.setattr(csc_warehouse, "load", loading, raising=False)

    calls: list[tuple] = []
    state = SimpleNamespace(
        calls=calls, loading=loading, fail_at=None, error=None, gate_stops={}, gate_warns={}, gate_errors=[]
    )

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

    def fake_publish_months(warehouse, **kwargs):
        calls.append(("publish months", Path(warehouse)))
        return as_reported.PublishResult(warehouse=Path(warehouse))

    def fake_serve(warehouse, serving, **kwargs):
        calls.append(("serve", Path(warehouse), Path(serving)))
        return serving_module.ServeResult(
            serving=Path(serving), tables={"marts.fct_kpi_monthly": 48}, seconds=0.1
        )

    def fake_gate(warehouse, gate, **kwargs):
        calls.append((f"validate {gate}", Path(warehouse)))
        if state.gate_errors:
            raise state.gate_errors.pop(0)
        result = validating.ValidationResult(gate=gate, warehouse=Path(warehouse), rows={gate: 10})
        for severity, failing in ((validating.STOP, state.gate_stops), (validating.WARN, state.gate_warns)):
            for name in failing.get(gate, []):
                result.checks.append(
                    validating.CheckResult(
                        name=name,
                        severity=severity,
                        suite=f"{gate}_suite",
                        expectation="expect_column_values_to_be_in_set",
                        description="a rule",
                        success=False,
                        element_count=10,
                        unexpected_count=2,
                        examples=[{"event_id": "e7"}],
                    )
                )
        return result

    def fake_report(database, out_dir, **kwargs):
        calls.append(("report", Path(database), Path(out_dir)))
        state.report_notes = list(kwargs.get("notes", []))
        return report_files.ReportFiles("2024-03-31", Path(out_dir) / "s.csv", Path(out_dir) / "s.md", 48)

    monkeypatch.setattr(loading, "load", fake_load, raising=False)
    monkeypatch.setattr(building, "build", fake_build)
    monkeypatch.setattr(as_reported, "publish_due", fake_publish_months)
    monkeypatch.setattr(serving_module, "serve", fake_serve)
    monkeypatch.setattr(validating, "validate_gate", fake_gate)
    monkeypatch.setattr(report_files, "write_scorecard_report", fake_report)
    return state


def step_names(steps) -> list[str]:
    return [call[0] for call in steps.calls]


ALL_STEPS = ["load", "validate events", "build", "validate marts", "publish months", "serve", "report"]


def test_flow_runs_the_steps_in_order_and_summarises(flow_module, steps, tmp_path):
    warehouse = tmp_path / "w" / "warehouse.duckdb"

    summary = flow_module.monthly_refresh(str(tmp_path / "in"), str(warehouse))

    serving = warehouse.with_name("serving.duckdb")
    assert steps.calls == [
        ("load", tmp_path / "in", warehouse),
        ("validate events", warehouse),
        ("build", warehouse),
        ("validate marts", warehouse),
        ("publish months", warehouse),
        ("serve", warehouse, serving),
        ("report", serving, warehouse.with_name("reports")),
    ]
    assert summary["load"]["rows_in"] == 100
    assert summary["load"]["rows_loaded"] + summary["load"]["rows_unchanged"] == 96
    assert summary["load"]["rows_quarantined"] == 4
    assert summary["build"]["models_passed"] == 12 and summary["build"]["tests_passed"] == 40
    assert summary["serve"]["tables"] == {"marts.fct_kpi_monthly": 48}
    assert summary["publish_months"]["months"] == {}
    assert summary["serving"] == str(serving)
    assert summary["validate_events"]["ok"] and summary["validate_marts"]["ok"]
    assert summary["report"]["markdown"] == str(warehouse.with_name("reports") / "s.md")


def test_failed_build_stops_before_publish(flow_module, steps, tmp_path):
    steps.fail_at, steps.error = "build", building.BuildFailed(["model.csc_warehouse.fct_kpi_monthly: boom"])

    with pytest.raises(building.BuildFailed, match="fct_kpi_monthly"):
        flow_module.monthly_refresh(
            str(tmp_path), str(tmp_path / "warehouse.duckdb"), str(tmp_path / "s.duckdb")
        )

    assert step_names(steps) == ["load", "validate events", "build"]


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
    assert step_names(steps) == ALL_STEPS
    assert steps.calls[-2][2] == serving
    assert "Loaded 90 of 100 rows" in result.output
    assert str(serving) in result.output


def test_cli_refresh_reports_a_failed_build(flow_module, steps, tmp_path):
    steps.fail_at, steps.error = "build", building.BuildFailed(["test.csc_warehouse.not_null_x: 3 rows"])
    result = CliRunner().invoke(
        cli.app, ["refresh", "--input", str(tmp_path), "--warehouse", str(tmp_path / "w.duckdb")]
    )

    assert result.exit_code == 1
    assert "not_null_x" in result.output
    assert step_names(steps) == ["load", "validate events", "build"]


def test_failed_stop_check_on_events_stops_before_the_build_and_is_named(
    flow_module, steps, tmp_path, caplog
):
    steps.gate_stops = {"events": ["events.code_in_closed_list.icpc_held"]}

    with (
        caplog.at_level(logging.INFO),
        pytest.raises(validating.GateFailed, match=r"events\.code_in_closed_list\.icpc_held") as caught,
    ):
        flow_module.monthly_refresh(str(tmp_path), str(tmp_path / "warehouse.duckdb"))

    assert step_names(steps) == ["load", "validate events"], "a failed gate is not retried"
    assert caught.value.failed == ["events.code_in_closed_list.icpc_held"]
    assert "event_id=e7" in str(caught.value)
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("STOP events.code_in_closed_list.icpc_held" in m for m in logged), logged


def test_failed_stop_check_on_marts_stops_before_publish(flow_module, steps, tmp_path):
    steps.gate_stops = {"marts": ["kpi.pct_between_0_and_100"]}

    with pytest.raises(validating.GateFailed, match=r"kpi\.pct_between_0_and_100"):
        flow_module.monthly_refresh(str(tmp_path), str(tmp_path / "warehouse.duckdb"))

    assert step_names(steps) == ["load", "validate events", "build", "validate marts"]


def test_warnings_are_logged_and_the_run_goes_on(flow_module, steps, tmp_path, caplog):
    steps.gate_warns = {"events": ["cla_periods.no_overlap"], "marts": []}

    with caplog.at_level(logging.INFO):
        summary = flow_module.monthly_refresh(str(tmp_path), str(tmp_path / "warehouse.duckdb"))

    assert step_names(steps) == ALL_STEPS
    assert summary["validate_events"]["ok"]
    assert "cla_periods.no_overlap" in summary["validate_events"]["warnings"][0]
    assert any("cla_periods.no_overlap" in note for note in steps.report_notes), "the report lists it"
    assert any(
        "warning cla_periods.no_overlap" in r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING
    )


def test_a_gate_that_cannot_run_is_retried(flow_module, steps, tmp_path):
    steps.gate_errors = [duckdb.IOException("Could not set lock on file: Conflicting lock is held")]

    flow_module.monthly_refresh(str(tmp_path), str(tmp_path / "warehouse.duckdb"))

    assert step_names(steps) == ["load", "validate events", *ALL_STEPS[1:]]


def test_cli_refresh_reports_a_failed_gate(flow_module, steps, tmp_path):
    steps.gate_stops = {"marts": ["kpi.every_kpi_every_month"]}
    serving = tmp_path / "serving.duckdb"
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

    assert result.exit_code == 1
    assert "kpi.every_kpi_every_month" in result.output
    assert "serve" not in step_names(steps) and not serving.exists()


@pytest.mark.slow
def test_refresh_end_to_end_on_a_tiny_authority(flow_module, tmp_path, monkeypatch):
    """The real generate -> load -> validate -> dbt build -> validate -> publish months -> serve -> report
    on one small authority, every output beside the warehouse; then a refused load."""
    monkeypatch.delenv(validating.GX_ROOT_ENV, raising=False)
    generating = pytest.importorskip("csc_warehouse.generate")
    loading = pytest.importorskip("csc_warehouse.load")
    inputs, warehouse = tmp_path / "in", tmp_path / "warehouse.duckdb"
    generating.generate(inputs, seed=7, years=1, population=5_000)

    summary = flow_module.monthly_refresh(str(inputs), str(warehouse))

    for gate in ("validate_events", "validate_marts"):
        assert summary[gate]["ok"], summary[gate]["stops"]
        # Counted in DuckDB: Data Docs only from cscw validate or a gate that stops.
        assert summary[gate]["engine"] == "sql" and summary[gate]["docs"] is None
    report = summary["report"]
    assert Path(report["csv"]).parent == tmp_path / "reports"
    assert Path(report["csv"]).name == f"scorecard_{report['period_end'][:7]}.csv"
    assert report["rows"] > 0
    assert Path(report["markdown"]).read_text().startswith("# Scorecard")

    load = summary["load"]
    assert load["rows_in"] == load["rows_loaded"] + load["rows_unchanged"] + load["rows_quarantined"] > 0
    assert summary["build"]["models_failed"] == summary["build"]["tests_failed"] == 0
    serving = Path(summary["serving"])
    assert serving == tmp_path / "serving.duckdb"
    with duckdb.connect(str(serving), read_only=True) as con:
        kpi_rows = con.sql("select count(*) from marts.fct_kpi_monthly").fetchall()[0][0]
        schemas = {r[0] for r in con.sql("select distinct schema_name from duckdb_tables()").fetchall()}
        published = con.sql("select count(distinct period_end) from marts.fct_kpi_published").fetchall()[0][0]
        child_level = con.sql(
            "select table_name from duckdb_columns() where column_name = 'child_id'"
        ).fetchall()
    assert kpi_rows > 0
    assert schemas == {"marts", "reference"}
    assert published == len(summary["publish_months"]["months"]) == 6, "the last 6 months, first reported"
    assert child_level == [], "no child-level table is served"
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


@pytest.mark.slow
def test_backfill_publishes_past_months_once(flow_module, tmp_path):
    """Two past months published as first reported; a second backfill leaves them as they were, and
    --replace publishes one again and says what it replaced. The marts keep the latest view and the
    scratch copy is gone."""
    generating = pytest.importorskip("csc_warehouse.generate")
    from csc_warehouse.load import load

    inputs, warehouse = tmp_path / "in", tmp_path / "warehouse.duckdb"
    generating.generate(inputs, seed=7, years=1, population=5_000)
    load(inputs, warehouse)
    building.build(warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        latest_before = con.sql("select count(*), max(period_end) from marts.fct_kpi_monthly").fetchall()[0]
        kpis = con.sql("select count(*) from reference.dim_kpi").fetchall()[0][0]
    backfill = cli.flow_module("backfill")
    assert [d.isoformat() for d in backfill.month_ends("2016-11", "2017-02")] == [
        "2016-11-30",
        "2016-12-31",
        "2017-01-31",
        "2017-02-28",
    ]

    summary = backfill.backfill(str(warehouse), "2017-01", "2017-02")
    again = backfill.backfill(str(warehouse), "2017-01", "2017-02")
    replaced = CliRunner().invoke(
        cli.app,
        ["backfill", "--from", "2017-02", "--to", "2017-02", "--replace", "--warehouse", str(warehouse)],
        env={"COLUMNS": "200"},
    )

    assert summary["months"] == {"2017-01-31": kpis, "2017-02-28": kpis}
    assert again["months"] == {} and again["already_published"] == ["2017-01", "2017-02"]
    assert replaced.exit_code == 0, replaced.output
    assert "replaced E10000015's publication 2017-02-28/" in replaced.output
    assert f"0 of {kpis} figures differ" in replaced.output, "the same cut-off gives the same figures"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        stored = con.sql(
            """select period_end, cutoff_date, publication_reason, publication_count, count(*)
            from marts.fct_kpi_published group by all order by 1"""
        ).fetchall()
        latest_after = con.sql("select count(*), max(period_end) from marts.fct_kpi_monthly").fetchall()[0]
    assert stored == [
        (date(2017, 1, 31), date(2017, 1, 31), "backfill", 1, kpis),
        (date(2017, 2, 28), date(2017, 2, 28), "replace", 2, kpis),
    ]
    assert latest_after == latest_before, "the warehouse's own marts keep the latest view"
    # Each backfill that published served the warehouse again: BI sees the same published months.
    assert summary["serve"]["serving"] == str(tmp_path / "serving.duckdb") and again["serve"] is None
    with duckdb.connect(str(tmp_path / "serving.duckdb"), read_only=True) as con:
        served = con.sql(
            """select period_end, publication_reason, count(*) from marts.fct_kpi_published
            group by all order by 1"""
        ).fetchall()
    assert served == [(date(2017, 1, 31), "backfill", kpis), (date(2017, 2, 28), "replace", kpis)]
    assert not (tmp_path / as_reported.SCRATCH_DIR).exists()


@pytest.mark.slow
def test_a_failed_refresh_in_a_terminal_prints_two_lines_and_no_client_noise(tmp_path):
    """`cscw refresh` as a user runs it (its own process, a temporary Prefect server), failing after the
    load and the events gate have opened DuckDB: the reason and the log's path, no traceback, and no
    `nanobind: leaked ...` report from the DuckDB client at exit."""
    import subprocess

    generating = pytest.importorskip("csc_warehouse.generate")
    inputs, warehouse = tmp_path / "in", tmp_path / "warehouse.duckdb"
    generating.generate(inputs, seed=3, years=1, population=3_000)
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API") and k != validating.GX_ROOT_ENV
    }
    env |= {
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "CSCW_SPARK_DBT": str(tmp_path / "no-dbt"),
        "COLUMNS": "300",
    }
    cscw = Path(sys.executable).with_name("cscw")

    done = subprocess.run(
        [str(cscw), "refresh", "--input", str(inputs), "--warehouse", str(warehouse), "--engine", "spark"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert done.returncode == 1
    printed = done.stdout + done.stderr
    assert "nanobind" not in printed and "Traceback" not in printed
    errors = [line for line in printed.splitlines() if line.startswith(("Error:", "Details:"))]
    assert errors == [
        next(line for line in printed.splitlines() if line.startswith("Error:")),
        f"Details: {tmp_path / 'logs' / 'cscw.log'}",
    ]
    assert "dbt-spark is not installed" in errors[0]
    log = (tmp_path / "logs" / "cscw.log").read_text()
    assert "Traceback (most recent call last)" in log and "SparkUnavailable" in log
