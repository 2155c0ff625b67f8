with

source as (

    select * from {{ source('case', 'events') }}

),

renamed as (

    select
        la_code,
        event_id,
        child_id,
        event_type,
        cast(event_at as timestamp) as event_at,
        cast(event_at as date) as event_date,
        cast(recorded_at as timestamp) as recorded_at,
        episode_id,
        referral_id,
        code as event_code,
        code2 as event_code2,
        cast(value as double) as event_value,
        coalesce(is_deleted, false) as is_deleted,
        load_id
    from source

)

select * from renamed
