{#-
    The children an incremental refresh rebuilds (macros/incremental.sql): those with an event version or
    a child version loaded after the incremental models were last built, and every child an event of
    theirs was recorded against before (a correction can move an event to another child). For each, the
    earliest date the change can reach: the earliest date of any version of a changed event, of any event
    of the same episode or referral (an episode's figures can depend on its later events, e.g. a child seen
    before the assessment was authorised), and for a changed child record, the child's first event.
    Empty on a full build: nothing reads it then.
-#}
with

event_versions as (

    select * from {{ ref('stg_case__event_versions') }}

),

child_versions as (

    select * from {{ source('case', 'children') }}

),

watermark as (

    select {{ children_changed_watermark() }} as load_id

),

changed_events as (

    select distinct
        event_versions.la_code,
        event_versions.event_id
    from event_versions
    inner join watermark
        on event_versions.load_id > watermark.load_id

),

changed_event_versions as (

    select
        event_versions.la_code,
        event_versions.child_id,
        event_versions.episode_id,
        event_versions.referral_id,
        event_versions.event_date
    from event_versions
    inner join changed_events
        on
            event_versions.la_code = changed_events.la_code
            and event_versions.event_id = changed_events.event_id

),

episode_first_dates as (

    select
        event_versions.la_code,
        event_versions.episode_id,
        min(event_versions.event_date) as first_event_date
    from event_versions
    where (event_versions.la_code, event_versions.episode_id) in (
        select
            changed_event_versions.la_code,
            changed_event_versions.episode_id
        from changed_event_versions
    )
    group by 1, 2

),

referral_first_dates as (

    select
        event_versions.la_code,
        event_versions.referral_id,
        min(event_versions.event_date) as first_event_date
    from event_versions
    where (event_versions.la_code, event_versions.referral_id) in (
        select
            changed_event_versions.la_code,
            changed_event_versions.referral_id
        from changed_event_versions
    )
    group by 1, 2

),

changed_by_events as (

    select
        changed_event_versions.la_code,
        changed_event_versions.child_id,
        least(
            changed_event_versions.event_date,
            coalesce(episode_first_dates.first_event_date, changed_event_versions.event_date),
            coalesce(referral_first_dates.first_event_date, changed_event_versions.event_date)
        ) as changed_from_date
    from changed_event_versions
    left join episode_first_dates
        on
            changed_event_versions.la_code = episode_first_dates.la_code
            and changed_event_versions.episode_id = episode_first_dates.episode_id
    left join referral_first_dates
        on
            changed_event_versions.la_code = referral_first_dates.la_code
            and changed_event_versions.referral_id = referral_first_dates.referral_id

),

changed_child_records as (

    select distinct
        child_versions.la_code,
        child_versions.child_id
    from child_versions
    inner join watermark
        on child_versions.load_id > watermark.load_id

),

changed_by_child_records as (

    select
        changed_child_records.la_code,
        changed_child_records.child_id,
        coalesce(min(event_versions.event_date), {{ dbt.cast("'1900-01-01'", 'date') }}) as changed_from_date
    from changed_child_records
    left join event_versions
        on
            changed_child_records.la_code = event_versions.la_code
            and changed_child_records.child_id = event_versions.child_id
    group by 1, 2

),

changes as (

    select * from changed_by_events
    union all
    select * from changed_by_child_records

),

final as (

    select
        la_code,
        child_id,
        min(changed_from_date) as changed_from_date
    from changes
    group by 1, 2

)

select * from final
