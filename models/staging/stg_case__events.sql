{#-
    The events as known at var('as_of') (default: now): per la_code + event_id the version with the
    greatest recorded_at recorded by the end of that day; a tombstone as latest version drops the event.
    Incremental (macros/incremental.sql): a refresh recomputes the events with a version loaded since.
-#}
{{ rebuild_scope_config('event') }}

with

event_versions as (

    select * from {{ ref('stg_case__event_versions') }}
    where
        {{ in_changed_events('la_code', 'event_id') }}
        {% if var('as_of') -%}
            and recorded_at < {{ add_days("date '" ~ var('as_of') ~ "'", 1) }}
        {%- endif %}

),

ranked as (

    select
        *,
        row_number() over (
            partition by la_code, event_id
            order by recorded_at desc, load_id desc
        ) as version_rank
    from event_versions

),

latest as (

    select
        la_code,
        event_id,
        child_id,
        event_type,
        event_at,
        event_date,
        recorded_at,
        episode_id,
        referral_id,
        event_code,
        event_code2,
        event_value
    from ranked
    where version_rank = 1 and not is_deleted

)

select * from latest
