{#-
    Periods of care (la_code + episode_id of cla_period_started / cla_period_ended), with whether each is a
    short break: legal status V3/V4 at its start and at every cla_legal_status_changed recorded for it (any
    date). Short breaks are left out of starts, ceases, readmissions, exits, adoption periods and placement
    counts (kpis.md).
-#}
{{ rebuild_scope_config('child') }}

with

episodes as (

    select * from {{ ref('int_episodes_built') }}
    where
        {{ in_changed_children('la_code', 'child_id') }}
        and episode_type = 'cla_period'

),

events as (

    select * from {{ ref('stg_case__events') }}
    where {{ in_changed_children('la_code', 'child_id') }}

),

legal_statuses as (

    select * from {{ ref('legal_statuses') }}

),

reasons_ceased as (

    select * from {{ ref('reasons_ceased') }}

),

status_changes as (

    select
        events.la_code,
        events.episode_id,
        count(*) as status_change_count,
        sum(case when coalesce(legal_statuses.is_short_break, false) then 0 else 1 end)
            as looked_after_change_count
    from events
    left join legal_statuses
        on events.event_code = legal_statuses.legal_status_code
    where events.event_type = 'cla_legal_status_changed'
    group by 1, 2

),

final as (

    select
        episodes.la_code,
        episodes.episode_id as period_id,
        episodes.child_id,
        episodes.start_date,
        episodes.end_date,
        episodes.start_code as start_legal_status,
        episodes.start_code2 as start_placement_type,
        episodes.end_code as reason_ceased,
        reasons_ceased.exit_kpi_group,
        episodes.has_start,
        episodes.has_end,
        coalesce(status_changes.status_change_count, 0) as status_change_count,
        (
            episodes.has_start
            and coalesce(start_status.is_short_break, false)
            and coalesce(status_changes.looked_after_change_count, 0) = 0
        ) as is_short_break
    from episodes
    left join status_changes
        on
            episodes.la_code = status_changes.la_code
            and episodes.episode_id = status_changes.episode_id
    left join legal_statuses as start_status
        on episodes.start_code = start_status.legal_status_code
    left join reasons_ceased
        on episodes.end_code = reasons_ceased.reason_ceased_code

)

select * from final
