"""The report's charts are honest: zero-based axes, 0-100 for percentages, target and comparator lines,
suppressed months drawn as gaps (never as a line through them), no flat zero on a -1 to 1 axis."""

from __future__ import annotations

import re
from datetime import date

from csc_warehouse.report import _axis, trend_svg

MONTHS = [date(2018, month, 28) for month in range(1, 7)]


def test_percentages_run_from_0_to_100_whatever_the_values():
    # 94.6% to 95.0% used to fill the whole chart.
    assert _axis("pct", [94.6, 95.0]) == (0.0, 100.0, "0-100%")


def test_counts_start_at_zero_and_end_at_a_round_number_above_the_largest():
    # The largest value 6,022: steps of 1,000, so the axis ends at 7,000; 471 is not the bottom.
    assert _axis("count", [471.0, 6022.0]) == (0.0, 7000.0, "from 0")
    # 48: magnitude 10, 4.8 <= 5 so steps of 5: 50.
    assert _axis("rate10k", [12.0, 48.0]) == (0.0, 50.0, "from 0")
    # A target line above every value widens the axis to show it.
    assert _axis("count", [10.0, 20.0, 31.0]) == (0.0, 35.0, "from 0")


def test_a_flat_zero_gets_a_small_positive_axis():
    assert _axis("count", [0.0, 0.0, 0.0]) == (0.0, 5.0, "from 0")


def y_of(svg: str, css_class: str) -> float:
    found = re.search(rf'<line x1="[\d.]+" y1="([\d.]+)" x2="[\d.]+" y2="[\d.]+" class="{css_class}"', svg)
    assert found, css_class
    return float(found.group(1))


def test_target_and_average_lines_sit_at_their_values():
    points = [(month, 50.0, False) for month in MONTHS]
    svg = trend_svg(points, "pct", highlight=MONTHS[-1], title="t", lines={"target": 75.0, "national": 25.0})
    base, top = y_of(svg, "base"), y_of(svg, "grid")  # 0% and 100%
    target, national = y_of(svg, "ref target"), y_of(svg, "ref national")
    assert abs(target - (base + 0.75 * (top - base))) < 0.11
    assert abs(national - (base + 0.25 * (top - base))) < 0.11
    assert "Target" in svg and "England" in svg


def test_suppressed_months_are_gaps_not_joined_across():
    points = [(MONTHS[0], 10.0, False), (MONTHS[1], 12.0, False), (MONTHS[2], None, False)]
    points += [(MONTHS[3], 14.0, False), (MONTHS[4], 15.0, False), (MONTHS[5], 16.0, True)]
    svg = trend_svg(points, "count", highlight=MONTHS[-1], title="t")
    path = re.search(r'<path d="([^"]+)" class="line"', svg).group(1)
    # Two runs: January-February, then April-June; nothing drawn to or from March.
    assert path.count("M") == 2 and path.count("L") == 3
    assert svg.count("not shown</title>") == 1
    # June's window is not yet covered: a hollow point, said so.
    assert svg.count('class="dot now partial"') == 1 and "window not yet covered" in svg


def test_too_few_months_say_so_instead_of_drawing_dots():
    points = [(MONTHS[0], None, False), (MONTHS[1], 3.0, False), (MONTHS[2], None, False)]
    assert "Not enough months" in trend_svg(points, "count", highlight=MONTHS[1], title="t")
