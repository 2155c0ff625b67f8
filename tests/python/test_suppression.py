"""Small-number suppression: no suppressed count can be worked out again from the figures shown.

The hand example is the small unitary's Q4 2017-18 report: children looked after 25, excluding UASC 22,
UASC 3 (and 22 = 20 + 2 the quarter before). Primary suppression hides UASC; 25 - 22 would give it back,
so excluding UASC is hidden too. The end-to-end test builds a generated small unitary, writes its
suppressed report, and checks every sum and difference of the figures it shows."""

from __future__ import annotations

import itertools
from datetime import date

import numpy as np
import pytest

from csc_warehouse.suppression import (
    QUANTITIES,
    Figure,
    FigureKey,
    _Algebra,
    recoverable,
    suppress,
)

Q4, Q3 = date(2018, 3, 31), date(2017, 12, 31)
PERIOD_TYPES = {"cla_count": "PIT", "cla_excl_uasc_count": "PIT", "uasc_count": "PIT",
                "referrals_received": "IN-MONTH", "referrals_r12m": "R12M"}  # fmt: skip


def count(kpi: str, period: str, end: date, n: float) -> Figure:
    return Figure(FigureKey(kpi, period, end), "count", PERIOD_TYPES[kpi], n, None)


CLA = [
    count("cla_count", "quarter", Q4, 25), count("cla_excl_uasc_count", "quarter", Q4, 22),
    count("uasc_count", "quarter", Q4, 3),
    count("cla_count", "quarter", Q3, 22), count("cla_excl_uasc_count", "quarter", Q3, 20),
    count("uasc_count", "quarter", Q3, 2),
]  # fmt: skip


def test_the_total_less_a_part_does_not_give_back_a_suppressed_part() -> None:
    shown_all = [f.key for f in CLA]
    # With only UASC hidden, 25 - 22 = 3 and 22 - 20 = 2 give both counts back.
    only_primary = [k for k in shown_all if k.kpi_id != "uasc_count"]
    assert sorted(k.period_end for k, _ in recoverable(CLA, only_primary, PERIOD_TYPES)) == [Q3, Q4]
    result = suppress(CLA, shown_all, PERIOD_TYPES)
    assert result.primary == {FigureKey("uasc_count", "quarter", Q4), FigureKey("uasc_count", "quarter", Q3)}
    # The smaller of the two figures that close each gap: excluding UASC (22, 20), not the total.
    assert result.secondary == {
        FigureKey("cla_excl_uasc_count", "quarter", Q4),
        FigureKey("cla_excl_uasc_count", "quarter", Q3),
    }
    shown = [k for k in shown_all if k not in result]
    assert recoverable(CLA, shown, PERIOD_TYPES) == []
    # Every sum and difference of up to three shown figures, enumerated: none is a UASC count.
    algebra = _Algebra(PERIOD_TYPES)
    atoms = sorted({a for f in CLA for a in algebra.vector(f.key, "n")})

    def array(key: FigureKey) -> np.ndarray:
        vector = algebra.vector(key, "n")
        return np.array([vector.get(a, 0.0) for a in atoms])

    hidden = [array(k) for k in result.suppressed if k.kpi_id == "uasc_count"]
    tried = 0
    for size in (1, 2, 3):
        for keys in itertools.combinations(shown, size):
            for signs in itertools.product((1, -1), repeat=size):
                combination = sum(s * array(k) for s, k in zip(signs, keys, strict=True))
                tried += 1
                assert not any(np.array_equal(combination, h) for h in hidden), keys
    assert tried == 2 * 2 + 4  # the two totals: each alone (+-), and together (4 sign pairs)


def test_a_rolling_year_less_its_shown_months_is_protected() -> None:
    # Referrals in 12 months to March 2018: 100; its months shown, April 2017 only 3 (suppressed).
    months = [date(2017, 4, 30), date(2017, 5, 31), date(2017, 6, 30), date(2017, 7, 31),
              date(2017, 8, 31), date(2017, 9, 30), date(2017, 10, 31), date(2017, 11, 30),
              date(2017, 12, 31), date(2018, 1, 31), date(2018, 2, 28), date(2018, 3, 31)]  # fmt: skip
    values = [3, 9, 9, 9, 9, 9, 9, 9, 9, 9, 8, 8]
    figures = [count("referrals_received", "month", m, v) for m, v in zip(months, values, strict=True)]
    figures.append(count("referrals_r12m", "month", Q4, sum(values)))
    result = suppress(figures, [f.key for f in figures], PERIOD_TYPES)
    assert result.primary == {FigureKey("referrals_received", "month", months[0])}
    # 100 - (97 shown) = 3: one more month goes; the smallest, 8 (February 2018).
    assert result.secondary == {FigureKey("referrals_received", "month", date(2018, 2, 28))}
    assert recoverable(figures, [f.key for f in figures if f.key not in result], PERIOD_TYPES) == []


@pytest.mark.slow
def test_published_small_unitary_report_hides_every_recoverable_count(tmp_path) -> None:
    import duckdb

    from csc_warehouse.build import build
    from csc_warehouse.generate import generate
    from csc_warehouse.load import load
    from csc_warehouse.report import build_report, render

    generate(tmp_path / "in", profile="small-unitary", seed=42)
    warehouse = tmp_path / "wh.duckdb"
    load(tmp_path / "in", warehouse)
    build(warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        period_types = dict(con.execute("select kpi_id, period_type from reference.dim_kpi").fetchall())
        check_quantities(con)
        report = build_report(con, "E06000017", Q4, suppress=True)
        from csc_warehouse.presentation import month_figures

        figures, _ = month_figures(con, "E06000017", date(2016, 3, 31))
        cla = dict(
            con.execute(
                "select kpi_id, numerator from marts.rpt_scorecard where la_code = 'E06000017' "
                "and reporting_period = 'quarter' and period_end = ? and kpi_id in "
                "('cla_count', 'cla_excl_uasc_count', 'uasc_count')",
                [Q4],
            ).fetchall()
        )
    shown = [k for k in report.displayed if k not in report.suppression]
    assert recoverable(figures, shown, period_types) == []
    page = render(report)
    by_id = {i.kpi_id: i for _, items in report.sections for i in items}
    if cla["uasc_count"] in range(1, 5):
        assert by_id["uasc_count"].current.text == "x"
        assert "x" in (by_id["cla_count"].current.text, by_id["cla_excl_uasc_count"].current.text)
    assert "x: suppressed" in page


def check_quantities(con) -> None:
    """Every pair of figures QUANTITIES says count the same children are equal in every LA-month, and
    cla = excluding UASC + UASC."""
    rows = con.execute(
        "select la_code, kpi_id, period_end, numerator, denominator from marts.fct_kpi_monthly"
    ).fetchall()
    values = {(la, k, p, "n"): n for la, k, p, n, _ in rows} | {(la, k, p, "d"): d for la, k, p, _, d in rows}
    period_types = dict(con.execute("select kpi_id, period_type from reference.dim_kpi").fetchall())
    groups: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for (kpi, part), quantity in QUANTITIES.items():
        window = "R12M" if period_types[kpi] == "R12M" else "1"
        groups.setdefault((quantity, window), []).append((kpi, part))
    months = {(la, p) for la, _, p, _ in values}
    for (quantity, _), members in groups.items():
        for la, month in months:
            seen = {values.get((la, k, month, part)) for k, part in members} - {None}
            assert len(seen) <= 1, (quantity, month, members, seen)
    for la, month in months:
        total = values.get((la, "cla_count", month, "n"))
        parts = [values.get((la, k, month, "n")) for k in ("cla_excl_uasc_count", "uasc_count")]
        if total is not None:
            assert total == sum(p or 0 for p in parts)
