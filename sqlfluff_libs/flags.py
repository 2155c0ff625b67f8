"""Stand-in for dbt's `flags` when sqlfluff's jinja templater renders models (lint only)."""

FULL_REFRESH = False
