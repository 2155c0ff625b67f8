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
COMMANDS = ["generate", "calibrate", "load", "build", "refresh", "scorecard"]


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
        ("pct", 100 * 485 / 510, 485.0, 510.0, "95.1% (485 / 510)"),
        ("pct", None, 0.0, 0.0, "- (0 / 0)"),
        ("rate10k", 224.0, 5974.0, 266_696.0, "224.0 (5,974)"),
        ("days", 533.21, 5332.1, 10.0, "533.2"),
        ("score", 14.04, 140.4, 10.0, "14.0"),
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
    assert "95.1% (485 / 510)" in out and "80.0% (400 / 500)" in out
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
