with

dates as (

    select * from {{ ref('int_dates_numbered') }}

),

months as (

    select
        {{ month_end('date_day') }} as month_end_date,
        min(date_day) as month_start_date,
        sum(case when is_working_day then 1 else 0 end) as working_days,
        sum(case when is_bank_holiday then 1 else 0 end) as bank_holidays
    from dates
    group by 1

),

final as (

    select
        month_end_date,
        month_start_date,
        cast(extract(year from month_end_date) as integer) as calendar_year,
        cast(extract(month from month_end_date) as integer) as calendar_month,
        -- English financial years run April to March: 2017-18 is April 2017 to March 2018.
        cast(
            case
                when extract(month from month_end_date) >= 4 then extract(year from month_end_date)
                else extract(year from month_end_date) - 1
            end as integer
        ) as financial_year_start,
        cast(floor((extract(month from month_end_date) + 8) % 12 / 3) + 1 as integer) as financial_quarter,
        extract(month from month_end_date) in (3, 6, 9, 12) as is_quarter_end,
        working_days,
        bank_holidays
    from months

)

select * from final
