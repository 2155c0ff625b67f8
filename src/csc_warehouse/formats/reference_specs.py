"""The public reference specifications the statutory writers are checked against.

The DfE's CIN census XSDs (2017-2024) and the Annex A headers and code lists that London authorities
exchange ship in the wheel of the PyPI package ``liiatools`` 0.2.0. The package itself does not install
on Python 3.11, so its wheel is fetched once with ``pip download --no-deps`` into a cache folder inside
the virtual environment and read as a zip. Only the tests and checks use it; nothing at run time does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from functools import cache
from pathlib import Path

import yaml

PACKAGE = "liiatools"
VERSION = "0.2.0"
WHEEL = f"{PACKAGE}-{VERSION}-py3-none-any.whl"
CACHE_ENV = "CSCW_SPEC_CACHE"
# CIN census years whose XSD the wheel holds; a later year is checked against the latest of them.
CIN_XSD_YEARS = range(2017, 2025)


class SpecUnavailable(RuntimeError):
    """The reference wheel is not cached and could not be downloaded."""


def cache_dir() -> Path:
    """``$CSCW_SPEC_CACHE``, else ``<virtual environment>/cache/reference-specs``."""
    return Path(os.environ.get(CACHE_ENV) or Path(sys.prefix) / "cache" / "reference-specs")


def wheel_path(folder: Path | None = None) -> Path:
    """The cached wheel, downloaded with the environment's pip if absent."""
    folder = Path(folder or cache_dir())
    path = folder / WHEEL
    if path.is_file():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--quiet",
            f"{PACKAGE}=={VERSION}",
            "-d",
            folder,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or not path.is_file():
        raise SpecUnavailable(f"could not download {PACKAGE}=={VERSION} into {folder}: {done.stderr.strip()}")
    return path


@cache
def read(member: str) -> bytes:
    """One file of the wheel, e.g. ``liiatools/spec/cin_census/CIN_schema_2018.xsd``."""
    with zipfile.ZipFile(wheel_path()) as archive:
        return archive.read(member)


def cin_xsd(year: int) -> bytes:
    """The DfE's CIN census schema for a collection year (named by the year it ends)."""
    chosen = min(max(year, CIN_XSD_YEARS.start), CIN_XSD_YEARS.stop - 1)
    return read(f"liiatools/spec/cin_census/CIN_schema_{chosen}.xsd")


def annex_a_headers() -> dict[str, list[str]]:
    """Per Annex A list (``List 1`` ..), its columns in order (``annex-a-merge.yml``)."""
    merged = yaml.safe_load(read("liiatools/spec/annex_a/annex-a-merge.yml"))["datasources"]
    return {name: list(columns) for name, columns in merged.items()}


def annex_a_codes() -> dict[str, dict[str, list[str]]]:
    """Per list and coded column, the codes allowed (``data-map.yml``)."""
    mapped = yaml.safe_load(read("liiatools/spec/annex_a/data-map.yml"))["data_config"]
    return {
        name: {col: [str(item["code"]) for item in items] for col, items in columns.items()}
        for name, columns in mapped.items()
    }
