{#-
    Seeds on Spark. dbt-spark's own loader binds each CSV value by wrapping it in quotes without
    escaping (session method), so a value with an apostrophe ("New Year's Day") breaks the insert and an
    empty cell becomes the string 'None'. This override writes each value as an escaped literal instead,
    the same on a local session, a Thrift server and Databricks. dbt finds a project's spark__ macro
    before the adapter's.
-#}
{% macro spark__load_csv_rows(model, agate_table) -%}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set tuples = [] -%}
        {%- for row in chunk -%}
            {%- set literals = [] -%}
            {%- for col_name in agate_table.column_names -%}
                {%- set inferred_type = adapter.convert_type(agate_table, loop.index0) -%}
                {%- set type = column_override.get(col_name, inferred_type) -%}
                {%- set literal = spark_seed_literal(row[loop.index0]) -%}
                {%- do literals.append('cast(' ~ literal ~ ' as ' ~ type ~ ')') -%}
            {%- endfor -%}
            {%- do tuples.append('(' ~ literals | join(', ') ~ ')') -%}
        {%- endfor -%}
        {%- set sql = 'insert into ' ~ this.render() ~ ' values\n' ~ tuples | join(',\n') -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first -%}
            {%- do statements.append(sql) -%}
        {%- endif -%}
    {%- endfor -%}
    {{- return(statements[0] if statements else '') -}}
{%- endmacro %}

{#- One CSV value as a Spark SQL literal: Spark escapes a quote in a string with a backslash. -#}
{% macro spark_seed_literal(value) -%}
    {%- if value is none -%}
        {{- 'null' -}}
    {%- elif value is sameas true or value is sameas false -%}
        {{- 'true' if value else 'false' -}}
    {%- elif value is number -%}
        {{- value -}}
    {%- else -%}
        {{- "'" ~ (value | string).replace('\\', '\\\\').replace("'", "\\'") ~ "'" -}}
    {%- endif -%}
{%- endmacro %}
