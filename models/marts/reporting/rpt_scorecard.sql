{#-
    The committee scorecard: one row per la_code x kpi_id x reporting period (every month end, and every
    quarter end whose three months are reporting months), as the seeds' reports lay it out. The rules
    are in this model's description in _marts__models.yml.
-#}
{%- set string = dbt.type_string() -%}
{#- A period's label from dim_month's columns of a relation (Q4 2017-18, or 2018-03 for a month). -#}
{%- set period_label = {} -%}
{%- for relation in ['assessed', 'previous_months'] -%}
    {%- set quarter_case = "case when assessed.reporting_period = 'quarter' then " -%}
    {%- do period_label.update({relation: quarter_case ~ dbt.concat([
        "'Q'", "cast(" ~ relation ~ ".financial_quarter as " ~ string ~ ")", "' '",
        "cast(" ~ relation ~ ".financial_year_start as " ~ string ~ ")", "'-'",
        dbt.right("cast(" ~ relation ~ ".financial_year_start + 1 as " ~ string ~ ")", "2"),
    ]) ~ " else " ~ dbt.concat([
        "cast(" ~ relation ~ ".calendar_year as " ~ string ~ ")", "'-'",
        dbt.right(dbt.concat(["'0'", "cast(" ~ relation ~ ".calendar_month as " ~ string ~ ")"]), "2"),
    ]) ~ " end"}) -%}
{%- endfor -%}
{#- A month's name from its number. -#}
{%- set month_name = {} -%}
{%- for expression in ['assessed.calendar_month', 'assessed.calendar_month - 2'] -%}
    {%- set whens = [] -%}
    {%- for name in ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
                     'September', 'October', 'November', 'December'] -%}
        {%- do whens.append("when " ~ loop.index ~ " then '" ~ name ~ "'") -%}
    {%- endfor -%}
    {%- do month_name.update({expression: "case " ~ expression ~ " " ~ whens | join(" ") ~ " end"}) -%}
{%- endfor -%}
{%- set min_authorities = var('benchmark_min_authorities') | int -%}

with

figures as (

    select * from {{ ref('int_kpi_periods_aggregated') }}

),

computed as (

    select * from {{ ref('int_kpi_benchmarks_computed') }}

),

kpis as (

    select * from {{ ref('dim_kpi') }}

),

months as (

    select * from {{ ref('dim_month') }}

),

targets as (

    select * from {{ ref('kpi_targets') }}

),

benchmarks as (

    select * from {{ ref('kpi_benchmarks') }}

),

periods as (

    select
        figures.*,
        months.financial_year_start,
        months.financial_quarter,
        months.calendar_year,
        months.calendar_month,
        case
            when figures.reporting_period = 'quarter'
                then {{ add_days(month_start(add_months(month_start('figures.period_end'), -2)), -1) }}
            else {{ add_days(month_start('figures.period_end'), -1) }}
        end as previous_period_end
    from figures
    inner join months
        on figures.period_end = months.month_end_date

),

-- Targets: the period's financial year, else the nearest year with a target for the LA and KPI (the
-- later one when two are as near).
target_candidates as (

    select
        periods.la_code,
        periods.kpi_id,
        periods.reporting_period,
        periods.period_end,
        targets.financial_year_start as target_financial_year_start,
        targets.target,
        targets.amber_tolerance_pct,
        targets.source,
        row_number() over (
            partition by periods.la_code, periods.kpi_id, periods.reporting_period, periods.period_end
            order by
                abs(targets.financial_year_start - periods.financial_year_start),
                targets.financial_year_start desc
        ) as year_rank,
        case
            when targets.financial_year_start = periods.financial_year_start then 'year' else 'nearest year'
        end as target_basis
    from periods
    inner join targets
        on
            periods.la_code = targets.la_code
            and periods.kpi_id = targets.kpi_id

),

chosen_targets as (

    select * from target_candidates
    where year_rank = 1

),

-- Seeded benchmarks: for each kind, the latest financial year on or before the period's; national
-- figures and quartile boundaries have no la_code, neighbour averages the LA's own.
seeded_candidates as (

    select
        periods.la_code,
        periods.kpi_id,
        periods.reporting_period,
        periods.period_end,
        benchmarks.benchmark,
        benchmarks.value,
        benchmarks.source,
        row_number() over (
            partition by
                periods.la_code, periods.kpi_id, periods.reporting_period, periods.period_end,
                benchmarks.benchmark
            order by benchmarks.financial_year_start desc
        ) as year_rank
    from periods
    inner join benchmarks
        on
            periods.kpi_id = benchmarks.kpi_id
            and periods.financial_year_start >= benchmarks.financial_year_start
            and (
                (benchmarks.benchmark = 'neighbour_average' and periods.la_code = benchmarks.la_code)
                or (benchmarks.benchmark <> 'neighbour_average' and benchmarks.la_code is null)
            )

),

seeded as (

    select
        la_code,
        kpi_id,
        reporting_period,
        period_end,
        max(case when benchmark = 'national_average' then value end) as national_average,
        max(case when benchmark = 'national_average' then source end) as national_average_source,
        max(case when benchmark = 'neighbour_average' then value end) as neighbour_average,
        max(case when benchmark = 'neighbour_average' then source end) as neighbour_average_source,
        max(case when benchmark = 'lower_quartile' then value end) as lower_quartile,
        max(case when benchmark = 'median' then value end) as median,
        max(case when benchmark = 'upper_quartile' then value end) as upper_quartile,
        max(case when benchmark in ('lower_quartile', 'median', 'upper_quartile') then source end)
            as quartile_source
    from seeded_candidates
    where year_rank = 1
    group by 1, 2, 3, 4

),

compared as (

    select
        current_period.la_code,
        current_period.kpi_id,
        current_period.reporting_period,
        current_period.period_end,
        current_period.financial_year_start,
        current_period.financial_quarter,
        current_period.calendar_year,
        current_period.calendar_month,
        kpis.kpi_name,
        kpis.section,
        kpis.is_headline,
        kpis.area,
        kpis.unit,
        kpis.period_type,
        kpis.polarity,
        kpis.display_order,
        current_period.numerator,
        current_period.denominator,
        current_period.value,
        current_period.is_window_complete,
        current_period.is_published,
        current_period.first_reported_numerator,
        current_period.first_reported_denominator,
        current_period.first_reported_value,
        current_period.first_reported_cutoff_date,
        current_period.previous_period_end,
        previous_period.numerator as previous_numerator,
        previous_period.denominator as previous_denominator,
        previous_period.value as previous_value,
        previous_period.is_window_complete as previous_is_window_complete,
        coalesce(previous_period.is_published, false) as previous_is_published,
        previous_period.first_reported_value as previous_first_reported_value,
        previous_period.first_reported_numerator as previous_first_reported_numerator,
        previous_period.first_reported_denominator as previous_first_reported_denominator,
        chosen_targets.target,
        coalesce(chosen_targets.amber_tolerance_pct, {{ var('rag_amber_tolerance_pct') }})
            as amber_tolerance_pct,
        chosen_targets.source as target_source,
        chosen_targets.target_financial_year_start,
        chosen_targets.target_basis,
        computed.authorities_with_value,
        computed.national_value as computed_national_average,
        computed.neighbours_loaded,
        computed.neighbour_value as computed_neighbour_average,
        computed.authorities_ranked,
        computed.quartile as computed_quartile,
        seeded.national_average as seeded_national_average,
        seeded.national_average_source,
        seeded.neighbour_average as seeded_neighbour_average,
        seeded.neighbour_average_source,
        seeded.lower_quartile,
        seeded.median,
        seeded.upper_quartile,
        seeded.quartile_source
    from periods as current_period
    inner join kpis
        on current_period.kpi_id = kpis.kpi_id
    left join periods as previous_period
        on
            current_period.la_code = previous_period.la_code
            and current_period.kpi_id = previous_period.kpi_id
            and current_period.reporting_period = previous_period.reporting_period
            and current_period.previous_period_end = previous_period.period_end
    left join chosen_targets
        on
            current_period.la_code = chosen_targets.la_code
            and current_period.kpi_id = chosen_targets.kpi_id
            and current_period.reporting_period = chosen_targets.reporting_period
            and current_period.period_end = chosen_targets.period_end
    left join computed
        on
            current_period.la_code = computed.la_code
            and current_period.kpi_id = computed.kpi_id
            and current_period.reporting_period = computed.reporting_period
            and current_period.period_end = computed.period_end
    left join seeded
        on
            current_period.la_code = seeded.la_code
            and current_period.kpi_id = seeded.kpi_id
            and current_period.reporting_period = seeded.reporting_period
            and current_period.period_end = seeded.period_end

),

assessed as (

    select
        *,
        case
            when value is null then null
            when polarity = 'high' and upper_quartile is not null and value >= upper_quartile then 1
            when
                polarity = 'high' and upper_quartile is not null and median is not null and value >= median
                then 2
            when
                polarity = 'high' and median is not null and lower_quartile is not null
                and value < median and value >= lower_quartile then 3
            when polarity = 'high' and lower_quartile is not null and value < lower_quartile then 4
            when polarity = 'low' and lower_quartile is not null and value <= lower_quartile then 1
            when
                polarity = 'low' and lower_quartile is not null and median is not null and value <= median
                then 2
            when
                polarity = 'low' and median is not null and upper_quartile is not null
                and value > median and value <= upper_quartile then 3
            when polarity = 'low' and upper_quartile is not null and value > upper_quartile then 4
        end as seeded_quartile,
        case
            when polarity not in ('high', 'low') then 'n/a'
            when value is null or previous_value is null then null
            when round(value, 6) = round(previous_value, 6) then 'no change'
            when polarity = 'high' and value > previous_value then 'improved'
            when polarity = 'low' and value < previous_value then 'improved'
            else 'declined'
        end as direction_of_travel,
        case
            when value is null or previous_value is null then null
            when round(value, 6) = round(previous_value, 6) then 'same'
            when value > previous_value then 'up'
            else 'down'
        end as value_change,
        case
            when polarity not in ('high', 'low') or target is null or value is null then null
            when polarity = 'high' and value >= target then 'green'
            when polarity = 'low' and value <= target then 'green'
            when polarity = 'high' and value >= target * (1 - amber_tolerance_pct / 100.0) then 'amber'
            when polarity = 'low' and value <= target * (1 + amber_tolerance_pct / 100.0) then 'amber'
            else 'red'
        end as rag
    from compared

),

labelled as (

    select
        assessed.*,
        {{ period_label['assessed'] }} as period_label,
        case
            when assessed.reporting_period = 'quarter'
                then {{ dbt.concat([
                    month_name['assessed.calendar_month - 2'], "' to '", month_name['assessed.calendar_month'],
                    "' '", "cast(assessed.calendar_year as " ~ string ~ ")",
                ]) }}
            else {{ dbt.concat([
                month_name['assessed.calendar_month'], "' '", "cast(assessed.calendar_year as " ~ string ~ ")",
            ]) }}
        end as period_name,
        {{ period_label['previous_months'] }} as previous_period_label
    from assessed
    left join months as previous_months
        on assessed.previous_period_end = previous_months.month_end_date

),

final as (

    select
        la_code,
        reporting_period,
        period_end,
        period_label,
        period_name,
        previous_period_label,
        section,
        is_headline,
        financial_year_start,
        financial_quarter,
        kpi_id,
        kpi_name,
        area,
        unit,
        period_type,
        polarity,
        display_order,
        numerator,
        denominator,
        value,
        is_window_complete,
        value_change as change,  -- noqa: RF04
        is_published,
        first_reported_numerator,
        first_reported_denominator,
        first_reported_value,
        first_reported_cutoff_date,
        coalesce(
            is_published and (
                numerator is distinct from first_reported_numerator
                or denominator is distinct from first_reported_denominator
                or value is distinct from first_reported_value
            ),
            false
        ) as is_revised,
        previous_period_end,
        previous_numerator,
        previous_denominator,
        previous_value,
        previous_is_window_complete,
        previous_first_reported_numerator,
        previous_first_reported_denominator,
        previous_first_reported_value,
        coalesce(
            previous_is_published and (
                previous_numerator is distinct from previous_first_reported_numerator
                or previous_denominator is distinct from previous_first_reported_denominator
                or previous_value is distinct from previous_first_reported_value
            ),
            false
        ) as previous_is_revised,
        direction_of_travel,
        target,
        target_financial_year_start,
        target_basis,
        amber_tolerance_pct,
        rag,
        target_source,
        case
            when neighbours_loaded > 0 then computed_neighbour_average else seeded_neighbour_average
        end as neighbour_average,
        case
            when neighbours_loaded > 0 then 'loaded'
            when seeded_neighbour_average is not null then 'seed'
        end as neighbour_average_basis,
        neighbours_loaded,
        case when neighbours_loaded = 0 then neighbour_average_source end as neighbour_average_source,
        case
            when authorities_with_value >= {{ min_authorities }} and computed_national_average is not null
                then computed_national_average
            else seeded_national_average
        end as national_average,
        case
            when authorities_with_value >= {{ min_authorities }} and computed_national_average is not null
                then 'loaded'
            when seeded_national_average is not null then 'seed'
        end as national_average_basis,
        authorities_with_value as authorities_loaded,
        case
            when
                not (
                    authorities_with_value >= {{ min_authorities }} and computed_national_average is not null
                )
                then national_average_source
        end as national_average_source,
        case
            when unit = 'count' or polarity not in ('high', 'low') then null
            when authorities_ranked >= {{ min_authorities }} then computed_quartile
            else seeded_quartile
        end as quartile,
        case
            when unit = 'count' or polarity not in ('high', 'low') then null
            when authorities_ranked >= {{ min_authorities }} then 'loaded'
            when seeded_quartile is not null then 'seed'
        end as quartile_basis,
        case
            when
                unit <> 'count' and polarity in ('high', 'low') and authorities_ranked < {{ min_authorities }}
                and seeded_quartile is not null
                then quartile_source
        end as quartile_source
    from labelled

)

select * from final
