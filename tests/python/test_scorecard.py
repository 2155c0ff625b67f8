"""`cscw scorecard` and the report files read marts.rpt_scorecard: the latest month with its target,
RAG, neighbour and national averages, quartile and revised figures."""

from __future__ import annotations

import csv
from datetime import date

import duckdb
import pytest
from typer.testing import CliRunner

from csc_warehouse import cli
from csc_warehouse.report_files import write_scorecard_report
from csc_warehouse.scorecard import read_scorecard

# rpt_scorecard's columns that the scorecard reads, with their types.
SCHEMA = {
    "la_code": "varchar", "reporting_period": "varchar", "period_end": "date", "section": "varchar",
    "area": "varchar", "kpi_id": "varchar", "kpi_name": "varchar", "unit": "varchar", "polarity": "varchar",
    "period_type": "varchar", "display_order": "integer", "numerator": "double", "denominator": "double",
    "value": "double", "previous_period_end": "date", "previous_numerator": "double",
    "previous_denominator": "double", "previous_value": "double", "target": "double", "rag": "varchar",
    "neighbour_average": "double", "national_average": "double", "quartile": "integer",
    "direction_of_travel": "varchar", "change": "varchar", "is_revised": "boolean",
    "first_reported_value": "double", "first_reported_numerator": "double",
    "first_reported_denominator": "double", "previous_is_revised": "boolean",
    "previous_first_reported_value": "double", "is_window_complete": "boolean",
    "previous_is_window_complete": "boolean", "target_basis": "varchar",
    "target_financial_year_start": "integer", "national_average_basis": "varchar",
    "neighbour_average_basis": "varchar", "period_label": "varchar", "previous_period_label": "varchar",
}  # fmt: skip


def scorecard_table(con: duckdb.DuckDBPyConnection, rows: list[dict]) -> None:
    """marts.rpt_scorecard with `rows` (columns not given are null; flags default to false / whole)."""
    con.execute(f"create table marts.rpt_scorecard ({', '.join(f'{c} {t}' for c, t in SCHEMA.items())})")
    defaults = {"is_revised": False, "previous_is_revised": False, "is_window_complete": True,
                "previous_is_window_complete": True}  # fmt: skip
    for row in rows:
        values = {**defaults, **row}
        con.execute(
            f"insert into marts.rpt_scorecard ({', '.join(values)}) values ({', '.join('?' * len(values))})",
            list(values.values()),
        )


REFERRALS = {"la_code": "E10000015", "section": "Referral and assessment", "area": "Referrals",
             "kpi_id": "referral_rate_per_10k_r12m", "kpi_name": "Referral rate", "unit": "rate10k",
             "polarity": "low", "period_type": "R12M", "display_order": 60}  # fmt: skip
ASSESSMENTS = {"la_code": "E10000015", "section": "Referral and assessment", "area": "Assessments",
               "kpi_id": "assessment_45wd_pct", "kpi_name": "Assessments in 45 working days", "unit": "pct",
               "polarity": "high", "period_type": "IN-MONTH", "display_order": 90}  # fmt: skip
MARCH, FEBRUARY = date(2018, 3, 31), date(2018, 2, 28)


@pytest.fixture
def serving(tmp_path):
    path = tmp_path / "serving.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts; create schema reference")
        con.execute("create table reference.dim_kpi (kpi_id varchar, period_type varchar)")
        con.execute("insert into reference.dim_kpi values (?, ?), (?, ?)",
                    ["referral_rate_per_10k_r12m", "R12M", "assessment_45wd_pct", "IN-MONTH"])  # fmt: skip
        scorecard_table(
            con,
            [
                # 5,974 referrals this month, 6,000 the month before (first reported as 230.8 per 10,000).
                {**REFERRALS, "reporting_period": "month", "period_end": MARCH, "numerator": 5974.0,
                 "denominator": 266696.0, "value": 224.0, "previous_period_end": FEBRUARY,
                 "previous_numerator": 6000.0, "previous_denominator": 266696.0, "previous_value": 225.0,
                 "target": 260.0, "rag": "green", "neighbour_average": 551.0, "national_average": 548.2,
                 "quartile": 1, "direction_of_travel": "improved", "change": "down",
                 "first_reported_value": 224.0, "previous_is_revised": True,
                 "previous_first_reported_value": 230.8},
                # 485 of 510 assessments in time, 400 of 500 in February; the target is 2016-17's.
                {**ASSESSMENTS, "reporting_period": "month", "period_end": MARCH, "numerator": 485.0,
                 "denominator": 510.0, "value": 100 * 485 / 510, "previous_period_end": FEBRUARY,
                 "previous_numerator": 400.0, "previous_denominator": 500.0, "previous_value": 80.0,
                 "target": 91.0, "target_basis": "nearest year", "target_financial_year_start": 2016,
                 "rag": "green", "neighbour_average": 86.0, "quartile": 2, "direction_of_travel": "improved",
                 "change": "up", "first_reported_value": 100 * 485 / 510},
                {**ASSESSMENTS, "reporting_period": "quarter", "period_end": MARCH, "numerator": 1.0,
                 "denominator": 2.0, "value": 50.0},
                {**ASSESSMENTS, "reporting_period": "month", "period_end": FEBRUARY, "numerator": 400.0,
                 "denominator": 500.0, "value": 80.0},
                {**REFERRALS, "reporting_period": "month", "period_end": FEBRUARY, "numerator": 6000.0,
                 "denominator": 266696.0, "value": 225.0},
            ],
        )  # fmt: skip
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
    assert "95.1% (485 of 510)" in out and "91.0%*" in out and "86.0%" in out
    assert "Top" in out and "Second" in out
    assert "no target of its own for this year: the 2016-17 target is used" in out


def test_report_files_carry_the_comparisons(serving, tmp_path):
    files = write_scorecard_report(serving, tmp_path / "reports")

    markdown = files.markdown.read_text()
    assert "| Target | RAG | Neighbours | National | Quartile |" in markdown
    assert "| 95.1% (485 of 510) | 80.0% (400 of 500) | up (better) | 91.0% (2016-17 target) |" in markdown
    assert "225.0 (6,000) (revised; first reported 230.8)" in markdown
    with files.csv.open() as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["target"] == "260" and rows[0]["rag"] == "green" and rows[0]["quartile"] == "1"
    assert rows[0]["previous_is_revised"] == "true" and rows[0]["previous_first_reported_value"] == "230.8"
    assert rows[1]["direction_of_travel"] == "improved"


def test_scorecard_fits_80_columns(serving):
    from rich.console import Console

    from csc_warehouse.scorecard import print_scorecard

    console = Console(width=200, record=True, force_terminal=False)
    assert print_scorecard(serving, console=console, width=80) == 2
    lines = console.export_text().splitlines()
    assert max(len(line) for line in lines) <= 80
    # The averages are left out to fit; the figures stay whole on one line.
    assert "Neighbours" not in "\n".join(lines)
    assert any("95.1% (485 of 510)" in line for line in lines)


def test_a_figure_whose_window_is_not_covered_is_marked(serving):
    with duckdb.connect(str(serving)) as con:
        con.execute("update marts.rpt_scorecard set is_window_complete = false where kpi_id like 'referral%'")
    rows = write_scorecard_report(serving, serving.parent / "out").markdown.read_text()
    # 224.0 (5,974) is a rolling year the data do not yet cover: marked, and no RAG against the target.
    assert "| 224.0 (5,974) † |" in rows
    assert "not yet cover this figure's whole window" in rows
    assert "| 260.0 |  |" in rows
