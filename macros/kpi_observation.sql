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

{#-
    A KPI value from its numerator and denominator, by unit (kpis.md "Output shape"): the same
    arithmetic as fct_kpi_monthly, for figures re-aggregated from numerators and denominators.
-#}
{% macro kpi_value(unit, numerator, denominator) -%}
    case
        when {{ unit }} = 'count' then {{ numerator }}
        when {{ unit }} = 'pct' then 100.0 * {{ numerator }} / nullif({{ denominator }}, 0)
        when {{ unit }} = 'rate10k' then 10000.0 * {{ numerator }} / nullif({{ denominator }}, 0)
        else {{ numerator }} / nullif({{ denominator }}, 0)
    end
{%- endmacro %}
