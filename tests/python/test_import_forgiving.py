"""`cscw import ssda903` forgives what real files do: a folder named by the year a collection starts,
no header file, an end after the return's 31 March, another year's codes, overlapping episodes.

The returns are the warehouse's own SSDA903 writer's, for a small unitary's 2017-18 (named 2018),
then changed the way real files differ.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from csc_warehouse.formats.anonymise import KEY_ENV
from csc_warehouse.formats.common import ImportRefused
from csc_warehouse.formats.imports import import_ssda903
from csc_warehouse.formats.returns_source import from_canonical
from csc_warehouse.formats.returns_ssda903 import write_ssda903
from csc_warehouse.generate import generate

LA = "E06000017"


@pytest.fixture(autouse=True)
def key(monkeypatch) -> None:
    monkeypatch.setenv(KEY_ENV, "forgiving-import-key-00001")


@pytest.fixture(scope="module")
def returns(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("forgiving")
    generate(root / "in", profile="small-unitary", seed=4, years=2, start=date(2016, 4, 1), file_format="csv")
    [source] = from_canonical(root / "in")
    write_ssda903(source, root / "returns" / "2018", 2018)
    return root / "returns"


def _copy(returns: Path, tmp_path: Path, name: str = "2018") -> Path:
    target = tmp_path / "returns" / name
    shutil.copytree(returns / "2018", target)
    return tmp_path / "returns"


def _events(result) -> pd.DataFrame:
    return pd.read_csv(result.outputs["events"], dtype=str, keep_default_na=False)


def test_a_folder_named_by_its_start_year_is_refused_with_the_cause(returns, tmp_path) -> None:
    folder = _copy(returns, tmp_path, "2017")  # April 2017 to March 2018, named as Data to Insight do
    with pytest.raises(ImportRefused, match="--year-label start") as refused:
        import_ssda903(folder, tmp_path / "out", la_code=LA)
    assert "named 2017 hold dates after 31 March 2017, up to 31 March 2018" in str(refused.value)
    assert not (tmp_path / "out").exists()
    started = import_ssda903(folder, tmp_path / "start", la_code=LA, year_label="start")
    ended = import_ssda903(returns, tmp_path / "end", la_code=LA)
    assert started.years == ended.years == [2018]
    assert started.rows_quarantined == ended.rows_quarantined
    pd.testing.assert_frame_equal(_events(started), _events(ended))


def test_cli_option_year_label(returns, tmp_path) -> None:
    from csc_warehouse.cli import app

    folder = _copy(returns, tmp_path, "2017")
    args = ["import", "ssda903", str(folder), "--la", LA, "-o", str(tmp_path / "out")]
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 1 and "--year-label start" in " ".join(refused.output.split())
    done = CliRunner().invoke(app, [*args, "--year-label", "start"])
    assert done.exit_code == 0, done.output


def test_no_header_file_takes_the_children_from_the_other_tables(returns, tmp_path) -> None:
    folder = _copy(returns, tmp_path)
    header = pd.read_csv(folder / "2018" / "header.csv", dtype=str)
    (folder / "2018" / "header.csv").unlink()
    result = import_ssda903(folder, tmp_path / "out", la_code=LA)
    full = import_ssda903(returns, tmp_path / "full", la_code=LA)
    assert any("has no header table" in w for w in result.warnings)
    # Every child of the return is still there; the events are the same.
    assert result.children_rows == full.children_rows == len(header)
    pd.testing.assert_frame_equal(_events(result), _events(full))
    children = pd.read_csv(result.outputs["children"], dtype=str, keep_default_na=False)
    assert (children["sex"] == "").all() and (children["ethnicity"] == "").all()


def test_an_end_after_the_year_keeps_the_start(returns, tmp_path) -> None:
    folder = _copy(returns, tmp_path)
    path = folder / "2018" / "episodes.csv"
    episodes = pd.read_csv(path, dtype=str, keep_default_na=False)
    ended = episodes.index[(episodes["RNE"] == "S") & (episodes["DEC"] != "") & (episodes["REC"] != "X1")][0]
    child, start = episodes.loc[ended, "CHILD"], episodes.loc[ended, "DECOM"]
    episodes.loc[ended, "DEC"] = "15/05/2018"  # after 31 March 2018: the return could not know it
    episodes.to_csv(path, index=False)
    result = import_ssda903(folder, tmp_path / "out", la_code=LA)
    full = import_ssda903(returns, tmp_path / "full", la_code=LA)
    assert result.rows_quarantined == full.rows_quarantined  # the row is not quarantined
    q = pd.read_csv(result.outputs["quarantine"], dtype=str)
    part = q[q["column_name"] == "DEC"]
    assert (
        len(part) == 1 and "15/05/2018 is after the end of the 2018 collection year" in part["reason"].iloc[0]
    )
    assert "left out, the row is kept as open" in part["reason"].iloc[0]
    ev, ev_full = _events(result), _events(full)
    day = pd.to_datetime(start, dayfirst=True).strftime("%Y-%m-%d")
    starts = ev[(ev["event_type"] == "cla_period_started") & ev["event_at"].str.startswith(day)]
    assert len(starts) >= 1  # the start is kept
    # One period end fewer than with the true return: this period is open at 31 March.
    n_end = (ev["event_type"] == "cla_period_ended").sum()
    assert n_end == (ev_full["event_type"] == "cla_period_ended").sum() - 1
    assert child  # the changed row's child is in the return


def test_codes_of_another_year_are_accepted_and_said(returns, tmp_path) -> None:
    folder = _copy(returns, tmp_path)
    path = folder / "2018" / "episodes.csv"
    episodes = pd.read_csv(path, dtype=str, keep_default_na=False)
    episodes.loc[episodes.index[:2], "PLACE"] = "K3"  # a placement type from 2024/25
    episodes.to_csv(path, index=False)
    result = import_ssda903(folder, tmp_path / "out", la_code=LA)
    full = import_ssda903(returns, tmp_path / "full", la_code=LA)
    assert result.rows_quarantined == full.rows_quarantined
    assert (
        "2 rows have PLACE K3 in the 2018 return (a placement type of other years): accepted as given."
        in (result.warnings)
    )


def test_overlapping_restated_episodes_are_repaired_not_lost(returns, tmp_path) -> None:
    folder = _copy(returns, tmp_path)
    path = folder / "2018" / "episodes.csv"
    episodes = pd.read_csv(path, dtype=str, keep_default_na=False)
    # A child's episode restated with a later end that runs into the next episode.
    follows = episodes[episodes["REC"] == "X1"].index[0]
    nxt = episodes.index[episodes.index.get_loc(follows) + 1]
    later = pd.to_datetime(episodes.loc[nxt, "DECOM"], dayfirst=True) + pd.Timedelta(days=3)
    episodes.loc[follows, "DEC"] = later.strftime("%d/%m/%Y")
    episodes.to_csv(path, index=False)
    result = import_ssda903(folder, tmp_path / "out", la_code=LA)
    full = import_ssda903(returns, tmp_path / "full", la_code=LA)
    assert result.rows_quarantined == full.rows_quarantined
    assert result.repairs["trimmed"] == full.repairs.get("trimmed", 0) + 1
    pd.testing.assert_frame_equal(_events(result), _events(full))
