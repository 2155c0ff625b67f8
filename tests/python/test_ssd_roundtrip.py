"""Round trip: canonical events -> six monthly SSD extracts -> `cscw import ssd` -> the same KPIs.

A small unitary (2 years to March 2018, seed 9) is generated with the generator's recording
behaviour: late recordings, corrections and deleted duplicates. Each month end from October 2017 to
March 2018, an SSD extract is written from the events as known that day; the six extracts are
imported as versions and built into warehouse B beside warehouse A built from the events directly.
For every KPI the SSD carries, numerator and denominator match in every month, both in the latest
view and as known at an extract day (a build with ``as_of``); the others are listed with the reason.
"""

from __future__ import annotations

import os
import shutil

import duckdb
import pandas as pd
import pytest

from csc_warehouse.build import build
from csc_warehouse.formats.anonymise import KEY_ENV
from csc_warehouse.formats.returns_source import from_canonical
from csc_warehouse.formats.ssd import import_ssd
from csc_warehouse.formats.ssd_write import write_extract
from csc_warehouse.generate import generate
from csc_warehouse.load import load

EXTRACTS = pd.date_range("2017-10-31", "2018-03-31", freq="ME")
AS_OF = "2017-12-31"
_CARE_LEAVERS = "ssd_care_leavers holds only the latest contact, undated when not in touch"
EXCLUDED = {
    "contact_decision_24h_pct": "the SSD has no decision date or time: decisions are dated at the contact",
    "contact_to_referral_pct": "decisions are dated at the contact, so a decision made the next month moves",
    "s47_started": "the SSD's S47 start is the strategy discussion's date; s47_started may be a day later",
    "care_leaver_eet_pct": _CARE_LEAVERS,
    "care_leaver_in_touch_pct": _CARE_LEAVERS,
    "care_leaver_suitable_accom_pct": _CARE_LEAVERS,
    "contact_decision_48h_pct": "the SSD has no decision date or time: decisions are dated at the contact",
    "care_leaver_17_18_eet_pct": _CARE_LEAVERS,
    "care_leaver_17_18_suitable_accom_pct": _CARE_LEAVERS,
}


def _kpis(root, name_a: str, name_b: str) -> pd.DataFrame:
    with duckdb.connect() as con:
        con.execute(f"attach '{root / name_a}' as a (read_only); attach '{root / name_b}' as b (read_only)")
        kpis = con.sql(
            """select kpi_id, period_end, a.numerator, a.denominator, b.numerator, b.denominator
               from a.marts.fct_kpi_monthly a
               full join b.marts.fct_kpi_monthly b using (la_code, kpi_id, period_end)"""
        ).df()
    kpis.columns = ["kpi_id", "period_end", "a_num", "a_den", "b_num", "b_den"]
    return kpis


def _differences(kpis: pd.DataFrame) -> pd.DataFrame:
    same = (kpis["a_num"].fillna(-1) == kpis["b_num"].fillna(-1)) & (
        kpis["a_den"].fillna(-1) == kpis["b_den"].fillna(-1)
    )
    return kpis[~same]


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory):
    root = tmp_path_factory.mktemp("ssd_roundtrip")
    saved = {k: os.environ.get(k) for k in (KEY_ENV, "DBT_INDIRECT_SELECTION")}
    os.environ[KEY_ENV] = "ssd-round-trip-test-key-0001"
    os.environ["DBT_INDIRECT_SELECTION"] = "cautious"
    try:
        generate(root / "canonical", profile="small-unitary", seed=9, years=2, file_format="csv")
        rows = {}
        for day in EXTRACTS:
            [known] = from_canonical(root / "canonical", as_of=day.date())
            rows[day] = write_extract(known, root / "extracts" / f"{day:%Y-%m-%d}", day.date())
        result = import_ssd(root / "extracts", root / "imported", la_code=known.la_code)
        shutil.copy(root / "canonical" / "population.csv", root / "imported" / "population.csv")
        for name, folder in (("a", root / "canonical"), ("b", root / "imported")):
            assert load(folder, root / f"{name}.duckdb").rows_quarantined == 0
            build(root / f"{name}.duckdb", select="+fct_kpi_monthly")
        latest = _kpis(root, "a.duckdb", "b.duckdb")
        for name in ("a", "b"):
            shutil.copy(root / f"{name}.duckdb", root / f"{name}_as_of.duckdb")
            build(root / f"{name}_as_of.duckdb", select="+fct_kpi_monthly", vars={"as_of": AS_OF})
        as_of = _kpis(root, "a_as_of.duckdb", "b_as_of.duckdb")
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return {"latest": latest, "as_of": as_of, "result": result, "rows": rows, "root": root}


@pytest.mark.slow
def test_the_extracts_import_without_quarantine(warehouses) -> None:
    result = warehouses["result"]
    assert result.rows_quarantined == 0
    assert len(warehouses["rows"]) == 6 and result.rows_read == sum(
        sum(r.values()) for r in warehouses["rows"].values()
    )
    events = pd.read_csv(result.outputs["events"])
    # Later extracts restate, correct and drop events: versions and tombstones recorded at extract days.
    stamps = set(events["recorded_at"])
    assert stamps == {f"{d:%Y-%m-%d} 23:59:59" for d in EXTRACTS}
    assert events["is_deleted"].sum() > 0
    assert events.groupby("event_id").size().max() > 1


@pytest.mark.slow
def test_the_history_has_late_recordings_corrections_and_deletions(warehouses) -> None:
    """The input the round trip is tested on holds what the extracts must turn into versions."""
    events = pd.read_csv(warehouses["root"] / "canonical" / "events.csv")
    in_span = pd.to_datetime(events["recorded_at"]).between(EXTRACTS[0], EXTRACTS[-1] + pd.Timedelta(days=1))
    late = (pd.to_datetime(events["recorded_at"]) - pd.to_datetime(events["event_at"])).dt.days > 31
    assert (in_span & late).sum() > 10
    assert (in_span & events["is_deleted"]).sum() > 0
    assert (events[in_span].groupby("event_id").size() > 1).sum() + events[in_span]["event_id"].isin(
        events[~in_span]["event_id"]
    ).sum() > 0


@pytest.mark.slow
def test_every_kpi_but_the_excluded_matches_in_every_month(warehouses) -> None:
    kpis = warehouses["latest"]
    assert kpis[["a_num", "b_num"]].notna().all().all()
    assert kpis.groupby("kpi_id")["period_end"].nunique().min() >= 24
    carried = kpis[~kpis["kpi_id"].isin(EXCLUDED)]
    assert carried["kpi_id"].nunique() == kpis["kpi_id"].nunique() - len(EXCLUDED)
    diff = _differences(carried)
    assert diff.empty, f"{sorted(set(diff['kpi_id']))}\n{diff.head(20).to_string()}"
    # The exclusions are real: each differs somewhere (else it would belong in the comparison).
    assert set(_differences(kpis)["kpi_id"]) == set(EXCLUDED)


@pytest.mark.slow
def test_figures_as_known_at_an_extract_day_match(warehouses) -> None:
    kpis = warehouses["as_of"]
    kpis = kpis[pd.to_datetime(kpis["period_end"]) <= pd.Timestamp(AS_OF)]
    assert kpis["period_end"].nunique() >= 21
    diff = _differences(kpis[~kpis["kpi_id"].isin(EXCLUDED)])
    assert diff.empty, f"{sorted(set(diff['kpi_id']))}\n{diff.head(20).to_string()}"
    # As known then differs from the latest view (later recordings and corrections came after).
    latest = warehouses["latest"].set_index(["kpi_id", "period_end"])["a_num"]
    then = kpis.set_index(["kpi_id", "period_end"])["a_num"]
    assert (latest.reindex(then.index) != then).sum() > 0
