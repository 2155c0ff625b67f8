"""The generator's output is pinned: two small fixed runs give exactly the files whose sha256 sums are
kept in tests/fixtures/generator/golden_sha256.txt (how they were produced is written at its top).

A change of any byte fails here. When the output is meant to change, regenerate the sums on purpose and
say why in that file's header.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from csc_warehouse.generator import generate

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "generator" / "golden_sha256.txt"
RUNS = {
    "small-unitary-1y-seed42": {"profile": "small-unitary", "seed": 42, "years": 1},
    "small-unitary-2y-seed5-faults": {"profile": "small-unitary", "seed": 5, "years": 2, "faults": 0.01},
}


def golden_sums() -> dict[str, str]:
    """{'run/file': sha256} from the golden file (comment lines start with #)."""
    sums = {}
    for line in GOLDEN.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            digest, name = line.split(maxsplit=1)
            sums[name] = digest
    return sums


def test_golden_file_covers_every_run() -> None:
    sums = golden_sums()
    assert {name.split("/")[0] for name in sums} == set(RUNS)
    # children, events, population for each run, plus the three *_faults.csv and fault_labels.csv.
    assert len(sums) == 3 + 7


@pytest.mark.parametrize("run", sorted(RUNS))
def test_generated_files_match_the_golden_sums(run: str, tmp_path: Path) -> None:
    generate(tmp_path / run, **RUNS[run])
    got = {
        f"{run}/{path.name}": hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted((tmp_path / run).iterdir())
    }
    wanted = {name: digest for name, digest in golden_sums().items() if name.startswith(f"{run}/")}
    assert sorted(got) == sorted(wanted), "the run wrote other files than the golden run"
    changed = [name for name in wanted if got[name] != wanted[name]]
    assert not changed, f"output differs from the golden run: {changed}"


def test_the_former_module_still_exports_the_generator() -> None:
    from csc_warehouse import generate as former

    assert former.generate is generate
    assert former.GenerateSummary.__module__ == "csc_warehouse.generator.run"
