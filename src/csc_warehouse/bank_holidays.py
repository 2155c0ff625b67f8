"""Writes the England and Wales bank-holiday seed from the `holidays` library (working-day arithmetic)."""

from __future__ import annotations

import csv
from pathlib import Path

import holidays

SEED_PATH = Path(__file__).resolve().parents[2] / "seeds" / "bank_holidays.csv"
FIRST_YEAR = 1990
LAST_YEAR = 2040


def england_and_wales_bank_holidays(
    first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR
) -> list[tuple[str, str]]:
    """(ISO date, name) for every England and Wales bank holiday, substitute days included."""
    calendar = holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))
    return [(day.isoformat(), name) for day, name in sorted(calendar.items())]


def write_seed(path: Path = SEED_PATH) -> int:
    rows = england_and_wales_bank_holidays()
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["holiday_date", "holiday_name"])
        writer.writerows(rows)
    return len(rows)


if __name__ == "__main__":
    print(f"wrote {write_seed()} bank holidays to {SEED_PATH}")
