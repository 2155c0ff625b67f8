{#-
    KPI observations dated by an event (IN-MONTH and R12M KPIs): one row per counted unit (a contact,
    decision, referral, assessment, ICPC or plan), dated by the event that places it in a month, with
    whether it is in the numerator. fct_kpi_monthly sums these over the month or the rolling year.
-#}
{{ rebuild_scope_config('child') }}

with

events as (

    select * from {{ ref('stg_case__events') }}
    where {{ in_changed_children('la_code', 'child_id') }}

),

episodes as (

    select * from {{ ref('int_episodes_built') }}
    where {{ in_changed_children('la_code', 'child_id') }}

),

milestones as (

    select * from {{ ref('int_episode_milestones_deduplicated') }}
    where {{ in_changed_children('la_code', 'child_id') }}

),

dates as (

    select * from {{ ref('int_dates_numbered') }}

),

cp_reviews as (

    select * from {{ ref('int_reviews_sequenced') }}
    where
        {{ in_changed_children('la_code', 'child_id') }}
        and episode_type = 'cp_plan'
        and review_seq > 0

),

contacts as (

    select * from episodes
    where episode_type = 'contact' and has_start

),

contact_decisions as (

    select
        events.la_code,
        events.event_id,
        events.child_id,
        events.event_date,
        events.event_code,
        received.event_at is not null
        and {{ seconds_between('received.event_at', 'events.event_at') }} <= 24 * 60 * 60 as is_within_24h,
        received.event_at is not null
        and {{ seconds_between('received.event_at', 'events.event_at') }} <= 48 * 60 * 60 as is_within_48h
    from events
    left join milestones as received
        on
            events.la_code = received.la_code
            and events.episode_id = received.episode_id
            and received.event_type = 'contact_received'
    where events.event_type = 'contact_decision'

),

referrals as (

    select * from episodes
    where episode_type = 'referral' and has_start

),

referrals_assessed as (

    -- An assessment started for the referral at any date: a recent month's figure rises as they start.
    select
        referrals.la_code,
        referrals.episode_id,
        referrals.child_id,
        referrals.start_date,
        count(assessments.event_id) > 0 as has_assessment
    from referrals
    left join events as assessments
        on
            referrals.la_code = assessments.la_code
            and referrals.episode_id = assessments.referral_id
            and assessments.event_type = 'assessment_started'
    group by 1, 2, 3, 4

),

referrals_with_previous as (

    select
        referrals.la_code,
        referrals.episode_id,
        referrals.child_id,
        referrals.start_date,
        count(previous.episode_id) > 0 as has_referral_in_previous_12m
    from referrals
    left join referrals as previous
        on
            referrals.la_code = previous.la_code
            and referrals.child_id = previous.child_id
            and previous.start_date >= {{ add_months('referrals.start_date', -12) }}
            and referrals.start_date > previous.start_date
    group by 1, 2, 3, 4

),

assessments_authorised as (

    select
        episodes.*,
        start_day.add_wd_45_date
    from episodes
    left join dates as start_day
        on episodes.start_date = start_day.date_day
    where episodes.episode_type = 'assessment' and episodes.has_end

),

assessments_seen as (

    select
        assessments_authorised.la_code,
        assessments_authorised.episode_id,
        count(visits.event_id) > 0 as is_child_seen
    from assessments_authorised
    inner join events as visits
        on
            assessments_authorised.la_code = visits.la_code
            and assessments_authorised.episode_id = visits.episode_id
            and visits.event_type = 'child_seen'
            and assessments_authorised.start_date <= visits.event_date
            and assessments_authorised.end_date >= visits.event_date
    group by 1, 2

),

assessments_reviewed as (

    select
        assessments_authorised.*,
        coalesce(assessments_seen.is_child_seen, false) as is_child_seen
    from assessments_authorised
    left join assessments_seen
        on
            assessments_authorised.la_code = assessments_seen.la_code
            and assessments_authorised.episode_id = assessments_seen.episode_id

),

s47_clock_starts as (

    select
        la_code,
        episode_id,
        coalesce(
            min(case when event_type = 'strategy_discussion' then event_date end),
            min(case when event_type = 's47_started' then event_date end)
        ) as clock_start_date
    from milestones
    where event_type in ('strategy_discussion', 's47_started')
    group by 1, 2

),

icpcs as (

    select
        events.la_code,
        events.event_id,
        events.child_id,
        events.event_date,
        clock_day.add_wd_15_date
    from events
    left join s47_clock_starts
        on
            events.la_code = s47_clock_starts.la_code
            and events.episode_id = s47_clock_starts.episode_id
    left join dates as clock_day
        on s47_clock_starts.clock_start_date = clock_day.date_day
    where events.event_type = 'icpc_held'

),

cp_plans as (

    select * from episodes
    where episode_type = 'cp_plan'

),

cp_plans_started as (

    select * from cp_plans
    where has_start

),

cp_plan_earlier_starts as (

    select
        cp_plan.la_code,
        cp_plan.episode_id,
        max(earlier.start_date) as previous_start_date
    from cp_plans_started as cp_plan
    inner join cp_plans_started as earlier
        on
            cp_plan.la_code = earlier.la_code
            and cp_plan.child_id = earlier.child_id
            and cp_plan.start_date > earlier.start_date
    group by 1, 2

),

cp_plans_with_previous as (

    select
        cp_plan.la_code,
        cp_plan.episode_id,
        cp_plan.child_id,
        cp_plan.start_date,
        max(case when earlier.previous_start_date is not null then 1 else 0 end) = 1 as has_earlier_plan,
        max(
            case when previous.end_date >= {{ add_months('cp_plan.start_date', -24) }} then 1 else 0 end
        ) = 1 as is_within_2y_of_previous_end
    from cp_plans_started as cp_plan
    left join cp_plan_earlier_starts as earlier
        on
            cp_plan.la_code = earlier.la_code
            and cp_plan.episode_id = earlier.episode_id
    left join cp_plans_started as previous
        on
            cp_plan.la_code = previous.la_code
            and cp_plan.child_id = previous.child_id
            and earlier.previous_start_date = previous.start_date
    group by 1, 2, 3, 4

),

observations as (

    select
        {{ kpi_observation('contact_received', 'start_date', 'episode_id') }}
    from contacts

    union all

    select
        {{ kpi_observation('contact_decision_24h', 'event_date', 'event_id', 'is_within_24h') }}
    from contact_decisions

    union all

    select
        {{ kpi_observation('contact_decision_48h', 'event_date', 'event_id', 'is_within_48h') }}
    from contact_decisions

    union all

    select
        {{ kpi_observation('contact_to_referral', 'event_date', 'event_id', "event_code = 'referral'") }}
    from contact_decisions

    union all

    select
        {{ kpi_observation('referral', 'start_date', 'episode_id') }}
    from referrals

    union all

    select
        {{ kpi_observation('referral_to_assessment', 'start_date', 'episode_id', 'has_assessment') }}
    from referrals_assessed

    union all

    select
        {{ kpi_observation('re_referral', 'start_date', 'episode_id', 'has_referral_in_previous_12m') }}
    from referrals_with_previous

    union all

    select
        {{ kpi_observation('assessment_completed', 'end_date', 'episode_id') }}
    from assessments_authorised

    union all

    select
        {{ kpi_observation('assessment_nfa', 'end_date', 'episode_id', "end_code = 'nfa'") }}
    from assessments_authorised

    union all

    select
        {{ kpi_observation('assessment_45wd', 'end_date', 'episode_id', 'end_date <= add_wd_45_date') }}
    from assessments_authorised

    union all

    select
        {{ kpi_observation(
            'assessment_child_seen', 'end_date', 'episode_id', 'has_start and is_child_seen'
        ) }}
    from assessments_reviewed

    union all

    select
        {{ kpi_observation('s47_started', 'start_date', 'episode_id') }}
    from episodes
    where episode_type = 's47' and has_start

    union all

    select
        {{ kpi_observation('icpc_15wd', 'event_date', 'event_id', 'event_date <= add_wd_15_date') }}
    from icpcs

    union all

    select
        {{ kpi_observation('cp_plan_start', 'start_date', 'episode_id') }}
    from cp_plans_started

    union all

    select
        {{ kpi_observation('cp_repeat_plan', 'start_date', 'episode_id', 'has_earlier_plan') }}
    from cp_plans_with_previous

    union all

    select
        {{ kpi_observation(
            'cp_repeat_within_2y', 'start_date', 'episode_id', 'is_within_2y_of_previous_end'
        ) }}
    from cp_plans_with_previous

    union all

    select
        {{ kpi_observation(
            'cp_reviews_held_in_timescale', 'review_date',
            "concat(episode_id, '@', cast(review_date as " ~ dbt.type_string() ~ "))", 'is_on_time'
        ) }}
    from cp_reviews

    union all

    select
        {{ kpi_observation('eh_started', 'start_date', 'episode_id') }}
    from episodes
    where episode_type = 'early_help' and has_start

    union all

    select
        {{ kpi_observation('eh_ended', 'end_date', 'episode_id', "end_code2 = 'step_up'") }}
    from episodes
    where episode_type = 'early_help' and has_end

    union all

    select
        {{ kpi_observation(
            'cp_ended_2y_plus', 'end_date', 'episode_id',
            'has_start and ' ~ days_between('start_date', 'end_date') ~ ' >= 729'
        ) }}
    from cp_plans
    where has_end

)

select * from observations
