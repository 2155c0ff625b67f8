"""Stitch several years' SSDA903 episodes into one history per child.

Each year's return holds every episode open at some time in that year, so an episode that spans a
31 March is in two (or more) returns: open (no DEC) in the earlier one, and with its end in the later
one. Returns also get corrected, and errors slip in. The rules, applied in this order to the episodes
of the returns read (each return's own duplicates already dealt with, see ``ssda903``):

1. **Later return wins.** Episodes are keyed by child and DECOM (start date). Where several returns
   hold the same key, the latest return's row is the episode; the earlier rows are replaced (rows of
   earlier returns with other keys stay: a return only holds the episodes of its own year).
2. **Open or overlapping.** An episode with no DEC, or a DEC after the start of the child's next
   episode, ends when the next one starts (DEC := next DECOM). If the next episode continues the
   period of care (its RNE is not ``S``), the reason ceased becomes ``X1``; if it starts a new period
   (RNE ``S``), a real reason ceased is kept and an ``X1`` or empty one becomes unknown (empty).
3. **Gap after X1.** An episode that ends ``X1`` ("a new episode starts the same day") but whose next
   episode starts later continues to the next episode's start (DEC := next DECOM): the period of care
   did not end, the dates were keyed wrongly.
4. **X1 with nothing after.** The child's last episode ends ``X1`` with a DEC but no episode follows:
   the period of care ended on DEC for a reason not known (empty reason).
5. **Dropped out.** The child's last episode is open in a return, and a later return was read in
   which the child has no episode: the child stopped being looked after after that return's 31 March,
   on a day not known. The period is closed on 1 April (the day after the reference date, so the child
   still counts as looked after on 31 March) with an unknown reason.

Periods of care follow from the repaired episodes: a period starts at a child's first episode and at
every episode after one whose reason ceased is not ``X1``. The reason ceased decides where a period
ends, whatever the next episode's RNE says.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

RULES = {
    "replaced": "episodes replaced by a later return (same child and DECOM)",
    "trimmed": "open or overlapping episodes ended at the next episode's start",
    "gap": "episodes ending X1 before a gap, continued to the next episode's start",
    "x1_last": "last episodes ending X1 with nothing after: period ended, reason unknown",
    "dropped": "open episodes of children absent from later returns: closed on 1 April, reason unknown",
}


@dataclass
class Stitched:
    episodes: pd.DataFrame  # one row per episode, repaired, with period_start / first / last flags
    counts: dict[str, int] = field(default_factory=dict)  # episodes touched by each rule


def stitch(episodes: pd.DataFrame, latest_year: int) -> Stitched:
    """Apply the rules of the module docstring to checked episode rows (DECOM_date, DEC_date, ...)."""
    counts = dict.fromkeys(RULES, 0)
    if episodes.empty:
        return Stitched(episodes.assign(period_start=pd.Series(dtype="datetime64[s]")), counts)
    ordered = episodes.sort_values(["_year", "_file", "_line"], kind="stable")
    ep = ordered.drop_duplicates(["child", "DECOM_date"], keep="last")
    counts["replaced"] = len(ordered) - len(ep)
    ep = ep.sort_values(["child", "DECOM_date"], kind="stable").reset_index(drop=True)

    same_next = ep["child"].shift(-1) == ep["child"]
    next_start = ep["DECOM_date"].shift(-1).where(same_next)
    next_rne = ep["RNE"].shift(-1).where(same_next)
    dec = ep["DEC_date"].copy()
    rec = ep["REC"].where(ep["REC"].fillna("") != "", None).astype(object)
    open_ = dec.isna()

    # Rule 2: open or overlapping the next episode.
    over = same_next & (open_ | (dec > next_start))
    counts["trimmed"] = int(over.sum())
    dec = dec.mask(over, next_start)
    continues = over & (next_rne != "S")
    rec = rec.mask(continues, "X1")
    rec = rec.mask(over & ~continues & (rec.isna() | (rec == "X1")), None)

    # Rule 3: X1 followed by a gap.
    gap = same_next & (rec == "X1") & (dec < next_start)
    counts["gap"] = int(gap.sum())
    dec = dec.mask(gap, next_start)

    last = ~same_next
    # Rule 4: the last episode ends X1.
    x1_last = last & (rec == "X1") & dec.notna()
    counts["x1_last"] = int(x1_last.sum())
    rec = rec.mask(x1_last, None)
    # Rule 5: open in a return, absent from a later one.
    dropped = last & dec.isna() & (ep["_year"].astype(int) < latest_year)
    counts["dropped"] = int(dropped.sum())
    day_after = pd.to_datetime(ep["_year"].astype(int).astype(str) + "-04-01").astype("datetime64[s]")
    dec = dec.mask(dropped, day_after)
    rec = rec.mask(dec.isna(), None)  # an open episode has no reason ceased

    ep["DEC_date"] = dec.astype("datetime64[s]")
    ep["REC"] = rec
    first = ~(ep["child"].shift(1) == ep["child"]) | (ep["REC"].shift(1) != "X1")
    ep["first_in_period"] = first
    ep["last_in_period"] = first.shift(-1, fill_value=True)
    ep["period_start"] = ep["DECOM_date"].where(first).ffill()
    return Stitched(ep, counts)
