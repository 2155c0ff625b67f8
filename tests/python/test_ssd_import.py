"""`cscw import ssd`: SSD extracts by hand: versions across extracts, tombstones, quarantine, messages.

Each test writes a few ``ssd_<table>.csv`` files for one or two children, as a case system's
database would dump them, and checks the canonical rows the import writes, worked out by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from csc_warehouse.formats import ssd_tables as t
from csc_warehouse.formats.anonymise import KEY_ENV
from csc_warehouse.formats.common import ImportRefused
from csc_warehouse.formats.ssd import find_extracts, import_ssd

LA = "E06000017"


@pytest.fixture(autouse=True)
def key(monkeypatch) -> None:
    monkeypatch.setenv(KEY_ENV, "ssd-import-test-key-000001")


def _write(folder: Path, tables: dict[str, list[dict[str, str]]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    base = {
        "person": [
            {
                "pers_person_id": "1001",
                "pers_sex": "F",
                "pers_ethnicity": "WBRI",
                "pers_dob": "2010-06-15 00:00:00.000",
            },
            {
                "pers_person_id": "1002",
                "pers_sex": "M",
                "pers_ethnicity": "AIND",
                "pers_dob": "2001-02-15 00:00:00.000",
            },
        ]
    }
    for name, rows in {**base, **tables}.items():
        pd.DataFrame(rows, columns=list(t.TABLES[name][1])).to_csv(folder / t.file_name(name), index=False)
    return folder


def _referral(rid: str, date: str, close: str = "", reason: str = "", person: str = "1001") -> dict[str, str]:
    return {
        "cine_referral_id": rid,
        "cine_person_id": person,
        "cine_referral_date": date,
        "cine_referral_source_code": "2A",
        "cine_referral_nfa": "N",
        "cine_close_date": close,
        "cine_close_reason": reason,
    }


def _events(result) -> pd.DataFrame:
    return pd.read_csv(result.outputs["events"], dtype=str, keep_default_na=False)


def test_extracts_are_found_and_dated(tmp_path) -> None:
    for name in ("2018-01-31", "ssd_2018-02", "20180331"):
        _write(tmp_path / "all" / name, {})
    assert [d.isoformat() for d, _ in find_extracts(tmp_path / "all")] == [
        "2018-01-31",
        "2018-02-28",
        "2018-03-31",
    ]
    _write(tmp_path / "one", {})
    with pytest.raises(ImportRefused, match="--extract-date"):
        find_extracts(tmp_path / "one")
    assert (
        find_extracts(tmp_path / "one", pd.Timestamp("2018-03-31").date())[0][0].isoformat() == "2018-03-31"
    )
    (tmp_path / "empty").mkdir()
    with pytest.raises(ImportRefused, match="holds no ssd_"):
        find_extracts(tmp_path / "empty")
    with pytest.raises(ImportRefused, match="no date in its name"):
        find_extracts(tmp_path)  # "one" has no date


def test_successive_extracts_give_versions_and_tombstones(tmp_path) -> None:
    # January: two referrals. February: R1 closed (a new version of its end), R2 gone (deleted).
    # March: R1 as in February (nothing new), a contact taken at 14:05.
    _write(
        tmp_path / "x" / "2018-01-31",
        {"cin_episodes": [_referral("R1", "2018-01-03 09:00:00.000"), _referral("R2", "2018-01-10")]},
    )
    _write(
        tmp_path / "x" / "2018-02-28",
        {"cin_episodes": [_referral("R1", "2018-01-03 09:00:00.000", "2018-02-20 00:00:00.000", "RC8")]},
    )
    contact = {
        "cont_contact_id": "K1",
        "cont_person_id": "1002",
        "cont_contact_date": "2018-03-05T14:05:00",
        "cont_contact_source_code": "3A",
        "cont_contact_outcome_json": json.dumps({"NEW_REFERRAL_FLAG": "Y", "NFA_FLAG": "N"}),
    }
    _write(
        tmp_path / "x" / "2018-03-31",
        {
            "cin_episodes": [_referral("R1", "2018-01-03 09:00:00.000", "2018-02-20 00:00:00.000", "RC8")],
            "contacts": [contact],
        },
    )
    result = import_ssd(tmp_path / "x", tmp_path / "out", la_code=LA)
    assert result.rows_quarantined == 0
    ev = _events(result).sort_values(["recorded_at", "event_type", "event_at"])
    got = ev[["event_type", "event_at", "recorded_at", "is_deleted", "code"]].values.tolist()
    assert got == [
        ["referral_received", "2018-01-03 09:00:00", "2018-01-31 23:59:59", "false", "2A"],
        ["referral_received", "2018-01-10 00:00:00", "2018-01-31 23:59:59", "false", "2A"],
        ["referral_closed", "2018-02-20 00:00:00", "2018-02-28 23:59:59", "false", "RC8"],
        ["referral_received", "2018-01-10 00:00:00", "2018-02-28 23:59:59", "true", "2A"],
        ["contact_decision", "2018-03-05 14:05:00", "2018-03-31 23:59:59", "false", "referral"],
        ["contact_received", "2018-03-05 14:05:00", "2018-03-31 23:59:59", "false", "health"],
    ]
    # Start and end of one referral share its episode; CMS ids are not kept.
    r1 = ev[ev["event_at"].str.startswith(("2018-01-03", "2018-02-20"))]
    assert r1["episode_id"].nunique() == 1 and "R1" not in set(ev["episode_id"])
    children = pd.read_csv(result.outputs["children"], dtype=str)
    assert sorted(children["birth_month"]) == ["2001-02-01", "2010-06-01"]  # the 15th -> the month
    assert "1001" not in set(children["child_id"]) and children["child_id"].str.len().min() >= 16


def test_a_period_of_care_from_episodes_legal_statuses_and_placements(tmp_path) -> None:
    episodes = [
        ("E1", "2017-05-01", "S", "2017-08-01", "X1"),
        ("E2", "2017-08-01", "P", "2017-11-01", "X1"),
        ("E3", "2017-11-01", "L", "2018-01-15", "E4A"),
    ]
    legal = [
        ("L1", "V2", "2017-05-01", "2017-11-01"),
        ("L2", "C2", "2017-11-01", "2018-01-15"),
        ("L3", "SGO", "2018-01-15", ""),
    ]
    placements = [
        ("P1", "2017-05-01", "2017-08-01", "U4", "10", "CARPL"),
        ("P2", "2017-08-01", "2018-01-15", "K2", "999.9", ""),
    ]
    tables = {
        "cla_episodes": [
            dict(zip(t.TABLES["cla_episodes"][1], (i, "1001", "C1", s, r, e, c), strict=True))
            for i, s, r, e, c in episodes
        ],
        "legal_status": [
            dict(zip(t.TABLES["legal_status"][1], (i, "1001", c, s, e), strict=True)) for i, c, s, e in legal
        ],
        "cla_placement": [
            dict(zip(t.TABLES["cla_placement"][1], (i, "C1", "1001", s, e, ty, d, r), strict=True))
            for i, s, e, ty, d, r in placements
        ],
    }
    result = import_ssd(_write(tmp_path / "2018-03-31", tables), tmp_path / "out", la_code=LA)
    ev = _events(result).sort_values(["event_at", "event_type"])
    assert result.rows_quarantined == 1  # L3: SGO is not a looked-after legal status
    got = ev[["event_type", "event_at", "code", "code2", "value"]].values.tolist()
    assert got == [
        ["cla_period_started", "2017-05-01 00:00:00", "V2", "U4", "16.09344"],  # 10 miles
        ["cla_placement_changed", "2017-08-01 00:00:00", "K2", "CARPL", ""],  # the reason P1 ended
        ["cla_legal_status_changed", "2017-11-01 00:00:00", "C2", "", ""],
        ["cla_period_ended", "2018-01-15 00:00:00", "E4A", "", ""],
    ]
    assert ev["episode_id"].nunique() == 1


def test_unconvertible_rows_are_quarantined_with_their_reason(tmp_path) -> None:
    rows = [
        _referral("R1", "2018-02-30"),  # no such day
        _referral("R2", "2018-01-10", "2018-01-05", "RC8"),  # closed before it started: end dropped
        _referral("R3", "2018-01-10", person="9999"),  # no such person
        _referral("R4", "2018-04-02"),  # after the extract
        {**_referral("R5", "2018-01-10"), "cine_referral_source_code": "ZZ"},
        _referral("", "2018-01-10"),
    ]
    result = import_ssd(_write(tmp_path / "2018-03-31", {"cin_episodes": rows}), tmp_path / "out", la_code=LA)
    q = pd.read_csv(result.outputs["quarantine"]).sort_values("source_line")
    assert q[["source_line", "column_name"]].values.tolist() == [
        [2, "cine_referral_date"],
        [3, "cine_close_date"],
        [4, "cine_person_id"],
        [5, "cine_referral_date"],
        [6, "cine_referral_source_code"],
        [7, "cine_referral_id"],
    ]
    assert set(q["table_name"]) == {"ssd_cin_episodes"}
    assert "person not in ssd_person" in set(q["reason"])
    assert not q["record_json"].str.contains("9999").any()  # the CMS person id is pseudonymised
    assert result.rows_quarantined == 6 and result.rows_read == 6 + 2


def test_care_leavers_latest_contact_is_not_deleted_by_the_next(tmp_path) -> None:
    def leaver(day: str, touch: str, contact: str, activity: str) -> dict[str, str]:
        return dict(
            zip(
                t.TABLES["care_leavers"][1],
                (f"NEWID-{day}", "1002", touch, contact, "U", "1", activity),
                strict=True,
            )
        )

    _write(tmp_path / "x" / "2018-01-31", {"care_leavers": [leaver("1", "YES", "2018-01-12", "F2")]})
    _write(tmp_path / "x" / "2018-02-28", {"care_leavers": [leaver("2", "NO", "", "")]})
    result = import_ssd(tmp_path / "x", tmp_path / "out", la_code=LA)
    ev = _events(result).sort_values("recorded_at")
    assert ev[["event_at", "code", "code2", "is_deleted"]].values.tolist() == [
        ["2018-01-12 00:00:00", "F2", "U1", "false"],
        ["2018-02-28 00:00:00", "0", "0", "false"],  # not in touch: dated at the extract
    ]


def test_events_aged_out_of_the_window_are_not_deleted(tmp_path) -> None:
    old, new = _referral("R1", "2012-03-01"), _referral("R2", "2018-01-10")
    _write(tmp_path / "x" / "2018-02-28", {"cin_episodes": [old, new]})
    _write(tmp_path / "x" / "2018-03-31", {"cin_episodes": [new]})
    result = import_ssd(tmp_path / "x", tmp_path / "out", la_code=LA, window_years=6)
    assert (_events(result)["is_deleted"] == "false").all()
    result = import_ssd(tmp_path / "x", tmp_path / "out2", la_code=LA, window_years=10)
    assert (_events(result)["is_deleted"] == "true").sum() == 1


def test_cli_refuses_a_table_without_its_columns(tmp_path) -> None:
    folder = _write(tmp_path / "2018-03-31", {})
    (folder / "ssd_cin_episodes.csv").write_text("referral,date\nR1,2018-01-01\n")
    from csc_warehouse.cli import app

    result = CliRunner().invoke(app, ["import", "ssd", str(folder), "--la", LA, "-o", str(tmp_path / "out")])
    text = " ".join(result.output.split())
    assert result.exit_code == 1
    assert "lacks cine_referral_id" in text and "Nothing was written" in text
    assert not (tmp_path / "out").exists()


def test_cms_descriptions_that_start_with_the_code_are_read_as_codes(tmp_path) -> None:
    plans = [
        dict(zip(t.TABLES["cp_plans"][1], (pid, "1001", "", start, "", category), strict=True))
        for pid, start, category in (
            ("CP1", "2018-01-02", "Sexual abuse"),
            ("CP2", "2018-01-03", "NEG"),
            ("CP3", "2018-01-04", "Abuse, unspecified"),  # not a category: quarantined
        )
    ]
    referral = {**_referral("R1", "2018-01-10", "2018-02-01", "RC8 - Case closed after assessment")}
    result = import_ssd(
        _write(tmp_path / "2018-03-31", {"cp_plans": plans, "cin_episodes": [referral]}),
        tmp_path / "out",
        la_code=LA,
    )
    ev = _events(result)
    starts = ev[ev["event_type"] == "cp_plan_started"].sort_values("event_at")
    assert starts["code"].tolist() == ["S", "N"]
    assert ev.loc[ev["event_type"] == "referral_closed", "code"].tolist() == ["RC8"]
    q = pd.read_csv(result.outputs["quarantine"])
    assert q["column_name"].tolist() == ["cppl_cp_plan_initial_category"]
