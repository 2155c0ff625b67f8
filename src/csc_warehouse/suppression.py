"""Small-number suppression for published figures, as English official statistics practise it.

Primary suppression: a count of children from 1 to 4 is not shown, nor a percentage, rate or mean whose
numerator or denominator is such a count (zero is shown: it identifies nobody).

Secondary suppression: a figure that is shown must not let a reader work a suppressed count out again.
Figures are tied to each other: a total and its parts (children looked after = excluding UASC + UASC),
a KPI and another counting the same children (a percentage's denominator and a count, a rate's
numerator), a quarter and its three months, a rolling year and its twelve months. Every figure shown is
written as a sum of monthly quantities (`QUANTITIES`); a small count is recoverable exactly when its own
sum lies in the span of the sums shown (any chain of additions and subtractions). While one is, the
smallest figure that shares a quantity with it and whose removal closes the gap is suppressed too.

The README section "Small numbers and suppression" states the rules; `tests/python/test_suppression.py`
proves them and checks `QUANTITIES` against a generated authority.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

import numpy as np

SMALL_COUNTS = range(1, 5)
SUPPRESSED = "x"

# What each KPI's numerator ("n") and denominator ("d") count, named as a monthly quantity, so that two
# figures counting the same children (in the same months) are seen to be equal. A KPI whose period type
# is R12M counts the 12 months to the period end: where some IN-MONTH KPI counts the same quantity, it
# is their sum. Checked against the data by tests/python/test_suppression.py.
QUANTITIES: dict[tuple[str, str], str] = {
    ("contacts_received", "n"): "contact",
    ("contact_decision_24h_pct", "d"): "contact_decision",
    ("contact_to_referral_pct", "d"): "contact_decision",
    ("contact_to_referral_pct", "n"): "referral",
    ("referrals_received", "n"): "referral",
    ("referrals_r12m", "n"): "referral",
    ("referral_rate_per_10k_r12m", "n"): "referral",
    ("re_referral_12m_pct", "d"): "referral",
    ("assessments_completed", "n"): "assessment_completed",
    ("assessment_45wd_pct", "d"): "assessment_completed",
    ("assessment_45wd_pct_r12m", "d"): "assessment_completed",
    ("assessment_child_seen_pct", "d"): "assessment_completed",
    ("assessment_45wd_pct", "n"): "assessment_45wd",
    ("assessment_45wd_pct_r12m", "n"): "assessment_45wd",
    ("icpc_15wd_pct", "n"): "icpc_15wd",
    ("icpc_15wd_pct_r12m", "n"): "icpc_15wd",
    ("icpc_15wd_pct", "d"): "icpc",
    ("icpc_15wd_pct_r12m", "d"): "icpc",
    ("cin_count", "n"): "cin",
    ("cin_rate_per_10k", "n"): "cin",
    ("cp_plans_open", "n"): "cp_plan_open",
    ("cp_rate_per_10k", "n"): "cp_plan_open",
    ("cp_open_2y_plus_pct", "d"): "cp_plan_open",
    ("cp_seen_10wd_pct", "d"): "cp_plan_open",
    ("cp_plan_starts", "n"): "cp_plan_start",
    ("cp_repeat_plan_pct_r12m", "d"): "cp_plan_start",
    ("cp_repeat_within_2y_pct_r12m", "d"): "cp_plan_start",
    ("cla_count", "n"): "cla",
    ("cla_rate_per_10k", "n"): "cla",
    ("cla_s20_pct", "d"): "cla",
    ("cla_3plus_placements_pct", "d"): "cla",
    ("cla_seen_6w_pct", "d"): "cla",
    ("cla_excl_uasc_count", "n"): "cla_excl_uasc",
    ("uasc_count", "n"): "uasc",
    ("cla_starts", "n"): "cla_start",
    ("cla_readmission_pct_r12m", "d"): "cla_start",
    ("cla_ceased", "n"): "cla_ceased",
    ("cla_exit_adoption_pct_r12m", "d"): "cla_ceased",
    ("cla_exit_sgo_pct_r12m", "d"): "cla_ceased",
    ("cla_health_assessment_pct", "d"): "cla_12m",
    ("cla_dental_check_pct", "d"): "cla_12m",
    ("adoptions_r12m", "n"): "adoption",
    ("cla_exit_adoption_pct_r12m", "n"): "adoption",
    ("adoption_a3_lt14m_pct_r12m", "d"): "adoption",
    ("care_leaver_eet_pct", "d"): "care_leaver",
    ("care_leaver_suitable_accom_pct", "d"): "care_leaver",
    ("care_leaver_in_touch_pct", "d"): "care_leaver",
    ("contact_decision_48h_pct", "d"): "contact_decision",
    ("referral_to_assessment_pct", "d"): "referral",
    ("assessment_nfa_pct", "d"): "assessment_completed",
    ("children_allocated_pct", "d"): "cin",
    ("cin_plans_open", "n"): "cin_plan_open",
    ("cin_plan_le_1y_pct", "d"): "cin_plan_open",
    ("eh_episodes_ended", "n"): "eh_ended",
    ("eh_stepped_up_pct_r12m", "d"): "eh_ended",
    ("care_leaver_17_18_eet_pct", "d"): "care_leaver_17_18",
    ("care_leaver_17_18_suitable_accom_pct", "d"): "care_leaver_17_18",
}
# Quantities that are the sum of others, month by month.
TOTALS: dict[str, tuple[str, ...]] = {"cla": ("cla_excl_uasc", "uasc")}


@dataclass(frozen=True, order=True)
class FigureKey:
    """One figure: a KPI for a month or a quarter (period_end is the month's or quarter's last day)."""

    kpi_id: str
    reporting_period: str  # "month" or "quarter"
    period_end: date


@dataclass(frozen=True)
class Figure:
    key: FigureKey
    unit: str
    period_type: str
    numerator: float | None
    denominator: float | None


def counted_parts(unit: str) -> tuple[str, ...]:
    """The parts of a figure that count children: a rate's denominator is the population, a mean's
    numerator a total of days or scores."""
    return {"count": ("n",), "rate10k": ("n",), "pct": ("n", "d")}.get(unit, ("d",))


def shown_parts(unit: str) -> tuple[str, ...]:
    """What a shown figure lets a reader know: "94.9% (485 of 510)" both parts, "224.0 (5,974)" the
    count (and so the population), "532.0 (51 children)" the children and the total of days."""
    return ("n",) if unit == "count" else ("n", "d")


def _part(figure: Figure, part: str) -> float | None:
    return figure.numerator if part == "n" else figure.denominator


def is_small(number: float | None) -> bool:
    return number is not None and round(number) in SMALL_COUNTS


def is_primary(figure: Figure) -> bool:
    """A count of 1-4, or a figure built on one."""
    return any(is_small(_part(figure, part)) for part in counted_parts(figure.unit))


def _month_ends(end: date, months: int) -> list[date]:
    """The `months` month ends up to and including `end` (a month end), latest first."""
    found, year, month = [], end.year, end.month
    for _ in range(months):
        found.append(_last_day(year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return found


def _last_day(year: int, month: int) -> date:
    following = date(year + (month == 12), month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


Vector = dict[tuple[str, date], float]  # quantity x month -> coefficient


class _Algebra:
    """Each figure part as a sum of monthly quantities."""

    def __init__(self, period_types: Mapping[str, str]) -> None:
        self.period_types = period_types
        # Quantities some IN-MONTH or PIT KPI counts month by month: a rolling year of one is its sum.
        self.monthly = {
            q for (kpi, _), q in QUANTITIES.items() if period_types.get(kpi, "R12M") != "R12M"
        } | {part for parts in TOTALS.values() for part in parts}

    def _quantity(self, name: str, month: date) -> Vector:
        if name in TOTALS:
            return {(part, month): 1.0 for part in TOTALS[name]}
        return {(name, month): 1.0}

    def month_vector(self, kpi_id: str, part: str, month: date) -> Vector:
        quantity = QUANTITIES.get((kpi_id, part))
        rolling = self.period_types.get(kpi_id) == "R12M"
        if quantity is None:  # counted by this KPI alone: its own quantity, a year of it when rolling
            quantity = f"{kpi_id}.{part}" + ("@12" if rolling else "")
            return self._quantity(quantity, month)
        if rolling and quantity in self.monthly:
            vector: Vector = defaultdict(float)
            for m in _month_ends(month, 12):
                for atom, c in self._quantity(quantity, m).items():
                    vector[atom] += c
            return dict(vector)
        return self._quantity(quantity + ("@12" if rolling else ""), month)

    def vector(self, key: FigureKey, part: str) -> Vector:
        if key.reporting_period == "month":
            return self.month_vector(key.kpi_id, part, key.period_end)
        if self.period_types.get(key.kpi_id) != "IN-MONTH":  # PIT, R12M: the quarter's last month
            return self.month_vector(key.kpi_id, part, key.period_end)
        vector: Vector = defaultdict(float)
        for m in _month_ends(key.period_end, 3):
            for atom, c in self.month_vector(key.kpi_id, part, m).items():
                vector[atom] += c
        return dict(vector)


@dataclass
class Suppression:
    """Which figures are hidden, and why."""

    primary: set[FigureKey] = field(default_factory=set)
    secondary: set[FigureKey] = field(default_factory=set)

    @property
    def suppressed(self) -> set[FigureKey]:
        return self.primary | self.secondary

    def __contains__(self, key: object) -> bool:
        return key in self.primary or key in self.secondary


def _basis(rows: list[Vector], atoms: list[tuple[str, date]]) -> np.ndarray:
    """An orthonormal basis (as rows) of the span of `rows` over `atoms`."""
    if not rows:
        return np.zeros((0, len(atoms)))
    index = {a: i for i, a in enumerate(atoms)}
    matrix = np.zeros((len(rows), len(atoms)))
    for i, row in enumerate(rows):
        for atom, c in row.items():
            matrix[i, index[atom]] = c
    _, singular, vt = np.linalg.svd(matrix, full_matrices=False)
    return vt[singular > 1e-9 * max(1.0, singular.max(initial=0.0))]


def _determined(basis: np.ndarray, atoms: list[tuple[str, date]], target: Vector) -> bool:
    """Whether `target` lies in the span: some sum and difference of the rows equals it exactly."""
    index = {a: i for i, a in enumerate(atoms)}
    goal = np.zeros(len(atoms))
    for atom, c in target.items():
        goal[index[atom]] = c
    return bool(np.allclose(basis.T @ (basis @ goal), goal, atol=1e-7))


class _Problem:
    """The figures given, their parts as sums of monthly quantities, split into groups that share no
    quantity (a derivation can only chain figures of one group)."""

    def __init__(self, figures: Iterable[Figure], period_types: Mapping[str, str]) -> None:
        algebra = _Algebra(period_types)
        self.figures = {f.key: f for f in figures if f.numerator is not None or f.denominator is not None}
        self.rows: dict[FigureKey, list[Vector]] = {}
        self.targets: list[tuple[FigureKey, str, Vector]] = []
        parent: dict[tuple[str, date], tuple[str, date]] = {}

        def find(a: tuple[str, date]) -> tuple[str, date]:
            while parent.setdefault(a, a) != a:
                parent[a] = parent[parent[a]]
                a = parent[a]
            return a

        for key, figure in self.figures.items():
            vectors = [
                algebra.vector(key, p) for p in shown_parts(figure.unit) if _part(figure, p) is not None
            ]
            self.rows[key] = vectors
            for part in counted_parts(figure.unit):
                if is_small(_part(figure, part)):
                    self.targets.append((key, part, algebra.vector(key, part)))
            for vector in vectors:
                first, *rest = vector
                find(first)
                for atom in rest:
                    parent[find(atom)] = find(first)
        for _, _, vector in self.targets:
            for atom in vector:
                find(atom)
        self.group_of = {a: find(a) for a in parent}
        self.atoms: dict[tuple[str, date], list[tuple[str, date]]] = defaultdict(list)
        for atom, root in self.group_of.items():
            self.atoms[root].append(atom)

    def group(self, vector: Vector) -> tuple[str, date]:
        return self.group_of[next(iter(vector))]

    def leaks(
        self, shown: set[FigureKey], group: tuple[str, date] | None = None
    ) -> list[tuple[FigureKey, str]]:
        """The small counts (not shown themselves) that the shown figures determine, in one group or all."""
        found = []
        bases: dict[tuple[str, date], np.ndarray] = {}
        for key, part, target in self.targets:
            root = self.group(target)
            if key in shown or (group is not None and root != group):
                continue
            if root not in bases:
                rows = [v for k in shown for v in self.rows[k] if self.group(v) == root]
                bases[root] = _basis(rows, self.atoms[root])
            if _determined(bases[root], self.atoms[root], target):
                found.append((key, part))
        return found


def recoverable(
    figures: Iterable[Figure], shown: Iterable[FigureKey], period_types: Mapping[str, str]
) -> list[tuple[FigureKey, str]]:
    """Every small count (a counted part of 1-4, of any figure given) that sums and differences of the
    shown figures determine exactly, unless it is shown itself."""
    problem = _Problem(figures, period_types)
    return problem.leaks({k for k in shown if k in problem.figures})


def suppress(
    figures: Iterable[Figure], displayed: Iterable[FigureKey], period_types: Mapping[str, str]
) -> Suppression:
    """Primary and secondary suppression of the `displayed` figures. `figures` also holds figures not
    displayed that sums of displayed ones could reach (the months before a chart's first, for a rolling
    year): a small one of those is protected too."""
    problem = _Problem(figures, period_types)
    by_key = problem.figures
    displayed = {k for k in displayed if k in by_key}
    result = Suppression(primary={k for k in displayed if is_primary(by_key[k])})

    def size(key: FigureKey) -> tuple[float, FigureKey]:
        f = by_key[key]
        return (min(abs(_part(f, p) or 0) for p in counted_parts(f.unit)), key)

    for _ in range(len(displayed) + 1):  # each round suppresses one more figure, or ends
        shown = displayed - result.suppressed
        leaks = problem.leaks(shown)
        if not leaks:
            return result
        key, part = leaks[0]
        root = next(problem.group(v) for k, p, v in problem.targets if (k, p) == (key, part))
        candidates = sorted(
            (k for k in shown if any(problem.group(v) == root for v in problem.rows[k])), key=size
        )
        # The smallest figure whose removal closes this gap; else the smallest, and look again.
        choice = next(
            (c for c in candidates if (key, part) not in problem.leaks(shown - {c}, root)), candidates[0]
        )
        result.secondary.add(choice)
    return result
