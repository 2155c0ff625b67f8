"""`cscw returns annex-a`: Ofsted's Annex A lists, read back through the public template's own files.

Two years of a small unitary are written as Annex A at 31 March 2018 and read back with openpyxl; the
sheets, headers and coded values are checked against ``liiatools`` 0.2.0's ``annex-a-merge.yml`` and
``data-map.yml`` (no unknown column, no unknown code but the DfE's later codes, which annex-a.md says
are written as given). A hand-made history checks the rules of the lists cell by cell.
"""

from __future__ import annotations

import re
from datetime import date, datetime

import openpyxl
import pandas as pd
import pytest
import yaml

from csc_warehouse.formats import reference_specs
from csc_warehouse.formats.annex_a import build_lists, window, write_annex_a
from csc_warehouse.formats.returns_source import from_canonical, from_frames
from csc_warehouse.generate import generate

LISTS = [f"List {n}" for n in range(1, 11)]
# Codes the DfE added after the template's lists, written as given (annex-a.md).
LATER_CODES = {"5D", "RC9", "F4", "P4", "F5", "P5", "E43", "E44", "K3", "Z11", "Z12", "Z13", "Z14"}
# data-map.yml spells a few columns differently from the headers (annex-a-merge.yml wins).
SPELLED = {
    "eligibitycategory": "eligibilitycategory",
    "suitabilityofaccomodation": "suitabilityofaccommodation",
}


def _key(header: str) -> str:
    key = re.sub(r"[^a-z0-9]", "", header.lower())
    return SPELLED.get(key, key)


@pytest.fixture(scope="module")
def workbook(tmp_path_factory):
    root = tmp_path_factory.mktemp("annex_a")
    generate(root / "in", profile="small-unitary", seed=3, years=2, file_format="csv")
    [source] = from_canonical(root / "in")
    path, counts = write_annex_a(source, root / "out", date(2018, 3, 31), 6)
    return openpyxl.load_workbook(path), counts


def test_window_is_whole_months_at_a_month_end() -> None:
    assert window(date(2018, 3, 31), 6) == (pd.Timestamp("2017-10-01"), pd.Timestamp("2018-03-31"))
    assert window(date(2025, 2, 28), 6) == (pd.Timestamp("2024-09-01"), pd.Timestamp("2025-02-28"))
    # Not a month end: A - 6 months + 1 day.
    assert window(date(2018, 3, 15), 6) == (pd.Timestamp("2017-09-16"), pd.Timestamp("2018-03-15"))
    assert window(date(2018, 3, 31), 12)[0] == pd.Timestamp("2017-04-01")


def test_sheets_headers_and_codes_are_the_templates(workbook) -> None:
    book, counts = workbook
    headers = reference_specs.annex_a_headers()
    code_lists = reference_specs.annex_a_codes()
    assert book.sheetnames == [*LISTS, "Notes"]
    checked = 0
    for name in LISTS:
        rows = list(book[name].iter_rows(values_only=True))
        assert list(rows[0]) == headers[name], name  # every column, in order, spelled as the template
        assert len(rows) - 1 == counts[name]
        by_key = {_key(h): i for i, h in enumerate(rows[0])}
        for column, allowed in code_lists[name].items():
            index = by_key[_key(column)]  # a code list for a column the sheet does not have would fail here
            found = {row[index] for row in rows[1:]} - {None}
            unknown = found - set(allowed) - LATER_CODES
            assert not unknown, f"{name} / {column}: {sorted(unknown)}"
            checked += len(rows) - 1
        ids = [row[0] for row in rows[1:]]
        assert all(isinstance(i, str) and i for i in ids)
        assert ids == sorted(ids)  # sorted by child id first
    assert checked > 2_000
    for name in ("List 1", "List 3", "List 4", "List 6", "List 8"):
        assert counts[name] > 0, name


def test_date_and_number_columns_are_typed(workbook) -> None:
    book, _ = workbook
    merged = reference_specs.read("liiatools/spec/annex_a/annex-a-merge.yml")
    assert merged

    yaml_types = yaml.safe_load(merged)["datasources"]
    for name in LISTS:
        rows = list(book[name].iter_rows(values_only=True))
        for i, header in enumerate(rows[0]):
            kind = (yaml_types[name][header] or {}).get("type")
            values = [row[i] for row in rows[1:] if row[i] is not None]
            if kind == "date":
                assert all(isinstance(v, datetime) for v in values), (name, header)
            elif kind == "integer":
                assert all(isinstance(v, int) for v in values), (name, header)


def test_notes_sheet_lists_every_blank_column(workbook) -> None:
    book, _ = workbook
    notes = [row for row in book["Notes"].iter_rows(values_only=True)]
    blank = {(row[0], row[1]) for row in notes if row and row[0] in LISTS and len(row) > 2 and row[2]}
    for name in LISTS:
        rows = list(book[name].iter_rows(values_only=True))
        for i, header in enumerate(rows[0]):
            if (
                rows[1:]
                and all(row[i] is None for row in rows[1:])
                and header
                not in (
                    "Allocated Worker",  # the generator allocates no workers: filled when events have them
                    "Date of Placement Order",
                    "Date of Matching Child and Prospective Adopters",
                    "Date Placed for Adoption",
                    "Date of Adoption Order",
                    "Date of Decision that Child Should No Longer be Placed for Adoption",
                    "Reason Why Child No Longer Placed for Adoption",
                    "CIN Closure Date",
                    "Reason for Closure",
                    "Child Protection Plan End Date",
                    "Date Ceased to be Looked After",
                    "Reason Ceased to be Looked After",
                    "Assessment completion date",
                )
            ):
                assert (name, header) in blank, f"{name} / {header} is blank but not explained"


def _history():
    children = pd.DataFrame(
        {
            "child_id": ["C1", "C2"],
            "sex": ["F", None],
            "birth_month": ["2001-05-01", "2000-03-01"],
            "ethnicity": ["WBRI", "NOBT"],
            "disabled": [None, "false"],
        }
    )
    rows = [
        # event_id, child, type, date, episode, code, code2
        ("K1", "C1", "contact_received", "2017-09-30", "K1", "police", None),  # the day before the window
        ("K2", "C1", "contact_received", "2017-10-01", "K2", "police", None),  # its first day
        ("R1s", "C1", "referral_received", "2017-03-20", "R1", "6", None),
        ("R1e", "C1", "referral_closed", "2017-10-01", "R1", "RC8", None),  # closed on the window's first day
        ("R2s", "C1", "referral_received", "2017-11-15", "R2", "2A", "nfa"),
        ("R3s", "C1", "referral_received", "2018-03-10", "R3", "5D", None),  # a later DfE code, as given
        ("P0s", "C1", "cp_plan_started", "2016-01-01", "P0", "E", None),
        ("P0e", "C1", "cp_plan_ended", "2016-06-01", "P0", None, None),
        ("P1s", "C1", "cp_plan_started", "2018-01-05", "P1", "N", None),
        ("V1", "C1", "child_seen", "2018-02-01", "P1", "cp", None),
        ("V2", "C1", "child_seen", "2018-03-01", "X9", "cin", None),
        ("V3", "C1", "child_seen", "2018-04-02", "P1", "cp", None),  # after A: not known as "latest"
        ("L1", "C2", "care_leaver_contact", "2017-06-01", None, "0", "0"),
        ("L0", "C2", "care_leaver_contact", "2016-06-01", None, "F1", "U1"),
    ]
    events = pd.DataFrame(
        rows, columns=["event_id", "child_id", "event_type", "event_at", "episode_id", "code", "code2"]
    )
    return from_frames("E06000017", children, events)


def test_lists_follow_the_rules_cell_by_cell() -> None:
    lists = build_lists(_history(), date(2018, 3, 31), 6)

    contacts = lists["List 1"]
    assert contacts["Date of Contact"].tolist() == [pd.Timestamp("2017-10-01")]
    assert contacts["Contact Source"].tolist() == ["q) 6: Police"]
    assert contacts["Gender"].tolist() == ["b) Female"]
    assert contacts["Ethnicity"].tolist() == ["a) WBRI"]
    assert contacts["Date of Birth"].tolist() == [pd.Timestamp("2001-05-01")]
    assert contacts["Age of Child (Years)"].tolist() == [16]  # 16 until May 2018

    referrals = lists["List 3"]
    assert referrals["Date of referral"].tolist() == [pd.Timestamp("2017-11-15"), pd.Timestamp("2018-03-10")]
    assert referrals["Referral Source"].tolist() == ["e) 2A: Schools", "5D"]
    assert referrals["Referral NFA?"].tolist() == ["a) Yes", "b) No"]
    # 2016-11-16 .. 2017-11-15 holds R1 and R2; 2017-03-11 .. 2018-03-10 holds R1, R2 and R3.
    assert referrals["Number of Referrals in Last 12 Months"].tolist() == [2, 3]

    cin = lists["List 6"]
    assert cin["CIN Start Date"].tolist() == [
        pd.Timestamp(d) for d in ("2017-03-20", "2017-11-15", "2018-03-10")
    ]
    assert cin["CIN Closure Date"].iloc[0] == pd.Timestamp("2017-10-01")
    assert cin["Reason for Closure"].iloc[0] == "RC8 - Case closed after assessment, no further action"
    # R1 closed; R2 and R3 open while the child is on a CP plan at A.
    assert cin["Case Status"].tolist() == [
        "e) Closed episode",
        "b) Child Protection plan",
        "b) Child Protection plan",
    ]
    assert cin["Date Child Was Last Seen"].tolist() == [pd.Timestamp("2018-03-01")] * 3
    assert cin["Does the Child have a Disability"].tolist() == ["c) Unknown"] * 3

    cp = lists["List 7"]
    assert cp["Child Protection Plan Start Date"].tolist() == [pd.Timestamp("2018-01-05")]  # P0 ended in 2016
    assert cp["Initial Category of Abuse"].tolist() == ["a) Neglect"]
    assert cp["Number of Previous Child Protection Plans"].tolist() == [1]
    assert cp["Date of the Last Statutory Visit"].tolist() == [pd.Timestamp("2018-02-01")]
    assert cp["Child Protection Plan End Date"].isna().all()

    leavers = lists["List 9"]
    assert leavers["Child Unique ID"].tolist() == ["C2"]  # C1 is 16
    assert leavers["Age of Child (Years)"].tolist() == [18]  # born March 2000
    assert leavers["Gender"].tolist() == ["c) Not stated/recorded"]
    assert leavers["Eligibility Category"].tolist() == ["b) Former relevant child"]
    assert leavers["LA in Touch"].tolist() == ["b) No"]
    assert leavers["Activity Status"].isna().all() and leavers["Type of Accommodation"].isna().all()
    assert lists["List 8"].empty and lists["List 10"].empty


def _looked_after_history():
    children = pd.DataFrame(
        {
            "child_id": ["C3"],
            "sex": ["M"],
            "birth_month": ["2005-09-01"],
            "ethnicity": ["AIND"],
            "disabled": ["true"],
        }
    )
    rows = [
        # event_id, type, date, episode, code, code2, value
        ("Q1s", "cla_period_started", "2016-01-10", "Q1", "C2", "U4", 5.0),
        ("Q1e", "cla_period_ended", "2017-05-01", "Q1", "E4A", None, None),  # ended before the window
        ("Q2s", "cla_period_started", "2017-11-01", "Q2", "V2", "U6", 30.0),
        ("Q2l", "cla_legal_status_changed", "2017-12-15", "Q2", "C2", None, None),
        ("Q2p", "cla_placement_changed", "2018-02-01", "Q2", "K2", "CARPL", 10.0),
        ("R1", "cla_review", "2018-01-20", "Q2", None, None, None),
        ("R2", "cla_review", "2018-03-10", "Q2", None, None, None),
        ("V1", "child_seen", "2018-03-20", "Q2", "cla", None, None),
        ("H1", "health_assessment", "2017-12-01", None, None, None, None),
        ("D1", "dental_check", "2017-06-01", None, None, None, None),  # before the window: still the latest
        ("M0", "missing_started", "2016-12-01", "M0", "missing", None, None),  # over 12 months before A
        ("M1", "missing_started", "2017-12-05", "M1", "missing", None, None),
        ("M2", "missing_started", "2018-01-10", "M2", "away", None, None),
        ("A1s", "assessment_started", "2017-09-20", "A1", None, None, None),
        ("A1v", "child_seen", "2017-09-25", "A1", "assessment", None, None),
        ("A1e", "assessment_authorised", "2017-10-05", "A1", "cin", None, None),  # authorised in the window
        ("A2e", "assessment_authorised", "2018-01-10", "A2", "nfa", None, None),  # its start not known
        ("S0d", "strategy_discussion", "2017-05-01", "S0", None, None, None),
        ("S0n", "icpc_not_required", "2017-05-20", "S0", None, None, None),
        ("S1d", "strategy_discussion", "2017-11-20", "S1", None, None, None),
        ("S1s", "s47_started", "2017-11-21", "S1", None, None, None),
        ("S1i", "icpc_held", "2017-12-05", "S1", "plan", None, None),
    ]
    events = pd.DataFrame(
        rows, columns=["event_id", "event_type", "event_at", "episode_id", "code", "code2", "value"]
    ).assign(child_id="C3")
    return from_frames("E06000017", children, events)


def test_looked_after_assessment_and_s47_lists_cell_by_cell() -> None:
    lists = build_lists(_looked_after_history(), date(2018, 3, 31), 6)
    cla = lists["List 8"]
    assert len(cla) == 1  # Q1 ended before the window
    row = cla.iloc[0]
    assert row["Date Started to be Looked After"] == pd.Timestamp("2017-11-01")
    # Q1 ended 2017-05-01, within the 12 months before Q2 started.
    assert row[
        "Is this a second or subsequent period of being a Looked After Child within the last 12 months (Y/N)"
    ] == ("a) Yes")
    assert row["Child's Legal Status"] == "C2: FCO"
    assert row["Start date of current legal status"] == pd.Timestamp("2017-12-15")
    assert row["Placement Type"] == "p) K2: Children's Homes"
    assert row["Start Date of Most Recent Placement"] == pd.Timestamp("2018-02-01")
    assert row["Placement Location"] == "a) In"  # 10 km
    # Q1's placement ran into the last 12 months (to 2017-05-01), and Q2 had two.
    assert row["Number of Placements in the Last 12 months"] == 3
    assert row["Date of Latest Statutory Review"] == pd.Timestamp("2018-03-10")
    assert row["Date of Last Social Work Visit"] == pd.Timestamp("2018-03-20")
    assert row["Date of Last Health Assessment"] == pd.Timestamp("2017-12-01")
    assert row["Date of Last Dental Check"] == pd.Timestamp("2017-06-01")
    assert (
        row["Number of Episodes the Child has been 'Missing' from their Placement in the last 12 months"] == 1
    )
    assert (
        row["Number of Episodes the Child has been 'Absent' from their Placement in the last 12 months"] == 1
    )
    assert row["Unaccompanied Asylum Seeking Child (UASC) within the Last 12 Months (Y/N)"] == "b) No"
    assert row["Does the Child have a Disability"] == "a) Yes"
    assert row["Age of Child (Years)"] == 12  # born September 2005
    assert pd.isna(row["Date Ceased to be Looked After"]) and pd.isna(row["Child's Category of Need"])

    assessments = lists["List 4"].sort_values("Continuous Assessment Date of Authorisation")
    assert assessments["Continuous Assessment Start Date"].tolist()[0] == pd.Timestamp("2017-09-20")
    assert pd.isna(assessments["Continuous Assessment Start Date"].tolist()[1])  # start not known at A
    assert assessments["Child Seen During Continuous Assessment"].tolist() == ["a) Yes", "b) No"]
    support = "Was the child assessed as requiring LA children's social care support?"
    assert assessments[support].tolist() == ["a) Yes", "b) No"]

    s47 = lists["List 5"]
    assert s47["Strategy discussion initiating Section 47 Enquiry Start Date"].tolist() == [
        pd.Timestamp("2017-11-20")
    ]
    assert s47["Was an Initial Child Protection Conference deemed unnecessary?"].tolist() == ["b) No"]
    assert s47["Date of Initial Child Protection Conference"].tolist() == [pd.Timestamp("2017-12-05")]
    assert s47["Did the Initial Child Protection Conference Result in a Child Protection Plan"].tolist() == [
        "a) Yes"
    ]
    assert s47["Number of Section 47 Enquiries in the last 12 months"].tolist() == [2]  # S0 and S1
    assert s47["Number of ICPCs in the last 12 months"].tolist() == [1]


def test_adoption_and_early_help_lists_cell_by_cell() -> None:
    children = pd.DataFrame(
        {
            "child_id": ["C4"],
            "sex": ["F"],
            "birth_month": ["2015-02-01"],
            "ethnicity": ["WBRI"],
            "disabled": ["false"],
        }
    )
    rows = [
        ("P1s", "cla_period_started", "2016-03-01", "P1", "C2", "U4"),
        ("J1d", "adoption_decision", "2016-09-12", "J1", None, None),
        ("J1p", "placement_order", "2016-12-01", "J1", None, None),
        ("J1m", "adoption_match", "2017-06-05", "J1", None, None),
        ("J1a", "adoption_placed", "2017-07-01", "J1", None, None),
        ("J1o", "adoption_order", "2018-04-20", "J1", None, None),  # after A: not shown
        ("J0d", "adoption_decision", "2016-01-05", "J0", None, None),
        ("J0c", "adoption_plan_ceased", "2017-08-01", "J0", "RD3", None),  # ceased before the window
        ("E1s", "early_help_started", "2017-08-01", "E1", None, None),
        ("E1e", "early_help_ended", "2017-10-01", "E1", None, None),  # ended on the window's first day
        ("E0s", "early_help_started", "2017-01-01", "E0", None, None),
        ("E0e", "early_help_ended", "2017-09-30", "E0", None, None),  # the day before the window
    ]
    events = pd.DataFrame(rows, columns=["event_id", "event_type", "event_at", "episode_id", "code", "code2"])
    lists = build_lists(
        from_frames("E06000017", children, events.assign(child_id="C4")), date(2018, 3, 31), 6
    )
    adoption = lists["List 10"]
    assert len(adoption) == 1  # J0 ceased before the window
    row = adoption.iloc[0]
    assert row["Date the Child Entered Care"] == pd.Timestamp("2016-03-01")
    assert row["Date of Decision that Child Should be Placed for Adoption"] == pd.Timestamp("2016-09-12")
    assert row["Date of Placement Order"] == pd.Timestamp("2016-12-01")
    assert row["Date of Matching Child and Prospective Adopters"] == pd.Timestamp("2017-06-05")
    assert row["Date Placed for Adoption"] == pd.Timestamp("2017-07-01")
    assert pd.isna(row["Date of Adoption Order"])
    assert row["Does the Child have a Disability"] == "b) No"
    early = lists["List 2"]
    assert early["Assessment start date"].tolist() == [pd.Timestamp("2017-08-01")]
    assert early["Assessment completion date"].tolist() == [pd.Timestamp("2017-10-01")]
