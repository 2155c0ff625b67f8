{#-
    Incremental refresh (docs/incremental.md). A monthly load brings new and corrected event versions;
    the models rebuild only the rows those versions can reach:

    scope 'event'        stg_case__events: the events with a version loaded since the model's last build;
    scope 'child'        child-level models: every row of a child in int_children_changed;
    scope 'child_month'  child x month-end models: those children's rows, plus every child's rows for the
                         month ends after the last one the table holds (a new month);
    scope 'la_month'     LA x month-end models: every month end of an LA from the earliest date its changes
                         reach (int_children_changed.changed_from_date) on, and the new month ends.

    A model declares its scope in config (rebuild_scope, and rebuild_month_column for the month scopes)
    and uses the filters below in its SQL; the strategy 'rebuild_scope' then deletes the scope's rows
    from the table and inserts the rebuilt ones, in one transaction. After each build a post-hook
    records the latest load id the model has seen in meta.model_refreshes; the next run's scope is what
    was loaded after it. A full refresh (--full-refresh, a new model, or a run with var('as_of')) builds
    the table from scratch.
-#}

{% macro rebuild_scope_config(scope, month_column=none) -%}
    {#- The config of an incremental model; Spark builds are always full (spark_engine), so there the
        strategy is the built-in append. -#}
    {%- set strategy = 'rebuild_scope' if target.type == 'duckdb' else 'append' -%}
    {#- What the filters read, declared here: dbt learns a model's parents while parsing, when the
        filters (only on a rebuild) render nothing. Unit tests (this is none) give only what the full
        build reads. -#}
    {%- set reads = [] if this is none else ['events', 'loads', 'population'] -%}
    {%- for table in reads -%}
        {%- do source('case', table) -%}
    {%- endfor -%}
    {%- set parents = ['int_children_changed', 'int_la_months_spanned'] -%}
    {%- set parents = [] if this is none or scope == 'event' else parents -%}
    {%- for parent in parents -%}
        {%- do ref(parent) -%}
    {%- endfor -%}
    {{- config(materialized='incremental', incremental_strategy=strategy, on_schema_change='fail') -}}
    {{- config(rebuild_scope=scope, rebuild_month_column=month_column) -}}
    {{- config(post_hook="{{ record_model_refresh() }}") -}}
{%- endmacro %}

{% macro is_rebuild() -%}
    {#- True when this run rebuilds part of an existing table (not a full refresh). Unit tests have no
        table (this is none): they test the full build's SQL. -#}
    {%- if this is none -%}
        {{ return(false) }}
    {%- endif -%}
    {#- is_incremental() is false on --full-refresh. -#}
    {%- set partial = is_incremental() -%}
    {%- if partial and (var('as_of') or var('reporting_months_from')) -%}
        {{ exceptions.raise_compiler_error(
            "as_of and reporting_months_from need a full refresh (--full-refresh) of " ~ this
            ~ ": an incremental table holds the latest figures") }}
    {%- endif -%}
    {{ return(partial) }}
{%- endmacro %}

{#- ------------------------------------------------------------------------------------------------
    State: meta.model_refreshes, one row per successful build of an incremental model. -#}

{% macro create_model_refresh_log() -%}
    {%- if execute and target.type == 'duckdb' -%}
        {%- do run_query('create schema if not exists meta') -%}
        {%- do run_query(
            'create table if not exists meta.model_refreshes ('
            ~ 'model_name varchar, source_load_id bigint, is_full_refresh boolean, refreshed_at timestamp)'
        ) -%}
    {%- endif -%}
{%- endmacro %}

{% macro latest_load_id() -%}
    (select coalesce(max(load_id), 0) from {{ source('case', 'loads') }})
{%- endmacro %}

{% macro record_model_refresh() -%}
    {#- A table built as known at a cut-off (as_of) holds other figures than the latest: load id -1 makes
        the next build rebuild every row of it. -#}
    {%- set built_from = '-1' if var('as_of') or var('reporting_months_from') else latest_load_id() -%}
    {%- if target.type == 'duckdb' -%}
        insert into meta.model_refreshes
        select
            '{{ this.identifier }}',
            {{ built_from }},
            {{ 'false' if is_rebuild() else 'true' }},
            current_timestamp
    {%- endif -%}
{%- endmacro %}

{% macro model_watermark(model_name) -%}
    {#- The load a model's table was last built from; -1 when unknown (then everything is in scope). -#}
    coalesce((
        select source_load_id
        from meta.model_refreshes
        where model_name = '{{ model_name }}'
        order by refreshed_at desc
        limit 1
    ), -1)
{%- endmacro %}

{% macro children_changed_watermark() -%}
    {#- int_children_changed's watermark: the oldest build among the incremental models that read it (a
        model that failed last time catches up with the rest); null, so nothing is in scope, when none of
        their tables exists yet or on a full refresh. -#}
    {%- set watermarks = [] -%}
    {%- if execute and target.type == 'duckdb' and not flags.FULL_REFRESH -%}
        {%- for node in graph.nodes.values() -%}
            {%- if node.resource_type == 'model'
                and node.config.get('rebuild_scope') in ('child', 'child_month', 'la_month') -%}
                {%- set relation = adapter.get_relation(
                    database=node.database, schema=node.schema, identifier=node.alias) -%}
                {%- if relation is not none -%}
                    {%- do watermarks.append(model_watermark(node.alias)) -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if watermarks -%}
        least({{ watermarks | join(', ') }})
    {%- else -%}
        cast(null as bigint)
    {%- endif -%}
{%- endmacro %}

{#- ------------------------------------------------------------------------------------------------
    Filters a model puts in its SQL: `true` on a full build. -#}

{% macro in_changed_events(la_code, event_id) -%}
    {%- if is_rebuild() -%}
        ({{ la_code }}, {{ event_id }}) in (
            select la_code, event_id
            from {{ source('case', 'events') }}
            where load_id > {{ model_watermark(this.identifier) }}
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{% macro in_changed_children(la_code, child_id) -%}
    {%- if is_rebuild() -%}
        ({{ la_code }}, {{ child_id }}) in (
            select la_code, child_id from {{ ref('int_children_changed') }}
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{% macro month_frontier(la_code) -%}
    {#- The last month end the table holds for the LA (before this run); null for a new LA. -#}
    (
        select max(built.{{ config.get('rebuild_month_column') }})
        from {{ this }} as built
        where built.la_code = {{ la_code }}
    )
{%- endmacro %}

{% macro in_changed_children_or_new_months(la_code, child_id, month_end) -%}
    {#- child_month scope: the changed children's rows and every row after the month frontier. -#}
    {%- if is_rebuild() -%}
        (
            {{ in_changed_children(la_code, child_id) }}
            or {{ month_end }} > coalesce({{ month_frontier(la_code) }}, {{ dbt.cast("'1900-01-01'", 'date') }})
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{% macro open_after_frontier(la_code, child_id, end_date) -%}
    {#- child_month scope, pushed down to spans (episodes, legal statuses): a span of an unchanged child
        can only reach a new month when it is open after the frontier. -#}
    {%- set open_until = 'coalesce(' ~ end_date ~ ', ' ~ dbt.cast("'9999-12-31'", 'date') ~ ')' -%}
    {{ in_changed_children_or_new_months(la_code, child_id, open_until) }}
{%- endmacro %}

{% macro rebuilt_la_months(relation=none) -%}
    {#- la_month scope as (la_code, period_end) pairs: an LA's month ends from the earliest date its
        changes reach (all of them when its population changed), and those after the month frontier. -#}
    {%- set relation = relation or this -%}
    select months.la_code, months.period_end
    from {{ ref('int_la_months_spanned') }} as months
    left join (
        select la_code, min(changed_from_date) as changed_from_date
        from {{ ref('int_children_changed') }}
        group by la_code
    ) as changed
        on months.la_code = changed.la_code
    left join (
        select la_code, max({{ config.get('rebuild_month_column') }}) as frontier_date
        from {{ relation }}
        group by la_code
    ) as built
        on months.la_code = built.la_code
    where
        built.frontier_date is null
        or months.period_end > built.frontier_date
        or months.period_end >= changed.changed_from_date
        or months.la_code in (
            select la_code from {{ source('case', 'population') }}
            where load_id > {{ model_watermark(relation.identifier) }}
        )
{%- endmacro %}

{% macro in_rebuilt_la_months(la_code, month_end) -%}
    {%- if is_rebuild() -%}
        ({{ la_code }}, {{ month_end }}) in ({{ rebuilt_la_months() }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{% macro from_rebuilt_la_months(la_code, date, months_before=0) -%}
    {#- la_month scope, pushed down to dated rows: on or after the LA's earliest rebuilt month start,
        less the months a rolling window reaches back. -#}
    {%- if is_rebuild() -%}
        {{ date }} >= coalesce((
            select {{ add_months(month_start('min(scope.period_end)'), -months_before) }}
            from ({{ rebuilt_la_months() }}) as scope
            where scope.la_code = {{ la_code }}
        ), {{ dbt.cast("'9999-12-31'", 'date') }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- ------------------------------------------------------------------------------------------------
    The strategy: delete the scope's rows, insert the rebuilt ones (dbt runs both in one transaction). -#}

{% macro get_incremental_rebuild_scope_sql(arg_dict) -%}
    {%- set target_relation = arg_dict['target_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set scope = config.get('rebuild_scope') -%}
    {%- set month_column = config.get('rebuild_month_column') -%}
    delete from {{ target_relation }}
    where
    {%- if scope == 'event' %}
        {{ in_changed_events('la_code', 'event_id') }}
    {%- elif scope == 'child' %}
        {{ in_changed_children('la_code', 'child_id') }}
    {%- elif scope == 'child_month' %}
        {#- Rows after the frontier do not exist; rows of months an LA no longer spans go. -#}
        {{ in_changed_children('la_code', 'child_id') }}
        or (la_code, {{ month_column }}) not in (
            select la_code, period_end from {{ ref('int_la_months_spanned') }}
        )
    {%- elif scope == 'la_month' %}
        (la_code, {{ month_column }}) in ({{ rebuilt_la_months(target_relation) }})
        or (la_code, {{ month_column }}) not in (
            select la_code, period_end from {{ ref('int_la_months_spanned') }}
        )
    {%- else %}
        {{ exceptions.raise_compiler_error(
            "rebuild_scope must be event, child, child_month or la_month, not " ~ scope) }}
    {%- endif %};

    insert into {{ target_relation }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
{%- endmacro %}
