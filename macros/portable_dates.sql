{#-
    Portable date arithmetic. Models call these macros only; each engine's spelling lives in its
    dispatched implementation: default__ is Spark SQL's (dbt-spark and dbt-databricks find no spark__ or
    databricks__ version and use it; make test-spark checks it), duckdb__ is DuckDB's.
-#}

{#- d + n calendar months, keeping the day and clamping to the target month's length (kpis.md). -#}
{% macro add_months(date_expr, months) -%}
    {{ return(adapter.dispatch('add_months', 'csc_warehouse')(date_expr, months)) }}
{%- endmacro %}

{% macro default__add_months(date_expr, months) -%}
    add_months({{ date_expr }}, {{ months }})
{%- endmacro %}

{% macro duckdb__add_months(date_expr, months) -%}
    cast({{ date_expr }} + to_months(cast({{ months }} as integer)) as date)
{%- endmacro %}

{#- d + n days, as a date. -#}
{% macro add_days(date_expr, days) -%}
    {{ return(adapter.dispatch('add_days', 'csc_warehouse')(date_expr, days)) }}
{%- endmacro %}

{% macro default__add_days(date_expr, days) -%}
    date_add({{ date_expr }}, {{ days }})
{%- endmacro %}

{% macro duckdb__add_days(date_expr, days) -%}
    cast({{ date_expr }} + to_days(cast({{ days }} as integer)) as date)
{%- endmacro %}

{#- Whole days from start_date to end_date (end - start). -#}
{% macro days_between(start_date, end_date) -%}
    {{ return(adapter.dispatch('days_between', 'csc_warehouse')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__days_between(start_date, end_date) -%}
    datediff({{ end_date }}, {{ start_date }})
{%- endmacro %}

{% macro duckdb__days_between(start_date, end_date) -%}
    date_diff('day', {{ start_date }}, {{ end_date }})
{%- endmacro %}

{#- Seconds from start_ts to end_ts. -#}
{% macro seconds_between(start_ts, end_ts) -%}
    {{ return(adapter.dispatch('seconds_between', 'csc_warehouse')(start_ts, end_ts)) }}
{%- endmacro %}

{% macro default__seconds_between(start_ts, end_ts) -%}
    (unix_timestamp({{ end_ts }}) - unix_timestamp({{ start_ts }}))
{%- endmacro %}

{% macro duckdb__seconds_between(start_ts, end_ts) -%}
    date_diff('second', {{ start_ts }}, {{ end_ts }})
{%- endmacro %}

{#- First and last day of the month of d, as dates. -#}
{% macro month_start(date_expr) -%}
    {{ return(adapter.dispatch('month_start', 'csc_warehouse')(date_expr)) }}
{%- endmacro %}

{% macro default__month_start(date_expr) -%}
    trunc({{ date_expr }}, 'MM')
{%- endmacro %}

{% macro duckdb__month_start(date_expr) -%}
    cast(date_trunc('month', {{ date_expr }}) as date)
{%- endmacro %}

{% macro month_end(date_expr) -%}
    {{ return(adapter.dispatch('month_end', 'csc_warehouse')(date_expr)) }}
{%- endmacro %}

{% macro default__month_end(date_expr) -%}
    last_day({{ date_expr }})
{%- endmacro %}

{#- A month as one integer (year * 12 + month), so rolling windows are integer ranges. -#}
{% macro month_index(date_expr) -%}
    (extract(year from {{ date_expr }}) * 12 + extract(month from {{ date_expr }}))
{%- endmacro %}

{#- Completed years at on_date for a child born in birth_month (birthday = its first day). -#}
{% macro age_in_years(birth_month, on_date) -%}
    (
        extract(year from {{ on_date }}) - extract(year from {{ birth_month }})
        - case when extract(month from {{ on_date }}) < extract(month from {{ birth_month }}) then 1 else 0 end
    )
{%- endmacro %}

{#- One row per day from start_date to end_date (ISO strings), column date_day. -#}
{% macro date_spine(start_date, end_date) -%}
    {{ return(adapter.dispatch('date_spine', 'csc_warehouse')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__date_spine(start_date, end_date) -%}
    select explode(sequence(to_date('{{ start_date }}'), to_date('{{ end_date }}'), interval 1 day)) as date_day
{%- endmacro %}

{% macro duckdb__date_spine(start_date, end_date) -%}
    select cast(range as date) as date_day
    from range(date '{{ start_date }}', date '{{ end_date }}' + interval 1 day, interval 1 day)
{%- endmacro %}

{#- The earlier of two end dates, where null means "still open" (so it loses to any date). -#}
{% macro earlier_end(first_end, second_end) -%}
    case
        when {{ first_end }} is null then {{ second_end }}
        when {{ second_end }} is not null and {{ second_end }} < {{ first_end }} then {{ second_end }}
        else {{ first_end }}
    end
{%- endmacro %}
