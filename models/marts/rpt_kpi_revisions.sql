{#-
    First reported against latest: one row per published la_code x kpi_id x month, the figure as
    published (fct_kpi_published) beside today's (fct_kpi_monthly) and the change. A month the latest
    view no longer has (its events all deleted since) keeps its row with null latest figures.
-#}
with

published as (

    select * from {{ ref('fct_kpi_published') }}

),

latest as (

    select * from {{ ref('fct_kpi_monthly') }}

),

final as (

    select
        published.la_code,
        published.kpi_id,
        published.period_end,
        published.unit,
        published.period_type,
        published.cutoff_date,
        published.published_at,
        published.numerator as first_reported_numerator,
        published.denominator as first_reported_denominator,
        published.value as first_reported_value,
        latest.numerator as latest_numerator,
        latest.denominator as latest_denominator,
        latest.value as latest_value,
        latest.numerator - published.numerator as numerator_change,
        latest.denominator - published.denominator as denominator_change,
        latest.value - published.value as value_change,
        (
            latest.numerator is distinct from published.numerator
            or latest.denominator is distinct from published.denominator
            or latest.value is distinct from published.value
        ) as is_revised
    from published
    left join latest
        on
            published.la_code = latest.la_code
            and published.kpi_id = latest.kpi_id
            and published.period_end = latest.period_end

)

select * from final
