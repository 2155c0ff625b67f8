{#-
    Calendar months. reporting_cutoff_date is the month's reporting cut-off: its last day plus
    var('reporting_cutoff_working_days') working days (0: the last day itself, working day or not), as
    add_wd of kpis.md counts them. Figures "as first reported" for the month are computed from the event
    versions recorded by the end of that day.
-#}
{%- set cutoff_working_days = var('reporting_cutoff_working_days') | int -%}

with

dates as (

    select * from {{ ref('int_dates_numbered') }}

),

working_days as (

    select
        working_day_seq,
        date_day
    from dates
    where is_working_day

),

cutoffs as (

    select
        month_ends.date_day as month_end_date,
        case
            when {{ cutoff_working_days }} = 0 then month_ends.date_day else cutoff_day.date_day
        end as reporting_cutoff_date
    from dates as month_ends
    left join working_days as cutoff_day
        on month_ends.working_day_seq + {{ cutoff_working_days }} = cutoff_day.working_day_seq
    where month_ends.is_month_end

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

months_with_cutoffs as (

    select
        months.*,
        cutoffs.reporting_cutoff_date
    from months
    left join cutoffs
        on months.month_end_date = cutoffs.month_end_date

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
        -- The last day of the month's quarter (financial quarters end in the same months).
        {{ month_end(add_months(
            'month_start_date', '2 - (cast(extract(month from month_end_date) as integer) - 1) % 3'
        )) }} as quarter_end_date,
        working_days,
        bank_holidays,
        reporting_cutoff_date,
        {{ cutoff_working_days }} as reporting_cutoff_working_days
    from months_with_cutoffs

)

select * from final
