{#-
    Every KPI of dim_kpi for every reporting month of every LA (kpis.md "Output shape"). Observations
    are summed per month first; a rolling-year KPI then adds its 12 months, so each figure is a sum of
    additive parts (counts, numerators, days) and can be rebuilt one month at a time.
    Incremental (macros/incremental.sql): a refresh recomputes an LA's months from the earliest one its
    changes reach; a rolling year reads the 11 months before it.
-#}
{{ rebuild_scope_config('la_month', 'period_end') }}

with

kpis as (

    select * from {{ ref('dim_kpi') }}

),

months as (

    select * from {{ ref('int_la_months_spanned') }}
    where {{ in_rebuilt_la_months('la_code', 'period_end') }}

),

event_observations as (

    select * from {{ ref('int_event_observations_unioned') }}
    where {{ from_rebuilt_la_months('la_code', 'observed_on', months_before=11) }}
    union all
    select * from {{ ref('int_cla_event_observations_unioned') }}
    where {{ from_rebuilt_la_months('la_code', 'observed_on', months_before=11) }}

),

month_end_observations as (

    select * from {{ ref('int_month_end_observations_unioned') }}
    where {{ from_rebuilt_la_months('la_code', 'observed_on') }}
    union all
    select * from {{ ref('int_cla_month_end_observations_unioned') }}
    where {{ from_rebuilt_la_months('la_code', 'observed_on') }}

),

population as (

    select * from {{ ref('stg_case__population') }}

),

event_totals_by_month as (

    select
        la_code,
        measure_id,
        {{ month_index('observed_on') }} as observed_month_index,
        count(*) as observation_count,
        sum(case when is_in_numerator then 1 else 0 end) as numerator_count,
        sum(measure_value) as measure_total
    from event_observations
    group by 1, 2, 3

),

month_end_totals as (

    select
        la_code,
        measure_id,
        observed_on as period_end,
        count(*) as observation_count,
        sum(case when is_in_numerator then 1 else 0 end) as numerator_count,
        sum(measure_value) as measure_total
    from month_end_observations
    group by 1, 2, 3

),

population_by_year as (

    select
        la_code,
        population_year,
        sum(child_count) as child_count
    from population
    where age_years between 0 and 17
    group by 1, 2

),

latest_population_year as (

    select
        la_code,
        max(population_year) as population_year
    from population_by_year
    group by 1

),

kpi_months as (

    select
        months.la_code,
        months.period_end,
        months.period_month_index,
        kpis.kpi_id,
        kpis.measure_id,
        kpis.unit,
        kpis.period_type,
        kpis.window_months,
        -- Whole only when the LA's data reach back to the window's first month (kpis.md months).
        {{ month_index('months.first_event_date') }}
        <= months.period_month_index - kpis.window_months + 1 as is_window_complete
    from months
    cross join kpis

),

event_window_totals as (

    select
        kpi_months.la_code,
        kpi_months.kpi_id,
        kpi_months.period_end,
        sum(totals.observation_count) as observation_count,
        sum(totals.numerator_count) as numerator_count,
        sum(totals.measure_total) as measure_total
    from kpi_months
    inner join event_totals_by_month as totals
        on
            kpi_months.la_code = totals.la_code
            and kpi_months.measure_id = totals.measure_id
            and kpi_months.period_month_index >= totals.observed_month_index
            and totals.observed_month_index > kpi_months.period_month_index - kpi_months.window_months
    group by 1, 2, 3

),

kpi_totals as (

    select
        kpi_months.la_code,
        kpi_months.kpi_id,
        kpi_months.period_end,
        kpi_months.unit,
        kpi_months.period_type,
        kpi_months.is_window_complete,
        coalesce(event_window_totals.observation_count, month_end_totals.observation_count, 0)
            as observation_count,
        coalesce(event_window_totals.numerator_count, month_end_totals.numerator_count, 0) as numerator_count,
        coalesce(event_window_totals.measure_total, month_end_totals.measure_total, 0) as measure_total,
        coalesce(same_year.child_count, latest_year.child_count) as child_population
    from kpi_months
    left join event_window_totals
        on
            kpi_months.la_code = event_window_totals.la_code
            and kpi_months.kpi_id = event_window_totals.kpi_id
            and kpi_months.period_end = event_window_totals.period_end
    left join month_end_totals
        on
            kpi_months.la_code = month_end_totals.la_code
            and kpi_months.measure_id = month_end_totals.measure_id
            and kpi_months.period_end = month_end_totals.period_end
    left join population_by_year as same_year
        on
            kpi_months.la_code = same_year.la_code
            and extract(year from kpi_months.period_end) = same_year.population_year
    left join latest_population_year
        on kpi_months.la_code = latest_population_year.la_code
    left join population_by_year as latest_year
        on
            latest_population_year.la_code = latest_year.la_code
            and latest_population_year.population_year = latest_year.population_year

),

figures as (

    select
        la_code,
        kpi_id,
        period_end,
        unit,
        period_type,
        is_window_complete,
        cast(case
            when unit in ('count', 'rate10k') then observation_count
            when unit = 'pct' then numerator_count
            else measure_total
        end as double) as numerator,
        cast(case
            when unit = 'count' then null
            when unit = 'rate10k' then child_population
            else observation_count
        end as double) as denominator
    from kpi_totals

),

final as (

    select
        la_code,
        kpi_id,
        period_end,
        numerator,
        denominator,
        {{ kpi_value('unit', 'numerator', 'denominator') }} as value,
        unit,
        period_type,
        is_window_complete,
        {% if var('as_of') -%}
            cast('{{ var("as_of") }}' as date)
        {%- else -%}
            cast(null as date)
        {%- endif %} as as_of_date
    from figures

)

select * from final
