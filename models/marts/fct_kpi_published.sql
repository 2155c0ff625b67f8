{#-
    KPI figures as first reported: one row per la_code x kpi_id x period_end that has been published,
    with the figures of fct_kpi_monthly computed from the event versions recorded by the month's
    reporting cut-off (case-events.md "Snapshots and revisions"). The log behind it is append-only, so a
    later run never changes a row here; only `cscw backfill --replace` publishes a month again, and then
    its newest publication is the one in force (publication_count says how many there were).
-#}
with

figures as (

    select * from {{ ref('stg_publications__kpi_figures') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by la_code, kpi_id, period_end
            order by published_at desc, publication_id desc
        ) as publication_rank,
        count(*) over (partition by la_code, kpi_id, period_end) as publication_count,
        min(published_at) over (partition by la_code, kpi_id, period_end) as first_published_at
    from figures

),

final as (

    select
        la_code,
        kpi_id,
        period_end,
        numerator,
        denominator,
        value,
        unit,
        period_type,
        cutoff_date,
        cutoff_working_days,
        publication_id,
        published_at,
        publication_reason,
        first_published_at,
        publication_count
    from ranked
    where publication_rank = 1

)

select * from final
