{#-
    Every calendar day with its working-day number, so add_wd / sub_wd of kpis.md become equality joins:
    add_wd(d, n) is the working day numbered working_day_seq(d) + n (d itself is day 0, working or not);
    sub_wd(d, n) is the working day numbered (working days strictly before d) - n + 1.
-#}
{%- set offsets = var('working_day_offsets') -%}

with

bank_holidays as (

    select cast(holiday_date as date) as holiday_date from {{ ref('bank_holidays') }}

),

spine as (

    {{ date_spine(var('calendar_start'), var('calendar_end')) }}

),

flagged as (

    select
        spine.date_day,
        bank_holidays.holiday_date is not null as is_bank_holiday,
        {{ is_weekend('spine.date_day') }} as is_weekend,
        (not {{ is_weekend('spine.date_day') }} and bank_holidays.holiday_date is null) as is_working_day
    from spine
    left join bank_holidays
        on spine.date_day = bank_holidays.holiday_date

),

numbered as (

    select
        date_day,
        is_bank_holiday,
        is_weekend,
        is_working_day,
        sum(case when is_working_day then 1 else 0 end) over (
            order by date_day rows between unbounded preceding and current row
        ) as working_day_seq
    from flagged

),

working_days as (

    select
        working_day_seq,
        date_day
    from numbered
    where is_working_day

),

final as (

    select
        numbered.date_day,
        numbered.is_bank_holiday,
        numbered.is_weekend,
        numbered.is_working_day,
        {% for n in offsets -%}
            add_wd_{{ n }}.date_day as add_wd_{{ n }}_date,
            sub_wd_{{ n }}.date_day as sub_wd_{{ n }}_date,
        {% endfor -%}
        cast(numbered.working_day_seq as bigint) as working_day_seq,
        numbered.date_day = {{ month_end('numbered.date_day') }} as is_month_end
    from numbered
    {% for n in offsets -%}
        left join working_days as add_wd_{{ n }}
            on numbered.working_day_seq + {{ n }} = add_wd_{{ n }}.working_day_seq
        left join working_days as sub_wd_{{ n }}
            on
                numbered.working_day_seq - (case when numbered.is_working_day then 1 else 0 end) - {{ n }} + 1
                = sub_wd_{{ n }}.working_day_seq
    {% endfor %}

)

select * from final
