"""Five KPIs three ways on the same data: the dbt models, one hand-written DuckDB query, and a
straightforward pandas implementation of kpis.md; checks that all three agree and prints the times.

KPIs: referrals_r12m, re_referral_12m_pct, assessment_45wd_pct, cp_plans_open, cla_3plus_placements_pct.
The hand query and pandas start from raw.events (every version) and the bank holidays, and apply the
rules of kpis.md from scratch. dbt's time is `dbt build --select +fct_kpi_monthly`, which computes all
50 KPIs (and runs their tests), not only these five.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from csc_warehouse import settings
from csc_warehouse.build import build
from csc_warehouse.generate import generate
from csc_warehouse.load import load

KPIS = (
    "referrals_r12m",
    "re_referral_12m_pct",
    "assessment_45wd_pct",
    "cp_plans_open",
    "cla_3plus_placements_pct",
)
RESULTS = Path(__file__).resolve().parent / "results" / "side_by_side.json"
KEY = ["la_code", "kpi_id", "period_end"]

HAND_QUERY = """
with
latest as (
    select la_code, event_id, child_id, event_type, event_at, cast(event_at as date) as d, code,
           coalesce(episode_id, '~' || event_id) as ep
    from raw.events
    qualify row_number() over (partition by la_code, event_id order by recorded_at desc) = 1
        and not is_deleted
),
firsts as (
    select * from latest
    where event_type in ('referral_received', 'assessment_started', 'assessment_authorised',
                         'cp_plan_started', 'cp_plan_ended', 'cla_period_started', 'cla_period_ended')
    qualify row_number() over (partition by la_code, ep, event_type order by event_at, event_id) = 1
),
pes as (
    select la_code, cast(last_day(m) as date) as pe, cast(m - interval 11 month as date) as window_start
    from (select la_code, min(d) as first_d, max(d) as last_d,
                 unnest(generate_series(date_trunc('month', min(d)), date_trunc('month', max(d)),
                                        interval 1 month)) as m
          from latest group by la_code)
    where last_day(m) <= last_d
),
calendar as (
    select day, is_wd, sum(is_wd::int) over (order by day) as seq from (
        select cast(day as date) as day,
               isodow(day) < 6 and cast(day as date) not in (select holiday_date from holidays) as is_wd
        from generate_series(date '1990-01-01', date '2041-12-31', interval 1 day) t(day))
),
referrals as (
    select r.la_code, r.d, bool_or(p.d is not null) as is_re
    from firsts r
    left join firsts p on p.event_type = 'referral_received' and p.la_code = r.la_code
        and p.child_id = r.child_id and p.d < r.d and p.d >= r.d - interval 12 month
    where r.event_type = 'referral_received'
    group by r.la_code, r.ep, r.d
),
assessments as (
    select e.la_code, e.d, coalesce(e.d <= due.day, false) as ok
    from firsts e
    left join firsts s on s.la_code = e.la_code and s.ep = e.ep and s.event_type = 'assessment_started'
    left join calendar c on c.day = s.d
    left join calendar due on due.is_wd and due.seq = c.seq + 45
    where e.event_type = 'assessment_authorised'
),
cp as (
    select s.la_code, s.child_id, s.d as start_d, e.d as end_d
    from firsts s
    left join firsts e on e.la_code = s.la_code and e.ep = s.ep and e.event_type = 'cp_plan_ended'
    where s.event_type = 'cp_plan_started'
),
periods as (
    select s.la_code, s.ep, s.child_id, s.d as start_d, e.d as end_d
    from firsts s
    left join firsts e on e.la_code = s.la_code and e.ep = s.ep and e.event_type = 'cla_period_ended'
    where s.event_type = 'cla_period_started'
),
statuses as (
    select la_code, ep, d, event_at, code, event_type = 'cla_legal_status_changed' as is_change
    from latest where event_type in ('cla_period_started', 'cla_legal_status_changed')
),
short_breaks as (
    select la_code, ep from statuses group by all having bool_and(code in ('V3', 'V4'))
),
placements as (
    select la_code, child_id, d as start_d,
           coalesce(lead(d) over (partition by la_code, ep order by d), end_d) as end_d
    from (select distinct p.la_code, p.ep, p.child_id, p.end_d, b.d
          from periods p
          join latest b on b.la_code = p.la_code and b.ep = p.ep
              and b.event_type in ('cla_period_started', 'cla_placement_changed')
          anti join short_breaks sb on sb.la_code = p.la_code and sb.ep = p.ep)
),
status_at as (
    select pes.la_code, pes.pe, pes.window_start, p.child_id,
           arg_max(s.code, (s.event_at, s.is_change)) as code
    from pes
    join periods p on p.la_code = pes.la_code and p.start_d <= pes.pe
        and (p.end_d is null or p.end_d > pes.pe)
    join statuses s on s.la_code = p.la_code and s.ep = p.ep and s.d <= pes.pe
    group by pes.la_code, pes.pe, pes.window_start, p.ep, p.child_id
),
looked_after as (
    select distinct la_code, pe, window_start, child_id from status_at where code not in ('V3', 'V4')
),
placement_counts as (
    select l.la_code, l.pe, l.child_id, count(p.start_d) as n
    from looked_after l
    left join placements p on p.la_code = l.la_code and p.child_id = l.child_id
        and (p.end_d is null or p.end_d > p.start_d) and p.start_d <= l.pe
        and (p.end_d is null or p.end_d > l.window_start)
    group by all
)
select pes.la_code, 'referrals_r12m' as kpi_id, pes.pe as period_end, count(r.d)::double as numerator,
       null::double as denominator
from pes left join referrals r on r.la_code = pes.la_code and r.d between pes.window_start and pes.pe
group by all
union all
select pes.la_code, 're_referral_12m_pct', pes.pe, count(r.d) filter (where r.is_re), count(r.d)
from pes left join referrals r on r.la_code = pes.la_code and r.d between pes.window_start and pes.pe
group by all
union all
select pes.la_code, 'assessment_45wd_pct', pes.pe, count(a.d) filter (where a.ok), count(a.d)
from pes left join assessments a on a.la_code = pes.la_code
    and a.d between date_trunc('month', pes.pe) and pes.pe
group by all
union all
select pes.la_code, 'cp_plans_open', pes.pe, count(distinct c.child_id), null
from pes left join cp c on c.la_code = pes.la_code and c.start_d <= pes.pe
    and (c.end_d is null or c.end_d > pes.pe)
group by all
union all
select pes.la_code, 'cla_3plus_placements_pct', pes.pe, count(c.n) filter (where c.n >= 3), count(c.n)
from pes left join placement_counts c on c.la_code = pes.la_code and c.pe = pes.pe
group by all
"""


def hand_query(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    con.execute(
        "create or replace temp table holidays as "
        "select cast(holiday_date as date) as holiday_date from reference.bank_holidays"
    )
    return con.execute(HAND_QUERY).df()


def pandas_kpis(events: pd.DataFrame, holidays: set) -> pd.DataFrame:
    """The same five KPIs written directly in pandas, as an analyst might, from the event versions."""
    ev = events.sort_values("recorded_at").groupby(["la_code", "event_id"], sort=False).tail(1)
    ev = ev[~ev["is_deleted"]].copy()
    ev["d"] = ev["event_at"].dt.normalize()
    ev["ep"] = ev["episode_id"].fillna("~" + ev["event_id"])
    firsts = (
        ev.sort_values(["event_at", "event_id"]).groupby(["la_code", "ep", "event_type"], sort=False).head(1)
    )

    def first(kind: str) -> pd.DataFrame:
        return firsts[firsts["event_type"] == kind]

    rows = []
    for la, la_events in ev.groupby("la_code"):
        months = pd.date_range(la_events["d"].min().replace(day=1), la_events["d"].max(), freq="ME")
        refs = first("referral_received")
        refs = refs[refs["la_code"] == la][["ep", "child_id", "d"]]
        pairs = refs.merge(refs, on="child_id", suffixes=("", "_prev"))
        pairs = pairs[
            (pairs["d_prev"] < pairs["d"]) & (pairs["d_prev"] >= pairs["d"] - pd.DateOffset(months=12))
        ]
        refs = refs.assign(is_re=refs["ep"].isin(pairs["ep"]))

        # Working days: the n-th working day after d (d itself day 0).
        starts = first("assessment_started")
        ends = first("assessment_authorised")
        ass = ends[ends["la_code"] == la][["ep", "d"]].merge(
            starts[starts["la_code"] == la][["ep", "d"]], on="ep", how="left", suffixes=("", "_start")
        )
        # A start on a weekend or holiday counts from the working day before (d itself is day 0).
        started = ass["d_start"].notna()
        due = np.busday_offset(
            ass.loc[started, "d_start"].values.astype("datetime64[D]"), 45, roll="backward",
            holidays=sorted(holidays),
        )  # fmt: skip
        ass["ok"] = False
        ass.loc[started, "ok"] = ass.loc[started, "d"].values.astype("datetime64[D]") <= due

        cps = first("cp_plan_started")
        cpe = first("cp_plan_ended")
        cp = cps[cps["la_code"] == la][["ep", "child_id", "d"]].merge(
            cpe[cpe["la_code"] == la][["ep", "d"]], on="ep", how="left", suffixes=("", "_end")
        )

        ps = first("cla_period_started")
        pend = first("cla_period_ended")
        periods = ps[ps["la_code"] == la][["ep", "child_id", "d"]].merge(
            pend[pend["la_code"] == la][["ep", "d"]], on="ep", how="left", suffixes=("", "_end")
        )
        la_ev = ev[ev["la_code"] == la]
        statuses = la_ev[la_ev["event_type"].isin(["cla_period_started", "cla_legal_status_changed"])].copy()
        statuses["is_change"] = statuses["event_type"] == "cla_legal_status_changed"
        statuses = statuses.sort_values(["event_at", "is_change"])
        short = statuses.groupby("ep")["code"].apply(lambda c: c.isin(["V3", "V4"]).all())
        short_eps = set(short[short].index)
        bounds = la_ev[la_ev["event_type"].isin(["cla_period_started", "cla_placement_changed"])]
        bounds = bounds[bounds["ep"].isin(periods["ep"]) & ~bounds["ep"].isin(short_eps)]
        bounds = bounds[["ep", "d"]].drop_duplicates().sort_values(["ep", "d"])
        bounds = bounds.merge(periods[["ep", "child_id", "d_end"]], on="ep")
        bounds["end"] = bounds.groupby("ep")["d"].shift(-1).fillna(bounds["d_end"])
        placements = bounds[bounds["end"].isna() | (bounds["end"] > bounds["d"])]

        for pe in months:
            window_start = (pe - pd.DateOffset(months=11)).replace(day=1)
            in_year = refs[(refs["d"] >= window_start) & (refs["d"] <= pe)]
            rows.append((la, "referrals_r12m", pe, float(len(in_year)), None))
            rows.append((la, "re_referral_12m_pct", pe, float(in_year["is_re"].sum()), float(len(in_year))))
            in_month = ass[(ass["d"] >= pe.replace(day=1)) & (ass["d"] <= pe)]
            rows.append((la, "assessment_45wd_pct", pe, float(in_month["ok"].sum()), float(len(in_month))))
            open_cp = cp[(cp["d"] <= pe) & (cp["d_end"].isna() | (cp["d_end"] > pe))]
            rows.append((la, "cp_plans_open", pe, float(open_cp["child_id"].nunique()), None))
            open_periods = periods[(periods["d"] <= pe) & (periods["d_end"].isna() | (periods["d_end"] > pe))]
            status_now = statuses[statuses["d"] <= pe].groupby("ep")["code"].last()
            looked_after = {
                child for ep, child in zip(open_periods["ep"], open_periods["child_id"], strict=True)
                if status_now.get(ep) not in ("V3", "V4", None)
            }  # fmt: skip
            counted = (
                placements[
                    placements["child_id"].isin(looked_after)
                    & (placements["d"] <= pe)
                    & (placements["end"].isna() | (placements["end"] > window_start))
                ]
                .groupby("child_id")
                .size()
            )
            rows.append(
                (la, "cla_3plus_placements_pct", pe, float((counted >= 3).sum()), float(len(looked_after)))
            )
    out = pd.DataFrame(rows, columns=["la_code", "kpi_id", "period_end", "numerator", "denominator"])
    return out


def compare(left: pd.DataFrame, right: pd.DataFrame) -> int:
    """Rows whose numerator or denominator differ (a missing row counts as different)."""
    a, b = left.copy(), right.copy()
    for frame in (a, b):
        frame["period_end"] = pd.to_datetime(frame["period_end"])
    merged = a.merge(b, on=KEY, how="outer", suffixes=("_a", "_b"), indicator=True)
    same = (
        (merged["_merge"] == "both")
        & np.isclose(merged["numerator_a"].fillna(-1), merged["numerator_b"].fillna(-1))
        & np.isclose(merged["denominator_a"].fillna(-1), merged["denominator_b"].fillna(-1))
    )
    return int((~same).sum())


def models_wall_seconds(run_results: Path) -> float:
    """From the first model's start to the last model's end in a dbt run_results.json: the time the
    models' SQL ran (two threads), without dbt's start-up, seeds and tests."""
    spans = []
    for node in json.loads(run_results.read_text())["results"]:
        if not node["unique_id"].startswith("model."):
            continue
        for timing in node["timing"]:
            if timing["name"] == "execute" and timing.get("started_at") and timing.get("completed_at"):
                start = datetime.fromisoformat(timing["started_at"].rstrip("Z"))
                end = datetime.fromisoformat(timing["completed_at"].rstrip("Z"))
                spans.append((start, end))
    if not spans:
        return 0.0
    return (max(end for _, end in spans) - min(start for start, _ in spans)).total_seconds()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="large-county")
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cscw-side-") as tmp:
        folder = Path(tmp)
        summary = generate(
            folder / "in", profile=args.profile, years=args.years, seed=args.seed, file_format="parquet"
        )
        warehouse = folder / "warehouse.duckdb"
        load(folder / "in", warehouse)
        print(f"{summary.events:,} events ({args.profile}, {args.years} years): dbt, hand query, pandas ...")
        started = time.perf_counter()
        build(warehouse, select="+fct_kpi_monthly", unit_tests=False)
        dbt_s = time.perf_counter() - started
        dbt_models_s = models_wall_seconds(settings.PROJECT_ROOT / "target" / "run_results.json")
        with duckdb.connect(str(warehouse), read_only=True) as con:
            dbt = con.execute(
                f"select la_code, kpi_id, period_end, numerator, denominator from marts.fct_kpi_monthly "
                f"where kpi_id in {KPIS}"
            ).df()
            started = time.perf_counter()
            hand = hand_query(con)
            hand_s = time.perf_counter() - started
            started = time.perf_counter()
            events = con.execute("select * from raw.events").df()
            holidays = {
                d
                for (d,) in con.execute(
                    "select cast(holiday_date as date) from reference.bank_holidays"
                ).fetchall()
            }
            panda = pandas_kpis(events, holidays)
            pandas_s = time.perf_counter() - started
    differ = {"hand_vs_dbt": compare(hand, dbt), "pandas_vs_dbt": compare(panda, dbt)}
    result = {
        "profile": args.profile,
        "years": args.years,
        "events": summary.events,
        "rows_compared": len(dbt),
        "rows_that_differ": differ,
        "seconds": {
            "dbt_build_all_50_kpis": round(dbt_s, 2),
            "dbt_models_sql_all_50_kpis": round(dbt_models_s, 2),
            "hand_query_5_kpis": round(hand_s, 2),
            "pandas_5_kpis": round(pandas_s, 2),
        },
        "ratios": {
            "dbt_over_hand": round(dbt_s / hand_s, 1),
            "dbt_models_over_hand": round(dbt_models_s / hand_s, 1),
            "pandas_over_dbt": round(pandas_s / dbt_s, 2),
            "pandas_over_dbt_models": round(pandas_s / dbt_models_s, 1),
            "pandas_over_hand": round(pandas_s / hand_s, 1),
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{'':<26}{'seconds':>10}")
    for name, seconds in result["seconds"].items():
        print(f"{name:<26}{seconds:>10.2f}")
    print(
        f"rows compared {len(dbt):,}: hand query differs in {differ['hand_vs_dbt']}, pandas in "
        f"{differ['pandas_vs_dbt']}; dbt / hand {result['ratios']['dbt_over_hand']}x (goal: within 2x), "
        f"pandas / dbt {result['ratios']['pandas_over_dbt']}x (goal: over 20x), pandas / hand "
        f"{result['ratios']['pandas_over_hand']}x"
    )
    print(
        f"dbt's models alone (their SQL, first model's start to last one's end, without dbt's start-up "
        f"and tests): {dbt_models_s:.2f} s, {result['ratios']['dbt_models_over_hand']}x the hand query; "
        f"pandas {result['ratios']['pandas_over_dbt_models']}x slower"
    )
    return 0 if not any(differ.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
