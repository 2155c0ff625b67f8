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
