"""Ofsted's Annex A lists from one authority's events (``/work``'s spec ``annex-a.md`` is the contract).

As at day ``A`` with a window of ``N`` months (``window``): one row per child or episode on each list,
the columns of ``annex_a_layout.HEADERS`` in order, coded values as the template's, dates as dates.
What the events cannot give is left blank, and the notes sheet says which columns and why. Rows are
sorted by child id, then by the list's first date. List 11 (adopters) is not produced: the events hold
no adopters.

"Latest" visit, review, health or dental check means the child's latest such event on or before ``A``
(any episode of the child). Counts "in the last 12 months" use the days ``A - 12 months + 1`` .. ``A``
(list 3 counts back from each referral's date instead).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font

from csc_warehouse.formats import annex_a_layout as layout
from csc_warehouse.formats.returns_source import ReturnSource, lookup

__all__ = ["BLANK_COLUMNS", "build_lists", "default_as_at", "window", "write_annex_a"]

DATE_FORMAT = "dd/mm/yyyy"
_SECOND_PERIOD = layout.HEADERS["List 8"][9]  # "Is this a second or subsequent period ..."
_MISSING = layout.HEADERS["List 8"][28]  # "Number of Episodes the Child has been 'Missing' ..."
_ABSENT = layout.HEADERS["List 8"][29]

# Columns the events cannot give, per list, with the reason the notes sheet gives.
_NOT_IN_EVENTS = "not in the canonical events"
BLANK_COLUMNS: dict[str, dict[str, str]] = {
    "List 2": {"Organisation completing assessment": _NOT_IN_EVENTS},
    "List 3": {"Allocated Team": "teams are not in the events"},
    "List 4": {"Allocated Team": "teams are not in the events"},
    "List 5": {"Allocated Team": "teams are not in the events"},
    "List 6": {"Primary Need Code": "category of need is not in the events", "Allocated Team": "no teams"},
    "List 7": {
        "Latest Category of Abuse": "only the initial category is in the events",
        "Was the Child Seen Alone?": "visits do not say whether the child was seen alone",
        "Subject to Emergency Protection Order or Protected Under Police Powers in Last Six Months (Y/N)": (
            _NOT_IN_EVENTS
        ),
        "Allocated Team": "teams are not in the events",
    },
    "List 8": {
        "Child's Category of Need": "category of need is not in the events",
        "What is the permanence plan for this child?": _NOT_IN_EVENTS,
        "Date of Last IRO Visit / Contact to the Child": "IRO visits are not in the events",
        "Placement Provider": _NOT_IN_EVENTS,
        "Placement postcode": "postcodes are not kept (privacy)",
        "URN of Placement": _NOT_IN_EVENTS,
        "LA of Placement": _NOT_IN_EVENTS,
        "Was the child offered a Return Interview after their last missing episode (Y/N)?": _NOT_IN_EVENTS,
        "Did the child accept a Return Interview after their last missing episode (Y/N)?": _NOT_IN_EVENTS,
        "Allocated Team": "teams are not in the events",
    },
    "List 9": {"Allocated Team": "teams are not in the events"},
    "List 10": {
        "Family identifier": _NOT_IN_EVENTS,
        "Date the child was placed for fostering in FFA or concurrent planning placement": _NOT_IN_EVENTS,
    },
}


def default_as_at(today: date) -> date:
    """The last day of the latest complete month."""
    return (pd.Timestamp(today).replace(day=1) - pd.Timedelta(days=1)).date()


def _months_back(day: pd.Timestamp, months: int) -> pd.Timestamp:
    return day - pd.DateOffset(months=months)  # clamps to the month end, as kpis.md's month arithmetic


def window(as_at: date, months: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day of the window: whole calendar months when ``A`` is a month end."""
    a = pd.Timestamp(as_at)
    if a.is_month_end:
        return (a.replace(day=1) - pd.DateOffset(months=months - 1)), a
    return _months_back(a, months) + pd.Timedelta(days=1), a


class _Context:
    """The events known at ``A``, with the lookups every list shares."""

    def __init__(self, source: ReturnSource, as_at: date, months: int):
        self.a = pd.Timestamp(as_at)
        self.start, _ = window(as_at, months)
        self.year_start = _months_back(self.a, 12) + pd.Timedelta(days=1)
        self.events = source.events[source.events["day"] <= self.a]
        eps = source.episodes
        self.episodes = eps[eps["start"].isna() | (eps["start"] <= self.a)].copy()
        self.episodes.loc[self.episodes["end"] > self.a, ["end", "end_code", "end_code2"]] = None
        self.episodes["end"] = pd.to_datetime(self.episodes["end"])
        self.children = source.children.set_index("child_id")
        workers = self.of("worker_allocated").drop_duplicates("child_id", keep="last")
        self.worker = workers.set_index("child_id")["code"]

    def of(self, event_type: str, code: str | None = None) -> pd.DataFrame:
        rows = self.events[self.events["event_type"] == event_type]
        if code is not None:
            rows = rows[rows["code"] == code]
        return rows.sort_values(["event_at", "event_id"], kind="stable")

    def kind(self, episode_type: str) -> pd.DataFrame:
        return self.episodes[self.episodes["episode_type"] == episode_type]

    def open_in_window(self, frame: pd.DataFrame, start: str = "start", end: str = "end") -> pd.DataFrame:
        return frame[(frame[start] <= self.a) & (frame[end].isna() | (frame[end] >= self.start))]

    def latest(self, event_type: str, code: str | None = None) -> pd.Series:
        """Per child, the day of the latest such event on or before ``A``."""
        return self.of(event_type, code).groupby("child_id")["day"].max()

    def in_last_year(self, days: pd.Series) -> pd.Series:
        return (days >= self.year_start) & (days <= self.a)

    def common(self, child: pd.Series, disability: bool = True) -> dict[str, object]:
        kids = self.children.reindex(child.to_numpy())
        born = pd.to_datetime(kids["birth_month"])
        # Born on the 1st of the birth month: the birthday has come once A's month is reached.
        age = self.a.year - born.dt.year - (born.dt.month > self.a.month).astype(int)
        cols: dict[str, object] = {
            "Child Unique ID": child.to_numpy(),
            "Gender": kids["sex"].map(layout.GENDER).fillna(layout.GENDER["U"]).to_numpy(),
            "Ethnicity": kids["ethnicity"].map(lambda e: layout.ETHNICITY.get(e, e)).to_numpy(),
            "Date of Birth": born.to_numpy(),
            "Age of Child (Years)": age.astype("Int64").to_numpy(),
        }
        if disability:
            cols["Does the Child have a Disability"] = (
                kids["disabled"]
                .map({"true": layout.YES, "false": layout.NO})
                .fillna(layout.UNKNOWN)
                .to_numpy()
            )
        return cols

    def allocated(self, child: pd.Series) -> dict[str, object]:
        return {"Allocated Team": None, "Allocated Worker": lookup(child, self.worker).to_numpy()}


def _yes_no(flags: pd.Series) -> pd.Series:
    return flags.map({True: layout.YES, False: layout.NO})


def _label(values: pd.Series, labels: dict[str, str]) -> pd.Series:
    """The template's value of each code; a code the template does not list, as given."""
    return values.map(lambda v: labels.get(v, v) if isinstance(v, str) and v else None)


def _shown(days: pd.Series, a: pd.Timestamp) -> pd.Series:
    return days.where(days <= a)


def _frame(name: str, rows: int, columns: dict[str, object], sort_by: str) -> pd.DataFrame:
    frame = pd.DataFrame({c: columns.get(c) for c in layout.HEADERS[name]}, index=range(rows))
    return frame.sort_values(["Child Unique ID", sort_by], kind="stable", na_position="first").reset_index(
        drop=True
    )


def _list1(cx: _Context) -> pd.DataFrame:
    c = cx.of("contact_received")
    c = c[c["day"] >= cx.start]
    source = c["code"].map(layout.CONTACT_TO_SOURCE).fillna(c["code"])
    cols = {
        **cx.common(c["child_id"], disability=False),
        "Date of Contact": c["day"].to_numpy(),
        "Contact Source": _label(source, layout.CONTACT_SOURCE).to_numpy(),
    }
    return _frame("List 1", len(c), cols, "Date of Contact")


def _list2(cx: _Context) -> pd.DataFrame:
    e = cx.open_in_window(cx.kind("early_help"))
    cols = {
        **cx.common(e["child_id"], disability=False),
        "Assessment start date": e["start"].to_numpy(),
        "Assessment completion date": e["end"].to_numpy(),
    }
    return _frame("List 2", len(e), cols, "Assessment start date")


def _list3(cx: _Context) -> pd.DataFrame:
    every = cx.kind("referral").dropna(subset=["start"])
    r = every[every["start"] >= cx.start]
    by_child = every.groupby("child_id")["start"].apply(list)

    def in_year_to(child: str, day: pd.Timestamp) -> int:
        first = _months_back(day, 12) + pd.Timedelta(days=1)
        return sum(first <= d <= day for d in by_child.get(child, []))

    counts = [in_year_to(ch, d) for ch, d in zip(r["child_id"], r["start"], strict=True)]
    cols = {
        **cx.common(r["child_id"], disability=False),
        "Date of referral": r["start"].to_numpy(),
        "Referral Source": _label(r["code"], layout.CONTACT_SOURCE).to_numpy(),
        "Referral NFA?": _yes_no(r["code2"] == "nfa").to_numpy(),
        "Number of Referrals in Last 12 Months": counts,
        **cx.allocated(r["child_id"]),
    }
    return _frame("List 3", len(r), cols, "Date of referral")


def _list4(cx: _Context) -> pd.DataFrame:
    a = cx.kind("assessment")
    a = a[((a["start"] >= cx.start) & (a["start"] <= cx.a)) | ((a["end"] >= cx.start) & (a["end"] <= cx.a))]
    seen = cx.of("child_seen", "assessment")[["episode_id", "day"]]
    spans = a[["episode_id", "start", "end"]].merge(seen, on="episode_id")
    until = spans["end"].fillna(cx.a)
    seen_ids = set(spans[(spans["day"] >= spans["start"]) & (spans["day"] <= until)]["episode_id"])
    outcome = a["end_code"].map(
        {"cin": layout.YES, "s47": layout.YES, "nfa": layout.NO, "early_help": layout.NO}
    )
    cols = {
        **cx.common(a["child_id"]),
        "Continuous Assessment Start Date": a["start"].to_numpy(),
        "Child Seen During Continuous Assessment": _yes_no(a["episode_id"].isin(seen_ids)).to_numpy(),
        "Continuous Assessment Date of Authorisation": a["end"].to_numpy(),
        "Was the child assessed as requiring LA children's social care support?": outcome.where(
            a["end"].notna()
        ).to_numpy(),
        **cx.allocated(a["child_id"]),
    }
    return _frame("List 4", len(a), cols, "Continuous Assessment Start Date")


def _list5(cx: _Context) -> pd.DataFrame:
    parts = pd.concat([cx.of("strategy_discussion"), cx.of("s47_started")])
    every = parts.sort_values(["day", "event_id"]).drop_duplicates("episode_id")
    s = every[every["day"] >= cx.start]
    icpc = cx.of("icpc_held").drop_duplicates("episode_id").set_index("episode_id")
    not_required = set(cx.of("icpc_not_required")["episode_id"])
    held = lookup(s["episode_id"], icpc["day"])
    unnecessary = pd.Series(
        [
            layout.YES if e in not_required else (layout.NO if pd.notna(h) else None)
            for e, h in zip(s["episode_id"], held, strict=True)
        ],
        index=s.index,
        dtype=object,
    )
    plan = lookup(s["episode_id"], icpc["code"]).map({"plan": layout.YES, "no_plan": layout.NO})
    s47_year = every[cx.in_last_year(every["day"])].groupby("child_id").size()
    icpcs = cx.of("icpc_held")
    icpc_year = icpcs[cx.in_last_year(icpcs["day"])].groupby("child_id").size()
    cols = {
        **cx.common(s["child_id"]),
        "Strategy discussion initiating Section 47 Enquiry Start Date": s["day"].to_numpy(),
        "Was an Initial Child Protection Conference deemed unnecessary?": unnecessary.to_numpy(),
        "Date of Initial Child Protection Conference": held.to_numpy(),
        "Did the Initial Child Protection Conference Result in a Child Protection Plan": plan.to_numpy(),
        "Number of Section 47 Enquiries in the last 12 months": lookup(s["child_id"], s47_year)
        .fillna(0)
        .astype(int)
        .to_numpy(),
        "Number of ICPCs in the last 12 months": lookup(s["child_id"], icpc_year)
        .fillna(0)
        .astype(int)
        .to_numpy(),
        **cx.allocated(s["child_id"]),
    }
    return _frame("List 5", len(s), cols, "Strategy discussion initiating Section 47 Enquiry Start Date")


def _open_on(frame: pd.DataFrame, day: pd.Timestamp) -> set[str]:
    """Children with an episode open on ``day`` (started by it, not ended by it)."""
    on = frame[(frame["start"] <= day) & (frame["end"].isna() | (frame["end"] > day))]
    return set(on["child_id"])


def _list6(cx: _Context) -> pd.DataFrame:
    r = cx.open_in_window(cx.kind("referral").dropna(subset=["start"]))
    periods = _periods(cx)
    state = [
        ("looked_after", _open_on(periods, cx.a)),
        ("cp_plan", _open_on(cx.kind("cp_plan"), cx.a)),
        ("cin_plan", _open_on(cx.kind("cin_plan"), cx.a)),
    ]

    def status(child: str, closed: bool) -> str:
        if closed:
            return layout.CASE_STATUS["closed"]
        for key, children in state:
            if child in children:
                return layout.CASE_STATUS[key]
        return layout.CASE_STATUS["assessment"]

    closed = r["end"].notna()
    cols = {
        **cx.common(r["child_id"]),
        "CIN Start Date": r["start"].to_numpy(),
        "Date Child Was Last Seen": lookup(r["child_id"], cx.latest("child_seen")).to_numpy(),
        "CIN Closure Date": r["end"].to_numpy(),
        "Reason for Closure": _label(r["end_code"], layout.REASON_FOR_CLOSURE).to_numpy(),
        "Case Status": [status(c, x) for c, x in zip(r["child_id"], closed, strict=True)],
        **cx.allocated(r["child_id"]),
    }
    return _frame("List 6", len(r), cols, "CIN Start Date")


def _list7(cx: _Context) -> pd.DataFrame:
    every = cx.kind("cp_plan").dropna(subset=["start"])
    p = cx.open_in_window(every)
    starts = every.groupby("child_id")["start"].apply(list)
    previous = [
        sum(d < day for d in starts.get(c, [])) for c, day in zip(p["child_id"], p["start"], strict=True)
    ]
    cols = {
        **cx.common(p["child_id"]),
        "Child Protection Plan Start Date": p["start"].to_numpy(),
        "Initial Category of Abuse": _label(p["code"], layout.CATEGORY_OF_ABUSE).to_numpy(),
        "Date of the Last Statutory Visit": lookup(p["child_id"], cx.latest("child_seen", "cp")).to_numpy(),
        "Date of latest review conference": lookup(p["child_id"], cx.latest("cp_review")).to_numpy(),
        "Child Protection Plan End Date": p["end"].to_numpy(),
        "Number of Previous Child Protection Plans": previous,
        **cx.allocated(p["child_id"]),
    }
    return _frame("List 7", len(p), cols, "Child Protection Plan Start Date")


def _periods(cx: _Context) -> pd.DataFrame:
    """Periods of care known at ``A`` that are not short breaks (V3/V4 throughout, kpis.md)."""
    start = cx.of("cla_period_started").drop_duplicates("episode_id")
    end = cx.of("cla_period_ended").drop_duplicates("episode_id").set_index("episode_id")
    changes = cx.of("cla_legal_status_changed")
    respite = changes["code"].isin(["V3", "V4"])
    looked_after_change = set(changes[~respite]["episode_id"])
    short = start["code"].isin(["V3", "V4"]) & ~start["episode_id"].isin(looked_after_change)
    start = start[~short]
    return pd.DataFrame(
        {
            "episode_id": start["episode_id"],
            "child_id": start["child_id"],
            "start": start["day"],
            "end": lookup(start["episode_id"], end["day"]),
            "end_code": lookup(start["episode_id"], end["code"]),
        }
    )


def _latest_point(points: pd.DataFrame, period: str, until: pd.Timestamp) -> dict | None:
    rows = points[(points["episode_id"] == period) & (points["day"] <= until)]
    return None if rows.empty else rows.iloc[-1].to_dict()


def _list8(cx: _Context) -> pd.DataFrame:
    every = _periods(cx)
    p = cx.open_in_window(every)
    started = cx.of("cla_period_started")
    legal = pd.concat([started, cx.of("cla_legal_status_changed")]).sort_values(
        ["day", "event_at", "event_id"]
    )
    placed = pd.concat(
        [
            started.assign(type=started["code2"]),
            cx.of("cla_placement_changed").assign(type=lambda f: f["code"]),
        ]
    ).sort_values(["day", "event_at", "event_id"])
    # Placement intervals of every period, for "placements in the last 12 months".
    placed = placed[placed["episode_id"].isin(every["episode_id"])].copy()
    placed["next"] = placed.groupby("episode_id")["day"].shift(-1)
    placed["until"] = placed["next"].fillna(
        lookup(placed["episode_id"], every.set_index("episode_id")["end"])
    )
    overlapping = placed[
        (placed["day"] <= cx.a) & (placed["until"].isna() | (placed["until"] >= cx.year_start))
    ]
    placements = overlapping.groupby("child_id").size()
    uasc_start = cx.of("uasc_started").groupby("child_id")["day"].min()
    uasc_end = cx.of("uasc_ended").groupby("child_id")["day"].max()
    ended_by_child = every.dropna(subset=["end"]).groupby("child_id")

    def second_period(child: str, episode: str, day: pd.Timestamp) -> bool:
        if child not in ended_by_child.groups:
            return False
        other = ended_by_child.get_group(child)
        other = other[other["episode_id"] != episode]
        return bool(((other["end"] >= _months_back(day, 12)) & (other["end"] <= day)).any())

    def uasc(child: str) -> bool:
        began, ended = uasc_start.get(child), uasc_end.get(child)
        if began is None:
            return False
        return bool(began <= cx.a and (ended is None or ended < began or ended >= cx.year_start))

    missing = cx.of("missing_started")
    missing = missing[cx.in_last_year(missing["day"])]
    away = missing[missing["code"] == "away"].groupby("child_id").size()
    gone = missing[missing["code"] == "missing"].groupby("child_id").size()
    rows = []
    for rec in p.to_dict("records"):
        until = rec["end"] if pd.notna(rec["end"]) else cx.a
        status = _latest_point(legal, rec["episode_id"], until) or {}
        place = _latest_point(placed, rec["episode_id"], until) or {}
        km = pd.to_numeric(place.get("value"), errors="coerce")
        rows.append(
            {
                "uasc": uasc(rec["child_id"]),
                "second": second_period(rec["child_id"], rec["episode_id"], rec["start"]),
                "ls_day": status.get("day"),
                "ls": status.get("code"),
                "pl_day": place.get("day"),
                "pl": place.get("type"),
                "out": None if pd.isna(km) else bool(km > 20),
            }
        )
    extra = pd.DataFrame(
        rows, index=p.index, columns=["uasc", "second", "ls_day", "ls", "pl_day", "pl", "out"]
    )
    child = p["child_id"]
    cols = {
        **cx.common(child),
        "Unaccompanied Asylum Seeking Child (UASC) within the Last 12 Months (Y/N)": _yes_no(
            extra["uasc"].astype(bool)
        ).to_numpy(),
        "Date Started to be Looked After": p["start"].to_numpy(),
        _SECOND_PERIOD: _yes_no(extra["second"].astype(bool)).to_numpy(),
        "Start date of current legal status": pd.to_datetime(extra["ls_day"]).to_numpy(),
        "Child's Legal Status": _label(extra["ls"], layout.LEGAL_STATUS).to_numpy(),
        "Date of Latest Statutory Review": lookup(child, cx.latest("cla_review")).to_numpy(),
        "Date of Last Social Work Visit": lookup(child, cx.latest("child_seen", "cla")).to_numpy(),
        "Date of Last Health Assessment": lookup(child, cx.latest("health_assessment")).to_numpy(),
        "Date of Last Dental Check": lookup(child, cx.latest("dental_check")).to_numpy(),
        "Number of Placements in the Last 12 months": lookup(child, placements)
        .fillna(0)
        .astype(int)
        .to_numpy(),
        "Date Ceased to be Looked After": p["end"].to_numpy(),
        "Reason Ceased to be Looked After": _label(p["end_code"], layout.REASON_CEASED).to_numpy(),
        "Start Date of Most Recent Placement": pd.to_datetime(extra["pl_day"]).to_numpy(),
        "Placement Type": _label(extra["pl"], layout.PLACEMENT_TYPE).to_numpy(),
        "Placement Location": extra["out"].map(layout.PLACEMENT_LOCATION).to_numpy(),
        _MISSING: lookup(child, gone).fillna(0).astype(int).to_numpy(),
        _ABSENT: lookup(child, away).fillna(0).astype(int).to_numpy(),
        **cx.allocated(child),
    }
    return _frame("List 8", len(p), cols, "Date Started to be Looked After")


def _list9(cx: _Context) -> pd.DataFrame:
    contacts = cx.of("care_leaver_contact")
    contacts = contacts[cx.in_last_year(contacts["day"])].drop_duplicates("child_id", keep="last")
    ages = pd.Series(cx.common(contacts["child_id"])["Age of Child (Years)"], index=contacts.index)
    c = contacts[(ages >= 17) & (ages <= 21)]
    age = ages[c.index]
    in_touch = c["code"].fillna("") != "0"
    accom = c["code2"].where(in_touch & c["code2"].notna() & (c["code2"] != "0"))
    cols = {
        **cx.common(c["child_id"]),
        **cx.allocated(c["child_id"]),
        "Eligibility Category": (age >= 18)
        .map({True: layout.ELIGIBILITY["former_relevant"], False: layout.ELIGIBILITY["relevant"]})
        .to_numpy(),
        "LA in Touch": in_touch.map(layout.LA_IN_TOUCH).to_numpy(),
        "Type of Accommodation": _label(accom.str[0], layout.ACCOMMODATION).to_numpy(),
        "Suitability of Accommodation": _label(accom.str[1:], layout.SUITABILITY).to_numpy(),
        "Activity Status": _label(c["code"].where(in_touch), layout.ACTIVITY).to_numpy(),
        "_first": c["day"].to_numpy(),
    }
    frame = pd.DataFrame({**{h: cols.get(h) for h in layout.HEADERS["List 9"]}, "_first": cols["_first"]})
    frame = frame.sort_values(["Child Unique ID", "_first"], kind="stable")
    return frame.drop(columns="_first").reset_index(drop=True)


def _list10(cx: _Context) -> pd.DataFrame:
    kinds = {
        "adoption_decision": "decision",
        "placement_order": "order_placement",
        "adoption_match": "match",
        "adoption_placed": "placed",
        "adoption_order": "order",
        "adoption_plan_ceased": "ceased",
    }
    rows = cx.events[cx.events["event_type"].isin(kinds) & cx.events["episode_id"].notna()]
    rows = rows.sort_values(["event_at", "event_id"]).drop_duplicates(["episode_id", "event_type"])
    wide = rows.pivot(index="episode_id", columns="event_type", values="day").rename(columns=kinds)
    for col in kinds.values():
        if col not in wide:
            wide[col] = pd.NaT
    wide["child"] = rows.drop_duplicates("episode_id").set_index("episode_id")["child_id"]
    reason = rows[rows["event_type"] == "adoption_plan_ceased"].set_index("episode_id")["code"]
    wide["reason"] = lookup(wide.index, reason)
    over = wide[["order", "ceased"]].min(axis=1)
    j = wide[wide["decision"].notna() & (over.isna() | (over >= cx.start))]
    periods = _periods(cx)

    def entered_care(child: str, decision: pd.Timestamp) -> pd.Timestamp | None:
        own = periods[(periods["child_id"] == child) & (periods["start"] <= decision)]
        if own.empty:
            return None
        open_then = own[own["end"].isna() | (own["end"] >= decision)]
        return (open_then if not open_then.empty else own)["start"].max()

    cols = {
        **cx.common(j["child"]),
        "Date the Child Entered Care": pd.to_datetime(
            pd.Series(
                [entered_care(c, d) for c, d in zip(j["child"], j["decision"], strict=True)], dtype=object
            )
        ).to_numpy(),
        "Date of Decision that Child Should be Placed for Adoption": j["decision"].to_numpy(),
        "Date of Placement Order": j["order_placement"].to_numpy(),
        "Date of Matching Child and Prospective Adopters": j["match"].to_numpy(),
        "Date Placed for Adoption": j["placed"].to_numpy(),
        "Date of Adoption Order": j["order"].to_numpy(),
        "Date of Decision that Child Should No Longer be Placed for Adoption": j["ceased"].to_numpy(),
        "Reason Why Child No Longer Placed for Adoption": _label(
            j["reason"].where(j["ceased"].notna()), layout.REASON_NO_LONGER_PLACED
        ).to_numpy(),
    }
    return _frame("List 10", len(j), cols, "Date the Child Entered Care")


_BUILDERS: dict[str, Callable[[_Context], pd.DataFrame]] = {
    "List 1": _list1,
    "List 2": _list2,
    "List 3": _list3,
    "List 4": _list4,
    "List 5": _list5,
    "List 6": _list6,
    "List 7": _list7,
    "List 8": _list8,
    "List 9": _list9,
    "List 10": _list10,
}


def build_lists(source: ReturnSource, as_at: date, months: int = 6) -> dict[str, pd.DataFrame]:
    """Every list as a frame with the template's columns (dates as Timestamps, blanks as null)."""
    cx = _Context(source, as_at, months)
    return {name: build(cx) for name, build in _BUILDERS.items()}


def _notes(source: ReturnSource, as_at: date, months: int, lists: dict[str, pd.DataFrame]) -> list[list[str]]:
    first, last = window(as_at, months)
    rows = [
        ["Annex A", f"{source.la_code}, as at {last:%d/%m/%Y}"],
        ["Window", f"{first:%d/%m/%Y} to {last:%d/%m/%Y} ({months} months)"],
        ["What is known", "events as recorded by the end of the as-at day; latest version of each"],
        ["Child Unique ID", "the warehouse's pseudonymous child id, not the case-system id"],
        ["Date of Birth", "the first day of the birth month: the warehouse keeps no day of birth"],
        ["Age of Child (Years)", "age at the as-at date from that date of birth"],
        [
            "Codes",
            "coded as Ofsted's template; a code the DfE added after it (e.g. 5D, RC9, F4) is given as is",
        ],
        ["List 11", "not produced: the events hold no adopters"],
        [],
        ["List", "Column left blank", "Why"],
    ]
    for name, columns in BLANK_COLUMNS.items():
        rows.extend([name, col, why] for col, why in columns.items())
    rows.append([])
    rows.append(["List", "Rows"])
    rows.extend([name, str(len(frame))] for name, frame in lists.items())
    return rows


def write_annex_a(
    source: ReturnSource, out_dir: Path, as_at: date, months: int = 6
) -> tuple[Path, dict[str, int]]:
    """Write ``<out_dir>/annex_a_<la>_<as-at>.xlsx``; returns it and the rows per list."""
    lists = build_lists(source, as_at, months)
    book = Workbook()
    book.remove(book.active)
    bold = Font(bold=True)
    for name, frame in lists.items():
        sheet = book.create_sheet(name)
        sheet.append(list(frame.columns))
        for cell in sheet[1]:
            cell.font = bold
        for values in frame.itertuples(index=False):
            sheet.append([_cell(v) for v in values])
        for column in sheet.iter_cols(min_row=2):
            for cell in column:
                if isinstance(cell.value, date):
                    cell.number_format = DATE_FORMAT
    notes = book.create_sheet("Notes")
    for row in _notes(source, as_at, months, lists):
        notes.append(row)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"annex_a_{source.la_code}_{as_at:%Y-%m-%d}.xlsx"
    book.save(path)
    return path, {name: len(frame) for name, frame in lists.items()}


def _cell(value: object) -> object:
    """A value as openpyxl writes it: dates as dates, blanks as empty cells, numpy scalars as Python's."""
    if value is None or value is pd.NaT or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if value is pd.NA:
        return None
    return value.item() if hasattr(value, "item") else value
