"""Stand-in for dbt's `adapter` when sqlfluff's jinja templater renders models (lint only)."""

from collections.abc import Callable

# Dispatched macros that render a whole statement rather than an expression.
STATEMENTS = {"date_spine": "select cast(null as date) as date_day"}


def dispatch(macro_name: str, macro_namespace: str | None = None) -> Callable[..., str]:
    def render(*args: object) -> str:
        if macro_name in STATEMENTS:
            return STATEMENTS[macro_name]
        return f"{macro_name}({', '.join(str(arg) for arg in args)})"

    return render
