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
        {{ kpi_observation('cla_exit_adoption', 'end_date', 'period_id', "reason_ceased in ('E11', 'E12')") }}
    from periods_ended

    union all

    select
        {{ kpi_observation(
            'cla_exit_sgo', 'end_date', 'period_id',
            "reason_ceased in ('E43', 'E44', 'E45', 'E46', 'E47', 'E48')"
        ) }}
    from periods_ended

    union all

    select
        {{ kpi_observation('missing_episode', 'start_date', 'episode_id') }}
    from episodes
    where episode_type = 'missing' and has_start and start_code = 'missing'

)

select * from observations
