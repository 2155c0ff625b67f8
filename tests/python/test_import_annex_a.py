"""`cscw import annex-a`: an Annex A workbook read back as events gives the same lists again.

A small unitary's Annex A at 31 March 2018 is written, imported (pseudonymised again), and written
again from the imported events: every column the lists carry as dates or codes comes back the same
in every row. The columns that need what the lists do not hold are left out, each with its reason.
Bad cells are quarantined with sheet, row, column and reason, and the rest of the workbook loads.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from csc_warehouse.formats.annex_a import build_lists, write_annex_a
from csc_warehouse.formats.annex_a_import import import_annex_a
from csc_warehouse.formats.anonymise import KEY_ENV, Pseudonymiser
from csc_warehouse.formats.returns_source import from_canonical
from csc_warehouse.generate import generate

KEY = "annex-a-round-trip-key-0001"
AS_AT = date(2018, 3, 31)
# Columns computed from what the lists do not carry (so they differ after a round trip), and why.
NOT_CARRIED = {
    "Number of Referrals in Last 12 Months": "referrals before the window are not listed",
    "Case Status": "CIN plans are not listed (an open CIN plan reads back as an open assessment)",
    "Date Child Was Last Seen": "only CP and CLA visits are listed",
    "Child Seen During Continuous Assessment": "no date for the visit",
    "Was the child assessed as requiring LA children's social care support?": "the outcome's code (cin, s47)",
    "Was an Initial Child Protection Conference deemed unnecessary?": "no date for the decision",
    "Number of Section 47 Enquiries in the last 12 months": "enquiries before the window are not listed",
    "Number of ICPCs in the last 12 months": "conferences before the window are not listed",
    "Number of Previous Child Protection Plans": "plans ended before the window are not listed",
    "Unaccompanied Asylum Seeking Child (UASC) within the Last 12 Months (Y/N)": "no UASC dates",
    "Is this a second or subsequent period of being a Looked After Child within the last 12 months (Y/N)": (
        "periods ended before the window are not listed"
    ),
    "Number of Placements in the Last 12 months": "only the latest placement is listed",
    "Placement Location": "no distance",
    "Number of Episodes the Child has been 'Missing' from their Placement in the last 12 months": "no dates",
    "Number of Episodes the Child has been 'Absent' from their Placement in the last 12 months": "no dates",
    "Date the Child Entered Care": "the period may have ended before the window",
    "Child's Legal Status": "checked separately: the status at the start is lost when it changed later",
    "Start date of current legal status": "as above",
    "Placement Type": "as above, for the first placement",
    "Start Date of Most Recent Placement": "as above",
}


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory):
    root = tmp_path_factory.mktemp("annex_a_import")
    generate(root / "in", profile="small-unitary", seed=3, years=2, file_format="csv")
    [source] = from_canonical(root / "in")
    path, _ = write_annex_a(source, root / "out", AS_AT, 6)
    saved = os.environ.get(KEY_ENV)
    os.environ[KEY_ENV] = KEY
    try:
        result = import_annex_a([path], root / "imported", la_code=source.la_code)
    finally:
        if saved is None:
            os.environ.pop(KEY_ENV)
        else:
            os.environ[KEY_ENV] = saved
    [imported] = from_canonical(root / "imported")
    pseudo = Pseudonymiser(KEY.encode(), source.la_code)
    return build_lists(source, AS_AT), build_lists(imported, AS_AT), pseudo, result, path


def test_every_row_imports(round_trip) -> None:
    before, _, _, result, _ = round_trip
    assert result.rows_quarantined == 0
    assert result.rows_read == sum(len(f) for f in before.values())
    assert result.event_rows > 1_000


def test_lists_read_back_the_same(round_trip) -> None:
    before, after, pseudo, _, _ = round_trip
    compared = 0
    for name, frame in before.items():
        if name == "List 9":  # no contact date: nothing to import
            assert after[name].empty
            continue
        frame = frame.assign(**{"Child Unique ID": frame["Child Unique ID"].map(pseudo.one)})
        columns = [c for c in frame.columns if c not in NOT_CARRIED and c not in ("Allocated Worker",)]
        left = frame[columns].sort_values(columns, kind="stable").reset_index(drop=True)
        right = after[name][columns].sort_values(columns, kind="stable").reset_index(drop=True)
        pd.testing.assert_frame_equal(left, right, check_dtype=False, obj=name)
        compared += left.size
    assert compared > 10_000


def test_bad_cells_are_quarantined_and_the_rest_loads(round_trip, tmp_path, monkeypatch) -> None:
    *_, path = round_trip
    book = openpyxl.load_workbook(path)
    sheet = book["List 3"]
    header = [c.value for c in sheet[1]]
    sheet.cell(row=2, column=header.index("Date of referral") + 1, value="31/02/2018")  # no such day
    sheet.cell(row=3, column=header.index("Referral Source") + 1, value="z) 99: Nowhere")
    sheet.cell(row=4, column=1).value = None  # no child id
    bad = tmp_path / "bad.xlsx"
    book.save(bad)
    monkeypatch.setenv(KEY_ENV, KEY)
    from csc_warehouse.cli import app

    result = CliRunner().invoke(
        app,
        [
            "import",
            "annex-a",
            str(bad),
            "--la",
            "E06000017",
            "-o",
            str(tmp_path / "out"),
            "--as-at",
            "2018-03-31",
        ],
    )
    assert result.exit_code == 0, result.output
    quarantine = pd.read_csv(tmp_path / "out" / "import_quarantine_annex_a.csv")
    assert sorted(quarantine["source_line"]) == [2, 3, 4]
    assert set(quarantine["table_name"]) == {"List 3"}
    assert set(quarantine["column_name"]) == {"Date of referral", "Referral Source", "Child Unique ID"}
    # The quarantine keeps the row without the raw child id.
    assert not quarantine["record_json"].str.contains(str(sheet.cell(row=2, column=1).value)).any()
    events = pd.read_csv(tmp_path / "out" / "events_annex_a.csv")
    referrals = events[events["event_type"] == "referral_received"]
    # Every other row loads, recorded at the end of the as-at day.
    assert len(referrals) > 100 and (events["recorded_at"] == "2018-03-31 23:59:59").all()


# The KPIs Annex A carries for the months of its window, and at its as-at day.
WINDOW_KPIS = {
    "contacts_received",  # list 1: every contact of the window
    "referrals_received",  # lists 3 and 6: every referral of the window
    "assessments_completed",  # list 4: assessments authorised in the window
    "cp_plan_starts",  # list 7: plans open in the window, so every plan started in it
    "cla_starts",  # list 8: periods open in the window (short breaks left out, as the KPI does)
    "cla_ceased",
}
AS_AT_KPIS = {"cp_plans_open"}  # open at the as-at day: on list 7
# Every other KPI needs what Annex A does not hold: history before the window (rolling 12-month and
# repeat measures, durations), visits and reviews but the latest, CIN plans, short breaks, timings
# of decisions, care leavers' contact dates.


@pytest.mark.slow
def test_kpis_the_lists_carry_match_the_direct_build(round_trip, tmp_path) -> None:
    import shutil

    from csc_warehouse.build import build
    from csc_warehouse.load import load

    *_, result, path = round_trip
    canonical = path.parent.parent / "in"
    imported = Path(result.outputs["events"]).parent
    shutil.copy(canonical / "population.csv", imported / "population.csv")
    saved = os.environ.get("DBT_INDIRECT_SELECTION")
    os.environ["DBT_INDIRECT_SELECTION"] = "cautious"
    try:
        for name, folder in (("a", canonical), ("b", imported)):
            assert load(folder, tmp_path / f"{name}.duckdb").rows_quarantined == 0
            build(tmp_path / f"{name}.duckdb", select="+fct_kpi_monthly")
    finally:
        if saved is None:
            os.environ.pop("DBT_INDIRECT_SELECTION", None)
        else:
            os.environ["DBT_INDIRECT_SELECTION"] = saved
    import duckdb

    with duckdb.connect() as con:
        con.execute(
            f"attach '{tmp_path / 'a.duckdb'}' as a (read_only); attach '{tmp_path / 'b.duckdb'}' as b"
        )
        kpis = con.sql(
            """select kpi_id, period_end, a.numerator as a_num, b.numerator as b_num
               from a.marts.fct_kpi_monthly a
               left join b.marts.fct_kpi_monthly b using (la_code, kpi_id, period_end)
               where period_end between date '2017-10-31' and date '2018-03-31'"""
        ).df()
    window = kpis[kpis["kpi_id"].isin(WINDOW_KPIS)]
    at = kpis[kpis["kpi_id"].isin(AS_AT_KPIS) & (pd.to_datetime(kpis["period_end"]) == pd.Timestamp(AS_AT))]
    assert len(window) == 6 * len(WINDOW_KPIS) and len(at) == 1
    compared = pd.concat([window, at])
    assert compared["a_num"].sum() > 500
    diff = compared[compared["a_num"] != compared["b_num"]]
    assert diff.empty, diff.to_string()


def test_headers_spelled_the_authoritys_own_way_are_matched(round_trip, tmp_path) -> None:
    from csc_warehouse.formats.annex_a_import import read_workbook

    *_, path = round_trip
    book = openpyxl.load_workbook(path)
    renamed = {
        "Child Unique ID": "Child ID (pseudonymised)",
        "Date of Birth": "DOB",
        "Date of referral": "Referral date",
        "Referral NFA?": "REFERRAL NFA",
    }
    sheet = book["List 3"]
    for cell in sheet[1]:
        cell.value = renamed.get(cell.value, cell.value)
    sheet.cell(row=1, column=sheet.max_column + 1, value="Our own notes")  # an extra column: ignored
    changed = tmp_path / "own.xlsx"
    book.save(changed)
    again = read_workbook(changed)["List 3"]
    original = read_workbook(path)["List 3"]
    assert list(again.columns) == list(original.columns)
    pd.testing.assert_frame_equal(
        again.drop(columns=["_row", "_file"]), original.drop(columns=["_row", "_file"]), check_dtype=False
    )
