{#-
    Placements: the intervals of a period of care between its cla_period_started, each cla_placement_changed
    (in event_at order) and its cla_period_ended; an interval that starts and ends on the same day is no
    placement (kpis.md). placement_end_date is null while the placement is open.
-#}
{{ rebuild_scope_config('child') }}

with

periods as (

    select * from {{ ref('int_cla_periods_built') }}
    where
        {{ in_changed_children('la_code', 'child_id') }}
        and has_start

),

milestones as (

    select * from {{ ref('int_episode_milestones_deduplicated') }}
    where {{ in_changed_children('la_code', 'child_id') }}

),

events as (

    select * from {{ ref('stg_case__events') }}
    where {{ in_changed_children('la_code', 'child_id') }}

),

boundaries as (

    select
        periods.la_code,
        periods.period_id,
        start_events.event_date as boundary_date,
        start_events.event_at,
        0 as boundary_order,
        start_events.event_id,
        start_events.event_code2 as placement_type,
        start_events.event_value as distance_km
    from periods
    inner join milestones as start_events
        on
            periods.la_code = start_events.la_code
            and periods.period_id = start_events.episode_id
            and start_events.event_type = 'cla_period_started'

    union all

    select
        la_code,
        episode_id as period_id,
        event_date as boundary_date,
        event_at,
        1 as boundary_order,
        event_id,
        event_code as placement_type,
        event_value as distance_km
    from events
    where event_type = 'cla_placement_changed'

),

sequenced as (

    select
        boundaries.*,
        periods.child_id,
        periods.start_date as period_start_date,
        periods.end_date as period_end_date,
        periods.is_short_break,
        lead(boundaries.boundary_date) over (
            partition by boundaries.la_code, boundaries.period_id
            order by boundaries.event_at, boundaries.boundary_order, boundaries.event_id
        ) as next_boundary_date
    from boundaries
    inner join periods
        on
            boundaries.la_code = periods.la_code
            and boundaries.period_id = periods.period_id

),

intervals as (

    select
        la_code,
        period_id,
        child_id,
        event_id as placement_event_id,
        placement_type,
        distance_km,
        boundary_date as placement_start_date,
        {{ earlier_end('next_boundary_date', 'period_end_date') }} as placement_end_date,
        period_start_date,
        is_short_break
    from sequenced
    where boundary_date >= period_start_date

),

final as (

    select
        *,
        row_number() over (
            partition by la_code, period_id
            order by placement_start_date
        ) as placement_seq
    from intervals
    where placement_end_date is null or placement_end_date > placement_start_date

)

select * from final
