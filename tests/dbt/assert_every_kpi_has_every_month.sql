{#- fct_kpi_monthly holds every KPI of dim_kpi for every reporting month of every LA, and no other KPI. -#}
with

expected as (

    select
        months.la_code,
        months.period_end,
        kpis.kpi_id
    from {{ ref('int_la_months_spanned') }} as months
    cross join {{ ref('dim_kpi') }} as kpis

),

actual as (

    select
        la_code,
        period_end,
        kpi_id
    from {{ ref('fct_kpi_monthly') }}

),

missing as (

    select
        expected.*,
        'missing' as problem
    from expected
    left join actual
        on
            expected.la_code = actual.la_code
            and expected.period_end = actual.period_end
            and expected.kpi_id = actual.kpi_id
    where actual.kpi_id is null

),

unexpected as (

    select
        actual.*,
        'not in dim_kpi or not a reporting month' as problem
    from actual
    left join expected
        on
            actual.la_code = expected.la_code
            and actual.period_end = expected.period_end
            and actual.kpi_id = expected.kpi_id
    where expected.kpi_id is null

)

select * from missing
union all
select * from unexpected
