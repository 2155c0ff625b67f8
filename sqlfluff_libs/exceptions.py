"""Stand-in for dbt's `exceptions` when sqlfluff's jinja templater renders models (lint only)."""


def raise_compiler_error(message: str) -> str:
    return ""
