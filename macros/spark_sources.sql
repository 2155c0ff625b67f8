{#-
    The canonical input on Spark: the loader (DuckDB) checks and quarantines rows, then
    csc_warehouse.spark_engine exports raw.* to one Parquet folder per table under $CSCW_SPARK_RAW_DIR.
    This registers each folder as an external Parquet table raw.<table>, so source('case', ...) reads
    the same rows on both engines. Run by on-run-start; without $CSCW_SPARK_RAW_DIR (a cluster whose raw
    tables already exist in its catalogue) and on other engines it does nothing.
-#}
{% macro register_raw_parquet() -%}
    {{ return(adapter.dispatch('register_raw_parquet', 'csc_warehouse')()) }}
{%- endmacro %}

{% macro default__register_raw_parquet() -%}
{%- endmacro %}

{% macro spark__register_raw_parquet() -%}
    {%- set raw_dir = env_var('CSCW_SPARK_RAW_DIR', '') -%}
    {%- set tables = env_var('CSCW_SPARK_RAW_TABLES', 'children,events,population').split(',') -%}
    {%- if execute and raw_dir -%}
        {%- do run_query('create database if not exists raw') -%}
        {%- for table in tables -%}
            {#- Dropping an external table leaves its files alone; recreating it picks up a new export. -#}
            {%- do run_query('drop table if exists raw.' ~ table) -%}
            {%- do run_query(
                'create table raw.' ~ table ~ " using parquet location '" ~ raw_dir ~ '/' ~ table ~ "'"
            ) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
