"""`cscw returns cin-census` / `ssda903`: the DfE returns, checked by the DfE's own schemas.

Eight years of a small unitary (April 2015 to March 2024, so every CIN census year the public
``liiatools`` 0.2.0 wheel ships an XSD for, 2017 to 2024) are written as each year's CIN census and
SSDA903 return. Each census is validated with lxml against that year's XSD; each SSDA903 table's coded
columns are checked against that year's code lists (``SSDA903_schema_<year>.yml`` of the same wheel).
A small hand-made history checks the codes that changed between years, and a warehouse built with dbt
checks that ``cscw returns`` writes the same files from the warehouse as from the canonical events.
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml
from lxml import etree
from typer.testing import CliRunner

from csc_warehouse.formats import reference_specs
from csc_warehouse.formats.annex_a import build_lists
from csc_warehouse.formats.returns_cin_census import lea_number, write_cin_census
from csc_warehouse.formats.returns_source import ReturnSource, episodes_from_events, from_canonical
from csc_warehouse.formats.returns_ssda903 import write_ssda903
from csc_warehouse.generate import generate

YEARS = range(2017, 2025)
# liiatools' table names -> the SSDA903 file names the writer uses.
S903_TABLES = {
    "Header": "header",
    "Episodes": "episodes",
    "UASC": "uasc",
    "Reviews": "reviews",
    "Missing": "missing",
    "OC2": "oc2",
    "OC3": "oc3",
    "AD1": "ad1",
    "PlacedAdoption": "placed_for_adoption",
    "PrevPerm": "previous_permanence",
}
# The one place the writer departs from the XSD (see test_the_census_validates_against_its_years_xsd).
FIRST_PLAN = re.compile(r"Element 'NumberOfPreviousCPP': '0' is not a valid value of the atomic type")


@pytest.fixture(scope="module")
def specs() -> Path:
    """The liiatools wheel, downloaded once into the environment's cache (reference_specs)."""
    try:
        return reference_specs.wheel_path()
    except reference_specs.SpecUnavailable as exc:  # pragma: no cover - only without the registry
        pytest.fail(f"the reference schemas are needed for this test: {exc}")


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> ReturnSource:
    root = tmp_path_factory.mktemp("returns")
    generate(root, profile="small-unitary", seed=5, years=8, start=date(2016, 4, 1), file_format="csv")
    [one] = from_canonical(root)
    return one


def _validate(path: Path, year: int) -> list[str]:
    schema = etree.XMLSchema(etree.fromstring(reference_specs.cin_xsd(year)))
    schema.validate(etree.parse(str(path)))
    return [e.message for e in schema.error_log]


def test_lea_is_the_three_digit_dfe_number() -> None:
    assert lea_number("E06000017") == "857"
    assert lea_number("E12345678", "123") == "123"
    assert lea_number("919") == "919"
    with pytest.raises(ValueError, match="--lea"):
        lea_number("E12345678")


def test_the_census_validates_against_its_years_xsd(specs, source, tmp_path) -> None:
    """Zero errors but one: the XSD types NumberOfPreviousCPP as a positive integer, so a first plan's
    true count, 0, is refused; every other element and code of every year is valid."""
    first_plans_total = 0
    for year in YEARS:
        path, _ = write_cin_census(source, tmp_path, year)
        errors = _validate(path, year)
        other = [e for e in errors if not FIRST_PLAN.match(e)]
        assert other == [], f"{year}: {other[:5]}"
        tree = etree.parse(str(path))
        first_plans = tree.xpath("count(//ChildProtectionPlans[NumberOfPreviousCPP='0'])")
        assert len(errors) == first_plans  # each first plan once, nothing else
        assert tree.xpath("count(//Child)") > 100
        assert tree.findtext("Header/Source/LEA") == "857"
        # No empty element anywhere (the schema refuses empty codes and dates).
        assert not tree.xpath("//*[not(*) and normalize-space(text())='']")
        first_plans_total += int(first_plans)
    assert first_plans_total > 0


def test_census_elements_and_codes_of_each_year(source, tmp_path) -> None:
    path_2021, _ = write_cin_census(source, tmp_path, 2021)
    path_2022, _ = write_cin_census(source, tmp_path, 2022)
    tree_2021, tree_2022 = etree.parse(str(path_2021)), etree.parse(str(path_2022))
    # CINPlanDates came with 2021/22.
    assert tree_2021.xpath("count(//CINPlanDates)") == 0
    assert tree_2022.xpath("count(//CINPlanDates)") > 0
    # A plan with no end by 31 March has no CINPlanEndDate element (never an empty one).
    assert tree_2022.xpath("count(//CINPlanDates[not(CINPlanEndDate)])") > 0
    # 5D (early help) is a 2022/23 code.
    assert tree_2022.xpath("count(//ReferralSource[.='5D'])") == 0


def _hand_made(events: list[tuple[str, str, str, str | None, str | None]]) -> ReturnSource:
    """One child's events (id, type, date, code, code2), each in its own episode P1 / R1 ..."""
    frame = pd.DataFrame(events, columns=["event_id", "event_type", "event_at", "code", "code2"])
    frame = frame.assign(
        la_code="E06000017",
        child_id="C1",
        episode_id=frame["event_id"].str.split("-").str[0],
        referral_id=None,
        value=None,
    )
    frame["event_at"] = pd.to_datetime(frame["event_at"])
    frame["day"] = frame["event_at"].dt.normalize()
    children = pd.DataFrame(
        {
            "child_id": ["C1"],
            "sex": ["F"],
            "birth_month": [pd.Timestamp("2001-05-01")],
            "ethnicity": ["WBRI"],
            "disabled": ["false"],
        }
    )
    return ReturnSource("E06000017", children, frame, episodes_from_events(frame))


def test_ssda903_codes_are_those_of_the_year(tmp_path) -> None:
    # A period ended by an SGO to a former foster carer who is a relative (E45, from 2018/19), a care
    # leaver contact in full-time employment (F4, from 2021/22) and one not in touch (activity 0).
    source = _hand_made(
        [
            ("P1-s", "cla_period_started", "2017-06-01", "C2", "U4"),
            ("P1-e", "cla_period_ended", "2018-02-01", "E45", None),
            ("P2-s", "cla_period_started", "2018-06-01", "C2", "U4"),
            ("P2-e", "cla_period_ended", "2019-02-01", "E45", None),
            ("L1", "care_leaver_contact", "2020-06-01", "F4", "U1"),
            ("L2", "care_leaver_contact", "2021-06-01", "F4", "U1"),
            ("L3", "care_leaver_contact", "2022-06-01", "0", "0"),
        ]
    )

    def table(year: int, name: str) -> pd.DataFrame:
        folder, _ = write_ssda903(source, tmp_path / str(year), year)
        return pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)

    assert table(2018, "episodes")["REC"].tolist() == ["E43"]  # E45 did not exist in 2017/18
    assert table(2019, "episodes")["REC"].tolist() == ["E45"]
    assert table(2021, "oc3")[["IN_TOUCH", "ACTIV", "ACCOM"]].values.tolist() == [["YES", "F3", "U1"]]
    assert table(2022, "oc3")[["IN_TOUCH", "ACTIV", "ACCOM"]].values.tolist() == [["YES", "F4", "U1"]]
    # Not in touch: IN_TOUCH NO with activity and accommodation 0, as the return codes it.
    assert table(2023, "oc3")[["IN_TOUCH", "ACTIV", "ACCOM"]].values.tolist() == [["NO", "0", "0"]]


def test_ssda903_coded_columns_hold_only_the_years_codes(specs, source, tmp_path) -> None:
    checked = 0
    for year in YEARS:
        folder, _ = write_ssda903(source, tmp_path / str(year), year)
        spec = yaml.safe_load(reference_specs.read(f"liiatools/spec/s903/SSDA903_schema_{year}.yml"))
        for table, name in S903_TABLES.items():
            frame = pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)
            for column, rule in spec["column_map"][table].items():
                if "category" not in rule:
                    continue
                allowed = {str(c["code"]).strip() for c in rule["category"]}
                found = set(frame[column]) - {""}
                assert found <= allowed, f"{year} {name}.{column}: {sorted(found - allowed)}"
                checked += len(frame)
    assert checked > 10_000


@pytest.mark.slow
def test_cli_writes_the_returns_from_the_warehouse(specs, tmp_path) -> None:
    """The warehouse route (cscw returns) writes what the canonical route writes, and validates."""
    from csc_warehouse.build import build
    from csc_warehouse.cli import app
    from csc_warehouse.load import load

    generate(tmp_path / "in", profile="small-unitary", seed=7, years=2, file_format="csv")
    warehouse = tmp_path / "wh.duckdb"
    assert load(tmp_path / "in", warehouse).rows_quarantined == 0
    saved = os.environ.get("DBT_INDIRECT_SELECTION")
    os.environ["DBT_INDIRECT_SELECTION"] = "cautious"
    try:
        build(warehouse, select="+int_episodes_built")
    finally:
        if saved is None:
            os.environ.pop("DBT_INDIRECT_SELECTION", None)
        else:
            os.environ["DBT_INDIRECT_SELECTION"] = saved
    runner = CliRunner()
    out = tmp_path / "returns"
    for command in ("cin-census", "ssda903"):
        args = ["returns", command, "--year", "2018", "-w", str(warehouse), "-o", str(out)]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    census = out / "E06000017" / "cin_census_2018.xml"
    assert [e for e in _validate(census, 2018) if not FIRST_PLAN.match(e)] == []
    [canonical] = from_canonical(tmp_path / "in")
    again, _ = write_cin_census(canonical, tmp_path / "canonical", 2018)
    assert census.read_bytes() == again.read_bytes()
    folder, _ = write_ssda903(canonical, tmp_path / "canonical" / "ssda903", 2018)
    for name in S903_TABLES.values():
        assert (out / "E06000017" / "ssda903" / "2018" / f"{name}.csv").read_bytes() == (
            folder / f"{name}.csv"
        ).read_bytes(), name
    # Annex A from the warehouse as known at the as-at day = Annex A from the canonical events then.
    args = ["returns", "annex-a", "--as-at", "2017-12-31", "-w", str(warehouse), "-o", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out / "E06000017" / "annex_a_E06000017_2017-12-31.xlsx")
    [known] = from_canonical(tmp_path / "in", as_of=date(2017, 12, 31))
    lists = build_lists(known, date(2017, 12, 31), 6)
    for name, frame in lists.items():
        rows = list(book[name].iter_rows(min_row=2, values_only=True))
        assert len(rows) == len(frame), name
        assert [r[0] for r in rows] == frame["Child Unique ID"].tolist(), name
    assert len(lists["List 1"]) > 100
    missing = runner.invoke(app, ["returns", "ssda903", "--year", "2018", "-w", str(tmp_path / "no.duckdb")])
    assert missing.exit_code == 1 and "not found" in " ".join(missing.output.split())


def test_census_codes_of_each_year_by_hand(tmp_path) -> None:
    from csc_warehouse.formats.returns_source import from_frames

    children = pd.DataFrame(
        {
            "child_id": ["C1"],
            "sex": [None],
            "birth_month": ["2010-06-01"],
            "ethnicity": [None],
            "disabled": [None],
        }
    )
    rows = [
        # A referral from early help (5D), closed after assessment to early help (RC9), with an
        # assessment naming physical abuse by an adult (18C) and criminal exploitation (24A).
        ("R1s", "referral_received", "2019-06-01", "R1", "R1", "5D", None),
        ("R1e", "referral_closed", "2019-09-01", "R1", "R1", "RC9", None),
        ("A1s", "assessment_started", "2019-06-03", "A1", "R1", None, None),
        ("A1e", "assessment_authorised", "2019-07-01", "A1", "R1", "cin", "18C;24A;3A"),
        ("A2s", "assessment_started", "2019-08-01", "A2", "R1", None, None),  # open at 31 March: no factors
        ("R2s", "referral_received", "2019-10-01", "R2", "R2", None, None),  # no source known
        ("R2e", "referral_closed", "2019-12-01", "R2", "R2", None, None),  # closed, reason not known
    ]
    events = pd.DataFrame(
        rows, columns=["event_id", "event_type", "event_at", "episode_id", "referral_id", "code", "code2"]
    ).assign(child_id="C1")
    source = from_frames("E06000017", children, events)

    def census(year: int):
        path, recoded = write_cin_census(source, tmp_path, year, lea="857")
        return etree.parse(str(path)), recoded

    tree, recoded = census(2020)  # April 2019 to March 2020
    assert tree.xpath("//CINdetails/ReferralSource/text()") == ["5B", "10"]
    assert tree.xpath("//ReasonForClosure/text()") == ["RC8"]  # only where a reason is known
    assert tree.xpath("count(//CINdetails[2]/CINclosureDate)") == 1
    assert tree.xpath("//AssessmentFactors/text()") == ["18A", "3A"]  # 18C -> 18A, 24A not yet a code
    assert tree.xpath("count(//Assessments[2]/FactorsIdentifiedAtAssessment)") == 0
    assert tree.xpath("//GenderCurrent/text()") == ["0"] and tree.xpath("//Ethnicity/text()") == ["NOBT"]
    assert tree.xpath("count(//Disabilities)") == 0  # disability not recorded: left out
    assert recoded["ReferralSource 5D -> 5B"] == 1 and recoded["ReasonForClosure RC9 -> RC8"] == 1
    assert _validate(tree.docinfo.URL, 2020) == []
