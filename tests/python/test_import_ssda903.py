"""SSDA903 import: the hand-made returns in tests/fixtures/ssda903/returns, worked out by hand.

The fixture holds two returns (2017 = April 2016 to March 2017, 2018) of authority 999:

- A1 spans both: 2017 has its first episode and its second one open; 2018 closes the second
  (X1, reason CHILD) and adds a third (RNE B: legal status and placement, ended E45 on 20/03/2018).
- B2's episode is in 2017 twice, identically (one is kept, nothing quarantined).
- D4 has two different rows for 01/06/2016 in 2017 (line 7 quarantined, line 6 kept), and line 6
  overlaps the next episode (DEC 01/12/2016 after the next DECOM 15/11/2016: trimmed, X1). 2018
  closes that episode and places D4 for adoption (A6, DECOM written 1/8/2017 as Excel re-saves it).
- L3 is open in 2017 and absent from 2018: closed on 1 April 2017, reason unknown.
- One bad row of each kind: SEX 7 (E5; E5's episode goes too), ETHNIC XXXX (M1; its episode also
  has PLACE Q7), DECOM 31/02/2017, LS C9, DEC before DECOM, REC E11 without DEC, SEX M in a 2018
  return, a review after 31 March 2018.
- 2018/header.csv starts with a UTF-8 byte-order mark (tolerated).
"""

from __future__ import annotations

import codecs
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from csc_warehouse.formats import codes
from csc_warehouse.formats.anonymise import KEY_ENV, KeyMissing, Pseudonymiser, postcode_district
from csc_warehouse.formats.canonical import versions
from csc_warehouse.formats.common import ImportRefused, parse_dates
from csc_warehouse.formats.imports import import_ssda903
from csc_warehouse.formats.repair import stitch
from csc_warehouse.import_cli import import_app
from csc_warehouse.load import load

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ssda903" / "returns"
SEEDS = Path(__file__).resolve().parents[2] / "seeds"
KEY = "fixture-key-not-a-secret"
LA = "999"


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)


def pseudo(child: str) -> str:
    return Pseudonymiser(KEY.encode(), LA).one(child)


@pytest.fixture
def imported(key, tmp_path):
    result = import_ssda903(FIXTURES, tmp_path / "out", la_code=LA)
    events = pd.read_csv(result.outputs["events"], dtype=str, keep_default_na=False)
    children = pd.read_csv(result.outputs["children"], dtype=str, keep_default_na=False)
    quarantine = pd.read_csv(result.outputs["quarantine"], dtype=str, keep_default_na=False)
    return result, events, children, quarantine


def child_events(events: pd.DataFrame, child: str) -> list[tuple[str, str, str, str]]:
    rows = events[events["child_id"] == pseudo(child)].sort_values(["event_at", "event_type"])
    return [(r.event_type, r.event_at[:10], r.code, r.code2) for r in rows.itertuples()]


def test_every_row_is_accounted_for_per_file(imported):
    result, *_ = imported
    got = {(f.file, f.table): (f.rows_read, f.converted, f.skipped, f.quarantined) for f in result.files}
    assert got == {
        ("2017/header.csv", "header"): (10, 8, 0, 2),  # E5 (SEX 7), M1 (ETHNIC XXXX)
        ("2017/episodes.csv", "episodes"): (14, 7, 0, 7),  # lines 7, 9, 10, 11, 12, 13, 15
        ("2018/header.csv", "header"): (4, 3, 0, 1),  # K2: SEX M in a 2018 return
        ("2018/episodes.csv", "episodes"): (4, 4, 0, 0),
        ("2018/reviews.csv", "reviews"): (2, 1, 0, 1),  # 05/05/2018 is after the year
        ("2018/missing.csv", "missing"): (1, 1, 0, 0),
        ("2018/oc2.csv", "oc2"): (2, 1, 1, 0),  # D4: no check, no score: nothing to convert
        ("2018/oc3.csv", "oc3"): (1, 1, 0, 0),
        ("2018/placed_for_adoption.csv", "placed_for_adoption"): (1, 1, 0, 0),
        ("2018/previous_permanence.csv", "previous_permanence"): (2, 0, 2, 0),  # no full DATE_PERM
    }
    assert result.years == [2017, 2018]
    assert result.repairs == {"replaced": 2, "trimmed": 1, "gap": 0, "x1_last": 0, "dropped": 1}


def test_quarantine_names_file_line_column_and_reason(imported):
    *_, quarantine = imported
    found = sorted(
        zip(
            quarantine["file_name"],
            quarantine["source_line"].astype(int),
            quarantine["column_name"],
            strict=True,
        )
    )
    assert found == [
        ("2017/episodes.csv", 7, ""),
        ("2017/episodes.csv", 9, "CHILD"),
        ("2017/episodes.csv", 10, "DECOM"),
        ("2017/episodes.csv", 11, "LS"),
        ("2017/episodes.csv", 12, "DEC"),
        ("2017/episodes.csv", 13, "DEC"),
        ("2017/episodes.csv", 15, "PLACE"),
        ("2017/header.csv", 5, "SEX"),
        ("2017/header.csv", 11, "ETHNIC"),
        ("2018/header.csv", 5, "SEX"),
        ("2018/reviews.csv", 3, "REVIEW"),
    ]
    reasons = dict(
        zip(quarantine["source_line"] + "@" + quarantine["file_name"], quarantine["reason"], strict=True)
    )
    assert reasons["7@2017/episodes.csv"] == (
        "a different row for the same child and DECOM is in this return at 2017/episodes.csv line 6 (kept)"
    )
    assert reasons["10@2017/episodes.csv"] == "DECOM 31/02/2017 is not a date (dd/mm/yyyy)"
    assert reasons["13@2017/episodes.csv"] == "REC E11 says the episode ended, but DEC is empty"
    assert reasons["5@2018/header.csv"] == "SEX M is not a code of the 2018 return (1, 2)"
    assert list(quarantine.columns) == [
        "table_name",
        "file_name",
        "source_line",
        "column_name",
        "reason",
        "record_json",
    ]


def test_episodes_across_returns_become_periods_of_care(imported):
    _, events, *_ = imported
    assert child_events(events, "A1") == [
        ("cla_period_started", "2016-05-01", "C1", "U4"),
        ("cla_placement_changed", "2016-09-01", "U6", "CARPL"),  # reason from the episode that ended
        ("cla_review", "2017-10-10", "PN1", ""),
        ("cla_legal_status_changed", "2018-01-15", "C2", ""),  # RNE B: both changes
        ("cla_placement_changed", "2018-01-15", "K2", "CHILD"),
        ("cla_period_ended", "2018-03-20", "E45", ""),
        ("health_assessment", "2018-03-31", "", ""),  # OC2 is dated the return's 31 March
        ("sdq_recorded", "2018-03-31", "", ""),
    ]
    assert child_events(events, "D4") == [
        ("cla_period_started", "2016-06-01", "C2", "U4"),  # line 6 kept, trimmed to 15/11/2016 X1
        ("cla_legal_status_changed", "2016-11-15", "E1", ""),
        ("placement_order", "2016-11-15", "", ""),  # legal status changes to E1 within the period
        ("adoption_decision", "2017-05-10", "", ""),
        ("adoption_placed", "2017-08-01", "", ""),
        ("cla_placement_changed", "2017-08-01", "A6", ""),
        ("missing_started", "2017-09-02", "missing", ""),
        ("missing_ended", "2017-09-03", "missing", ""),
    ]
    assert child_events(events, "B2") == [
        ("cla_period_started", "2016-04-10", "V2", "K2"),
        ("cla_period_ended", "2016-10-20", "E4A", ""),
    ]
    assert child_events(events, "L3") == [
        ("cla_period_started", "2017-03-01", "V2", "U6"),
        ("cla_period_ended", "2017-04-01", "", ""),  # dropped out of the 2018 return
    ]
    assert child_events(events, "C3") == [("care_leaver_contact", "2017-11-01", "F2", "D1")]  # born Nov 1998
    sdq = events[(events["event_type"] == "sdq_recorded")]
    assert sdq["value"].tolist() == ["12"]
    period = events[(events["child_id"] == pseudo("A1")) & (events["event_type"] == "cla_period_started")]
    review = events[(events["child_id"] == pseudo("A1")) & (events["event_type"] == "cla_review")]
    assert review["episode_id"].tolist() == period["episode_id"].tolist()


def test_recorded_at_is_the_first_return_that_said_so(imported):
    _, events, children, _ = imported
    at = {(r.child_id, r.event_type, r.event_at[:10]): r.recorded_at for r in events.itertuples()}
    assert at[(pseudo("A1"), "cla_period_started", "2016-05-01")] == "2017-03-31 23:59:59"
    assert at[(pseudo("A1"), "cla_period_ended", "2018-03-20")] == "2018-03-31 23:59:59"
    assert at[(pseudo("L3"), "cla_period_ended", "2017-04-01")] == "2018-03-31 23:59:59"
    assert not (events["is_deleted"] == "true").any()
    assert len(events) == 21 and events["event_id"].is_unique
    # One children row per child: A1 and D4 say the same in 2018 as in 2017, so no second version.
    assert len(children) == 9 and children["child_id"].is_unique
    a1 = children[children["child_id"] == pseudo("A1")].iloc[0]
    assert (a1.sex, a1.birth_month, a1.ethnicity, a1.disabled, a1.recorded_at) == (
        "M",
        "2010-06-01",
        "WBRI",
        "",
        "2017-03-31 23:59:58",
    )


def test_nothing_identifying_is_written(imported):
    result, *_ = imported
    text = "".join(Path(p).read_text() for p in result.outputs.values())
    for raw in ("A123456789012", "SG13 8DQ", "SG1 1AA", "15/06/2010", "2010-06-15", ",A1,", '"A1"'):
        assert raw not in text
    assert postcode_district("sg13 8dq") == "SG13"


def test_output_loads_into_the_warehouse_with_nothing_quarantined(key, tmp_path):
    population = tmp_path / "pop.csv"
    population.write_text("year,age,sex,count\n2017,5,F,1000\n")
    result = import_ssda903(FIXTURES, tmp_path / "out", la_code=LA, population=population)
    assert result.population_rows == 1
    report = load(tmp_path / "out", tmp_path / "w.duckdb")
    assert report.rows_quarantined == 0
    assert report.rows_loaded == 9 + 21 + 1
    again = import_ssda903(FIXTURES, tmp_path / "out", la_code=LA, population=population)
    assert again.event_rows == 21
    assert load(tmp_path / "out", tmp_path / "w.duckdb").rows_unchanged == 31  # same ids: nothing new


def test_xml_form_gives_the_same_events_as_the_csv_form(key, tmp_path):
    xml = tmp_path / "xml" / "2018"
    xml.mkdir(parents=True)
    (xml / "return.xml").write_text(
        "<EXPSSDA903><CHILD><HEADER><CHILDID>X1</CHILDID><UPN>A1</UPN><SEX>2</SEX><DOB>02/03/2010</DOB>"
        "<ETHNIC>WBRI</ETHNIC><UASC>0</UASC><AREVIEW><REVIEW>01/12/2017</REVIEW><REVIEW_CODE>PN1</REVIEW_CODE>"
        "</AREVIEW></HEADER><EPISODE><DECOM>01/05/2017</DECOM><RNE>S</RNE><LS>V2</LS><CIN>N1</CIN><PL>U4</PL>"
        "<DEC>01/09/2017</DEC><REC>X1</REC><REASON_PLACE_CHANGE>CARPL</REASON_PLACE_CHANGE></EPISODE>"
        "<EPISODE><DECOM>01/09/2017</DECOM><RNE>P</RNE><LS>V2</LS><CIN>N1</CIN><PL>K2</PL>"
        "<DEC /><REC /></EPISODE>"
        "</CHILD></EXPSSDA903>"
    )
    csv = tmp_path / "csv" / "2018"
    csv.mkdir(parents=True)
    (csv / "header.csv").write_text("CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\nX1,2,02/03/2010,WBRI,,,\n")
    (csv / "episodes.csv").write_text(
        "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN\n"
        "X1,01/05/2017,S,V2,N1,U4,,01/09/2017,X1,CARPL,,,\nX1,01/09/2017,P,V2,N1,K2,,,,,,,\n"
    )
    (csv / "reviews.csv").write_text("CHILD,DOB,REVIEW,REVIEW_CODE\nX1,02/03/2010,01/12/2017,PN1\n")
    from_xml = import_ssda903(tmp_path / "xml", tmp_path / "a", la_code=LA)
    from_csv = import_ssda903(tmp_path / "csv", tmp_path / "b", la_code=LA)
    a = pd.read_csv(from_xml.outputs["events"])
    b = pd.read_csv(from_csv.outputs["events"])
    assert len(a) == 3  # started, placement changed (CARPL), review; the period is still open
    pd.testing.assert_frame_equal(
        a.sort_values("event_id").reset_index(drop=True), b.sort_values("event_id").reset_index(drop=True)
    )


def _returns(tmp_path: Path, files: dict[str, bytes | str], year: str = "2018") -> Path:
    folder = tmp_path / "in" / year
    folder.mkdir(parents=True)
    for name, content in files.items():
        (folder / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    return tmp_path / "in"


HEADER = "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\nA,1,01/01/2010,WBRI,,,\n"


@pytest.mark.parametrize(
    ("files", "year", "message"),
    [
        ({"e.csv": "CHILD,START,END\nA,01/01/2017,\n"}, "2018", "match no SSDA903 table"),
        ({"e.csv": "CHILD;DECOM;RNE\nA;01/01/2017;S\n"}, "2018", "semicolons"),
        ({"h.csv": codecs.BOM_UTF16_LE + HEADER.encode("utf-16-le")}, "2018", "UTF-16"),
        ({"h.csv": HEADER.replace("WBRI", "WBRÉ").encode("cp1252")}, "2018", "line 2 has byte 0xc9"),
        ({"h.csv": b"PK\x03\x04rest-of-a-workbook"}, "2018", "Excel workbook"),
        ({"e.csv": "CHILD,DECOM,RNE,LS,PLACE,DEC\nA,01/01/2017,S,C2,U4,\n"}, "2018", "lacks REC"),
        ({"h.csv": HEADER}, "2025", "SEX is coded 1, the coding of returns before 2025"),
        ({"h.csv": HEADER.replace(",1,", ",M,")}, "2018", "SEX is coded M, the coding of returns from 2025"),
        (
            {"h.csv": HEADER, "sw.csv": "CHILD,DOB,SW_ID,SW_DECOM,SW_DEC,SW_REASON\nA,,S1,01/01/2018,,\n"},
            "2018",
            "exists from the 2024 return",
        ),
        ({"h.csv": HEADER}, "2030", "collection year 2030 is not supported"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_whole(key, tmp_path, files, year, message):
    folder = _returns(tmp_path, files, year)
    with pytest.raises(ImportRefused, match=message):
        import_ssda903(folder, tmp_path / "out", la_code=LA)
    assert not (tmp_path / "out").exists()


def test_the_year_comes_from_the_episodes_when_no_path_names_it(key, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "header.csv").write_text(HEADER)
    (folder / "episodes.csv").write_text(
        "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN\n"
        "A,01/05/2017,S,V2,N1,U4,,10/02/2018,E8,,,,\n"
    )
    assert import_ssda903(folder, tmp_path / "out", la_code=LA).years == [2018]
    assert import_ssda903(folder, tmp_path / "out", la_code=LA, year=2019).years == [2019]


def test_the_key_and_the_authority_are_required(monkeypatch, tmp_path):
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(KeyMissing, match=KEY_ENV):
        import_ssda903(FIXTURES, tmp_path / "out", la_code=LA)
    monkeypatch.setenv(KEY_ENV, "short")
    with pytest.raises(KeyMissing, match="at least 16"):
        import_ssda903(FIXTURES, tmp_path / "out", la_code=LA)
    monkeypatch.setenv(KEY_ENV, KEY)
    with pytest.raises(ImportRefused, match="--la"):
        import_ssda903(FIXTURES, tmp_path / "out", la_code=None)


def test_cli_prints_the_summary_and_refuses_with_exit_1(tmp_path):
    env = {KEY_ENV: KEY, "COLUMNS": "200"}
    ok = CliRunner().invoke(
        import_app, ["ssda903", str(FIXTURES), "--out", str(tmp_path / "o"), "--la", LA], env=env
    )
    assert ok.exit_code == 0, ok.output
    assert "2017/episodes.csv" in ok.output and "quarantined" in ok.output
    assert "No population file given" in ok.output
    bad = _returns(tmp_path, {"e.csv": "CHILD,START\nA,1\n"})
    refused = CliRunner().invoke(
        import_app, ["ssda903", str(bad), "--out", str(tmp_path / "o2"), "--la", LA], env=env
    )
    assert refused.exit_code == 1
    assert "Refused" in refused.output and "Nothing was written" in refused.output


def _episodes(rows: list[tuple[str, str, str, str | None, str, int]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["child", "DECOM", "RNE", "DEC", "REC", "_year"])
    frame["DECOM_date"] = parse_dates(frame["DECOM"])[0]
    frame["DEC_date"] = parse_dates(frame["DEC"].fillna(""))[0]
    return frame.assign(_file="f", _line=range(2, len(frame) + 2))


def test_repair_rules_for_gaps_and_x1_with_nothing_after():
    eps = _episodes(
        [
            ("g", "01/04/2017", "S", "01/05/2017", "X1", 2018),  # X1, next starts 10/05: gap closed
            ("g", "10/05/2017", "P", "01/06/2017", "X1", 2018),  # X1, nothing after: ended, reason unknown
            ("o", "01/04/2017", "S", None, "", 2018),  # open, next is a new period (S): ended then, unknown
            ("o", "01/06/2017", "S", "01/07/2017", "E8", 2018),
        ]
    )
    out = stitch(eps, 2018)
    got = [(r.child, f"{r.DEC_date:%d/%m}", r.REC, r.first_in_period) for r in out.episodes.itertuples()]
    assert got == [
        ("g", "10/05", "X1", True),
        ("g", "01/06", None, False),
        ("o", "01/06", None, True),
        ("o", "01/07", "E8", True),
    ]
    assert out.counts == {"replaced": 0, "trimmed": 1, "gap": 1, "x1_last": 1, "dropped": 0}


def test_versions_add_a_tombstone_when_a_later_return_drops_an_event():
    stamp = [
        pd.Timestamp("2017-03-31 23:59:59"),
        pd.Timestamp("2018-03-31 23:59:59"),
        pd.Timestamp("2019-03-31 23:59:59"),
    ]
    one = pd.DataFrame({"event_id": ["a", "b"], "code": ["X", "Y"]})
    two = pd.DataFrame({"event_id": ["a"], "code": ["Z"]})
    three = pd.DataFrame({"event_id": ["a", "b"], "code": ["Z", "Y"]})
    out = versions(list(zip(stamp, [one, two, three], strict=True)), "event_id", ("code",), tombstones=True)
    got = [(r.event_id, r.code, r.recorded_at.year, r.is_deleted) for r in out.itertuples()]
    assert got == [
        ("a", "X", 2017, False),
        ("a", "Z", 2018, False),  # changed by the 2018 return
        ("b", "Y", 2017, False),
        ("b", "Y", 2018, True),  # gone from the 2018 history: a tombstone
        ("b", "Y", 2019, False),  # back in 2019
    ]


def test_code_lists_match_the_reference_seeds():
    seed = {
        name: set(pd.read_csv(SEEDS / f"{name}.csv").iloc[:, 0])
        for name in ("legal_statuses", "placement_types", "reasons_ceased")
    }
    assert set(codes.LEGAL_STATUS) == seed["legal_statuses"]
    assert set(codes.placement_codes(2024)) | {"K3"} == seed["placement_types"]
    assert set(codes.REASON_CEASED) == seed["reasons_ceased"]


def test_a_ragged_row_is_quarantined_and_extra_columns_are_ignored(key, tmp_path):
    folder = _returns(
        tmp_path,
        {
            "h.csv": "child, SEX ,DOB,ETHNIC,UPN,MOTHER,MC_DOB,NOTES\n"
            "A,1,01/01/2010,WBRI,,,,x\nB,2,01/01/2011,WBRI,,,,y,extra\nC,2,01/01/2011,WBRI,,,,,,\n"
        },
    )
    result = import_ssda903(folder, tmp_path / "out", la_code=LA)
    assert [(f.rows_read, f.converted, f.quarantined) for f in result.files] == [(3, 2, 1)]
    quarantine = pd.read_csv(result.outputs["quarantine"])
    assert quarantine[["source_line", "reason"]].values.tolist() == [[3, "has 9 fields, the header has 8"]]
    assert any("ignored column(s)" in w and "NOTES" in w for w in result.warnings)
