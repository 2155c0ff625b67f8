{#-
    Legal-status spans of each period of care: the status on day d is the latest (by event_at) of the start
    code and any cla_legal_status_changed dated on or before d; a change applies from its own day. Spans are
    [valid_from, valid_to), clipped to the period (valid_to null while open). A span is looked after unless
    the status is V3/V4; consecutive looked-after spans of one period form a stretch ("continuously looked
    after since"), and a new period always starts a new stretch.
-#}
{{ rebuild_scope_config('child') }}

with

periods as (

    select * from {{ ref('int_cla_periods_built') }}
    where
        {{ in_changed_children('la_code', 'child_id') }}
        and has_start

),

events as (

    select * from {{ ref('stg_case__events') }}
    where {{ in_changed_children('la_code', 'child_id') }}

),

legal_statuses as (

    select * from {{ ref('legal_statuses') }}

),

status_events as (

    select
        la_code,
        period_id,
        start_legal_status as legal_status,
        start_date as event_date,
        cast(null as timestamp) as event_at,
        0 as event_order,
        '' as event_id
    from periods

    union all

    select
        la_code,
        episode_id as period_id,
        event_code as legal_status,
        event_date,
        event_at,
        1 as event_order,
        event_id
    from events
    where event_type = 'cla_legal_status_changed'

),

period_status_events as (

    select
        status_events.la_code,
        status_events.period_id,
        periods.child_id,
        periods.start_date as period_start_date,
        periods.end_date as period_end_date,
        status_events.legal_status,
        status_events.event_date,
        -- The start event's own time orders it among changes of the same day.
        coalesce(status_events.event_at, start_events.event_at) as event_at,
        status_events.event_order,
        status_events.event_id
    from status_events
    inner join periods
        on
            status_events.la_code = periods.la_code
            and status_events.period_id = periods.period_id
    left join {{ ref('int_episode_milestones_deduplicated') }} as start_events
        on
            status_events.event_order = 0
            and status_events.la_code = start_events.la_code
            and status_events.period_id = start_events.episode_id
            and start_events.event_type = 'cla_period_started'

),

sequenced as (

    select
        *,
        lead(event_date) over (
            partition by la_code, period_id
            order by event_at, event_order, event_id
        ) as next_event_date
    from period_status_events

),

clipped as (

    select
        sequenced.la_code,
        sequenced.period_id,
        sequenced.child_id,
        sequenced.legal_status,
        sequenced.period_start_date,
        case
            when sequenced.event_date < sequenced.period_start_date then sequenced.period_start_date
            else sequenced.event_date
        end as valid_from,
        {{ earlier_end('sequenced.next_event_date', 'sequenced.period_end_date') }} as valid_to,
        not coalesce(legal_statuses.is_short_break, false) as is_looked_after
    from sequenced
    left join legal_statuses
        on sequenced.legal_status = legal_statuses.legal_status_code

),

spans as (

    select
        *,
        coalesce(
            lag(is_looked_after) over (partition by la_code, period_id order by valid_from),
            false
        ) as is_after_looked_after_span
    from clipped
    where valid_to is null or valid_to > valid_from

),

stretch_numbered as (

    select
        *,
        sum(case when is_looked_after and not is_after_looked_after_span then 1 else 0 end) over (
            partition by la_code, period_id
            order by valid_from
            rows between unbounded preceding and current row
        ) as stretch_seq
    from spans

),

final as (

    select
        la_code,
        period_id,
        child_id,
        legal_status,
        valid_from,
        valid_to,
        is_looked_after,
        period_start_date,
        case
            when is_looked_after
                then min(valid_from) over (partition by la_code, period_id, stretch_seq, is_looked_after)
        end as looked_after_since
    from stretch_numbered

)

select * from final
