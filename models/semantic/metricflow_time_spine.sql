{#- The day-grain time spine MetricFlow joins metrics to (one row per calendar day of the project). -#}
{{ config(materialized='view', schema='semantic') }}

with

dates as (

    select * from {{ ref('dim_date') }}

),

final as (

    select dates.date_day
    from dates

)

select * from final
