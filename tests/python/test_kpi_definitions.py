"""dim_kpi and the observation models agree: a KPI whose measure no rule produces would read zeros.

Every KPI's figures come from the observation rows of its `measure_id` (fct_kpi_monthly), so a mistyped
measure_id, or a rule branch whose measure no KPI reads, is a silent error. The observation models name
their measures in `kpi_observation('<measure_id>', ...)` calls; this test reads them from the SQL.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from csc_warehouse import settings

MODELS = settings.PROJECT_ROOT / "models" / "intermediate"
MEASURE_CALL = re.compile(r"kpi_observation\(\s*'([a-z0-9_]+)'")


def dim_kpi() -> list[dict[str, str]]:
    text = (settings.PROJECT_ROOT / "seeds" / "dim_kpi.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def measures_by_model() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted(MODELS.rglob("*observations*.sql")):
        measures = set(MEASURE_CALL.findall(path.read_text(encoding="utf-8")))
        if measures:
            found[Path(path).stem] = measures
    return found


def test_every_measure_id_has_a_rule_and_every_rule_a_kpi():
    produced = set().union(*measures_by_model().values())
    read = {row["measure_id"] for row in dim_kpi()}
    assert read - produced == set(), "dim_kpi measure_ids that no observation model produces"
    assert produced - read == set(), "observation rules that no dim_kpi row reads"


def test_each_measure_is_produced_by_one_model():
    owners: dict[str, list[str]] = {}
    for model, measures in measures_by_model().items():
        for measure in measures:
            owners.setdefault(measure, []).append(model)
    assert {m: models for m, models in owners.items() if len(models) > 1} == {}


def test_dim_kpi_rows_are_complete():
    rows = dim_kpi()
    assert len({row["kpi_id"] for row in rows}) == len(rows)
    assert len({row["display_order"] for row in rows}) == len(rows)
    for row in rows:
        expected_window = {"IN-MONTH": {"1"}, "R12M": {"12"}, "PIT": {"1", "2", "12"}}[row["period_type"]]
        assert row["window_months"] in expected_window, row["kpi_id"]
        assert row["unit"] in {"count", "pct", "rate10k", "days", "score"}, row["kpi_id"]
        assert row["polarity"] in {"high", "low", "none"}, row["kpi_id"]
        # The glossary prints the definition to committee members: no internal codes or event names.
        assert not re.search(r"\b[A-Z]\d\b|_[a-z]+ events|[a-z]+_[a-z]+", row["definition"]), row["kpi_id"]
