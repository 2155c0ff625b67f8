"""Write a folder of canonical events (the latest view) as the DfE's returns: SSDA903 CSVs and CIN census XML.

The round trips of the importers use it (generate -> export -> import gives back the same KPIs), and so
can anyone who wants to try the DfE's validators on generated data. The writers are those of
``cscw returns`` (``returns_ssda903``, ``returns_cin_census``); only the source differs: here the
canonical files, there the warehouse. One return per collection year the events reach.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from csc_warehouse.formats.common import collection_year_of
from csc_warehouse.formats.returns_cin_census import lea_number, write_cin_census
from csc_warehouse.formats.returns_source import from_canonical
from csc_warehouse.formats.returns_ssda903 import episodes_from_periods, write_ssda903

__all__ = ["episodes_from_periods", "export_returns", "latest_view"]


def latest_view(canonical_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(children, events) of a canonical folder: per id the latest version, tombstones removed."""
    sources = from_canonical(canonical_dir)
    return (
        pd.concat([s.children for s in sources], ignore_index=True),
        pd.concat([s.events for s in sources], ignore_index=True),
    )


def export_returns(canonical_dir: Path, out_dir: Path, lea: str | None = None) -> dict[str, dict[int, Path]]:
    """Both returns, for every collection year the events reach; one authority per canonical folder.

    ``lea``: the census's three-digit LEA number; without one for an authority the project does not
    know, ``000`` (the importers are told the authority with ``--la``)."""
    sources = from_canonical(canonical_dir)
    if len(sources) != 1:
        las = ", ".join(s.la_code for s in sources)
        raise ValueError(f"export writes one authority at a time; {canonical_dir} has {len(sources)}: {las}")
    [source] = sources
    try:
        number = lea_number(source.la_code, lea)
    except ValueError:
        number = "000"
    days = source.events["day"]
    years = range(collection_year_of(days.min()), collection_year_of(days.max()) + 1)
    out_dir = Path(out_dir)
    written: dict[str, dict[int, Path]] = {"ssda903": {}, "cin_census": {}}
    for year in years:
        written["ssda903"][year], _ = write_ssda903(source, out_dir / "ssda903" / str(year), year)
        written["cin_census"][year], _ = write_cin_census(source, out_dir / "cin_census", year, lea=number)
    return written
