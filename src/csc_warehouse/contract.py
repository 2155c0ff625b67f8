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
