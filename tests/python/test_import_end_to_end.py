"""A folder of SSDA903 returns for two years plus CIN census XML goes from `cscw import` to a scorecard
with no manual step: import both into one folder, load, build, print the scorecard."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from csc_warehouse import cli

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
LA = "999"


@pytest.mark.slow
def test_returns_import_load_build_and_scorecard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSCW_PSEUDONYMISATION_KEY", "end-to-end-test-key-0123456789")
    population = tmp_path / "population.csv"
    population.write_text(
        "year,age,sex,count\n"
        + "".join(f"{y},{a},F,500\n{y},{a},M,500\n" for y in (2016, 2017) for a in range(18))
    )
    incoming, warehouse = tmp_path / "incoming", tmp_path / "warehouse.duckdb"
    runner = CliRunner()
    steps = [
        ["import", "ssda903", str(FIXTURES / "ssda903" / "returns"), "--out", str(incoming), "--la", LA,
         "--population", str(population)],
        ["import", "cin-census", str(FIXTURES / "cin_census" / "cin_census_2017.xml"),
         str(FIXTURES / "cin_census" / "cin_census_2018.xml"), "--out", str(incoming), "--la", LA],
        ["load", str(incoming), "--warehouse", str(warehouse)],
        ["build", "--warehouse", str(warehouse)],
        ["scorecard", "--warehouse", str(warehouse)],
    ]  # fmt: skip
    for args in steps:
        result = runner.invoke(cli.app, args, terminal_width=200)
        assert result.exit_code == 0, f"{' '.join(args[:2])}: {result.output}"
    assert LA in result.output
    with duckdb.connect(str(warehouse), read_only=True) as con:
        looked_after = con.execute(
            "select numerator from marts.fct_kpi_monthly where la_code = ? and kpi_id = 'cla_count' "
            "and period_end = '2018-03-31'",
            [LA],
        ).fetchone()
    # Hand count from the 2018 episodes: A1's care ended on 20 March 2018 (E45, an SGO); D4, placed for
    # adoption on 1 August 2017, is still looked after at 31 March 2018.
    assert looked_after == (1.0,)
