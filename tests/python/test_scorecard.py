"""`cscw scorecard` and the report files read marts.rpt_scorecard: the latest month with its target,
RAG, neighbour and national averages, quartile and revised figures."""

from __future__ import annotations

import csv

import duckdb
import pytest
from typer.testing import CliRunner

from csc_warehouse import cli
from csc_warehouse.report_files import write_scorecard_report
from csc_warehouse.scorecard import read_scorecard

COLUMNS = (
    "la_code, reporting_period, period_end, area, kpi_id, kpi_name, unit, polarity, display_order, "
    "numerator, denominator, value, previous_period_end, previous_numerator, previous_denominator, "
    "previous_value, target, rag, neighbour_average, national_average, quartile, direction_of_travel, "
    "is_revised, first_reported_value, previous_is_revised, previous_first_reported_value"
)


@pytest.fixture
def serving(tmp_path):
    path = tmp_path / "serving.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            f"""
            create table marts.rpt_scorecard as select * from (values
                ('E10000015', 'month', date '2018-03-31', 'Referrals', 'referral_rate_per_10k_r12m',
                 'Referral rate', 'rate10k', 'low', 60, 5974.0, 266696.0, 224.0, date '2018-02-28', 6000.0,
                 266696.0, 225.0, 260.0, 'green', 551.0, 548.2, 1, 'improved', false, 224.0, true, 230.8),
                ('E10000015', 'month', date '2018-03-31', 'Assessments', 'assessment_45wd_pct',
                 'Assessments in 45 working days', 'pct', 'high', 90, 485.0, 510.0, 100 * 485 / 510,
                 date '2018-02-28', 400.0, 500.0, 80.0, 91.0, 'green', 86.0, null, 2, 'improved', false,
                 100 * 485 / 510, false, 80.0),
                ('E10000015', 'quarter', date '2018-03-31', 'Assessments', 'assessment_45wd_pct',
                 'Assessments in 45 working days', 'pct', 'high', 90, 1.0, 2.0, 50.0, null, null, null,
                 null, null, null, null, null, null, null, false, null, false, null),
                ('E10000015', 'month', date '2018-02-28', 'Assessments', 'assessment_45wd_pct',
                 'Assessments in 45 working days', 'pct', 'high', 90, 400.0, 500.0, 80.0, null, null, null,
                 null, null, null, null, null, null, null, false, null, false, null)
            ) as t({COLUMNS})
            """
        )
    return path


def test_scorecard_reads_the_latest_month_of_rpt_scorecard(serving):
    rows = read_scorecard(serving)

    assert [(r.kpi_id, r.period_end.isoformat()) for r in rows] == [
        ("referral_rate_per_10k_r12m", "2018-03-31"),
        ("assessment_45wd_pct", "2018-03-31"),
    ], "months only, the latest, areas in display order"
    assert rows[0].target == 260.0 and rows[0].quartile == 1 and rows[0].previous_is_revised


def test_scorecard_prints_targets_benchmarks_and_revisions(serving):
    result = CliRunner().invoke(cli.app, ["scorecard", "--warehouse", str(serving)], env={"COLUMNS": "200"})

    assert result.exit_code == 0, result.output
    out = result.output
    for heading in ("Target", "RAG", "Neighbours", "National", "Quartile"):
        assert heading in out
    assert "224.0 (5,974)" in out and "225.0 (6,000) (revised)" in out
    assert "95.1% (485 / 510)" in out and "91.0%" in out and "86.0%" in out
    assert "Top" in out and "Second" in out


def test_report_files_carry_the_comparisons(serving, tmp_path):
    files = write_scorecard_report(serving, tmp_path / "reports")

    markdown = files.markdown.read_text()
    assert "| Target | RAG | Neighbours | National | Quartile |" in markdown
    assert "225.0 (6,000) (revised; first reported 230.8)" in markdown
    with files.csv.open() as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["target"] == "260" and rows[0]["rag"] == "green" and rows[0]["quartile"] == "1"
    assert rows[0]["previous_is_revised"] == "true" and rows[0]["previous_first_reported_value"] == "230.8"
    assert rows[1]["direction_of_travel"] == "improved"
