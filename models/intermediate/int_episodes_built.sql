{#-
    One row per episode (la_code x episode type x episode_id): its start is the earliest start event and
    its end the earliest end event (kpis.md "Episodes"). Either may be missing: an end whose start was
    deleted later still reaches the KPIs, which keep it in denominators and out of numerators.
-#}
{{ rebuild_scope_config('child') }}

with

milestones as (

    select * from {{ ref('int_episode_milestones_deduplicated') }}
    where {{ in_changed_children('la_code', 'child_id') }}

),

starts as (

    select * from milestones
    where episode_role = 'start'

),

ends as (

    select * from milestones
    where episode_role = 'end'

),

final as (

    select
        coalesce(starts.la_code, ends.la_code) as la_code,
        coalesce(starts.episode_type, ends.episode_type) as episode_type,
        coalesce(starts.episode_id, ends.episode_id) as episode_id,
        coalesce(starts.child_id, ends.child_id) as child_id,
        coalesce(starts.referral_id, ends.referral_id) as referral_id,
        starts.event_id as start_event_id,
        starts.event_at as started_at,
        starts.event_date as start_date,
        starts.event_code as start_code,
        starts.event_code2 as start_code2,
        starts.event_value as start_value,
        ends.event_id as end_event_id,
        ends.event_at as ended_at,
        ends.event_date as end_date,
        ends.event_code as end_code,
        ends.event_code2 as end_code2,
        starts.event_id is not null as has_start,
        ends.event_id is not null as has_end
    from starts
    full outer join ends
        on
            starts.la_code = ends.la_code
            and starts.episode_type = ends.episode_type
            and starts.episode_id = ends.episode_id

)

select * from final
