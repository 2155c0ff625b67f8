"""Synthetic-authority profiles: YAML files that say which authorities to generate, how they behave, and
which published figures they should reproduce.

A profile is data, not code (see `profiles/README.md`): `profiles/<name>.yaml` in the project, or any
YAML file a user writes. It has

- `settings`: generator settings shared by its authorities (the fields of `GeneratorSettings`);
- `authorities`: a list (`la_code`, `name`, `population`, and any setting to override), or a recipe
  (`count`, population quantiles, per-authority spreads of settings) that draws many authorities
  reproducibly, as the `england` profile does;
- `targets`: headline KPIs with the value to reproduce, a tolerance and where the figure came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
import yaml

from csc_warehouse import settings as project_settings

__all__ = [
    "Authority",
    "GeneratorSettings",
    "Profile",
    "ProfileError",
    "Target",
    "available_profiles",
    "load_profile",
]

PROFILES_DIR: Path = project_settings.PROJECT_ROOT / "profiles"
DEFAULT_PROFILE = "large-county"


class ProfileError(ValueError):
    """A profile that cannot be read or does not make sense; the message says where and why."""


@dataclass(frozen=True)
class GeneratorSettings:
    """How one authority behaves. Defaults are the large county's (kpi-catalogue 2.1).

    Levels (per 10,000 children, percentages, months) are what the generator aims at; factors scale
    the large county's behaviour (1.0 = as the large county).
    """

    referrals_per_10k: float = 224.0  # referrals a year per 10,000 children
    re_referral_factor: float = 1.0  # chance of a further referral after one closes
    assessments_in_45wd_pct: float = 94.5  # assessments authorised within 45 working days
    icpc_in_15wd_pct: float = 87.0  # ICPCs within 15 working days of the strategy discussion
    cp_factor: float = 1.0  # chance an S47 enquiry goes to an ICPC (and so a CP plan)
    cp_repeat_factor: float = 1.0  # chance a child whose CP plan ended is referred, and conferenced, again
    cp_duration_months: float = 9.8  # mean length of a CP plan
    cin_duration_factor: float = 1.0  # how long children in need stay open
    looked_after_per_10k: float = 30.5  # children looked after (excluding UASC) per 10,000, aimed at
    uasc_per_10k: float = 3.3  # unaccompanied asylum-seeking children looked after per 10,000
    placement_move_factor: float = 1.0  # placement moves of looked-after children
    care_leavers_eet_pct: float = 57.0  # care leavers aged 17-21 in education, employment or training
    corrections_pct: float = 1.0  # events entered wrongly and corrected later (a second version)
    deletions_pct: float = 0.3  # events entered twice, the duplicate deleted later (a tombstone)
    late_recording_factor: float = 1.0  # share of events recorded two or more days after they happened
    cp_reviews_on_time_pct: float = 97.5  # CP review conferences held by their due date (LEI, GLO)
    cla_reviews_on_time_pct: float = 95.0  # looked-after reviews held by their due date (RUT 93%-96%)
    iha_in_20wd_pct: float = 60.0  # new periods of care with a health assessment within 20 working days
    early_help_per_10k: float = 45.0  # early help episodes started a year (HRT 2017/18: 1,198 started)
    early_help_step_up_pct: float = 14.0  # early help episodes ending stepped up to social care (RUT 14%)

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int | float) or value < 0:
                raise ProfileError(f"setting {f.name} must be a number of at least 0, not {value!r}")
        for name in (f.name for f in fields(self) if f.name.endswith("_pct")):
            if getattr(self, name) > 100:
                raise ProfileError(f"setting {name} is a percentage: at most 100, not {getattr(self, name)}")


SETTING_NAMES: tuple[str, ...] = tuple(f.name for f in fields(GeneratorSettings))


@dataclass(frozen=True)
class Authority:
    la_code: str
    name: str
    population: int  # children aged 0-17
    settings: GeneratorSettings = field(default_factory=GeneratorSettings)


@dataclass(frozen=True)
class Target:
    """A headline KPI the profile should reproduce, read over the last 12 months generated."""

    kpi_id: str
    target: float
    tolerance: float  # in the KPI's unit (percentage points, per 10,000, ...)
    source: str
    per_kpi_id: str | None = None  # a share: 100 * kpi_id / per_kpi_id (e.g. UASC of all looked after)

    @property
    def label(self) -> str:
        return f"{self.kpi_id} / {self.per_kpi_id}" if self.per_kpi_id else self.kpi_id


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    authorities: tuple[Authority, ...]
    targets: tuple[Target, ...]
    path: Path

    @property
    def population(self) -> int:
        return sum(a.population for a in self.authorities)

    def scaled(self, scale: float, minimum_population: int = 500) -> Profile:
        """The same authorities with `scale` times the children (at least `minimum_population` each):
        a miniature with the same rates, for quick calibration of a large profile."""
        if scale <= 0:
            raise ProfileError(f"scale must be above 0, not {scale}")
        if scale == 1:
            return self
        authorities = tuple(
            replace(a, population=max(round(a.population * scale), minimum_population))
            for a in self.authorities
        )
        return replace(self, authorities=authorities)


def available_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILES_DIR.glob("*.yaml"))


def load_profile(name_or_path: str | Path) -> Profile:
    """A profile by name (`profiles/<name>.yaml`) or by path to a YAML file."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = PROFILES_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        known = ", ".join(available_profiles()) or "none"
        raise ProfileError(
            f"no profile {str(name_or_path)!r}: give one of {known}, or the path of a YAML file"
        )
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise ProfileError(f"{path}: expected a mapping with name, settings, authorities and targets")
    try:
        return _parse(doc, path)
    except ProfileError as exc:
        raise ProfileError(f"{path}: {exc}") from None


def _parse(doc: dict[str, Any], path: Path) -> Profile:
    _only(doc, {"name", "description", "settings", "authorities", "targets"}, "the profile")
    base = _settings(GeneratorSettings(), doc.get("settings") or {}, "settings")
    spec = doc.get("authorities")
    if isinstance(spec, list):
        authorities = tuple(_authority(item, base, i) for i, item in enumerate(spec))
    elif isinstance(spec, dict):
        authorities = _drawn_authorities(spec, base)
    else:
        raise ProfileError("authorities must be a list of authorities or a recipe with count")
    if not authorities:
        raise ProfileError("authorities is empty")
    codes = [a.la_code for a in authorities]
    if len(set(codes)) != len(codes):
        raise ProfileError("two authorities share an la_code")
    targets = tuple(_target(item, i) for i, item in enumerate(doc.get("targets") or []))
    return Profile(
        name=str(doc.get("name") or path.stem),
        description=" ".join(str(doc.get("description") or "").split()),
        authorities=authorities,
        targets=targets,
        path=path,
    )


def _only(mapping: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(mapping) - allowed)
    if unknown:
        raise ProfileError(
            f"{where}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})"
        )


def _settings(base: GeneratorSettings, overrides: dict[str, Any], where: str) -> GeneratorSettings:
    if not isinstance(overrides, dict):
        raise ProfileError(f"{where} must be a mapping of setting: value")
    _only(overrides, set(SETTING_NAMES), where)
    return replace(base, **{k: float(v) for k, v in overrides.items()})


def _authority(item: Any, base: GeneratorSettings, i: int) -> Authority:
    where = f"authorities[{i}]"
    if not isinstance(item, dict):
        raise ProfileError(f"{where} must be a mapping with la_code, name and population")
    _only(item, {"la_code", "name", "population", *SETTING_NAMES}, where)
    for key in ("la_code", "population"):
        if key not in item:
            raise ProfileError(f"{where} has no {key}")
    population = item["population"]
    if isinstance(population, bool) or not isinstance(population, int) or population < 100:
        raise ProfileError(f"{where}: population must be a whole number of at least 100 children")
    overrides = {k: v for k, v in item.items() if k in SETTING_NAMES}
    return Authority(
        la_code=str(item["la_code"]),
        name=str(item.get("name") or item["la_code"]),
        population=population,
        settings=_settings(base, overrides, where),
    )


def _quantiles(spec: Any, where: str) -> tuple[np.ndarray, np.ndarray]:
    """[[probability, value], ...] sorted by probability, from 0 to 1."""
    try:
        pairs = np.asarray(spec, dtype=float)
    except (TypeError, ValueError):
        pairs = np.empty(0)
    if pairs.ndim != 2 or pairs.shape[1] != 2 or pairs.shape[0] < 2:
        raise ProfileError(f"{where} must be a list of [probability, value] pairs")
    p, v = pairs[:, 0], pairs[:, 1]
    if p[0] != 0 or p[-1] != 1 or np.any(np.diff(p) <= 0) or np.any(np.diff(v) < 0) or np.any(v <= 0):
        raise ProfileError(f"{where}: probabilities must rise from 0 to 1 and values be positive and rising")
    return p, v


def _quantile_value(p: np.ndarray, v: np.ndarray, u: np.ndarray) -> np.ndarray:
    """The quantile function through the pairs, log-linear between them (sizes and rates are skewed)."""
    return np.exp(np.interp(u, p, np.log(v)))


def _drawn_authorities(spec: dict[str, Any], base: GeneratorSettings) -> tuple[Authority, ...]:
    """Many authorities from a recipe: sizes from population quantiles (rescaled to the total), and
    each spread setting from its quantiles, all spread settings driven by one shared 'demand' rank
    (correlation `demand_correlation`) because high-demand authorities are high on most measures."""
    where = "authorities"
    _only(
        spec,
        {"count", "code_prefix", "name_prefix", "seed", "population_total", "population_quantiles",
         "demand_correlation", "spread"},
        where,
    )  # fmt: skip
    count = spec.get("count")
    if not isinstance(count, int) or count < 1:
        raise ProfileError(f"{where}.count must be a whole number of at least 1")
    prefix = str(spec.get("code_prefix", "E99"))
    rng = np.random.default_rng(int(spec.get("seed", 0)))

    p, v = _quantiles(spec.get("population_quantiles"), f"{where}.population_quantiles")
    # Evenly spaced quantiles in a shuffled order: the sizes follow the published spread exactly.
    u_size = rng.permutation((np.arange(count) + 0.5) / count)
    size = _quantile_value(p, v, u_size)
    total = spec.get("population_total")
    if total is not None:
        size = size * float(total) / size.sum()
    population = np.maximum(np.round(size), 100).astype(np.int64)

    rho = float(spec.get("demand_correlation", 0.7))
    if not -1 <= rho <= 1:
        raise ProfileError(f"{where}.demand_correlation must be between -1 and 1")
    demand = rng.standard_normal(count)
    spread = spec.get("spread") or {}
    if not isinstance(spread, dict):
        raise ProfileError(f"{where}.spread must be a mapping of setting: quantiles")
    _only(spread, set(SETTING_NAMES), f"{where}.spread")
    drawn: dict[str, np.ndarray] = {}
    cdf = np.vectorize(NormalDist().cdf)
    for name, item in spread.items():
        # A list of quantiles follows demand; {quantiles, demand_correlation} sets its own correlation.
        own_rho = rho
        if isinstance(item, dict):
            _only(item, {"quantiles", "demand_correlation"}, f"{where}.spread.{name}")
            own_rho = float(item.get("demand_correlation", rho))
            if not -1 <= own_rho <= 1:
                raise ProfileError(f"{where}.spread.{name}.demand_correlation must be between -1 and 1")
            item = item.get("quantiles")
        sp, sv = _quantiles(item, f"{where}.spread.{name}")
        z = own_rho * demand + np.sqrt(1 - own_rho**2) * rng.standard_normal(count)
        drawn[name] = _quantile_value(sp, sv, cdf(z))

    width = max(6, len(str(count)))
    name_prefix = str(spec.get("name_prefix", "Authority"))
    return tuple(
        Authority(
            la_code=f"{prefix}{i + 1:0{width}d}",
            name=f"{name_prefix} {i + 1}",
            population=int(population[i]),
            settings=replace(base, **{k: float(round(vals[i], 4)) for k, vals in drawn.items()}),
        )
        for i in range(count)
    )


def _target(item: Any, i: int) -> Target:
    where = f"targets[{i}]"
    if not isinstance(item, dict):
        raise ProfileError(f"{where} must be a mapping with kpi, target, tolerance and source")
    _only(item, {"kpi", "per", "target", "tolerance", "source"}, where)
    for key in ("kpi", "target", "tolerance", "source"):
        if key not in item:
            raise ProfileError(f"{where} has no {key}")
    return Target(
        kpi_id=str(item["kpi"]),
        target=float(item["target"]),
        tolerance=float(item["tolerance"]),
        source=" ".join(str(item["source"]).split()),
        per_kpi_id=str(item["per"]) if item.get("per") else None,
    )
