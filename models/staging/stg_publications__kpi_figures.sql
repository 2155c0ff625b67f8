{#-
    Every published KPI figure (raw.kpi_published), typed; one row per publication x la_code x kpi_id x
    period_end. Nothing dropped: fct_kpi_published picks the publication in force.
-#}
with

source as (

    select * from {{ source('publications', 'kpi_published') }}

),

renamed as (

    select
        publication_id,
        cast(published_at as timestamp) as published_at,
        publication_reason,
        cast(cutoff_date as date) as cutoff_date,
        cast(cutoff_working_days as integer) as cutoff_working_days,
        la_code,
        kpi_id,
        cast(period_end as date) as period_end,
        cast(numerator as double) as numerator,
        cast(denominator as double) as denominator,
        cast(value as double) as value,
        unit,
        period_type
    from source

)

select * from renamed
