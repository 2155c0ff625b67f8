"""Stand-in for dbt's cross-database macros when sqlfluff's jinja templater renders models (lint only)."""


def type_string() -> str:
    return "varchar"


def concat(fields: list[str]) -> str:
    return "(" + " || ".join(fields) + ")"


def right(string_text: str, length_expression: str) -> str:
    return f"right({string_text}, {length_expression})"


def cast(field: str, type_: str) -> str:
    return f"cast({field} as {type_})"
