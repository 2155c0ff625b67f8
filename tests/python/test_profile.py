"""Profiles are data: the built-in YAML files parse, the england recipe gives the published spread, and a
profile a user writes is read the same way, with clear errors when it is wrong."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from csc_warehouse.generate import generate
from csc_warehouse.profile import GeneratorSettings, ProfileError, available_profiles, load_profile


def test_built_in_profiles_are_listed() -> None:
    assert {"large-county", "mid-county", "small-unitary", "england"} <= set(available_profiles())


@pytest.mark.parametrize(
    ("name", "authorities", "population"),
    [("large-county", 1, 267_000), ("mid-county", 1, 130_000), ("small-unitary", 1, 7_900)],
)
def test_one_authority_profiles(name: str, authorities: int, population: int) -> None:
    profile = load_profile(name)
    assert len(profile.authorities) == authorities
    assert profile.population == population
    assert profile.targets, "every built-in profile states the figures it reproduces"
    assert all(t.source and t.tolerance > 0 for t in profile.targets)


def test_large_county_uses_the_generator_defaults() -> None:
    [county] = load_profile("large-county").authorities
    assert county.la_code == "E10000015"
    assert county.settings == GeneratorSettings()


def test_england_has_153_authorities_with_the_published_spread() -> None:
    profile = load_profile("england")
    population = np.array([a.population for a in profile.authorities])
    assert len(population) == 153
    assert len({a.la_code for a in profile.authorities}) == 153
    # Sizes are rescaled to the 2025 total (12,183,016): rounding moves it by at most one per authority.
    assert abs(population.sum() - 12_183_016) <= 153
    # Evenly spaced quantiles of the published (319, 33,705, 62,520, 148,122, 355,390) spread, rescaled
    # by total / sum: the median and deciles stay within 10% of the published ones.
    p10, median, p90 = np.percentile(population, [10, 50, 90])
    assert p10 == pytest.approx(33_705, rel=0.1)
    assert median == pytest.approx(62_520, rel=0.1)
    assert p90 == pytest.approx(148_122, rel=0.1)
    # Demand settings follow one shared rank: referral and looked-after rates rise together.
    referrals = np.array([a.settings.referrals_per_10k for a in profile.authorities])
    looked_after = np.array([a.settings.looked_after_per_10k for a in profile.authorities])
    assert np.corrcoef(np.argsort(np.argsort(referrals)), np.argsort(np.argsort(looked_after)))[0, 1] > 0.4
    assert profile == load_profile("england"), "the recipe draws the same authorities every time"


def test_scaled_profile_keeps_rates_and_floor() -> None:
    england = load_profile("england")
    mini = england.scaled(0.01)
    assert [a.settings for a in mini.authorities] == [a.settings for a in england.authorities]
    assert min(a.population for a in mini.authorities) == 500
    largest = max(england.authorities, key=lambda a: a.population)
    assert max(a.population for a in mini.authorities) == round(largest.population * 0.01)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_user_profile_from_a_file(tmp_path: Path) -> None:
    path = write(
        tmp_path / "two.yaml",
        """
name: two-towns
settings: {referrals_per_10k: 400}
authorities:
  - {la_code: X1, name: North, population: 3000}
  - {la_code: X2, name: South, population: 2000, referrals_per_10k: 600}
targets:
  - {kpi: cla_rate_per_10k, target: 40, tolerance: 10, source: our own 2024 figure}
""",
    )
    profile = load_profile(path)
    assert [(a.la_code, a.settings.referrals_per_10k) for a in profile.authorities] == [
        ("X1", 400),
        ("X2", 600),
    ]
    summary = generate(tmp_path / "out", profile=path, years=1, seed=3)
    assert summary.authorities == 2
    assert summary.profile == "two-towns"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("authorities: [{la_code: A, population: 1000}]\nsetings: {}", "unknown key(s) setings"),
        ("authorities: [{la_code: A, population: 50}]", "at least 100 children"),
        (
            "authorities: [{la_code: A, population: 1000, referals_per_10k: 3}]",
            "unknown key(s) referals_per_10k",
        ),
        ("authorities: [{la_code: A, population: 1000, assessments_in_45wd_pct: 120}]", "at most 100"),
        ("authorities: [{la_code: A, population: 1000}, {la_code: A, population: 900}]", "share an la_code"),
        ("authorities: {count: 3, population_quantiles: [[0, 10], [0.5, 5], [1, 20]]}", "rising"),
        ("targets: []", "authorities must be"),
        ("authorities: [{la_code: A, population: 1000}]\ntargets: [{kpi: x, target: 1}]", "has no tolerance"),
        ("- just a list", "expected a mapping"),
        ("name: [unclosed", "not valid YAML"),
    ],
)
def test_bad_profiles_say_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / "bad.yaml", text)
    with pytest.raises(ProfileError) as error:
        load_profile(path)
    assert message in str(error.value)
    assert str(path) in str(error.value)


def test_unknown_profile_name_lists_the_known_ones() -> None:
    with pytest.raises(ProfileError, match=r"no profile 'atlantis': give one of .*large-county"):
        load_profile("atlantis")


def test_la_code_and_population_only_for_one_authority(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="one-authority profile"):
        generate(tmp_path, profile="england", population=1000, years=1)


def test_many_authorities_stream_to_one_file_per_table_the_same_with_workers(tmp_path: Path) -> None:
    path = write(
        tmp_path / "three.yaml",
        """
authorities:
  - {la_code: A1, population: 2000}
  - {la_code: A2, population: 3000, referrals_per_10k: 500}
  - {la_code: A3, population: 1500}
""",
    )
    one = generate(tmp_path / "one", profile=path, years=1, seed=8, file_format="parquet", workers=1)
    two = generate(tmp_path / "two", profile=path, years=1, seed=8, file_format="parquet", workers=2)
    for name in ("children", "events", "population"):
        assert (tmp_path / "one" / f"{name}.parquet").read_bytes() == (
            tmp_path / "two" / f"{name}.parquet"
        ).read_bytes()
    assert one.events == two.events > 0
    codes = (
        pq.read_table(tmp_path / "one" / "events.parquet", columns=["la_code"])["la_code"]
        .unique()
        .to_pylist()
    )
    assert codes == ["A1", "A2", "A3"], "authorities are written in profile order"
