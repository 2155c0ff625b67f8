with

dates as (

    select * from {{ ref('int_dates_numbered') }}

),

bank_holidays as (

    select * from {{ ref('bank_holidays') }}

),

final as (

    select
        dates.*,
        bank_holidays.holiday_name,
        {{ month_start('dates.date_day') }} as month_start_date,
        {{ month_end('dates.date_day') }} as month_end_date
    from dates
    left join bank_holidays
        on dates.date_day = cast(bank_holidays.holiday_date as date)

)

select * from final
