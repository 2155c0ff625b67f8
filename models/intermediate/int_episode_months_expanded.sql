{#-
    One row per episode open at an LA month end: start <= period_end and (no end or end > period_end),
    so an episode that starts and ends on the same day is never open at a month end (kpis.md).
    Episode types with a point-in-time KPI only (contacts and S47s have no open state).
-#}
{{ rebuild_scope_config('child_month', 'period_end') }}

with

episodes as (

    select * from {{ ref('int_episodes_built') }}
    where
        {{ open_after_frontier('la_code', 'child_id', 'end_date') }}
        and has_start
        and episode_type in ('referral', 'assessment', 'cin_plan', 'cp_plan', 'early_help')

),

months as (

    select * from {{ ref('int_la_months_spanned') }}

),

final as (

    select
        episodes.la_code,
        episodes.episode_type,
        episodes.episode_id,
        episodes.child_id,
        months.period_end,
        episodes.start_date,
        episodes.end_date
    from episodes
    inner join months
        on
            episodes.la_code = months.la_code
            and episodes.start_date <= months.period_end
            and (episodes.end_date is null or episodes.end_date > months.period_end)

)

select * from final
where {{ in_changed_children_or_new_months('la_code', 'child_id', 'period_end') }}
