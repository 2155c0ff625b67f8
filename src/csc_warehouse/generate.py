"""The synthetic generator's former home, kept for one release: the generator is now the package
`csc_warehouse.generator` (one module per job). Import from there."""

from csc_warehouse.generator import GenerateSummary, generate

__all__ = ["GenerateSummary", "generate"]
