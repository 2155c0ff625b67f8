{#-
    Looked-after observations at each LA month end: one row per child in the KPI's population, with
    whether the child meets its condition (or, for days and score KPIs, the child's number). Covers the
    point-in-time KPIs (counts, legal status, placement stability, visits, health) and the rolling-year
    KPIs counted per child (SDQ, adoptions and their timeliness, care leavers), whose per-child choice
    depends on the window.
-#}
{{ rebuild_scope_config('child_month', 'observed_on') }}

with

looked_after as (

    select * from {{ ref('int_looked_after_months_expanded') }}
    where {{ in_changed_children_or_new_months('la_code', 'child_id', 'period_end') }}

),

children as (

    select * from {{ ref('stg_case__children') }}

),

months as (

    select * from {{ ref('int_la_months_spanned') }}

),

placements as (

    select * from {{ ref('int_placements_spanned') }}
    where not is_short_break

),

looked_after_spans as (

    select * from {{ ref('int_legal_statuses_spanned') }}
    where is_looked_after

),

periods as (

    select * from {{ ref('int_cla_periods_built') }}
    where has_start and not is_short_break

),

journeys as (

    select * from {{ ref('int_adoption_journeys_built') }}

),

events as (

    select * from {{ ref('stg_case__events') }}

),

reviews as (

    select * from {{ ref('int_reviews_sequenced') }}
    where episode_type = 'cla_period'

),

dates as (

    select * from {{ ref('int_dates_numbered') }}

),

looked_after_children as (

    select
        looked_after.*,
        months.window_start_date,
        {{ age_in_years('children.birth_month', 'looked_after.period_end') }} as age_years
    from looked_after
    inner join months
        on
            looked_after.la_code = months.la_code
            and looked_after.period_end = months.period_end
    left join children
        on
            looked_after.la_code = children.la_code
            and looked_after.child_id = children.child_id

),

placement_counts as (

    select
        looked_after_children.la_code,
        looked_after_children.child_id,
        looked_after_children.period_end,
        count(*) as placement_count
    from looked_after_children
    inner join placements
        on
            looked_after_children.la_code = placements.la_code
            and looked_after_children.child_id = placements.child_id
            and looked_after_children.period_end >= placements.placement_start_date
            and (
                placements.placement_end_date is null
                or looked_after_children.window_start_date < placements.placement_end_date
            )
    group by 1, 2, 3

),

placed_for_adoption as (

    select distinct
        looked_after_children.la_code,
        looked_after_children.child_id,
        looked_after_children.period_end
    from looked_after_children
    inner join journeys
        on
            looked_after_children.la_code = journeys.la_code
            and looked_after_children.child_id = journeys.child_id
            and looked_after_children.period_end >= journeys.placed_date
    where
        (
            journeys.plan_ceased_date is null
            or journeys.plan_ceased_date < journeys.placed_date
            or journeys.plan_ceased_date > looked_after_children.period_end
        )
        and (
            journeys.order_date is null
            or journeys.order_date < journeys.placed_date
            or journeys.order_date > looked_after_children.period_end
        )

),

child_events_counted as (

    select
        looked_after_children.la_code,
        looked_after_children.child_id,
        looked_after_children.period_end,
        sum(
            case
                when
                    events.event_type = 'child_seen' and events.event_code = 'cla'
                    and events.event_date >= {{ add_days('looked_after_children.period_end', -41) }}
                    then 1
                else 0
            end
        ) as cla_visit_count,
        sum(case when events.event_type = 'health_assessment' then 1 else 0 end) as health_assessment_count,
        sum(case when events.event_type = 'dental_check' then 1 else 0 end) as dental_check_count
    from looked_after_children
    inner join events
        on
            looked_after_children.la_code = events.la_code
            and looked_after_children.child_id = events.child_id
            and events.event_type in ('child_seen', 'health_assessment', 'dental_check')
            and looked_after_children.window_start_date <= events.event_date
            and looked_after_children.period_end >= events.event_date
    group by 1, 2, 3

),

looked_after_flags as (

    select
        looked_after_children.*,
        coalesce(placement_counts.placement_count, 0) as placement_count,
        placed_for_adoption.child_id is not null as is_placed_for_adoption,
        coalesce(child_events_counted.cla_visit_count, 0) > 0 as is_seen_in_6_weeks,
        coalesce(child_events_counted.health_assessment_count, 0) > 0 as has_health_assessment,
        coalesce(child_events_counted.dental_check_count, 0) > 0 as has_dental_check,
        looked_after_children.period_start_date
        <= {{ add_months('looked_after_children.period_end', -30) }} as is_in_care_30_months,
        looked_after_children.looked_after_since
        <= {{ add_months('looked_after_children.period_end', -12) }} as is_in_care_12_months,
        {{ add_months('looked_after_children.period_end', -24) }} as two_years_before_date
    from looked_after_children
    left join placement_counts
        on
            looked_after_children.la_code = placement_counts.la_code
            and looked_after_children.child_id = placement_counts.child_id
            and looked_after_children.period_end = placement_counts.period_end
    left join placed_for_adoption
        on
            looked_after_children.la_code = placed_for_adoption.la_code
            and looked_after_children.child_id = placed_for_adoption.child_id
            and looked_after_children.period_end = placed_for_adoption.period_end
    left join child_events_counted
        on
            looked_after_children.la_code = child_events_counted.la_code
            and looked_after_children.child_id = child_events_counted.child_id
            and looked_after_children.period_end = child_events_counted.period_end

),

sdqs_while_looked_after as (

    select distinct
        events.la_code,
        events.child_id,
        events.event_id,
        events.event_at,
        events.event_date,
        events.event_value
    from events
    inner join looked_after_spans
        on
            events.la_code = looked_after_spans.la_code
            and events.child_id = looked_after_spans.child_id
            and events.event_date >= looked_after_spans.valid_from
            and (looked_after_spans.valid_to is null or events.event_date < looked_after_spans.valid_to)
    where events.event_type = 'sdq_recorded' and events.event_value is not null

),

sdqs_ranked as (

    select
        months.la_code,
        months.period_end,
        sdqs_while_looked_after.child_id,
        sdqs_while_looked_after.event_value,
        row_number() over (
            partition by months.la_code, months.period_end, sdqs_while_looked_after.child_id
            order by sdqs_while_looked_after.event_at desc, sdqs_while_looked_after.event_id desc
        ) as sdq_rank
    from sdqs_while_looked_after
    inner join months
        on
            sdqs_while_looked_after.la_code = months.la_code
            and sdqs_while_looked_after.event_date >= months.window_start_date
            and sdqs_while_looked_after.event_date <= months.period_end

),

care_leaver_contacts_ranked as (

    select
        months.la_code,
        months.period_end,
        events.child_id,
        events.event_date,
        events.event_code as activity_code,
        events.event_code2 as accommodation_code,
        row_number() over (
            partition by months.la_code, months.period_end, events.child_id
            order by events.event_at desc, events.event_id desc
        ) as contact_rank
    from events
    inner join months
        on
            events.la_code = months.la_code
            and events.event_date >= months.window_start_date
            and events.event_date <= months.period_end
    where events.event_type = 'care_leaver_contact'

),

care_leavers as (

    -- The latest contact is taken first, then the age on its date decides the cohort (kpis.md).
    select
        contacts.*,
        {{ age_in_years('children.birth_month', 'contacts.event_date') }} as age_years,
        contacts.activity_code in ('F1', 'P1', 'F2', 'P2', 'F4', 'P4', 'F5', 'P5') as is_eet,
        contacts.accommodation_code like '%1' as is_suitable_accom,
        contacts.activity_code is null or contacts.activity_code <> '0' as is_in_touch
    from care_leaver_contacts_ranked as contacts
    inner join children
        on
            contacts.la_code = children.la_code
            and contacts.child_id = children.child_id
    where contacts.contact_rank = 1

),

cla_review_chains as (

    {{ review_chain_at_month_end('looked_after_flags', 'reviews', 'cla_period', 'period_id') }}

),

health_assessment_cohort as (

    -- Periods started in the rolling year whose 20 working days have passed by period_end.
    select
        periods.la_code,
        periods.child_id,
        periods.period_id,
        months.period_end,
        count(assessments.event_id) > 0 as has_health_assessment_in_20wd
    from periods
    inner join dates as start_day
        on periods.start_date = start_day.date_day
    inner join months
        on
            periods.la_code = months.la_code
            and periods.start_date >= months.window_start_date
            and start_day.add_wd_20_date <= months.period_end
    left join events as assessments
        on
            periods.la_code = assessments.la_code
            and periods.child_id = assessments.child_id
            and assessments.event_type = 'health_assessment'
            and periods.start_date <= assessments.event_date
            and start_day.add_wd_20_date >= assessments.event_date
    group by 1, 2, 3, 4

),

children_waiting_for_adoption as (

    select distinct
        journeys.la_code,
        journeys.child_id,
        months.period_end
    from journeys
    inner join months
        on
            journeys.la_code = months.la_code
            and journeys.decision_date <= months.period_end
    where
        coalesce(journeys.placed_date > months.period_end, true)
        and coalesce(journeys.order_date > months.period_end, true)
        and coalesce(journeys.plan_ceased_date > months.period_end, true)

),

adoptions_ranked as (

    select
        months.period_end,
        journeys.*,
        row_number() over (
            partition by months.la_code, months.period_end, journeys.child_id
            order by journeys.order_at desc, journeys.order_event_id desc
        ) as adoption_rank
    from journeys
    inner join months
        on
            journeys.la_code = months.la_code
            and journeys.order_date >= months.window_start_date
            and journeys.order_date <= months.period_end

),

adoption_periods_ranked as (

    select
        adoptions_ranked.la_code,
        adoptions_ranked.period_end,
        adoptions_ranked.child_id,
        periods.start_date as period_start_date,
        row_number() over (
            partition by adoptions_ranked.la_code, adoptions_ranked.period_end, adoptions_ranked.child_id
            order by periods.start_date desc, periods.period_id desc
        ) as period_rank
    from adoptions_ranked
    inner join periods
        on
            adoptions_ranked.la_code = periods.la_code
            and adoptions_ranked.child_id = periods.child_id
            and adoptions_ranked.placed_date >= periods.start_date
    where adoptions_ranked.adoption_rank = 1

),

adoptions as (

    select
        adoptions_ranked.*,
        adoption_periods_ranked.period_start_date
    from adoptions_ranked
    left join adoption_periods_ranked
        on
            adoptions_ranked.la_code = adoption_periods_ranked.la_code
            and adoptions_ranked.period_end = adoption_periods_ranked.period_end
            and adoptions_ranked.child_id = adoption_periods_ranked.child_id
            and adoption_periods_ranked.period_rank = 1
    where adoptions_ranked.adoption_rank = 1

),

observations as (

    select
        {{ kpi_observation('cla', 'period_end', 'child_id') }}
    from looked_after_flags

    union all

    select
        {{ kpi_observation('cla_reviews_in_timescale', 'period_end', 'child_id', 'is_in_timescale') }}
    from cla_review_chains
    where is_first_review_due

    union all

    select
        {{ kpi_observation(
            'cla_placed_20_miles_plus', 'period_end', 'child_id', 'placement_distance_km > 32.19'
        ) }}
    from looked_after_flags
    where placement_distance_km is not null

    union all

    select
        {{ kpi_observation('cla_iha_20wd', 'period_end', 'period_id', 'has_health_assessment_in_20wd') }}
    from health_assessment_cohort

    union all

    select
        {{ kpi_observation('adoption_waiting', 'period_end', 'child_id') }}
    from children_waiting_for_adoption

    union all

    select
        {{ kpi_observation('cla_excl_uasc', 'period_end', 'child_id') }}
    from looked_after_flags
    where not is_uasc

    union all

    select
        {{ kpi_observation('uasc', 'period_end', 'child_id') }}
    from looked_after_flags
    where is_uasc

    union all

    select
        {{ kpi_observation('cla_s20', 'period_end', 'child_id', "legal_status = 'V2'") }}
    from looked_after_flags

    union all

    select
        {{ kpi_observation('cla_3plus_placements', 'period_end', 'child_id', 'placement_count >= 3') }}
    from looked_after_flags

    union all

    select
        {{ kpi_observation(
            'cla_long_term_stability', 'period_end', 'child_id',
            'placement_start_date <= two_years_before_date'
            ~ ' or (is_placed_for_adoption and previous_placement_start_date <= two_years_before_date)'
        ) }}
    from looked_after_flags
    where age_years < 16 and is_in_care_30_months

    union all

    select
        {{ kpi_observation(
            'cla_seen_6w', 'period_end', 'child_id',
            'is_seen_in_6_weeks or period_start_date >= ' ~ add_days('period_end', -6)
        ) }}
    from looked_after_flags

    union all

    select
        {{ kpi_observation('cla_health_assessment', 'period_end', 'child_id', 'has_health_assessment') }}
    from looked_after_flags
    where is_in_care_12_months

    union all

    select
        {{ kpi_observation('cla_dental_check', 'period_end', 'child_id', 'has_dental_check') }}
    from looked_after_flags
    where is_in_care_12_months

    union all

    select
        {{ kpi_observation('cla_sdq', 'period_end', 'child_id', 'true', 'event_value') }}
    from sdqs_ranked
    where sdq_rank = 1

    union all

    select
        {{ kpi_observation('adoption', 'period_end', 'child_id') }}
    from adoptions

    union all

    select
        {{ kpi_observation(
            'adoption_a1', 'period_end', 'child_id', 'true', days_between('period_start_date', 'placed_date')
        ) }}
    from adoptions
    where placed_date is not null and period_start_date is not null

    union all

    select
        {{ kpi_observation(
            'adoption_a2', 'period_end', 'child_id', 'true',
            'case when match_date < placement_order_date then 0 else '
            ~ days_between('placement_order_date', 'match_date') ~ ' end'
        ) }}
    from adoptions
    where placement_order_date is not null and match_date is not null

    union all

    select
        {{ kpi_observation(
            'adoption_a3', 'period_end', 'child_id',
            'placed_date < ' ~ add_months('period_start_date', 14)
        ) }}
    from adoptions

    union all

    select
        {{ kpi_observation('care_leaver_eet', 'period_end', 'child_id', 'is_eet') }}
    from care_leavers
    where age_years between 19 and 21

    union all

    select
        {{ kpi_observation('care_leaver_suitable_accom', 'period_end', 'child_id', 'is_suitable_accom') }}
    from care_leavers
    where age_years between 19 and 21

    union all

    select
        {{ kpi_observation('care_leaver_in_touch', 'period_end', 'child_id', 'is_in_touch') }}
    from care_leavers
    where age_years between 19 and 21

    union all

    select
        {{ kpi_observation('care_leaver_17_18_eet', 'period_end', 'child_id', 'is_eet') }}
    from care_leavers
    where age_years between 17 and 18

    union all

    select
        {{ kpi_observation(
            'care_leaver_17_18_suitable_accom', 'period_end', 'child_id', 'is_suitable_accom'
        ) }}
    from care_leavers
    where age_years between 17 and 18

)

select * from observations
where {{ in_changed_children_or_new_months('la_code', 'child_id', 'observed_on') }}
