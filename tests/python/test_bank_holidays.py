"""The bank-holiday seed is what the holidays library says, including the one-off days."""

from __future__ import annotations

import csv

from csc_warehouse.bank_holidays import SEED_PATH, england_and_wales_bank_holidays


def test_seed_matches_the_library() -> None:
    with SEED_PATH.open(encoding="utf-8") as handle:
        seed = [(row["holiday_date"], row["holiday_name"]) for row in csv.DictReader(handle)]
    assert seed == england_and_wales_bank_holidays()


def test_one_off_bank_holidays_are_in_the_seed() -> None:
    dates = {day for day, _ in england_and_wales_bank_holidays()}
    # Jubilees, the state funeral and the coronation move working-day deadlines too.
    assert {"2012-06-05", "2022-06-02", "2022-06-03", "2022-09-19", "2023-05-08"} <= dates
    # Easter 2018 (Good Friday and Easter Monday), used by the KPI scenario.
    assert {"2018-03-30", "2018-04-02"} <= dates
