{#-
    Every KPI of every LA for every reporting period: each month of fct_kpi_monthly and each calendar
    quarter (ending March, June, September, December) whose three months are all reporting months, with
    the latest figure and the figure as first reported (fct_kpi_published).
    Quarters: a PIT or R12M KPI takes its quarter-end month's figure; an IN-MONTH KPI adds the numerators
    and denominators of its three months (a rate10k keeps the quarter-end month's population) and
    recomputes the value. A figure is whole (is_window_complete) when its month's is; an IN-MONTH
    quarter when all three months' are. A quarter's first-reported IN-MONTH figure adds its months' first-reported
    figures, and exists only when all three months were published.
-#}
with

monthly as (

    select * from {{ ref('fct_kpi_monthly') }}

),

published as (

    select * from {{ ref('fct_kpi_published') }}

),

months as (

    select * from {{ ref('dim_month') }}

),

month_figures as (

    select
        monthly.la_code,
        monthly.kpi_id,
        monthly.period_end,
        months.quarter_end_date,
        monthly.unit,
        monthly.period_type,
        monthly.numerator,
        monthly.denominator,
        monthly.value,
        monthly.is_window_complete,
        published.period_end is not null as is_published,
        published.numerator as first_reported_numerator,
        published.denominator as first_reported_denominator,
        published.value as first_reported_value,
        published.cutoff_date as first_reported_cutoff_date
    from monthly
    inner join months
        on monthly.period_end = months.month_end_date
    left join published
        on
            monthly.la_code = published.la_code
            and monthly.kpi_id = published.kpi_id
            and monthly.period_end = published.period_end

),

quarter_totals as (

    select
        la_code,
        kpi_id,
        quarter_end_date as period_end,
        unit,
        period_type,
        count(*) as months_in_period,
        min(case when is_window_complete then 1 else 0 end) as all_months_complete,
        max(case when period_end = quarter_end_date and is_window_complete then 1 else 0 end)
            as end_month_complete,
        sum(case when is_published then 1 else 0 end) as months_published,
        sum(numerator) as month_numerator_total,
        sum(denominator) as month_denominator_total,
        sum(first_reported_numerator) as first_reported_numerator_total,
        sum(first_reported_denominator) as first_reported_denominator_total,
        max(case when period_end = quarter_end_date then numerator end) as end_numerator,
        max(case when period_end = quarter_end_date then denominator end) as end_denominator,
        max(case when period_end = quarter_end_date then first_reported_numerator end)
            as end_first_reported_numerator,
        max(case when period_end = quarter_end_date then first_reported_denominator end)
            as end_first_reported_denominator,
        max(case when period_end = quarter_end_date then first_reported_cutoff_date end)
            as end_first_reported_cutoff_date,
        max(case when period_end = quarter_end_date and is_published then 1 else 0 end) as end_published
    from month_figures
    group by 1, 2, 3, 4, 5

),

quarter_counts as (

    select
        la_code,
        kpi_id,
        period_end,
        unit,
        period_type,
        case when period_type = 'IN-MONTH' then month_numerator_total else end_numerator end as numerator,
        case
            when period_type = 'IN-MONTH' and unit <> 'rate10k' then month_denominator_total
            else end_denominator
        end as denominator,
        case
            when period_type = 'IN-MONTH' then all_months_complete = 1 else end_month_complete = 1
        end as is_window_complete,
        case
            when period_type <> 'IN-MONTH' then end_published = 1
            else months_published = 3
        end as is_published,
        case
            when period_type <> 'IN-MONTH' then end_first_reported_numerator
            when months_published = 3 then first_reported_numerator_total
        end as first_reported_numerator,
        case
            when period_type <> 'IN-MONTH' or unit = 'rate10k' then end_first_reported_denominator
            when months_published = 3 then first_reported_denominator_total
        end as first_reported_denominator,
        end_first_reported_cutoff_date as first_reported_cutoff_date
    from quarter_totals
    where months_in_period = 3

),

quarter_figures as (

    select
        la_code,
        kpi_id,
        'quarter' as reporting_period,
        period_end,
        unit,
        period_type,
        numerator,
        denominator,
        {{ kpi_value('unit', 'numerator', 'denominator') }} as value,
        is_window_complete,
        is_published,
        first_reported_numerator,
        first_reported_denominator,
        case
            when
                is_published
                then {{ kpi_value('unit', 'first_reported_numerator', 'first_reported_denominator') }}
        end as first_reported_value,
        case when is_published then first_reported_cutoff_date end as first_reported_cutoff_date
    from quarter_counts

),

final as (

    select
        la_code,
        kpi_id,
        'month' as reporting_period,
        period_end,
        unit,
        period_type,
        numerator,
        denominator,
        value,
        is_window_complete,
        is_published,
        first_reported_numerator,
        first_reported_denominator,
        first_reported_value,
        first_reported_cutoff_date
    from month_figures
    union all
    select
        la_code,
        kpi_id,
        reporting_period,
        period_end,
        unit,
        period_type,
        numerator,
        denominator,
        value,
        is_window_complete,
        is_published,
        first_reported_numerator,
        first_reported_denominator,
        first_reported_value,
        first_reported_cutoff_date
    from quarter_figures

)

select * from final
