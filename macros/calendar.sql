{#- True on Saturdays and Sundays; counted from a known Monday so it means the same on every engine. -#}
{% macro is_weekend(date_expr) -%}
    ({{ days_between("date '1900-01-01'", date_expr) }} % 7 in (5, 6))
{%- endmacro %}
