{#-
    The log of published KPI figures, raw.kpi_published: append-only, written only by
    csc_warehouse.as_reported (the "publish months" step and `cscw backfill`), read by dbt as the source
    publications.kpi_published. Created by on-run-start (dbt_project.yml), so it exists before any model
    reads it; `if not exists` leaves what is there alone. A publication is one run of one reporting month:
    every row of that run carries its publication_id, the reporting cut-off and the reason.
-#}
{% macro create_kpi_publication_log() -%}
    {{ return(adapter.dispatch('create_kpi_publication_log', 'csc_warehouse')()) }}
{%- endmacro %}

{% macro default__create_kpi_publication_log() -%}
    {%- if execute -%}
        {%- do run_query('create schema if not exists raw') -%}
    {%- endif -%}
    create table if not exists raw.kpi_published (
        publication_id {{ dbt.type_string() }},
        published_at {{ dbt.type_timestamp() }},
        publication_reason {{ dbt.type_string() }},
        cutoff_date date,
        cutoff_working_days {{ dbt.type_int() }},
        la_code {{ dbt.type_string() }},
        kpi_id {{ dbt.type_string() }},
        period_end date,
        numerator double,
        denominator double,
        value double,
        unit {{ dbt.type_string() }},
        period_type {{ dbt.type_string() }}
    )
{%- endmacro %}
