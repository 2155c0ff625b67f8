"""Paths and process environment shared by the CLI, the Prefect flow, the tests and CI.

`configure_environment()` runs when the package is imported (see `__init__.py`), so telemetry is off and
Prefect keeps its state in the project before Prefect or dbt are imported by anything in this package.
"""

from __future__ import annotations

import os
from pathlib import Path

# Telemetry only produces errors on an offline machine; the project keeps it off everywhere.
TELEMETRY_ENV: dict[str, str] = {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "GX_ANALYTICS_ENABLED": "false",
}


def _find_project_root() -> Path:
    """The folder holding dbt_project.yml: $CSCW_PROJECT_DIR, else above this file, else above the cwd."""
    explicit = os.environ.get("CSCW_PROJECT_DIR")
    if explicit:
        return Path(explicit).resolve()
    for start in (Path(__file__).resolve().parent, Path.cwd().resolve()):
        for folder in (start, *start.parents):
            if (folder / "dbt_project.yml").is_file():
                return folder
    return Path.cwd().resolve()


PROJECT_ROOT: Path = _find_project_root()
DATA_DIR: Path = Path(os.environ.get("CSCW_DATA_DIR", PROJECT_ROOT / "data"))
DEFAULT_INPUT_DIR: Path = DATA_DIR / "synthetic"
DEFAULT_WAREHOUSE: Path = DATA_DIR / "warehouse.duckdb"
DEFAULT_SERVING: Path = DATA_DIR / "serving.duckdb"
PREFECT_HOME: Path = PROJECT_ROOT / ".prefect"

# The temporary Prefect server takes 25-40 s to start on two cores; Prefect's default wait is 20 s.
PREFECT_STARTUP_TIMEOUT_SECONDS = "120"


DEFAULT_MEMORY_LIMIT = "8GB"  # as profiles.yml: the loader and dbt share one budget


def duckdb_config(warehouse: Path) -> dict[str, str]:
    """Memory limit and spill folder for the package's own writing connections (the loader), the same
    as dbt's (profiles.yml): $CSCW_MEMORY_LIMIT, $CSCW_TEMP_DIR, else duckdb_tmp beside the warehouse."""
    return {
        "memory_limit": os.environ.get("CSCW_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT,
        "temp_directory": os.environ.get("CSCW_TEMP_DIR") or str(Path(warehouse).parent / "duckdb_tmp"),
    }


def serving_next_to(warehouse: Path) -> Path:
    """Default serving file for a warehouse: `serving.duckdb` in the same folder (data/serving.duckdb)."""
    return Path(warehouse).with_name(DEFAULT_SERVING.name)


def gx_root_for(warehouse: Path) -> Path:
    """Where a warehouse's Great Expectations files and Data Docs go: $CSCW_GX_ROOT, else its folder
    (data/gx/ for data/warehouse.duckdb), so two warehouses never share Data Docs."""
    return Path(os.environ.get("CSCW_GX_ROOT") or Path(warehouse).resolve().parent)


def log_file_for(warehouse: Path) -> Path:
    """The CLI's log of a warehouse (every message, tracebacks included): logs/cscw.log beside it."""
    return Path(warehouse).resolve().parent / "logs" / "cscw.log"


def configure_environment() -> None:
    """Telemetry off (always); PREFECT_HOME and the server start-up wait unless already set. Idempotent."""
    os.environ.update(TELEMETRY_ENV)
    os.environ.setdefault("PREFECT_HOME", str(PREFECT_HOME))
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", PREFECT_STARTUP_TIMEOUT_SECONDS)
