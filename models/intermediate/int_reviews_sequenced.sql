{#-
    Review chains of child protection plans and periods of care (kpis.md v2 "Review chains"): one row
    for the episode's start (review_seq 0) and one per review date from the start to the end, both
    included (several reviews on one day count once), each with the date the next review is due.
    Due dates: a CP plan's first review start + 3 months, then every 6 months from the last review; a
    period of care's first add_wd(start, 20), its second r1 + 3 months, then every 6 months. A review
    is on time when held on or before the due date its predecessor set; a review of an episode whose
    start is not known has no due date and is never on time. Short breaks have no review chain.
-#}
{{ rebuild_scope_config('child') }}

with

events as (

    select * from {{ ref('stg_case__events') }}
    where
        {{ in_changed_children('la_code', 'child_id') }}
        and event_type in ('cp_review', 'cla_review')

),

episodes as (

    select * from {{ ref('int_episodes_built') }}
    where
        {{ in_changed_children('la_code', 'child_id') }}
        and episode_type = 'cp_plan'

),

periods as (

    select * from {{ ref('int_cla_periods_built') }}
    where
        {{ in_changed_children('la_code', 'child_id') }}
        and not is_short_break

),

dates as (

    select * from {{ ref('int_dates_numbered') }}

),

chain_episodes as (

    select
        la_code,
        'cp_plan' as episode_type,
        episode_id,
        child_id,
        start_date,
        end_date,
        has_start
    from episodes

    union all

    select
        la_code,
        'cla_period' as episode_type,
        period_id as episode_id,
        child_id,
        start_date,
        end_date,
        has_start
    from periods

),

review_dates as (

    select distinct
        chain_episodes.la_code,
        chain_episodes.episode_type,
        chain_episodes.episode_id,
        chain_episodes.child_id,
        chain_episodes.has_start,
        events.event_date as review_date
    from chain_episodes
    inner join events
        on
            chain_episodes.la_code = events.la_code
            and chain_episodes.episode_id = events.episode_id
            and events.event_type
            = case when chain_episodes.episode_type = 'cp_plan' then 'cp_review' else 'cla_review' end
    where
        (not chain_episodes.has_start or events.event_date >= chain_episodes.start_date)
        and (chain_episodes.end_date is null or events.event_date <= chain_episodes.end_date)

),

chain_rows as (

    select
        la_code,
        episode_type,
        episode_id,
        child_id,
        has_start,
        start_date as review_date,
        0 as boundary_order
    from chain_episodes
    where has_start

    union all

    select
        la_code,
        episode_type,
        episode_id,
        child_id,
        has_start,
        review_date,
        1 as boundary_order
    from review_dates

),

sequenced as (

    select
        la_code,
        episode_type,
        episode_id,
        child_id,
        has_start,
        review_date,
        row_number() over (
            partition by la_code, episode_type, episode_id
            order by review_date, boundary_order
        ) - case when has_start then 1 else 0 end as review_seq
    from chain_rows

),

next_due as (

    select
        sequenced.*,
        case
            when not sequenced.has_start then null
            when sequenced.review_seq = 0 and sequenced.episode_type = 'cp_plan'
                then {{ add_months('sequenced.review_date', 3) }}
            when sequenced.review_seq = 0 then review_day.add_wd_20_date
            when sequenced.review_seq = 1 and sequenced.episode_type = 'cla_period'
                then {{ add_months('sequenced.review_date', 3) }}
            else {{ add_months('sequenced.review_date', 6) }}
        end as next_due_date
    from sequenced
    left join dates as review_day
        on sequenced.review_date = review_day.date_day

),

due as (

    select
        la_code,
        episode_type,
        episode_id,
        child_id,
        review_seq,
        review_date,
        lag(next_due_date) over (
            partition by la_code, episode_type, episode_id
            order by review_seq
        ) as due_date,
        next_due_date
    from next_due

),

final as (

    select
        *,
        coalesce(review_seq > 0 and review_date <= due_date, false) as is_on_time
    from due

)

select * from final
