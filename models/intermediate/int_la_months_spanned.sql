{#-
    The reporting months of each LA (kpis.md "Months"): every month end from the month of the LA's
    earliest event date to the last month end on or before its latest event date. Events as in the
    latest view, and only event types of the contract (types the models do not know are ignored).
    As known at var('as_of') (a reporting cut-off), months run to the last month end on or before the
    cut-off, so month M has its row even when the data known then did not yet reach M's last day.
    var('reporting_months_from') (publishing one month) drops the month ends before it: every monthly
    figure depends on its own month and the events before it, never on other months' rows.
    var('as_reported_scopes') (publishing months as first reported, as_reported.py): each scope's two
    stand-in authorities (its revised children as known at the cut-off, and as known now) take the
    months of their authority up to the scope's month, whatever their own events span.
-#}
with

events as (

    select * from {{ ref('stg_case__events') }}

),

event_types as (

    select * from {{ ref('event_types') }}

),

dates as (

    select * from {{ ref('int_dates_numbered') }}

),

la_bounds as (

    select
        events.la_code,
        min(events.event_date) as first_event_date,
        max(events.event_date) as last_event_date,
        {% if var('as_of') -%}
            cast('{{ var("as_of") }}' as date)
        {%- else -%}
            max(events.event_date)
        {%- endif %} as reporting_end_date
    from events
    inner join event_types
        on events.event_type = event_types.event_type
    where not {{ is_stand_in('events.la_code') }}
    group by events.la_code

),

stand_in_bounds as (

    {{ stand_in_bounds('la_bounds') }}

),

all_bounds as (

    select * from la_bounds
    union all
    select * from stand_in_bounds

),

month_ends as (

    select date_day as period_end
    from dates
    where
        is_month_end
        {% if var('reporting_months_from') -%}
            and date_day >= cast('{{ var("reporting_months_from") }}' as date)
        {%- endif %}

),

final as (

    select
        la_bounds.la_code,
        month_ends.period_end,
        {{ month_start('month_ends.period_end') }} as period_start,
        {{ month_index('month_ends.period_end') }} as period_month_index,
        -- First day of the rolling year (R12M) ending at period_end.
        {{ month_start(add_months('month_ends.period_end', -11)) }} as window_start_date,
        la_bounds.first_event_date,
        la_bounds.last_event_date
    from all_bounds as la_bounds
    inner join month_ends
        on
            la_bounds.first_event_date <= month_ends.period_end
            and la_bounds.reporting_end_date >= month_ends.period_end

)

select * from final
