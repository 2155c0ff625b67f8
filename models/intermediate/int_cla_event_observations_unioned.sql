{#-
    Event-dated observations of the looked-after KPIs (IN-MONTH and R12M): periods of care started and
    ended (short breaks left out, as the new period and as the earlier one), their exits, and missing
    episodes. Same shape as int_event_observations_unioned.
-#}
{{ rebuild_scope_config('child') }}

with

periods as (

    select * from {{ ref('int_cla_periods_built') }}
    where
        {{ in_changed_children('la_code', 'child_id') }}
        and not is_short_break

),

episodes as (

    select * from {{ ref('int_episodes_built') }}
    where {{ in_changed_children('la_code', 'child_id') }}

),

cla_reviews as (

    select * from {{ ref('int_reviews_sequenced') }}
    where
        {{ in_changed_children('la_code', 'child_id') }}
        and episode_type = 'cla_period'
        and review_seq > 0

),

journeys as (

    select * from {{ ref('int_adoption_journeys_built') }}
    where {{ in_changed_children('la_code', 'child_id') }}

),

periods_started as (

    select * from periods
    where has_start

),

periods_ended as (

    select * from periods
    where has_end

),

readmissions as (

    select
        periods_started.la_code,
        periods_started.period_id,
        periods_started.child_id,
        periods_started.start_date,
        count(earlier.period_id) > 0 as has_earlier_period
    from periods_started
    left join periods_started as earlier
        on
            periods_started.la_code = earlier.la_code
            and periods_started.child_id = earlier.child_id
            and periods_started.start_date > earlier.start_date
    group by 1, 2, 3, 4

),

observations as (

    select
        {{ kpi_observation('cla_start', 'start_date', 'period_id') }}
    from periods_started

    union all

    select
        {{ kpi_observation('cla_ceased', 'end_date', 'period_id') }}
    from periods_ended

    union all

    select
        {{ kpi_observation('cla_readmission', 'start_date', 'period_id', 'has_earlier_period') }}
    from readmissions

    union all

    select
        {{ kpi_observation('cla_exit_adoption', 'end_date', 'period_id', "exit_kpi_group = 'adoption'") }}
    from periods_ended

    union all

    select
        {{ kpi_observation(
            'cla_exit_sgo', 'end_date', 'period_id', "exit_kpi_group = 'special_guardianship'"
        ) }}
    from periods_ended

    union all

    select
        {{ kpi_observation('cla_reunification', 'end_date', 'period_id') }}
    from periods_ended
    where exit_kpi_group = 'reunification'

    union all

    select
        {{ kpi_observation(
            'cla_reviews_held_in_timescale', 'review_date',
            "concat(episode_id, '@', cast(review_date as " ~ dbt.type_string() ~ "))", 'is_on_time'
        ) }}
    from cla_reviews

    union all

    select
        {{ kpi_observation('adoption_decision', 'decision_date', 'adoption_id') }}
    from journeys
    where decision_date is not null

    union all

    select
        {{ kpi_observation('placement_order_granted', 'placement_order_date', 'adoption_id') }}
    from journeys
    where placement_order_date is not null

    union all

    select
        {{ kpi_observation('adoption_match', 'match_date', 'adoption_id') }}
    from journeys
    where match_date is not null

    union all

    select
        {{ kpi_observation('adoption_placement', 'placed_date', 'adoption_id') }}
    from journeys
    where placed_date is not null

    union all

    select
        {{ kpi_observation('adoption_plan_reversal', 'plan_ceased_date', 'adoption_id') }}
    from journeys
    where plan_ceased_date is not null

    union all

    select
        {{ kpi_observation('missing_episode', 'start_date', 'episode_id') }}
    from episodes
    where episode_type = 'missing' and has_start and start_code = 'missing'

)

select * from observations
