{#-
    Every KPI of the authority months in var('as_reported_scopes') as first reported, built in one
    pass (macros/as_reported.sql): each part of a figure (count, numerator, denominator, days) is a sum
    over children, so the figure as known at the month's cut-off is the latest one, less the revised
    children's part as known now (stand-in `<la>#<month end>`), plus their part as known at the cut-off
    (stand-in `<la>@<month end>`). Rates keep the latest population. Empty outside a publication build.
-#}

with

figures as (

    select * from {{ ref('fct_kpi_monthly') }}

),

scopes as (

    {{ as_reported_scope_rows() }}

),

combined as (

    select
        latest.la_code,
        latest.kpi_id,
        latest.period_end,
        latest.unit,
        latest.period_type,
        latest.numerator
        - coalesce(revised_now.numerator, 0)
        + coalesce(revised_then.numerator, 0) as numerator,
        case
            when latest.unit in ('count', 'rate10k') then latest.denominator
            else
                latest.denominator
                - coalesce(revised_now.denominator, 0)
                + coalesce(revised_then.denominator, 0)
        end as denominator
    from scopes
    inner join figures as latest
        on
            scopes.la_code = latest.la_code
            and scopes.period_end = latest.period_end
    left join figures as revised_now
        on
            concat(scopes.la_code, '#', cast(scopes.period_end as {{ dbt.type_string() }}))
            = revised_now.la_code
            and latest.kpi_id = revised_now.kpi_id
            and scopes.period_end = revised_now.period_end
    left join figures as revised_then
        on
            concat(scopes.la_code, '@', cast(scopes.period_end as {{ dbt.type_string() }}))
            = revised_then.la_code
            and latest.kpi_id = revised_then.kpi_id
            and scopes.period_end = revised_then.period_end

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
        period_type
    from combined

)

select * from final
