with

source as (

    select * from {{ source('case', 'children') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by la_code, child_id
            order by recorded_at desc, load_id desc
        ) as version_rank
    from source

),

renamed as (

    select
        la_code,
        child_id,
        sex,
        cast(birth_month as date) as birth_month,
        ethnicity as ethnicity_code,
        coalesce(disabled, false) as is_disabled,
        cast(recorded_at as timestamp) as recorded_at
    from ranked
    where version_rank = 1

)

select * from renamed
