with

source as (

    select * from {{ source('case', 'population') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by la_code, year, age, sex
            order by load_id desc
        ) as version_rank
    from source

),

renamed as (

    select
        la_code,
        cast(year as integer) as population_year,
        cast(age as integer) as age_years,
        sex,
        cast(count as bigint) as child_count
    from ranked
    where version_rank = 1

)

select * from renamed
