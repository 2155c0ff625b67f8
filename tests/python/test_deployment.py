"""prefect.yaml: it parses, its entrypoints import as Prefect flows, and the schedule it deploys is the one
README.md's "Operations" section tells people about."""

from __future__ import annotations

import asyncio
import inspect
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from csc_warehouse import cli, settings

ROOT = settings.PROJECT_ROOT


@pytest.fixture(scope="module")
def config() -> dict:
    return yaml.safe_load((ROOT / "prefect.yaml").read_text())


@pytest.fixture(scope="module")
def deployments(config) -> dict[str, dict]:
    return {d["name"]: d for d in config["deployments"]}


@pytest.fixture(scope="module")
def operations() -> str:
    """The README's Operations section (from its heading to the next level-2 heading or the end)."""
    text = (ROOT / "README.md").read_text()
    match = re.search(r"^## Operations\n(.*?)(?=^## |\Z)", text, flags=re.S | re.M)
    assert match, "README.md has no '## Operations' section"
    return match.group(1)


def flow_of(entrypoint: str):
    path, name = entrypoint.split(":")
    assert (ROOT / path).is_file(), f"entrypoint file {path} does not exist"
    assert Path(path).parent == Path("flows")
    module = cli.flow_module(Path(path).stem)
    return getattr(module, name)


def test_prefect_yaml_parses_and_names_both_deployments(config, deployments):
    assert config["name"] == "csc-warehouse"
    assert set(deployments) == {"monthly", "backfill"}
    assert config["prefect-version"].split(".")[0] == "3"


@pytest.mark.parametrize("name", ["monthly", "backfill"])
def test_entrypoints_import_as_flows_and_take_the_parameters(deployments, name):
    from prefect import Flow

    deployment = deployments[name]
    flow = flow_of(deployment["entrypoint"])

    assert isinstance(flow, Flow)
    accepted = set(inspect.signature(flow.fn).parameters)
    assert set(deployment["parameters"]) <= accepted
    assert deployment["work_pool"]["name"] == "cscw-process"
    steps = deployment["pull"]
    assert steps == [{"prefect.deployments.steps.set_working_directory": {"directory": "{{ $PWD }}"}}]


def test_monthly_flow_accepts_the_deployed_parameters(deployments):
    flow = flow_of(deployments["monthly"]["entrypoint"])
    assert flow.name == "monthly-refresh"
    # Prefect validates a run's parameters against the flow's signature: the deployed ones are enough.
    flow.validate_parameters(dict(deployments["monthly"]["parameters"]))


def test_schedule_is_what_the_readme_says(deployments, operations):
    (schedule,) = deployments["monthly"]["schedules"]
    cron = re.search(r"cron `([^`]+)`", operations)
    timezone = re.search(r"timezone `([^`]+)`", operations)
    assert cron and timezone, "the Operations section should give the cron and timezone in backticks"

    assert schedule["cron"] == cron.group(1)
    assert schedule["timezone"] == timezone.group(1)
    assert schedule.get("active", True) is True
    assert not deployments["backfill"].get("schedules"), "backfill runs by hand only"
    assert "07:00 on the 3rd of every month, Europe/London" in " ".join(operations.split())
    # The flow module's --serve default is the same schedule.
    module = cli.flow_module("monthly_refresh")
    assert (schedule["cron"], schedule["timezone"]) == (module.CRON, module.TIMEZONE)


def test_the_cron_fires_at_0700_london_on_the_3rd(deployments):
    from prefect.server.schemas.schedules import CronSchedule

    (schedule,) = deployments["monthly"]["schedules"]
    london = ZoneInfo("Europe/London")
    cron = CronSchedule(cron=schedule["cron"], timezone=schedule["timezone"])
    # Across the change to summer time: still 07:00 on the clock in London.
    dates = asyncio.run(cron.get_dates(n=4, start=datetime(2025, 1, 4, tzinfo=london)))

    local = [d.astimezone(london) for d in dates]
    assert [(d.month, d.day, d.hour, d.minute) for d in local] == [
        (2, 3, 7, 0),
        (3, 3, 7, 0),
        (4, 3, 7, 0),
        (5, 3, 7, 0),
    ]


def test_readme_says_how_to_serve_the_schedule(operations, deployments):
    for words in ("prefect server start", "prefect worker start --pool cscw-process", "prefect deploy --all"):
        assert words in operations, f"README Operations should mention `{words}`"
    assert "--type process" in (ROOT / "Makefile").read_text()
    for target in ("prefect-server", "deploy", "worker"):
        assert f"make {target}" in operations


# --------------------------------------------------------------------------------------------------
# The Operations section followed literally: make prefect-server, make deploy, make worker, a run.


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api(url: str, path: str, body: dict | None = None) -> object:
    import json
    import urllib.request

    request = urllib.request.Request(
        url + path,
        data=json.dumps(body or {}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _clone(tmp_path: Path) -> Path:
    """What a fresh clone needs for the Makefile's Prefect targets: the Makefile, prefect.yaml, flows/ and
    the install's inputs (mtimes kept, so make sees the shared .venv as installed)."""
    import shutil

    clone = tmp_path / "clone"
    clone.mkdir()
    for name in ("Makefile", "prefect.yaml", "requirements.lock", "pyproject.toml"):
        shutil.copy2(ROOT / name, clone / name)
    shutil.copytree(ROOT / "flows", clone / "flows", ignore=shutil.ignore_patterns("__pycache__"))
    (clone / ".venv").symlink_to(ROOT / ".venv")
    return clone


def _wait_for_run(url: str, flow_run_id: str, timeout: float) -> dict:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = _api(url, "/flow_runs/filter", {"flow_runs": {"id": {"any_": [flow_run_id]}}})[0]
        if run["state_type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
            return run
        time.sleep(2)
    raise AssertionError(f"flow run {flow_run_id} still {run['state_type']} after {timeout} s")


def _make(env: dict, target: str) -> list[str]:
    # The Makefile sets PREFECT_HOME to the clone's .prefect: a command-line value overrides it.
    return ["make", "--no-print-directory", f"PREFECT_HOME={env['PREFECT_HOME']}", target]


def _run_now(clone: Path, env: dict, url: str) -> dict:
    import subprocess

    started = subprocess.run(
        _make(env, "_run_deployment"),
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    found = re.search(r"UUID: ([0-9a-f-]{36})", started.stdout)
    assert found, started.stdout + started.stderr
    return _wait_for_run(url, found.group(1), timeout=420)


@pytest.mark.slow
def test_operations_section_works_on_a_fresh_clone(tmp_path):
    """make prefect-server, make deploy and make worker in a fresh folder: the monthly deployment is
    scheduled for 07:00 London on the 3rd; a run before any file is in data/incoming fails saying what to
    put there; with a small authority's files there, the run completes and serves six published months."""
    import os
    import signal
    import subprocess

    import duckdb

    from csc_warehouse.generate import generate

    clone = _clone(tmp_path)
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = os.environ | {
        "PREFECT_HOME": str(tmp_path / "prefect_home"),
        "PREFECT_API_URL": url,
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_SERVER_UI_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    }
    for name in ("PREFECT_PROFILES_PATH", "CSCW_GX_ROOT", "CSCW_DATA_DIR"):
        env.pop(name, None)
    (clone / "Makefile").write_text(
        (clone / "Makefile").read_text()
        + "\n_run_deployment:\n\t$(BIN)/prefect deployment run monthly-refresh/monthly\n"
    )
    server = subprocess.Popen(
        _make(env, "prefect-server"),
        cwd=clone,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    worker = None
    try:
        waited = subprocess.run(
            [str(ROOT / ".venv/bin/python"), "-m", "csc_warehouse.flows.server", "wait", url],
            env=env,
            check=False,
        )
        assert waited.returncode == 0, "the Prefect server did not answer within 90 s"
        deployed = subprocess.run(_make(env, "deploy"), cwd=clone, env=env, capture_output=True, text=True)
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        assert (clone / "data" / "incoming").is_dir(), "make deploy makes the folder the schedule loads"
        assert "Put each month's files in data/incoming/" in deployed.stdout

        (deployment,) = _api(url, "/deployments/filter", {"deployments": {"name": {"any_": ["monthly"]}}})
        assert deployment["work_pool_name"] == "cscw-process"
        (schedule,) = deployment["schedules"]
        assert (schedule["schedule"]["cron"], schedule["schedule"]["timezone"]) == (
            "0 7 3 * *",
            "Europe/London",
        )

        worker_log = (tmp_path / "worker.log").open("w")
        worker = subprocess.Popen(
            _make(env, "worker"),
            cwd=clone,
            env=env,
            stdout=worker_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        # The scheduler's runs of the deployment: 07:00 London time on the 3rd.
        scheduled = _api(
            url,
            "/flow_runs/filter",
            {
                "flow_runs": {
                    "deployment_id": {"any_": [deployment["id"]]},
                    "state": {"type": {"any_": ["SCHEDULED"]}},
                }
            },
        )
        london = ZoneInfo("Europe/London")
        for run in scheduled:
            when = datetime.fromisoformat(run["expected_start_time"]).astimezone(london)
            assert (when.day, when.hour, when.minute) == (3, 7, 0), when

        empty = _run_now(clone, env, url)
        assert empty["state_type"] == "FAILED"
        assert "holds no file to load" in empty["state"]["message"]
        assert "children*.csv and events*.csv" in empty["state"]["message"]
        printed = (tmp_path / "worker.log").read_text()
        assert "holds no file to load" in printed, "the worker's terminal gives the reason"
        assert "Traceback (most recent call last)" not in printed, "and no traceback"

        generate(clone / "data" / "incoming", profile="small-unitary", seed=7, years=1)
        done = _run_now(clone, env, url)
        assert done["state_type"] == "COMPLETED", done["state"]
        serving = clone / "data" / "serving.duckdb"
        with duckdb.connect(str(serving), read_only=True) as con:
            months = con.sql("select count(distinct period_end) from marts.fct_kpi_published").fetchall()[0][
                0
            ]
        assert months == 6, "the last six months, published as first reported and served"
        assert list((clone / "data" / "reports").glob("scorecard_*.md")), "the report beside the warehouse"
        # The gates passed, counted in DuckDB: no Data Docs unless asked for (cscw validate) or a stop.
        assert not (clone / "data" / "gx" / "uncommitted" / "data_docs").exists()
        # Where the run's seconds went, beside the warehouse.
        assert "publish months" in (clone / "data" / "refresh_timings.json").read_text()
    finally:
        for process in (worker, server):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=60)
