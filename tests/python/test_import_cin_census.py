"""CIN census import: the hand-made censuses in tests/fixtures/cin_census, worked out by hand.

- CIN-A spans both censuses: in 2016-17 its referral (1 Dec 2016) is open, with an assessment, an
  S47 (strategy discussion 5 Jan 2017), an ICPC and a CP plan from 25 Jan 2017 and a review. The
  2017-18 census closes the referral (RC1), ends the plan, adds a CIN plan and a review, and leaves
  out the assessment and S47 (finished before its year): they are kept from 2016-17. Its
  disability changes from NONE to HAND, so the child has two versions.
- CIN-B: one NFA referral closed the next day.
- One bad item of each kind in 2017-18: GenderCurrent 7 (CIN-C, with its referral), an
  authorisation before its assessment's start, a category of abuse XXX (with the plan's review), a
  referral dated after the census's 31 March.
The 2017-18 file has a default namespace (ignored) and the 2016-17 file a comment and a UPN (dropped).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from csc_warehouse.formats.anonymise import KEY_ENV, Pseudonymiser
from csc_warehouse.formats.common import ImportRefused
from csc_warehouse.formats.imports import import_cin_census
from csc_warehouse.import_cli import import_app

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cin_census"
FILES = [FIXTURES / "cin_census_2017.xml", FIXTURES / "cin_census_2018.xml"]
KEY = "fixture-key-not-a-secret"


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)


def pseudo(child: str) -> str:
    return Pseudonymiser(KEY.encode(), "999").one(child)


@pytest.fixture
def imported(key, tmp_path):
    result = import_cin_census(FILES, tmp_path / "out")
    read = {
        name: pd.read_csv(result.outputs[name], dtype=str, keep_default_na=False)
        for name in ("events", "children", "quarantine")
    }
    return result, read["events"], read["children"], read["quarantine"]


def test_every_item_is_accounted_for(imported):
    result, *_ = imported
    assert result.la_code == "999" and result.years == [2017, 2018]  # LEA of the files
    got = {(f.file[-8:-4], f.table): (f.rows_read, f.quarantined) for f in result.files if f.rows_read}
    assert got == {
        ("2017", "children"): (1, 0),
        ("2017", "referrals"): (1, 0),
        ("2017", "assessments"): (1, 0),
        ("2017", "section47"): (1, 0),
        ("2017", "cp_plans"): (1, 0),
        ("2017", "cp_reviews"): (1, 0),
        ("2018", "children"): (4, 1),  # CIN-C: GenderCurrent 7
        ("2018", "referrals"): (5, 2),  # CIN-C's; CIN-D's of 2 April 2018
        ("2018", "assessments"): (1, 1),  # authorised before it started
        ("2018", "cin_plans"): (1, 0),
        ("2018", "cp_plans"): (2, 1),  # category XXX
        ("2018", "cp_reviews"): (2, 1),  # the review of that plan
    }


def test_quarantine_reasons(imported):
    *_, quarantine = imported
    assert quarantine[["source_line", "column_name", "reason"]].values.tolist() == [
        ["73", "GenderCurrent", "GenderCurrent '7' is not a code of the 2018 census (0, 1, 2, 9)"],
        ["82", "", "the child's record was quarantined"],
        [
            "100",
            "AssessmentAuthorisationDate",
            "AssessmentAuthorisationDate 2017-05-02 is before AssessmentActualStartDate 2017-05-10",
        ],
        [
            "106",
            "InitialCategoryOfAbuse",
            "InitialCategoryOfAbuse XXX is not a category of abuse (NEG, PHY, EMO, SAB, MUL)",
        ],
        ["110", "", "its CP plan was quarantined"],
        ["114", "CINreferralDate", "CINreferralDate 2018-04-02 is after the census's 31 March"],
    ]


def test_items_become_events(imported):
    _, events, *_ = imported
    a = events[events["child_id"] == pseudo("CIN-A")].sort_values(["event_at", "event_type"])
    assert [(r.event_type, r.event_at[:10], r.code, r.code2, r.recorded_at[:4]) for r in a.itertuples()] == [
        ("referral_received", "2016-12-01", "1A", "", "2017"),
        ("assessment_started", "2016-12-02", "", "", "2017"),
        ("s47_started", "2017-01-05", "", "", "2017"),
        ("strategy_discussion", "2017-01-05", "", "", "2017"),  # S47ActualStartDate is its date
        ("assessment_authorised", "2017-01-20", "", "2B;3A", "2017"),
        ("cp_plan_started", "2017-01-25", "N", "", "2017"),
        ("icpc_held", "2017-01-25", "plan", "", "2017"),  # a plan starts the day of the ICPC
        ("cp_review", "2017-03-20", "", "", "2017"),
        ("cp_review", "2017-07-20", "", "", "2018"),
        ("cin_plan_started", "2017-09-30", "", "", "2018"),
        ("cp_plan_ended", "2017-09-30", "", "", "2018"),
        ("cin_plan_ended", "2017-10-31", "", "", "2018"),
        ("referral_closed", "2017-10-31", "RC1", "", "2018"),
    ]
    referral = a[a["event_type"] == "referral_received"]["episode_id"].iloc[0]
    assert set(
        a[a["event_type"].isin(["assessment_started", "cp_plan_started", "referral_closed"])]["referral_id"]
    ) == {referral}
    b = events[events["child_id"] == pseudo("CIN-B")].sort_values("event_at")
    assert [(r.event_type, r.code, r.code2) for r in b.itertuples()] == [
        ("referral_received", "6", "nfa"),
        ("referral_closed", "RC8", ""),
    ]
    d = events[events["child_id"] == pseudo("CIN-D")]
    assert d["event_type"].tolist() == ["referral_received"]  # all else quarantined
    assert len(events) == 16 and not (events["is_deleted"] == "true").any()


def test_children_keep_a_version_per_census_that_changed_them(imported):
    _, _, children, _ = imported
    a = children[children["child_id"] == pseudo("CIN-A")]
    assert a[["sex", "birth_month", "disabled", "recorded_at"]].values.tolist() == [
        ["F", "2009-07-01", "false", "2017-03-31 23:59:59"],
        ["F", "2009-07-01", "true", "2018-03-31 23:59:59"],
    ]
    assert len(children) == 4
    text = "".join(Path(p).read_text() for p in imported[0].outputs.values())
    assert "CIN-A" not in text and "A123456789012" not in text and "2009-07-14" not in text


def _census(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(body)
    return path


HEADER = (
    "<Message><Header><CollectionDetails><Collection>{collection}</Collection><ReferenceDate>{ref}</ReferenceDate>"
    "</CollectionDetails><Source><LEA>{lea}</LEA></Source></Header><Children><Child><ChildIdentifiers>"
    "<LAchildID>X</LAchildID><PersonBirthDate>2010-01-01</PersonBirthDate>{sex}</ChildIdentifiers>"
    "</Child></Children></Message>"
)


def census(
    collection: str = "CIN",
    ref: str = "2018-03-31",
    lea: str = "999",
    sex: str = "<GenderCurrent>1</GenderCurrent>",
) -> str:
    return HEADER.format(collection=collection, ref=ref, lea=lea, sex=sex)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (census(collection="SWF"), "SWF collection, not the CIN census"),
        (census(ref="2018-03-28"), "ReferenceDate 2018-03-28 is not a 31 March"),
        (census(ref="2031-03-31"), "census year 2031 is not supported"),
        (census(sex="<Sex>M</Sex>"), "Sex, the element of censuses from 2025"),
        (census(ref="2025-03-31"), "GenderCurrent, the element of censuses before 2025"),
        ("<Message><Header>", "not well-formed XML"),
        ('<!DOCTYPE m [<!ENTITY a "aaaa">]><Message/>', "DOCTYPE"),
        ("<EXPSSDA903/>", "the root element is EXPSSDA903, not Message"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_whole(key, tmp_path, body, message):
    with pytest.raises(ImportRefused, match=message):
        import_cin_census([_census(tmp_path, "c.xml", body)], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_files_of_two_authorities_need_la(key, tmp_path):
    files = [
        _census(tmp_path, "a.xml", census(lea="201")),
        _census(tmp_path, "b.xml", census(lea="202", ref="2017-03-31")),
    ]
    with pytest.raises(ImportRefused, match="pass --la"):
        import_cin_census(files, tmp_path / "out")
    assert import_cin_census(files, tmp_path / "out", la_code="E09000001").la_code == "E09000001"


def test_cli(tmp_path):
    env = {KEY_ENV: KEY, "COLUMNS": "200"}
    args = ["cin-census", *map(str, FILES), "--out", str(tmp_path / "o")]
    result = CliRunner().invoke(import_app, args, env=env)
    assert result.exit_code == 0, result.output
    assert "cin_census_2018.xml" in result.output and "6 rows quarantined" in result.output
    missing = CliRunner().invoke(import_app, args, env={"COLUMNS": "200", KEY_ENV: ""})
    assert missing.exit_code == 1 and KEY_ENV in missing.output
