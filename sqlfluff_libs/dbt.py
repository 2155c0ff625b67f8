"""Stand-in for dbt's cross-database macros when sqlfluff's jinja templater renders models (lint only)."""


def type_string() -> str:
    return "varchar"
