"""The validation gates (csc_warehouse.validate) on tiny hand-made warehouses.

The checks that find bad data run on both engines (`engine` fixture): GX's suites and the same checks
counted in DuckDB (csc_warehouse.gates_sql). Every test uses its own GX context in a temporary folder;
one checks that the suites committed under gx/ are the ones the code builds.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from factories import event_row
from typer.testing import CliRunner

from csc_warehouse import cli, contract, settings
from csc_warehouse import validate as v

LA = "E10000015"
NOW = datetime(2026, 11, 23, 12, 0)


# --------------------------------------------------------------------------------------------------
# Helpers


def event(event_id: str, event_type: str, event_at: str, **overrides: Any) -> dict[str, Any]:
    return event_row(event_id, event_type, event_at, **({"load_id": 1} | overrides))


def good_events() -> list[dict[str, Any]]:
    return [
        event("e1", "contact_received", "2025-01-02", episode_id="K1", code="police"),
        event("e2", "contact_decision", "2025-01-02 15:00", episode_id="K1", code="referral"),
        event("e3", "referral_received", "2025-01-03", episode_id="R1", code="1A"),
        event("e4", "referral_closed", "2025-03-01", episode_id="R1", code="RC1"),
        event("e5", "cla_period_started", "2025-01-10", episode_id="P1", code="C2", code2="U1"),
        event("e6", "cla_period_ended", "2025-02-10", episode_id="P1", code="E13"),
        event("e7", "cla_period_started", "2025-03-01", episode_id="P2", code="C2", code2="U1"),
    ]


def events_warehouse(path: Path, rows: list[dict[str, Any]]) -> Path:
    """raw.events as the loader makes it, but without NOT NULL (so the not-null checks can be tested)."""
    columns = [c.name for c in contract.EVENTS_COLUMNS] + ["load_id"]
    types = {c.name: c.type for c in contract.EVENTS_COLUMNS} | {"load_id": "integer"}
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw")
        con.execute("create table raw.events (" + ", ".join(f'"{c}" {types[c]}' for c in columns) + ")")
        for row in rows:
            con.execute(
                f"insert into raw.events values ({', '.join('?' for _ in columns)})",
                [row[c] for c in columns],
            )
    return path


KPIS = [("contacts_received", "count"), ("assessment_45wd_pct", "pct"), ("cla_rate_per_10k", "rate10k")]


def kpi_row(kpi_id: str, unit: str, period_end: str, value: float = 10.0, **overrides: Any) -> dict:
    numerator = value if unit != "pct" else 5.0
    denominator = {"count": None, "pct": 10.0, "rate10k": 2000.0}[unit]
    row = {
        "la_code": LA,
        "kpi_id": kpi_id,
        "period_end": period_end,
        "numerator": numerator,
        "denominator": denominator,
        "value": value,
        "unit": unit,
        "period_type": "IN-MONTH",
    }
    return row | overrides


def good_kpis() -> list[dict[str, Any]]:
    return [kpi_row(k, u, p, 50.0) for p in ("2025-01-31", "2025-02-28") for k, u in KPIS]


def marts_warehouse(path: Path, rows: list[dict[str, Any]]) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts; create schema reference")
        con.execute(
            """create table marts.fct_kpi_monthly (la_code varchar, kpi_id varchar, period_end date,
               numerator double, denominator double, value double, unit varchar, period_type varchar)"""
        )
        for r in rows:
            con.execute("insert into marts.fct_kpi_monthly values (?, ?, ?, ?, ?, ?, ?, ?)", list(r.values()))
        con.execute("create table reference.dim_kpi (kpi_id varchar, unit varchar)")
        con.executemany("insert into reference.dim_kpi values (?, ?)", [list(k) for k in KPIS])
    return path


@pytest.fixture
def gx_root(tmp_path):
    return tmp_path / "gxproject"


@pytest.fixture(params=[v.SQL, v.GX])
def engine(request):
    return request.param


def run_events(tmp_path, gx_root, rows, engine=v.SQL, **kwargs):
    warehouse = events_warehouse(tmp_path / "warehouse.duckdb", rows)
    return v.validate_events(warehouse, now=NOW, project_root=gx_root, docs=False, engine=engine, **kwargs)


def failed(result: v.ValidationResult) -> dict[str, str]:
    return {c.name: c.severity for c in result.failures}


# --------------------------------------------------------------------------------------------------
# Severity as data


def test_every_check_has_its_own_severity_entry():
    for suite in v.SUITES:
        for check in suite.checks:
            parts = check.name.split(".")
            prefixes = {".".join(parts[:n]) for n in range(1, len(parts) + 1)}
            assert prefixes & set(v.SEVERITY), f"{check.name} has no entry in SEVERITY"
    assert set(v.SEVERITY.values()) == {v.STOP, v.WARN}
    assert v.severity_of("events.code_in_closed_list.icpc_held") == v.STOP
    assert v.severity_of("events.event_type_in_contract") == v.WARN
    assert v.severity_of("cla_periods.no_overlap") == v.WARN
    assert v.severity_of("something.new") == v.STOP  # fail safe


# --------------------------------------------------------------------------------------------------
# The events gate


def test_clean_events_pass_and_docs_are_built(tmp_path, gx_root, capfd):
    warehouse = events_warehouse(tmp_path / "warehouse.duckdb", good_events())

    result = v.validate_events(warehouse, now=NOW, project_root=gx_root, docs=True)

    assert result.engine == v.GX  # Data Docs asked for: GX validates
    assert result.ok and not result.failures, [c.describe() for c in result.failures]
    assert result.rows == {"raw_events": 7, "raw_episodes": 2, "raw_cla_periods": 2}
    names = {c.name for c in result.checks}
    assert {f"events.not_null.{c}" for c in v.REQUIRED_EVENT_COLUMNS} <= names
    assert {f"events.code_in_closed_list.{t}" for t in contract.CLOSED_CODES} <= names
    index = v.docs_index(gx_root)
    assert index.is_file() and result.docs and result.docs.endswith("index.html")
    # Suites are saved in the context; progress bars and warnings stay off the console.
    assert (gx_root / "gx" / "expectations" / "raw_events.json").is_file()
    err = capfd.readouterr().err
    assert "Calculating Metrics" not in err and "%|" not in err


def test_a_code_outside_its_closed_list_stops_naming_the_check_and_the_row(tmp_path, gx_root, engine):
    rows = [*good_events(), event("bad1", "contact_received", "2025-01-05", episode_id="K2", code="postman")]

    with pytest.raises(v.GateFailed) as caught:
        run_events(tmp_path, gx_root, rows, engine, raise_on_stop=True)

    error = caught.value
    assert error.failed == ["events.code_in_closed_list.contact_received"]
    assert "events.code_in_closed_list.contact_received" in str(error)
    assert "event_id=bad1" in str(error) and "1 of 2 rows" in str(error)
    assert error.result.warnings == []


def test_event_in_the_future_stops(tmp_path, gx_root, engine):
    rows = [*good_events(), event("late", "contact_received", "2027-01-01", episode_id="K9", code="police")]

    result = run_events(tmp_path, gx_root, rows, engine)

    assert failed(result) == {"events.event_at_not_in_future": v.STOP}
    assert "2027-01-01" in result.stops[0].describe()


def test_a_missing_required_value_stops(tmp_path, gx_root, engine):
    rows = [*good_events(), event("e9", "contact_received", "2025-01-05", child_id=None, code="police")]

    result = run_events(tmp_path, gx_root, rows, engine)

    assert failed(result) == {"events.not_null.child_id": v.STOP}


def test_an_end_before_its_start_in_the_latest_versions_stops(tmp_path, gx_root, engine):
    # The loader saw the start before the end; a later correction moved the start after it.
    rows = [
        *good_events(),
        event("e3", "referral_received", "2025-03-05", episode_id="R1", recorded_at="2025-07-01 09:00"),
    ]

    with pytest.raises(v.GateFailed, match=r"episodes\.end_not_before_start") as caught:
        run_events(tmp_path, gx_root, rows, engine, raise_on_stop=True)

    assert "episode_id=R1" in str(caught.value)


def test_a_tombstoned_event_is_not_validated(tmp_path, gx_root, engine):
    rows = [
        *good_events(),
        event("gone", "contact_received", "2025-01-05", code="postman"),
        event(
            "gone",
            "contact_received",
            "2025-01-05",
            code="postman",
            recorded_at="2025-07-01",
            is_deleted=True,
        ),
    ]

    assert run_events(tmp_path, gx_root, rows, engine).failures == []


def test_unknown_event_type_and_overlapping_care_only_warn(tmp_path, gx_root, engine):
    rows = [
        *good_events(),
        event("x1", "family_group_conference", "2025-01-05"),
        # P3 starts while P2 (started 2025-03-01) is still open.
        event("e8", "cla_period_started", "2025-04-01", episode_id="P3", code="C2"),
    ]

    result = run_events(tmp_path, gx_root, rows, engine, raise_on_stop=True)  # warnings never raise

    assert result.ok
    assert failed(result) == {"events.event_type_in_contract": v.WARN, "cla_periods.no_overlap": v.WARN}
    overlap = next(c for c in result.warnings if c.name == "cla_periods.no_overlap")
    assert "period_id=P3" in overlap.describe()
    assert "family_group_conference" in result.as_dict()["warnings"][0]


def test_chunks_of_authorities_give_the_result_of_one_pass(tmp_path, gx_root, monkeypatch, engine):
    """The events gate validates authorities in chunks (bounded memory); the counts add up across them."""
    other = "E06000017"
    bad_code = {"code": "postman"}
    rows = [
        *good_events(),
        event("b1", "contact_received", "2025-04-02", **bad_code),
        *(
            event(
                row["event_id"],
                row["event_type"],
                row["event_at"],
                **{k: row[k] for k in ("episode_id", "code")},
            )
            | {"la_code": other}
            for row in good_events()
        ),
        event("b2", "contact_received", "2025-01-06", la_code=other, **bad_code),
        event("b3", "contact_received", "2025-01-07", la_code=other, **bad_code),
    ]
    warehouse = events_warehouse(tmp_path / "warehouse.duckdb", rows)

    def gate() -> v.ValidationResult:
        return v.validate_events(warehouse, now=NOW, project_root=gx_root, docs=False, engine=engine)

    monkeypatch.setenv("CSCW_GX_CHUNK_ROWS", "1000")
    whole = gate()
    monkeypatch.setenv("CSCW_GX_CHUNK_ROWS", "5")  # one authority per chunk
    chunked = gate()

    code_check = "events.code_in_closed_list.contact_received"
    for result in (whole, chunked):
        assert result.rows["raw_events"] == 17
        check = next(c for c in result.checks if c.name == code_check)
        assert (check.success, check.unexpected_count) == (False, 3)
        assert failed(result) == {code_check: v.STOP}
    assert [(c.name, c.success, c.element_count, c.unexpected_count) for c in chunked.checks] == [
        (c.name, c.success, c.element_count, c.unexpected_count) for c in whole.checks
    ]
    # The latest event_at (b1) is in the second chunk (E10000015 sorts after E06000017): the merged
    # maximum is still it.
    latest = {
        name: next(c.observed_value for c in result.checks if c.name == "events.event_at_not_in_future")
        for name, result in (("whole", whole), ("chunked", chunked))
    }
    assert latest["chunked"] == latest["whole"]
    assert str(latest["whole"]).startswith("2025-04-02")


def test_events_gate_needs_raw_events(tmp_path, gx_root):
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(v.ValidationError, match=r"no raw\.events"):
        v.validate_events(empty, project_root=gx_root)
    with pytest.raises(v.ValidationError, match="warehouse not found"):
        v.validate_events(tmp_path / "nope.duckdb", project_root=gx_root)


def broken_events() -> list[dict[str, Any]]:
    """good_events plus one row for each kind of failure, counted by hand in the tests below."""
    return [
        *good_events(),
        event("b1", "contact_received", "2025-01-05", episode_id="K2", code="postman"),
        event("b2", "contact_received", "2025-01-06", episode_id="K3", code="milkman"),
        event("f1", "contact_received", "2027-01-01", episode_id="K4", code="police"),  # after NOW
        event("n1", "contact_received", "2025-01-07", child_id=None, code="police"),
        event("x1", "family_group_conference", "2025-01-05"),
        event("e8", "cla_period_started", "2025-04-01", episode_id="P3", code="C2"),  # P2 still open
    ]


def test_both_engines_find_the_same_failures_with_the_same_counts(tmp_path, gx_root):
    warehouse = events_warehouse(tmp_path / "warehouse.duckdb", broken_events())

    results = {
        engine: v.validate_events(warehouse, now=NOW, project_root=gx_root, docs=False, engine=engine)
        for engine in (v.SQL, v.GX)
    }

    def counts(result: v.ValidationResult) -> list[tuple]:
        return [(c.name, c.success, c.element_count, c.unexpected_count) for c in result.checks]

    sql, gx = results[v.SQL], results[v.GX]
    assert (sql.engine, gx.engine) == (v.SQL, v.GX)
    assert counts(sql) == counts(gx)
    assert sql.rows == gx.rows == {"raw_events": 13, "raw_episodes": 2, "raw_cla_periods": 3}
    by_name = {c.name: c for c in sql.checks}
    # 13 latest events: n1 has no child; e1, b1, b2, f1 and n1 are contacts, b1 and b2 with codes outside
    # the list; x1 is the one type outside the contract; P3 starts while P2 is open.
    no_child = by_name["events.not_null.child_id"]
    assert (no_child.unexpected_count, no_child.element_count) == (1, 13)
    contacts = by_name["events.code_in_closed_list.contact_received"]
    assert (contacts.unexpected_count, contacts.element_count) == (2, 5)
    assert by_name["events.event_type_in_contract"].unexpected_count == 1
    assert by_name["cla_periods.no_overlap"].unexpected_count == 1
    assert str(by_name["events.event_at_not_in_future"].observed_value).startswith("2027-01-01")
    assert (
        set(failed(sql))
        == set(failed(gx))
        == {
            "events.not_null.child_id",
            "events.code_in_closed_list.contact_received",
            "events.event_type_in_contract",
            "events.event_at_not_in_future",
            "cla_periods.no_overlap",
        }
    )
    # The same example rows are named (GX lists them in frame order, the SQL engine sorted; GX shows a
    # missing value as NaN, DuckDB as None).
    for name in ("events.code_in_closed_list.contact_received", "events.not_null.child_id"):
        examples = {
            e: sorted(
                (x["la_code"], x["event_id"]) for x in next(c for c in r.checks if c.name == name).examples
            )
            for e, r in results.items()
        }
        assert examples[v.SQL] == examples[v.GX]
    assert {e["event_id"] for e in contacts.examples} == {"b1", "b2"}


def built_from(path: Path, load_id: int) -> None:
    """meta.model_refreshes as dbt leaves it: the models were last built from `load_id`."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists meta")
        con.execute(
            "create table if not exists meta.model_refreshes (model_name varchar, source_load_id bigint, "
            "is_full_refresh boolean, refreshed_at timestamp)"
        )
        con.execute("insert into meta.model_refreshes values ('stg_case__events', ?, true, now())", [load_id])


def monthly_warehouse(path: Path) -> Path:
    """Load 1: child C1's good events and child C2's, one with a bad code (loaded and built before).
    Load 2: a correction of C1's e7 and a new child C3 with a bad code."""
    rows = [
        *good_events(),
        event("c2a", "contact_received", "2025-01-02", child_id="C2", episode_id="K7", code="police"),
        event("old-bad", "contact_received", "2025-01-03", child_id="C2", episode_id="K8", code="postman"),
        event(
            "e7",
            "cla_period_started",
            "2025-03-02",
            episode_id="P2",
            code="C2",
            code2="U1",
            recorded_at="2025-07-01 09:00",
            load_id=2,
        ),
        event(
            "new-bad",
            "contact_received",
            "2025-06-03",
            child_id="C3",
            episode_id="K9",
            code="milkman",
            load_id=2,
        ),
    ]
    return events_warehouse(path, rows)


def test_a_monthly_refresh_gate_reads_the_children_its_load_touched(tmp_path, gx_root, engine):
    warehouse = monthly_warehouse(tmp_path / "warehouse.duckdb")
    code_check = "events.code_in_closed_list.contact_received"

    def gate(**kwargs: Any) -> v.ValidationResult:
        return v.validate_events(
            warehouse, now=NOW, project_root=gx_root, docs=False, engine=engine, **kwargs
        )

    # Never built: everything is new, so everything is read (7 of C1, 2 of C2, 1 of C3).
    first = gate()
    assert (first.scope, first.rows["raw_events"]) == ("every event", 10)

    built_from(warehouse, 1)
    monthly = gate()
    # C1 (its e7 corrected in load 2: all 7 of its events) and C3 (1); not C2.
    assert monthly.rows["raw_events"] == 8
    assert monthly.scope == "the children of event versions loaded after load 1"
    check = next(c for c in monthly.checks if c.name == code_check)
    assert (check.unexpected_count, check.element_count) == (1, 2)  # new-bad of e1 and new-bad
    assert [e["event_id"] for e in check.examples] == ["new-bad"]

    whole = gate(scope="all")
    assert whole.rows["raw_events"] == 10
    assert next(c for c in whole.checks if c.name == code_check).unexpected_count == 2
    assert gate(scope=0).rows["raw_events"] == 10  # the loads after load 0: all of them

    built_from(warehouse, 2)  # nothing loaded since the last build: nothing to read, nothing fails
    quiet = gate()
    assert quiet.rows["raw_events"] == 0 and quiet.failures == []

    built_from(warehouse, -1)  # last built as known at a cut-off: read everything again
    assert gate().rows["raw_events"] == 10


def test_the_refresh_counts_in_sql_and_reruns_a_stop_in_gx_for_data_docs(tmp_path, gx_root, monkeypatch):
    clean = events_warehouse(tmp_path / "clean.duckdb", good_events())
    result = v.validate_events(clean, now=NOW, project_root=gx_root)
    assert (result.engine, result.docs, result.ok) == (v.SQL, None, True)

    bad = [*good_events(), event("bad1", "contact_received", "2025-01-05", code="postman")]
    broken = events_warehouse(tmp_path / "broken.duckdb", bad)
    result = v.validate_events(broken, now=NOW, project_root=gx_root)
    assert result.engine == v.GX and result.docs and result.docs.endswith("index.html")
    assert failed(result) == {"events.code_in_closed_list.contact_received": v.STOP}
    # Data Docs refused: the SQL result stands.
    assert v.validate_events(broken, now=NOW, project_root=gx_root, docs=False).engine == v.SQL

    monkeypatch.setenv(v.ENGINE_ENV, v.GX)
    assert v.validate_events(clean, now=NOW, project_root=gx_root, docs=False).engine == v.GX
    monkeypatch.setenv(v.ENGINE_ENV, "pandas")
    with pytest.raises(ValueError, match="unknown gate engine 'pandas'"):
        v.validate_events(clean, now=NOW, project_root=gx_root)


# --------------------------------------------------------------------------------------------------
# The marts gate


def run_marts(tmp_path, gx_root, rows, engine=v.SQL):
    warehouse = marts_warehouse(tmp_path / "warehouse.duckdb", rows)
    return v.validate_marts(warehouse, project_root=gx_root, docs=False, engine=engine)


def test_clean_marts_pass(tmp_path, gx_root, engine):
    result = run_marts(tmp_path, gx_root, good_kpis(), engine)
    assert result.ok and result.failures == []
    assert result.rows == {"marts_kpi_monthly": 6, "marts_kpi_coverage": 6}


def test_a_pct_above_100_stops(tmp_path, gx_root, engine):
    rows = good_kpis()
    rows[1] = kpi_row("assessment_45wd_pct", "pct", "2025-01-31", 120.0)

    with pytest.raises(v.GateFailed, match=r"kpi\.pct_between_0_and_100") as caught:
        run_marts(tmp_path, gx_root, rows, engine).raise_for_stops()

    assert "kpi_id=assessment_45wd_pct" in str(caught.value)


def test_a_negative_count_stops(tmp_path, gx_root, engine):
    rows = good_kpis()
    rows[0] = kpi_row("contacts_received", "count", "2025-01-31", -3.0)

    result = run_marts(tmp_path, gx_root, rows, engine)

    assert set(failed(result)) == {"kpi.counts_not_negative.value", "kpi.counts_not_negative.numerator"}
    assert not result.ok


def test_a_kpi_missing_from_a_month_stops(tmp_path, gx_root, engine):
    rows = [
        r for r in good_kpis() if not (r["kpi_id"] == "cla_rate_per_10k" and r["period_end"] == "2025-02-28")
    ]

    result = run_marts(tmp_path, gx_root, rows, engine)

    assert failed(result) == {"kpi.every_kpi_every_month": v.STOP}
    assert "kpi_id=cla_rate_per_10k" in result.stops[0].describe()
    assert "period_end=2025-02-28" in result.stops[0].describe()


def test_no_kpi_rows_stops(tmp_path, gx_root, engine):
    assert "kpi.not_empty" in failed(run_marts(tmp_path, gx_root, [], engine))


# --------------------------------------------------------------------------------------------------
# The committed suites and the CLI


def _suite_file(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text())
    return [{k: val for k, val in e.items() if k != "id"} for e in data["expectations"]]


def test_suites_committed_under_gx_are_the_ones_the_code_builds(tmp_path):
    v.sync_suites(tmp_path)
    committed = settings.PROJECT_ROOT / "gx" / "expectations"
    for suite in v.SUITES:
        built = _suite_file(tmp_path / "gx" / "expectations" / f"{suite.name}.json")
        assert (committed / f"{suite.name}.json").is_file(), f"gx/expectations/{suite.name}.json missing"
        assert _suite_file(committed / f"{suite.name}.json") == built, (
            f"gx/expectations/{suite.name}.json is out of date: run `cscw validate` once and commit gx/"
        )


def test_sync_leaves_unchanged_suites_untouched(tmp_path):
    v.sync_suites(tmp_path)
    files = sorted((tmp_path / "gx").rglob("*.json"))
    before = {p: p.read_bytes() for p in files if "uncommitted" not in p.parts}
    v.sync_suites(tmp_path)
    assert {p: p.read_bytes() for p in before} == before


def test_cli_validate_exits_1_on_a_stop_and_names_it(tmp_path, gx_root, monkeypatch):
    monkeypatch.setenv(v.GX_ROOT_ENV, str(gx_root))
    rows = [*good_events(), event("bad1", "icpc_held", "2025-01-05", episode_id="S1", code="maybe")]
    warehouse = events_warehouse(tmp_path / "warehouse.duckdb", rows)

    result = CliRunner().invoke(
        cli.app, ["validate", "--warehouse", str(warehouse), "--no-docs"], env={"COLUMNS": "250"}
    )

    assert result.exit_code == 1, result.output
    assert "events.code_in_closed_list.icpc_held" in result.output
    assert "Marts not validated" in result.output  # not built yet: said, not failed


def test_cli_validate_passes_with_warnings_only(tmp_path, gx_root, monkeypatch):
    monkeypatch.setenv(v.GX_ROOT_ENV, str(gx_root))
    rows = [*good_events(), event("x1", "family_group_conference", "2025-01-05")]
    warehouse = events_warehouse(tmp_path / "warehouse.duckdb", rows)

    result = CliRunner().invoke(
        cli.app, ["validate", "-w", str(warehouse), "--gate", "events", "--no-docs"], env={"COLUMNS": "250"}
    )

    assert result.exit_code == 0, result.output
    assert "WARN" in result.output and "events.event_type_in_contract" in result.output
