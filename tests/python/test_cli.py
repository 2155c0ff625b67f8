"""The `cscw` command line: help texts, the load refusal path, refresh errors and the scorecard."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest
from typer.testing import CliRunner

import csc_warehouse
from csc_warehouse import cli
from csc_warehouse.scorecard import format_value

runner = CliRunner()
COMMANDS = [
    "generate",
    "calibrate",
    "load",
    "build",
    "refresh",
    "scorecard",
    "quarantine",
    "serve",
    "backfill",
]


@pytest.fixture
def loading(monkeypatch):
    """csc_warehouse.load, or a stand-in with the agreed interface while the real module is missing."""
    try:
        from csc_warehouse import load as module
    except ImportError:
        module = types.ModuleType("csc_warehouse.load")

        class LoadRefused(Exception):
            pass

        def load(input_dir, warehouse, *, now=None, progress=False):  # pragma: no cover - always patched
            raise NotImplementedError

        module.LoadRefused = LoadRefused
        module.load = load
        monkeypatch.setitem(sys.modules, "csc_warehouse.load", module)
        monkeypatch.setattr(csc_warehouse, "load", module, raising=False)
    return module


def test_top_level_help_lists_every_command():
    result = runner.invoke(cli.app, ["--help"])
    assert result.exit_code == 0, result.output
    for command in COMMANDS:
        assert command in result.output


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command):
    result = runner.invoke(cli.app, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output
    doc = getattr(cli, command).__doc__.split("\n")[0].strip()
    assert doc[:30] in " ".join(result.output.split())


def test_load_refused_prints_the_reason_and_exits_1(tmp_path, monkeypatch, loading):
    def refuse(input_dir, warehouse, **kwargs):
        raise loading.LoadRefused("events.csv: column event_at missing")

    monkeypatch.setattr(loading, "load", refuse)
    result = runner.invoke(cli.app, ["load", str(tmp_path), "--warehouse", str(tmp_path / "w.duckdb")])

    assert result.exit_code == 1
    assert "load refused" in result.output
    assert "events.csv: column event_at missing" in result.output


def test_load_prints_rows_per_file(tmp_path, monkeypatch, loading):
    table = SimpleNamespace(
        table="events",
        file=tmp_path / "events.csv",
        rows_in=1234,
        rows_loaded=1200,
        rows_unchanged=30,
        rows_quarantined=4,
        unknown_event_types={"court_hearing": 2},
    )
    report = SimpleNamespace(
        load_id="L1",
        tables=[table],
        warnings=["children.csv missing: children not loaded"],
        rows_in=1234,
        rows_loaded=1200,
        rows_unchanged=30,
        rows_quarantined=4,
    )
    calls = []

    def fake_load(input_dir, warehouse, **kwargs):
        calls.append((Path(input_dir), Path(warehouse)))
        return report

    monkeypatch.setattr(loading, "load", fake_load)
    result = runner.invoke(cli.app, ["load", str(tmp_path), "--warehouse", str(tmp_path / "w.duckdb")])

    assert result.exit_code == 0, result.output
    assert calls == [(tmp_path, tmp_path / "w.duckdb")]
    assert "events.csv" in result.output
    assert "1,234" in result.output and "1,200" in result.output
    assert "court_hearing (2)" in result.output
    assert "children.csv missing" in result.output


def test_refresh_reports_a_refused_load(tmp_path, monkeypatch, loading):
    def flow(input_dir, warehouse, serving=None, engine="duckdb", full_refresh=False):
        raise loading.LoadRefused("population.csv: wrong header")

    monkeypatch.setattr(cli, "flow_module", lambda: SimpleNamespace(monthly_refresh=flow))
    result = runner.invoke(
        cli.app, ["refresh", "--input", str(tmp_path), "--warehouse", str(tmp_path / "w.duckdb")]
    )

    assert result.exit_code == 1
    assert "population.csv: wrong header" in result.output


def test_build_failure_names_the_node(tmp_path, monkeypatch):
    from csc_warehouse import build

    def fail(warehouse, **kwargs):
        raise build.BuildFailed(["model.csc_warehouse.fct_kpi_monthly: Binder Error"])

    monkeypatch.setattr(build, "build", fail)
    result = runner.invoke(cli.app, ["build", "--warehouse", str(tmp_path / "w.duckdb")])

    assert result.exit_code == 1
    assert "fct_kpi_monthly" in result.output


@pytest.mark.parametrize(
    ("unit", "value", "numerator", "denominator", "expected"),
    [
        ("count", 1234.0, 1234.0, None, "1,234"),
        ("pct", 100 * 485 / 510, 485.0, 510.0, "95.1% (485 of 510)"),
        ("pct", None, 0.0, 0.0, "- (0 of 0)"),
        ("rate10k", 224.0, 5974.0, 266_696.0, "224.0 (5,974)"),
        ("days", 533.21, 5332.1, 10.0, "533.2 (10 children)"),
        ("score", 14.04, 140.4, 10.0, "14.0 (10 children)"),
    ],
)
def test_format_value(unit, value, numerator, denominator, expected):
    assert format_value(unit, value, numerator, denominator) == expected


@pytest.fixture
def kpi_db(tmp_path) -> Path:
    path = tmp_path / "serving.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts; create schema reference")
        con.execute(
            """
            create table reference.dim_kpi as select * from (values
                ('cp_plans_open', 'Children on a CP plan', 'Child protection', 'count', 'PIT', 'none',
                 'd', 20),
                ('assessment_45wd_pct', 'Assessments in 45 working days', 'Assessments', 'pct', 'IN-MONTH',
                 'high', 'd', 10),
                ('cp_rate_per_10k', 'CP rate per 10,000', 'Child protection', 'rate10k', 'PIT', 'low',
                 'd', 30)
            ) as t(kpi_id, kpi_name, area, unit, period_type, polarity, definition, display_order)
            """
        )
        con.execute(
            """
            create table marts.fct_kpi_monthly as select * from (values
                ('E10000015', 'cp_plans_open', date '2024-02-29', 470.0, null, 470.0),
                ('E10000015', 'cp_plans_open', date '2024-03-31', 510.0, null, 510.0),
                ('E10000015', 'assessment_45wd_pct', date '2024-02-29', 400.0, 500.0, 80.0),
                ('E10000015', 'assessment_45wd_pct', date '2024-03-31', 485.0, 510.0, 100 * 485 / 510),
                ('E10000015', 'cp_rate_per_10k', date '2024-03-31', 5974.0, 266696.0, 224.0),
                ('E10000015', 'cp_rate_per_10k', date '2024-01-31', 1.0, 266696.0, 0.04)
            ) as t(la_code, kpi_id, period_end, numerator, denominator, value)
            """
        )
    return path


def test_scorecard_shows_latest_month_beside_the_previous(kpi_db):
    result = runner.invoke(cli.app, ["scorecard", "--warehouse", str(kpi_db)], env={"COLUMNS": "160"})

    assert result.exit_code == 0, result.output
    out = result.output
    assert "E10000015" in out and "31 March 2024" in out
    assert "Mar 2024" in out and "Feb 2024" in out
    assert "95.1% (485 of 510)" in out and "80.0% (400 of 500)" in out
    assert "510" in out and "470" in out
    assert "224.0 (5,974)" in out
    assert "0.0 (1)" not in out, "January is not the month before March"
    # Areas in display order: Assessments (10) before Child protection (20, 30).
    assert out.index("Assessments") < out.index("Child protection")
    assert out.index("Children on a CP plan") < out.index("CP rate per 10,000")


def test_scorecard_without_a_warehouse_says_what_to_do(tmp_path):
    result = runner.invoke(cli.app, ["scorecard", "--warehouse", str(tmp_path / "missing.duckdb")])
    assert result.exit_code == 1
    assert "cscw refresh" in result.output


def test_generate_with_a_profile_and_faults(tmp_path):
    result = runner.invoke(
        cli.app,
        ["generate", "--out", str(tmp_path), "-p", "small-unitary", "--years", "1", "--faults", "0.01"],
    )
    assert result.exit_code == 0, result.output
    assert "Generated small-unitary (1 authority)" in result.output
    assert "bad rows" in result.output
    assert (tmp_path / "fault_labels.csv").is_file()


def test_generate_unknown_profile_is_a_clear_error(tmp_path):
    result = runner.invoke(cli.app, ["generate", "--out", str(tmp_path), "-p", "atlantis"])
    assert result.exit_code == 1
    assert "no profile 'atlantis'" in result.output


def test_calibrate_prints_targets_and_exits_1_when_outside(monkeypatch):
    from csc_warehouse import calibrate as calibration
    from csc_warehouse.profile import Target

    targets = (
        Target("cla_rate_per_10k", 34.0, 3.0, "seed A"),
        Target("uasc_count", 9.7, 2.5, "seed B", "cla_count"),
    )
    readings = (
        calibration.Reading(targets[0], 35.5, "rate10k"),
        calibration.Reading(targets[1], 13.0, "pct"),
    )
    fake = SimpleNamespace(
        profile=SimpleNamespace(name="large-county", population=267_000),
        generated=SimpleNamespace(authorities=1, events=1000),
        readings=readings,
        period_from="2017-04-30",
        period_to="2018-03-31",
        seconds={"generate": 1.0},
    )
    monkeypatch.setattr(calibration, "calibrate", lambda *a, **k: fake)
    result = runner.invoke(cli.app, ["calibrate"], terminal_width=200)
    assert result.exit_code == 1
    out = " ".join(result.output.split())
    assert "cla_rate_per_10k │ 35.5 │ 34.0 ± 3 │ +1.5 │ ok" in out
    assert "uasc_count / cla_count │ 13.0 │ 9.7 ± 2.5 │ +3.3 │ OUT" in out
    assert "Outside tolerance: uasc_count / cla_count" in out


# --------------------------------------------------------------------------------------------------
# One vocabulary: --la everywhere, --version, serve / publish / suppress / export, old names kept a release


def test_version_is_the_installed_package_version():
    from importlib.metadata import version

    result = runner.invoke(cli.app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"cscw {version('csc-warehouse')}"


def test_scorecard_takes_la_and_the_old_la_code_with_a_deprecation(kpi_db):
    other = runner.invoke(cli.app, ["scorecard", "--warehouse", str(kpi_db), "--la", "E06000017"])
    old = runner.invoke(
        cli.app, ["scorecard", "--warehouse", str(kpi_db), "--la-code", "E10000015"], env={"COLUMNS": "160"}
    )

    assert other.exit_code == 0 and "No KPI rows for E06000017" in other.output
    assert old.exit_code == 0, old.output
    assert "Deprecated: --la-code is now --la" in old.output
    assert "95.1% (485 of 510)" in old.output
    assert "--la-code" not in runner.invoke(cli.app, ["scorecard", "--help"]).output, "hidden"


def test_report_suppress_and_the_old_publish_flag_and_output_beside_the_warehouse(tmp_path, monkeypatch):
    from csc_warehouse import report

    calls = []
    monkeypatch.setattr(report, "write_reports", lambda db, out, **kw: calls.append((db, out, kw)) or [])
    warehouse = tmp_path / "elsewhere" / "wh.duckdb"

    new = runner.invoke(cli.app, ["report", "--warehouse", str(warehouse), "--suppress"])
    old = runner.invoke(cli.app, ["report", "--warehouse", str(warehouse), "--publish"])
    plain = runner.invoke(cli.app, ["report", "--warehouse", str(warehouse)])

    assert new.exit_code == old.exit_code == plain.exit_code == 0
    assert [kw["suppress"] for _, _, kw in calls] == [True, True, False]
    assert (
        "Deprecated: cscw report --publish is now --suppress" in old.output and "Deprecated" not in new.output
    )
    # Beside the warehouse given, not the project's data/reports.
    assert {(db, out) for db, out, _ in calls} == {
        (tmp_path / "elsewhere" / "serving.duckdb", warehouse.parent / "reports")
    }


def test_export_lands_beside_the_warehouse(tmp_path, monkeypatch):
    from csc_warehouse import exports

    calls = []
    monkeypatch.setattr(exports, "export_tables", lambda db, out, **kw: calls.append((db, out)) or [])
    warehouse = tmp_path / "elsewhere" / "wh.duckdb"

    result = runner.invoke(cli.app, ["export", "--warehouse", str(warehouse)])

    assert result.exit_code == 0, result.output
    assert calls == [(warehouse.with_name("serving.duckdb"), warehouse.with_name("exports"))]


def test_build_timings_and_the_old_profile_option(tmp_path, monkeypatch):
    from csc_warehouse import build, profiling

    monkeypatch.setattr(
        build, "build", lambda warehouse, **kw: build.BuildResult(models_passed=3, seconds=0.5)
    )
    written = []
    monkeypatch.setattr(profiling, "write_profile", lambda warehouse, folder: written.append(folder) or [])

    new = runner.invoke(
        cli.app, ["build", "--warehouse", str(tmp_path / "w.duckdb"), "--timings", str(tmp_path / "t")]
    )
    old = runner.invoke(
        cli.app, ["build", "--warehouse", str(tmp_path / "w.duckdb"), "--profile", str(tmp_path / "p")]
    )

    assert new.exit_code == old.exit_code == 0, new.output + old.output
    assert written == [tmp_path / "t", tmp_path / "p"]
    assert "Deprecated: cscw build --profile DIR is now --timings DIR" in old.output


def test_generate_takes_la_and_the_old_la_code(tmp_path, monkeypatch):
    from csc_warehouse import generate

    seen = []

    def fake(out, **kw):
        seen.append(kw["la_code"])
        raise ValueError("stop here")

    monkeypatch.setattr(generate, "generate", fake)
    runner.invoke(cli.app, ["generate", "--out", str(tmp_path), "--la", "E06000001"])
    old = runner.invoke(cli.app, ["generate", "--out", str(tmp_path), "--la-code", "E06000002"])

    assert seen == ["E06000001", "E06000002"]
    assert "Deprecated: --la-code is now --la" in old.output


def test_a_failed_refresh_prints_its_reason_and_keeps_the_traceback_in_the_log(tmp_path, monkeypatch):
    def flow(input_dir, warehouse, serving=None, engine="duckdb", full_refresh=False):
        raise RuntimeError("disk full while writing the warehouse")

    monkeypatch.setattr(
        cli, "flow_module", lambda name="monthly_refresh": SimpleNamespace(monthly_refresh=flow)
    )
    warehouse = tmp_path / "w.duckdb"
    result = runner.invoke(cli.app, ["refresh", "--input", str(tmp_path), "--warehouse", str(warehouse)])

    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    log = tmp_path / "logs" / "cscw.log"
    assert lines == ["Error: RuntimeError: disk full while writing the warehouse", f"Details: {log}"]
    assert "Traceback (most recent call last)" in log.read_text() and "disk full" in log.read_text()


def test_flows_are_imported_from_the_package_and_the_entry_points_are_the_same_flows():
    import importlib.util

    from csc_warehouse import settings
    from csc_warehouse.flows import backfill, monthly_refresh

    assert cli.flow_module() is monthly_refresh and cli.flow_module("backfill") is backfill
    for name, module in (("monthly_refresh", monthly_refresh), ("backfill", backfill)):
        path = settings.PROJECT_ROOT / "flows" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(f"entry_{name}", path)
        entry = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(entry)
        flow_name = "monthly_refresh" if name == "monthly_refresh" else "backfill"
        assert getattr(entry, flow_name) is getattr(module, flow_name)


# --------------------------------------------------------------------------------------------------
# A running Prefect server is used instead of a temporary one


@pytest.fixture
def health_server():
    """A stand-in Prefect API answering /api/health with 200 on a free port."""
    import http.server
    import threading

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/api/health" else 404)
            self.end_headers()
            self.wfile.write(b"true")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api"
    server.shutdown()
    server.server_close()


def test_a_running_server_is_found_and_used(health_server, monkeypatch):
    from csc_warehouse.flows import server

    monkeypatch.delitem(sys.modules, "prefect", raising=False)  # as in a fresh `cscw refresh`
    monkeypatch.delenv("PREFECT_API_URL", raising=False)

    assert server.use_running_server(project_url=health_server) == health_server
    import os

    assert os.environ["PREFECT_API_URL"] == health_server


def test_none_running_means_a_temporary_server_and_a_named_one_must_answer(health_server, monkeypatch):
    from csc_warehouse.flows import server

    monkeypatch.delitem(sys.modules, "prefect", raising=False)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    nothing = health_server.replace("/api", "/nothing")  # answers 404: not a Prefect API

    assert server.use_running_server(project_url=nothing) is None
    import os

    assert "PREFECT_API_URL" not in os.environ
    monkeypatch.setenv("PREFECT_API_URL", nothing)
    with pytest.raises(server.ServerUnreachable, match="no Prefect server answers there"):
        server.use_running_server(project_url=health_server)
    monkeypatch.setenv("PREFECT_API_URL", health_server)
    assert server.use_running_server(project_url=nothing) == health_server
