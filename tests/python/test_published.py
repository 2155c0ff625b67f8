"""Figures as first reported are kept; later, better figures appear beside them as revisions.

A small hand-made authority goes through the real path (canonical CSV -> loader -> dbt build -> publish
months). Its months are published as first reported; then a second load brings events recorded late
(a referral dated in February but recorded in April), a correction (a January referral moved to
February) and a deletion (another February referral). The rebuild changes the latest figures, the
published ones stay exactly as they were, and rpt_kpi_revisions / rpt_scorecard show the difference.
Every expected figure is counted by hand from the events below.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import duckdb
import pytest
from factories import event_row

from csc_warehouse import as_reported
from csc_warehouse.build import build
from csc_warehouse.contract import TABLES
from csc_warehouse.load import load

LA = "P1"
JAN, FEB, MAR, APR = date(2018, 1, 31), date(2018, 2, 28), date(2018, 3, 31), date(2018, 4, 30)


def event(event_id: str, event_type: str, child: str, at: str, recorded: str | None = None, **extra):
    """An event at midnight of `at`, recorded then (or at `recorded`)."""
    return event_row(
        event_id,
        event_type,
        f"{at} 00:00:00",
        la_code=LA,
        child_id=child,
        recorded_at=f"{recorded or at} 00:00:00",
        **extra,
    )


# First load, everything recorded the day it happened. Referrals: R1 in January, R2 in February.
# Contacts give the authority its months: January to March 2018.
FIRST = [
    event("k1", "contact_received", "c1", "2018-01-02", episode_id="K1", code="police"),
    event("r1", "referral_received", "c1", "2018-01-10", episode_id="R1", code="1A"),
    event("r2", "referral_received", "c2", "2018-02-05", episode_id="R2", code="2A"),
    event("k2", "contact_received", "c2", "2018-03-31", episode_id="K2", code="school"),
]

# Second load, all recorded after the three months' cut-offs (month ends: 0 working days):
# R3 happened in February but is recorded in April; R1 is corrected to 12 February; R2 is deleted.
# A contact on 30 April brings April in (published by the second run: the data reach its cut-off).
SECOND = [
    event("r3", "referral_received", "c3", "2018-02-20", "2018-04-10", episode_id="R3", code="1A"),
    event("r1", "referral_received", "c1", "2018-02-12", "2018-04-11", episode_id="R1", code="1A"),
    event(
        "r2",
        "referral_received",
        "c2",
        "2018-02-05",
        "2018-04-12",
        episode_id="R2",
        code="2A",
        is_deleted=True,
    ),
    event("k3", "contact_received", "c3", "2018-04-30", episode_id="K3", code="health"),
]


def write_inputs(folder: Path, events: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rows = {
        "events": events,
        "children": [
            {
                "la_code": LA,
                "child_id": child,
                "sex": "F",
                "birth_month": "2010-01-01",
                "ethnicity": "WBRI",
                "disabled": False,
                "recorded_at": "2017-01-01 00:00:00",
            }
            for child in ("c1", "c2", "c3")
        ],
        "population": [{"la_code": LA, "year": 2018, "age": 7, "sex": "F", "count": 10000}],
    }
    for table, records in rows.items():
        columns = [column.name for column in TABLES[table]]
        with (folder / f"{table}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            for record in records:
                writer.writerow({k: ("" if v is None else v) for k, v in record.items()})
    return folder


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def figures(warehouse: Path, table: str, kpi_id: str) -> dict[date, tuple]:
    rows = query(
        warehouse,
        f"select period_end, numerator, value from marts.{table} "
        f"where la_code = '{LA}' and kpi_id = '{kpi_id}'",
    )
    return {period_end: (numerator, value) for period_end, numerator, value in rows}


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    """Load, build, publish; snapshot; load the late events, build, publish again; snapshot."""
    root = tmp_path_factory.mktemp("published")
    warehouse = root / "warehouse.duckdb"
    report = load(write_inputs(root / "first", FIRST), warehouse)
    assert report.rows_quarantined == 0
    build(warehouse)
    first_run = as_reported.publish_due(warehouse, recent_months=6)
    before = {
        "log": query(warehouse, "select * from raw.kpi_published order by all"),
        "published": query(warehouse, "select * from marts.fct_kpi_published order by all"),
        "referrals": figures(warehouse, "fct_kpi_published", "referrals_received"),
    }

    report = load(write_inputs(root / "second", FIRST + SECOND), warehouse)
    assert report.rows_quarantined == 0
    build(warehouse)
    second_run = as_reported.publish_due(warehouse, recent_months=6)
    return {
        "warehouse": warehouse,
        "first_run": first_run,
        "second_run": second_run,
        "before": before,
    }


@pytest.mark.slow
def test_months_are_published_once_at_their_cut_off(story):
    first, second = story["first_run"], story["second_run"]
    assert [m.period_end for m in first.months] == [JAN, FEB, MAR]
    assert [m.cutoff_date for m in first.months] == [JAN, FEB, MAR], "cut-off = month end (0 working days)"
    kpis = query(story["warehouse"], "select count(*) from reference.dim_kpi")[0][0]
    assert [m.rows for m in first.months] == [kpis] * 3
    # The second run publishes only the new month: January to March are never published twice.
    assert [m.period_end for m in second.months] == [APR]
    assert not (story["warehouse"].parent / as_reported.SCRATCH_DIR).exists(), "scratch copy removed"


@pytest.mark.slow
def test_rebuild_changes_latest_figures_but_not_published_ones(story):
    warehouse = story["warehouse"]
    # Latest view: R1 moved to February, R2 deleted, R3 (late) in February.
    assert figures(warehouse, "fct_kpi_monthly", "referrals_received") == {
        JAN: (0, 0),
        FEB: (2, 2),
        MAR: (0, 0),
        APR: (0, 0),
    }
    # As first reported: January had R1, February R2.
    assert story["before"]["referrals"] == {JAN: (1, 1), FEB: (1, 1), MAR: (0, 0)}
    assert figures(warehouse, "fct_kpi_published", "referrals_received") == {
        JAN: (1, 1),
        FEB: (1, 1),
        MAR: (0, 0),
        APR: (0, 0),
    }
    # Byte for byte: every row published by the first run is still there and unchanged.
    log_before = story["before"]["log"]
    log_now = query(warehouse, f"select * from raw.kpi_published where period_end <= '{MAR}' order by all")
    assert log_now == log_before
    published_now = query(
        warehouse, f"select * from marts.fct_kpi_published where period_end <= '{MAR}' order by all"
    )
    assert published_now == story["before"]["published"]


@pytest.mark.slow
def test_revisions_show_first_reported_beside_latest(story):
    rows = query(
        story["warehouse"],
        f"""select period_end, first_reported_numerator, latest_numerator, numerator_change, is_revised
        from marts.rpt_kpi_revisions where la_code = '{LA}' and kpi_id = 'referrals_received'
        order by period_end""",
    )
    assert rows == [
        (JAN, 1, 0, -1, True),
        (FEB, 1, 2, 1, True),
        (MAR, 0, 0, 0, False),
        (APR, 0, 0, 0, False),
    ]
    # The rolling year to March: first reported R1 + R2 = 2, now R1 + R3 = 2: the same figure, not revised.
    r12m = query(
        story["warehouse"],
        f"""select first_reported_numerator, latest_numerator, is_revised from marts.rpt_kpi_revisions
        where la_code = '{LA}' and kpi_id = 'referrals_r12m' and period_end = '{MAR}'""",
    )
    assert r12m == [(2, 2, False)]


@pytest.mark.slow
def test_scorecard_marks_revised_periods(story):
    rows = query(
        story["warehouse"],
        f"""select reporting_period, period_end, value, first_reported_value, is_revised,
            previous_value, previous_first_reported_value, previous_is_revised
        from marts.rpt_scorecard where la_code = '{LA}' and kpi_id = 'referrals_received'
        order by reporting_period, period_end""",
    )
    assert rows == [
        ("month", JAN, 0, 1, True, None, None, False),
        ("month", FEB, 2, 1, True, 0, 1, True),
        ("month", MAR, 0, 0, False, 2, 1, True),
        ("month", APR, 0, 0, False, 0, 0, False),
        # Q4 2017-18 adds its months: 0 + 2 + 0 now, 1 + 1 + 0 first reported: the same 2.
        ("quarter", MAR, 2, 2, False, None, None, False),
    ]


@pytest.mark.slow
def test_backfill_leaves_published_months_unless_replaced(story):
    warehouse = story["warehouse"]
    again = as_reported.publish_due(warehouse, start="2018-01", end="2018-05")
    assert again.months == []
    assert again.already_published == ["2018-01", "2018-02", "2018-03", "2018-04"]
    assert again.not_reached == [], "May is no reporting month of the authority"

    replaced = as_reported.publish_due(warehouse, start="2018-02", end="2018-02", replace=True)
    (month,) = replaced.months
    (old,) = month.replaced
    # As known at 28 February the data are what they were then: the replacement is the same figure.
    assert (old["la_code"], old["reason"], old["changed"]) == (LA, "refresh", 0)
    assert "replaced P1's publication" in month.describe()
    publications = query(
        warehouse,
        f"""select publication_reason, publication_count, first_published_at < published_at
        from marts.fct_kpi_published where kpi_id = 'referrals_received' and period_end = '{FEB}'""",
    )
    assert publications == [("replace", 2, True)]
    kept = query(
        warehouse, f"select count(distinct publication_id) from raw.kpi_published where period_end = '{FEB}'"
    )
    assert kept == [(2,)], "the replaced publication stays in the log"


@pytest.mark.slow
def test_breakdowns_count_without_children(story):
    """February's referrals (R1 moved there, R3 late; R2 deleted) by characteristic; no child-level column."""
    rows = query(
        story["warehouse"],
        f"""select breakdown, category, member_count, share_pct from marts.rpt_population_breakdowns
        where la_code = '{LA}' and period_end = '{FEB}' and population = 'referrals' order by breakdown""",
    )
    assert rows == [
        ("age_band", "5 to 9", 2, 100.0),
        ("ethnicity_group", "White", 2, 100.0),
        ("sex", "Female", 2, 100.0),
        ("total", "All", 2, 100.0),
    ]
    columns = query(
        story["warehouse"],
        "select column_name from duckdb_columns() where table_name = 'rpt_population_breakdowns'",
    )
    assert ("child_id",) not in columns
