"""The quarterly HTML report: cells as the committee reports print them, small numbers suppressed for
publication, and the page checked as a person would see it, in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import duckdb
import pytest

from csc_warehouse.report import ReportError, format_cell, write_reports

QUARTER_END = date(2018, 3, 31)
MONTHS = [date(2017, 3, 31), date(2017, 4, 30), date(2017, 5, 31), date(2017, 6, 30), date(2017, 7, 31),
          date(2017, 8, 31), date(2017, 9, 30), date(2017, 10, 31), date(2017, 11, 30), date(2017, 12, 31),
          date(2018, 1, 31), date(2018, 2, 28), date(2018, 3, 31), date(2018, 4, 30)]  # fmt: skip

# kpi_id, unit, period_type, polarity, area, (numerator, denominator, value) this quarter and last.
KPIS = [
    ("referrals_received", "count", "IN-MONTH", "none", "Referrals", (1500, None, 1500), (1450, None, 1450)),
    ("re_referral_12m_pct", "pct", "R12M", "low", "Referrals", (883, 6163, 14.327), (826, 5974, 13.827)),
    ("referral_rate_per_10k_r12m", "rate10k", "R12M", "low", "Referrals", (5974, 267000, 223.745),
     (6163, 267000, 230.824)),
    ("cp_plans_open", "count", "PIT", "none", "Child protection", (3, None, 3), (0, None, 0)),
    ("cla_3plus_placements_pct", "pct", "PIT", "low", "Children looked after", (2, 30, 6.667),
     (5, 31, 16.129)),
    ("care_leaver_eet_pct", "pct", "R12M", "high", "Care leavers", (3, 4, 75.0), (4, 4, 100.0)),
    ("adoption_a1_days_r12m", "days", "R12M", "low", "Adoption", (1064, 2, 532.0), (2665, 5, 533.0)),
    ("uasc_count", "count", "PIT", "none", "Children looked after", (1, None, 1), (4, None, 4)),
]  # fmt: skip


SECTIONS = {"Referrals": "Referral and assessment", "Child protection": "Child protection",
            "Children looked after": "Children looked after", "Care leavers": "Care leavers",
            "Adoption": "Adoption and permanence"}  # fmt: skip


def serving_file(folder: Path) -> Path:
    """A serving file with the marts the report reads, for one authority, by hand."""
    from test_scorecard import SCHEMA

    path = folder / "serving.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema marts; create schema reference")
    con.execute(
        "create table reference.dim_kpi (kpi_id varchar, kpi_name varchar, area varchar, unit varchar, "
        "period_type varchar, polarity varchar, display_order integer, definition varchar)"
    )
    schema = {**SCHEMA, "period_name": "varchar", "is_headline": "boolean"}
    con.execute(f"create table marts.rpt_scorecard ({', '.join(f'{c} {t}' for c, t in schema.items())})")
    con.execute(
        "create table marts.dim_month as select month_end_date, date_trunc('month', month_end_date)::date "
        "as month_start_date, last_day(date_trunc('quarter', month_end_date) + interval 2 month) "
        "as quarter_end_date from (select unnest(?::date[]) as month_end_date)",
        [MONTHS],
    )

    def insert(values: dict) -> None:
        con.execute(
            f"insert into marts.rpt_scorecard ({', '.join(values)}) values ({', '.join('?' * len(values))})",
            list(values.values()),
        )

    for order, (kpi, unit, ptype, polarity, area, now, before) in enumerate(KPIS):
        name = kpi.replace("_", " ").capitalize()
        con.execute(
            "insert into reference.dim_kpi values (?, ?, ?, ?, ?, ?, ?, ?)",
            [kpi, name, area, unit, ptype, polarity, order, f"Definition of {name}."],
        )
        revised = kpi == "re_referral_12m_pct"  # first reported 850 of 6,100
        common = {"la_code": "E10000015", "kpi_id": kpi, "kpi_name": name, "area": area,
                  "section": SECTIONS[area], "unit": unit, "period_type": ptype, "polarity": polarity,
                  "display_order": order, "is_headline": False, "is_window_complete": True,
                  "is_revised": False, "previous_is_revised": False}  # fmt: skip
        insert({**common, "reporting_period": "quarter", "period_end": QUARTER_END,
                "period_label": "Q4 2017-18", "period_name": "January to March 2018",
                "previous_period_label": "Q3 2017-18", "previous_period_end": date(2017, 12, 31),
                "numerator": now[0], "denominator": now[1], "value": now[2],
                "previous_numerator": before[0], "previous_denominator": before[1],
                "previous_value": before[2],
                "previous_is_window_complete": True, "is_revised": revised,
                "first_reported_numerator": 850 if revised else None,
                "first_reported_denominator": 6100 if revised else None,
                "first_reported_value": 13.934 if revised else None,
                "target": 16.0 if unit == "pct" else None, "target_basis": "year" if unit == "pct" else None,
                "neighbour_average": 25.0 if unit == "pct" else None,
                "national_average": 22.6 if unit == "pct" else None,
                "neighbour_average_basis": "seed", "national_average_basis": "seed",
                "quartile": 2 if unit == "pct" else None,
                "direction_of_travel": "improved" if polarity != "none" else "n/a",
                "change": "up" if now[2] > before[2] else ("down" if now[2] < before[2] else "same"),
                "rag": "green" if unit == "pct" else None})  # fmt: skip
        insert({**common, "reporting_period": "quarter", "period_end": date(2017, 12, 31),
                "numerator": before[0], "denominator": before[1], "value": before[2]})  # fmt: skip
        for i, month in enumerate(MONTHS):
            num = now[0] + (i % 3) if now[0] > 10 else now[0]
            den = now[1]
            value = num if unit == "count" else (100 * num / den if unit == "pct" else now[2])
            insert({**common, "reporting_period": "month", "period_end": month, "numerator": num,
                    "denominator": den, "value": value})  # fmt: skip
    con.close()
    return path


def test_cells_read_like_the_reports() -> None:
    assert format_cell("pct", 14.327, 883, 6163, publish=False).text == "14.3% (883 of 6,163)"
    assert format_cell("rate10k", 223.745, 5974, 267000, publish=False).text == "223.7 (5,974)"
    assert format_cell("count", 903, 903, None, publish=False).text == "903"
    assert format_cell("days", 532.0, 1064, 2, publish=False).text == "532.0 (2 children)"
    assert format_cell("pct", None, None, None, publish=False).text == "-"


@pytest.mark.parametrize("small", [1, 2, 3, 4])
def test_publish_suppresses_every_count_from_1_to_4(small: int) -> None:
    # The count itself, a percentage on it (as numerator or as denominator), a rate on it, a mean over it.
    cells = [
        format_cell("count", small, small, None, publish=True),
        format_cell("pct", 100 * small / 40, small, 40, publish=True),
        format_cell("pct", 100.0, small, small, publish=True),
        format_cell("rate10k", small / 2.67, small, 267000, publish=True),
        format_cell("days", 400.0, 400.0 * small, small, publish=True),
    ]
    assert all(c.text == "x" and c.is_suppressed for c in cells)
    # Without --publish the same figures are shown.
    assert format_cell("count", small, small, None, publish=False).text == str(small)


@pytest.mark.parametrize("shown", [0, 5, 6, 120])
def test_publish_shows_zero_and_five_or_more(shown: int) -> None:
    assert format_cell("count", shown, shown, None, publish=True).text == f"{shown:,}"
    assert format_cell("pct", 50.0, shown, 2 * shown, publish=True).is_suppressed is (shown in range(1, 5))


def test_published_report_has_no_small_count_anywhere(tmp_path: Path) -> None:
    [path] = write_reports(serving_file(tmp_path), tmp_path / "out", period="2018-03", publish=True)
    page = path.read_text()
    # cp_plans_open is 3 this quarter, uasc_count 1 and 4, care leavers 3 of 4, 3+ placements 2 of 30:
    # none of those counts, and no figure built on them, appears in a cell.
    cells = re.findall(r'<td class="num[^"]*">([^<]*)', page)
    assert cells.count("x") >= 7
    for text in cells:
        assert not re.fullmatch(r"[1-4]", text.strip()), text
        assert not re.search(r"\((?:[1-4]) of|of [1-4]\)", text), text
    assert "75.0%" not in page and "6.7%" not in page
    assert "suppressed, a count of 1 to 4" in page
    assert path.name == "report_E10000015_Q4_2017-18_suppressed.html"
    # A figure on large numbers is unaffected.
    assert "14.3% (883 of 6,163)" in page and "(revised; first reported 13.9% (850 of 6,100))" in page


def test_report_sections_glossary_and_latest_month(tmp_path: Path) -> None:
    [path] = write_reports(serving_file(tmp_path), tmp_path / "out", publish=False)
    page = path.read_text()
    assert path.name == "report_E10000015_Q4_2017-18.html"
    assert "Q4 2017-18 (January to March 2018)" in page
    for section in ("Referral and assessment", "Child protection", "Children looked after", "Care leavers",
                    "Adoption and permanence"):  # fmt: skip
        assert f">{section}</h2>" in page
    assert page.count('<svg class="chart"') == len(KPIS)
    assert "Latest month, April 2018" in page
    assert "Definition of Re referral 12m pct." in page


def test_unknown_period_and_authority_say_what_exists(tmp_path: Path) -> None:
    serving = serving_file(tmp_path)
    with pytest.raises(ReportError, match=r"quarter ending 2017-09 .* quarters: 2017-12, 2018-03"):
        write_reports(serving, tmp_path / "out", period="2017-08")
    with pytest.raises(ReportError, match=r"no authority E0 .*E10000015"):
        write_reports(serving, tmp_path / "out", la_code="E0")
    with pytest.raises(ReportError, match="run `cscw refresh` first"):
        write_reports(tmp_path / "missing.duckdb", tmp_path / "out")


CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
]  # fmt: skip


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not found:
        pytest.fail("Chromium is needed to check the report as a person sees it: `make test` installs it "
                    "(apt-get install chromium); or install it by hand")  # fmt: skip
    return found


def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    [path] = write_reports(serving_file(tmp_path), tmp_path / "out", publish=False)
    profile = ["--user-data-dir=" + str(tmp_path / "chrome")]
    dom = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, *profile, "--dump-dom", path.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    # What the browser built from the page: the scorecard tables and the charts with their lines.
    assert dom.count('<table class="scorecard">') == 5
    assert re.search(r'<svg class="chart"[^>]*>.*?<path d="M[\d.]+,[\d.]+ L', dom, re.S)
    shot = tmp_path / "report.png"
    subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, *profile, "--window-size=1280,1600", f"--screenshot={shot}",
         path.as_uri()],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1280, 1600)
    assert len(data) > 50_000, "a blank page compresses to a few kilobytes; the report does not"
