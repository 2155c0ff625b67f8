"""The canonical input contract (spec: case-events v1) as data, shared by the generator and the loader."""

from __future__ import annotations

from dataclasses import dataclass

CONTRACT_VERSION = "1"

# Earliest event date the warehouse accepts; later than "now" is refused too.
EARLIEST_EVENT_DATE = "1990-01-01"


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # duckdb type the loader casts to
    required: bool = False


CHILDREN_COLUMNS: tuple[Column, ...] = (
    Column("la_code", "varchar", required=True),
    Column("child_id", "varchar", required=True),
    Column("sex", "varchar"),
    Column("birth_month", "date"),
    Column("ethnicity", "varchar"),
    Column("disabled", "boolean"),
    Column("recorded_at", "timestamp", required=True),
)

EVENTS_COLUMNS: tuple[Column, ...] = (
    Column("event_id", "varchar", required=True),
    Column("la_code", "varchar", required=True),
    Column("child_id", "varchar", required=True),
    Column("event_type", "varchar", required=True),
    Column("event_at", "timestamp", required=True),
    Column("recorded_at", "timestamp", required=True),
    Column("episode_id", "varchar"),
    Column("referral_id", "varchar"),
    Column("code", "varchar"),
    Column("code2", "varchar"),
    Column("value", "double"),
    Column("is_deleted", "boolean"),
)

POPULATION_COLUMNS: tuple[Column, ...] = (
    Column("la_code", "varchar", required=True),
    Column("year", "integer", required=True),
    Column("age", "integer", required=True),
    Column("sex", "varchar", required=True),
    Column("count", "integer", required=True),
)

TABLES: dict[str, tuple[Column, ...]] = {
    "children": CHILDREN_COLUMNS,
    "events": EVENTS_COLUMNS,
    "population": POPULATION_COLUMNS,
}

# Every event type of the v1 contract. Others load (adapters may add types) but the models ignore them.
EVENT_TYPES: tuple[str, ...] = (
    "contact_received",
    "contact_decision",
    "referral_received",
    "referral_closed",
    "assessment_started",
    "child_seen",
    "assessment_authorised",
    "strategy_discussion",
    "s47_started",
    "icpc_held",
    "icpc_not_required",
    "cin_plan_started",
    "cin_plan_ended",
    "cp_plan_started",
    "cp_review",
    "cp_plan_ended",
    "cla_period_started",
    "cla_placement_changed",
    "cla_legal_status_changed",
    "cla_period_ended",
    "uasc_started",
    "uasc_ended",
    "cla_review",
    "missing_started",
    "missing_ended",
    "health_assessment",
    "dental_check",
    "sdq_recorded",
    "adoption_decision",
    "placement_order",
    "adoption_match",
    "adoption_placed",
    "adoption_plan_ceased",
    "adoption_order",
    "care_leaver_contact",
    "early_help_started",
    "early_help_ended",
    "worker_allocated",
)

# End event -> the start event of the same la_code + episode_id it needs (else it is quarantined).
END_TO_START: dict[str, str] = {
    "referral_closed": "referral_received",
    "assessment_authorised": "assessment_started",
    "cin_plan_ended": "cin_plan_started",
    "cp_plan_ended": "cp_plan_started",
    "cla_period_ended": "cla_period_started",
    "missing_ended": "missing_started",
    "early_help_ended": "early_help_started",
}

# Closed code lists the contract spells out in full: any other code is quarantined.
CLOSED_CODES: dict[str, tuple[str, ...]] = {
    "contact_received": ("police", "school", "health", "la", "individual", "other"),
    "contact_decision": ("referral", "early_help", "advice", "nfa"),
    "assessment_authorised": ("cin", "s47", "early_help", "nfa"),
    "icpc_held": ("plan", "no_plan"),
    "cp_plan_started": ("N", "P", "E", "S", "M"),
    "child_seen": ("assessment", "cin", "cp", "cla"),
    "missing_started": ("missing", "away"),
}

SEX_CODES: tuple[str, ...] = ("M", "F", "U")
POPULATION_SEX_CODES: tuple[str, ...] = ("M", "F")

# Which optional columns the KPIs read, per event type: column -> the dim_kpi measure_ids whose figures
# change when the column is missing or blank. A file without one of these columns loads with a warning
# naming the KPIs; a load in which the column is empty for every (non-deleted) row of the event type is
# refused, because that is a broken extract, not a council that does not record it.
EVENT_COLUMN_NEEDS: dict[str, dict[str, tuple[str, ...]]] = {
    "contact_decision": {"code": ("contact_to_referral",)},
    "child_seen": {"code": ("cp_seen_10wd", "cla_seen_6w")},
    "assessment_authorised": {
        "code": ("assessment_nfa",),
        "episode_id": ("assessment_completed", "assessment_45wd", "assessment_child_seen"),
    },
    "icpc_held": {"episode_id": ("icpc_15wd",)},
    "cp_plan_ended": {"episode_id": ("cp_ended_2y_plus", "cp_repeat_within_2y")},
    "cla_period_started": {
        "code": ("cla_s20", "cla", "cla_excl_uasc", "cla_start"),
        "value": ("cla_placed_20_miles_plus",),
    },
    "cla_placement_changed": {"value": ("cla_placed_20_miles_plus",)},
    "cla_legal_status_changed": {"code": ("cla_s20",)},
    "cla_period_ended": {
        "code": ("cla_exit_adoption", "cla_exit_sgo", "cla_reunification"),
        "episode_id": ("cla_ceased", "cla_exit_adoption", "cla_exit_sgo"),
    },
    "missing_started": {"code": ("missing_episode",)},
    "sdq_recorded": {"value": ("cla_sdq",)},
    "care_leaver_contact": {
        "code": ("care_leaver_eet", "care_leaver_in_touch", "care_leaver_17_18_eet"),
        "code2": ("care_leaver_suitable_accom", "care_leaver_17_18_suitable_accom"),
    },
    "early_help_ended": {"code2": ("eh_ended",)},
}

# Needs whose column may rightly be blank in every row of a load, so only a missing column is reported
# (a warning), never a blank one: set only when something happened (code2 `step_up` on an early help
# end: a quiet month has none), or not carried by every source (SSDA903 returns have no placement
# distance; a CIN census assessment may have no outcome code).
BLANK_ALLOWED: frozenset[tuple[str, str]] = frozenset(
    {
        ("early_help_ended", "code2"),
        ("cla_period_started", "value"),
        ("cla_placement_changed", "value"),
        ("assessment_authorised", "code"),
    }
)

# The same for the optional columns of children (the whole table needs them, not one event type).
CHILD_COLUMN_NEEDS: dict[str, tuple[str, ...]] = {
    "birth_month": (
        "cla_long_term_stability",
        "care_leaver_eet",
        "care_leaver_suitable_accom",
        "care_leaver_in_touch",
    ),
}


def column_measures(table: str, column: str) -> tuple[str, ...]:
    """Every measure_id a column of `table` feeds, whatever the event type (for a missing column)."""
    if table == "children":
        return CHILD_COLUMN_NEEDS.get(column, ())
    if table != "events":
        return ()
    found: list[str] = []
    for needs in EVENT_COLUMN_NEEDS.values():
        found += [m for m in needs.get(column, ()) if m not in found]
    return tuple(found)
