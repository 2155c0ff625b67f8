{#-
    One row per la_code x episode type x episode_id x event type: the earliest event of that type
    (by event_at, then event_id), as kpis.md counts an episode's starts, ends and adoption milestones.
    Episode ids are unique only within an LA. An event with no episode_id is an episode of its own.
-#}
{{ rebuild_scope_config('child') }}

with

events as (

    select * from {{ ref('stg_case__events') }}
    where {{ in_changed_children('la_code', 'child_id') }}

),

event_types as (

    select * from {{ ref('event_types') }}

),

episode_events as (

    select
        events.*,
        event_types.episode_type,
        event_types.episode_role,
        coalesce(events.episode_id, concat('~', events.event_id)) as episode_key
    from events
    inner join event_types
        on events.event_type = event_types.event_type
    where event_types.episode_type is not null

),

ranked as (

    select
        *,
        row_number() over (
            partition by la_code, episode_type, episode_key, event_type
            order by event_at, event_id
        ) as event_rank
    from episode_events

),

final as (

    select
        la_code,
        episode_type,
        episode_key as episode_id,
        event_type,
        episode_role,
        event_id,
        child_id,
        referral_id,
        event_at,
        event_date,
        event_code,
        event_code2,
        event_value
    from ranked
    where event_rank = 1

)

select * from final
