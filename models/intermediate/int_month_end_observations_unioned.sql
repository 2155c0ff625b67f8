{#-
    KPI observations at each LA month end (point-in-time KPIs): one row per child (or per assessment,
    where the KPI counts assessments) in the KPI's population at the end of day period_end, with
    whether it is in the numerator.
-#}
{{ rebuild_scope_config('child_month', 'observed_on') }}

with

episode_months as (

    select * from {{ ref('int_episode_months_expanded') }}
    where {{ in_changed_children_or_new_months('la_code', 'child_id', 'period_end') }}

),

events as (

    select * from {{ ref('stg_case__events') }}

),

months as (

    select * from {{ ref('int_la_months_spanned') }}

),

dates as (

    select * from {{ ref('int_dates_numbered') }}

),

reviews as (

    select * from {{ ref('int_reviews_sequenced') }}
    where episode_type = 'cp_plan'

),

open_assessments as (

    select
        episode_months.*,
        start_day.add_wd_45_date
    from episode_months
    left join dates as start_day
        on episode_months.start_date = start_day.date_day
    where episode_months.episode_type = 'assessment'

),

children_open as (

    select
        la_code,
        episode_type,
        child_id,
        period_end,
        min(start_date) as first_open_start_date,
        max(start_date) as last_open_start_date
    from episode_months
    where episode_type in ('referral', 'cin_plan', 'cp_plan')
    group by 1, 2, 3, 4

),

children_on_cp_plans as (

    select
        children_open.*,
        period_day.sub_wd_10_date
    from children_open
    inner join dates as period_day
        on children_open.period_end = period_day.date_day
    where children_open.episode_type = 'cp_plan'

),

cp_visits as (

    select
        events.la_code,
        events.child_id,
        events.event_date,
        visit_day.add_wd_10_date
    from events
    inner join dates as visit_day
        on events.event_date = visit_day.date_day
    where events.event_type = 'child_seen' and events.event_code = 'cp'

),

cp_visits_in_time as (

    select distinct
        cp_visits.la_code,
        cp_visits.child_id,
        months.period_end
    from cp_visits
    inner join months
        on
            cp_visits.la_code = months.la_code
            and cp_visits.event_date <= months.period_end
            and cp_visits.add_wd_10_date >= months.period_end

),

cp_children_seen as (

    select
        cp_plan.*,
        visits.child_id is not null as has_visit_in_10wd
    from children_on_cp_plans as cp_plan
    left join cp_visits_in_time as visits
        on
            cp_plan.la_code = visits.la_code
            and cp_plan.child_id = visits.child_id
            and cp_plan.period_end = visits.period_end

),

children_allocated as (

    -- Allocated when the latest allocation on period_end is dated on or after the referral's start:
    -- the same as any allocation from that start to period_end.
    select
        children_open.la_code,
        children_open.child_id,
        children_open.period_end,
        count(allocations.event_id) > 0 as is_allocated
    from children_open
    left join events as allocations
        on
            children_open.la_code = allocations.la_code
            and children_open.child_id = allocations.child_id
            and allocations.event_type = 'worker_allocated'
            and children_open.last_open_start_date <= allocations.event_date
            and children_open.period_end >= allocations.event_date
    where children_open.episode_type = 'referral'
    group by 1, 2, 3

),

cp_plan_months as (

    select * from episode_months
    where episode_type = 'cp_plan'

),

cp_review_chains as (

    {{ review_chain_at_month_end('cp_plan_months', 'reviews', 'cp_plan', 'episode_id') }}

),

observations as (

    select
        {{ kpi_observation(
            'assessment_open_in_timescale', 'period_end', 'episode_id', 'period_end <= add_wd_45_date'
        ) }}
    from open_assessments

    union all

    select
        {{ kpi_observation('cin', 'period_end', 'child_id') }}
    from children_open
    where episode_type = 'referral'

    union all

    select
        {{ kpi_observation('cin_plan_open', 'period_end', 'child_id') }}
    from children_open
    where episode_type = 'cin_plan'

    union all

    select
        {{ kpi_observation(
            'cin_plan_le_1y', 'period_end', 'child_id',
            'last_open_start_date > ' ~ add_months('period_end', -12)
        ) }}
    from children_open
    where episode_type = 'cin_plan'

    union all

    select
        {{ kpi_observation('children_allocated', 'period_end', 'child_id', 'is_allocated') }}
    from children_allocated

    union all

    select
        {{ kpi_observation('eh_active', 'period_end', 'episode_id') }}
    from episode_months
    where episode_type = 'early_help'

    union all

    select
        {{ kpi_observation('cp_reviews_in_timescale', 'period_end', 'episode_id', 'is_in_timescale') }}
    from cp_review_chains
    where is_first_review_due

    union all

    select
        {{ kpi_observation('cp_plan_open', 'period_end', 'child_id') }}
    from children_on_cp_plans

    union all

    select
        {{ kpi_observation(
            'cp_open_2y_plus', 'period_end', 'child_id',
            'first_open_start_date <= ' ~ add_months('period_end', -24)
        ) }}
    from children_on_cp_plans

    union all

    select
        {{ kpi_observation(
            'cp_seen_10wd', 'period_end', 'child_id',
            'has_visit_in_10wd or last_open_start_date > sub_wd_10_date'
        ) }}
    from cp_children_seen

)

select * from observations
where {{ in_changed_children_or_new_months('la_code', 'child_id', 'observed_on') }}
