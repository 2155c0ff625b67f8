{#-
    The select list of one KPI observation: every observation model emits this shape, so one
    aggregation (fct_kpi_monthly) serves every KPI. observed_on is the event date (event observations)
    or the period end (month-end observations); the relation must have la_code and child_id.
-#}
{% macro kpi_observation(
    measure_id, observed_on, subject_id, is_in_numerator='true', measure_value='null'
) -%}
    la_code,
    '{{ measure_id }}' as measure_id,
    cast({{ observed_on }} as date) as observed_on,
    cast({{ subject_id }} as {{ dbt.type_string() }}) as subject_id,
    child_id,
    coalesce({{ is_in_numerator }}, false) as is_in_numerator,
    cast({{ measure_value }} as double) as measure_value
{%- endmacro %}
