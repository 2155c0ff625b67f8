{#-
    Comparisons computed from the loaded authorities, per la_code x kpi_id x reporting period (month or
    quarter, latest figures of int_kpi_periods_aggregated):
    - national: every loaded authority with a row, sum of numerators / sum of denominators, the value by
      unit (none for count KPIs: a count is not comparable between authorities of different sizes);
    - neighbours: the same over the LA's neighbours of the seed la_neighbours that are loaded;
    - quartile: authorities with a value ranked best first by polarity (high: largest first), tied
      values sharing a rank; quartile = floor(4 * (rank - 1) / authorities ranked) + 1, so 1 is the best
      25%. Only for pct, rate10k, days and score KPIs with a polarity, and only when at least
      var('benchmark_min_authorities') authorities have a value; otherwise null.
-#}
with

figures as (

    select * from {{ ref('int_kpi_periods_aggregated') }}

),

kpis as (

    select * from {{ ref('dim_kpi') }}

),

neighbours as (

    select * from {{ ref('la_neighbours') }}

),

national_totals as (

    select
        kpi_id,
        reporting_period,
        period_end,
        unit,
        count(*) as authorities_loaded,
        count(value) as authorities_with_value,
        sum(numerator) as national_numerator,
        sum(denominator) as national_denominator
    from figures
    group by 1, 2, 3, 4

),

neighbour_totals as (

    select
        neighbours.la_code,
        figures.kpi_id,
        figures.reporting_period,
        figures.period_end,
        count(*) as neighbours_loaded,
        sum(figures.numerator) as neighbour_numerator,
        sum(figures.denominator) as neighbour_denominator
    from neighbours
    inner join figures
        on neighbours.neighbour_la_code = figures.la_code
    group by 1, 2, 3, 4

),

rankable as (

    select
        figures.la_code,
        figures.kpi_id,
        figures.reporting_period,
        figures.period_end,
        case when kpis.polarity = 'high' then -figures.value else figures.value end as rank_key
    from figures
    inner join kpis
        on figures.kpi_id = kpis.kpi_id
    where
        figures.value is not null
        and kpis.polarity in ('high', 'low')
        and kpis.unit <> 'count'

),

ranked as (

    select
        la_code,
        kpi_id,
        reporting_period,
        period_end,
        rank() over (partition by kpi_id, reporting_period, period_end order by rank_key) as value_rank,
        count(*) over (partition by kpi_id, reporting_period, period_end) as authorities_ranked
    from rankable

),

final as (

    select
        figures.la_code,
        figures.kpi_id,
        figures.reporting_period,
        figures.period_end,
        national_totals.authorities_loaded,
        national_totals.authorities_with_value,
        national_totals.national_numerator,
        national_totals.national_denominator,
        case
            when figures.unit <> 'count'
                then {{ kpi_value(
                    'figures.unit', 'national_totals.national_numerator', 'national_totals.national_denominator'
                ) }}
        end as national_value,
        coalesce(neighbour_totals.neighbours_loaded, 0) as neighbours_loaded,
        neighbour_totals.neighbour_numerator,
        neighbour_totals.neighbour_denominator,
        case
            when figures.unit <> 'count'
                then {{ kpi_value(
                    'figures.unit', 'neighbour_totals.neighbour_numerator', 'neighbour_totals.neighbour_denominator'
                ) }}
        end as neighbour_value,
        coalesce(ranked.authorities_ranked, 0) as authorities_ranked,
        case
            when ranked.authorities_ranked >= {{ var('benchmark_min_authorities') | int }}
                then cast(floor(4.0 * (ranked.value_rank - 1) / ranked.authorities_ranked) as integer) + 1
        end as quartile
    from figures
    inner join national_totals
        on
            figures.kpi_id = national_totals.kpi_id
            and figures.reporting_period = national_totals.reporting_period
            and figures.period_end = national_totals.period_end
    left join neighbour_totals
        on
            figures.la_code = neighbour_totals.la_code
            and figures.kpi_id = neighbour_totals.kpi_id
            and figures.reporting_period = neighbour_totals.reporting_period
            and figures.period_end = neighbour_totals.period_end
    left join ranked
        on
            figures.la_code = ranked.la_code
            and figures.kpi_id = ranked.kpi_id
            and figures.reporting_period = ranked.reporting_period
            and figures.period_end = ranked.period_end

)

select * from final
