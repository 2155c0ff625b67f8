"""The faults hook: on request (`--faults SHARE`) bad rows of every kind the loader must quarantine,
built around the first authority's real rows and labelled (see `csc_warehouse.faults`)."""

from __future__ import annotations

from pathlib import Path

from csc_warehouse.generator.writer import AuthorityFiles


def write_fault_rows(out_dir: Path, sample: AuthorityFiles, *, share: float, seed: int) -> int:
    """Writes the bad rows beside the good files; returns how many."""
    from csc_warehouse.faults import write_faults  # only a run that asks for faults pays for the import

    return write_faults(out_dir, sample.children, sample.events, share=share, seed=seed)
