{#-
    One row per child looked after at an LA month end: in an open period of care whose legal status that
    day is not V3/V4. Where two periods overlap, the current one is the latest started. Carries what the
    point-in-time KPIs need: legal status, period start, the start of the continuous looked-after stretch,
    the current placement and UASC status on that day.
-#}
{{ rebuild_scope_config('child_month', 'period_end') }}

with

spans as (

    select * from {{ ref('int_legal_statuses_spanned') }}
    where
        {{ open_after_frontier('la_code', 'child_id', 'valid_to') }}
        and is_looked_after

),

months as (

    select * from {{ ref('int_la_months_spanned') }}

),

placements as (

    -- Not narrowed on a rebuild: a new month needs the child's earlier placements (the previous one).
    select * from {{ ref('int_placements_spanned') }}

),

events as (

    select * from {{ ref('stg_case__events') }}

),

looked_after as (

    select
        spans.la_code,
        spans.child_id,
        months.period_end,
        spans.period_id,
        spans.period_start_date,
        spans.legal_status,
        spans.looked_after_since,
        row_number() over (
            partition by spans.la_code, spans.child_id, months.period_end
            order by spans.period_start_date desc, spans.period_id desc
        ) as period_rank
    from spans
    inner join months
        on
            spans.la_code = months.la_code
            and spans.valid_from <= months.period_end
            and (spans.valid_to is null or spans.valid_to > months.period_end)

),

current_periods as (

    select * from looked_after
    where period_rank = 1

),

current_placements as (

    select
        current_periods.la_code,
        current_periods.child_id,
        current_periods.period_end,
        placements.placement_type,
        placements.distance_km,
        placements.placement_start_date,
        placements.placement_seq,
        row_number() over (
            partition by current_periods.la_code, current_periods.child_id, current_periods.period_end
            order by placements.placement_start_date desc
        ) as placement_rank
    from current_periods
    inner join placements
        on
            current_periods.la_code = placements.la_code
            and current_periods.period_id = placements.period_id
            and current_periods.period_end >= placements.placement_start_date

),

uasc_starts as (

    select
        current_periods.la_code,
        current_periods.child_id,
        current_periods.period_end,
        uasc.event_date as uasc_start_date,
        row_number() over (
            partition by current_periods.la_code, current_periods.child_id, current_periods.period_end
            order by uasc.event_at desc, uasc.event_id desc
        ) as uasc_rank
    from current_periods
    inner join events as uasc
        on
            current_periods.la_code = uasc.la_code
            and current_periods.child_id = uasc.child_id
            and uasc.event_type = 'uasc_started'
            and current_periods.period_end >= uasc.event_date

),

uasc_latest_ends as (

    select
        uasc_starts.la_code,
        uasc_starts.child_id,
        uasc_starts.period_end,
        count(uasc_end.event_id) as end_count
    from uasc_starts
    left join events as uasc_end
        on
            uasc_starts.la_code = uasc_end.la_code
            and uasc_starts.child_id = uasc_end.child_id
            and uasc_end.event_type = 'uasc_ended'
            and uasc_starts.uasc_start_date <= uasc_end.event_date
            and uasc_starts.period_end >= uasc_end.event_date
    where uasc_starts.uasc_rank = 1
    group by 1, 2, 3

),

uasc_open as (

    select * from uasc_latest_ends
    where end_count = 0

),

final as (

    select
        current_periods.la_code,
        current_periods.child_id,
        current_periods.period_end,
        current_periods.period_id,
        current_periods.period_start_date,
        current_periods.legal_status,
        current_periods.looked_after_since,
        current_placement.placement_type,
        current_placement.distance_km as placement_distance_km,
        current_placement.placement_start_date,
        previous_placement.placement_start_date as previous_placement_start_date,
        uasc_open.child_id is not null as is_uasc
    from current_periods
    left join current_placements as current_placement
        on
            current_periods.la_code = current_placement.la_code
            and current_periods.child_id = current_placement.child_id
            and current_periods.period_end = current_placement.period_end
            and current_placement.placement_rank = 1
    left join current_placements as previous_placement
        on
            current_periods.la_code = previous_placement.la_code
            and current_periods.child_id = previous_placement.child_id
            and current_periods.period_end = previous_placement.period_end
            and previous_placement.placement_rank = 2
    left join uasc_open
        on
            current_periods.la_code = uasc_open.la_code
            and current_periods.child_id = uasc_open.child_id
            and current_periods.period_end = uasc_open.period_end

)

select * from final
where {{ in_changed_children_or_new_months('la_code', 'child_id', 'period_end') }}
