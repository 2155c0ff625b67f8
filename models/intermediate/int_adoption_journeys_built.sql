{#-
    Adoption journeys: the events sharing an adoption episode_id, each milestone the earliest of its type
    in the journey (kpis.md). The order's own time and id break ties between a child's journeys.
-#}
{{ rebuild_scope_config('child') }}

with

milestones as (

    select * from {{ ref('int_episode_milestones_deduplicated') }}
    where
        {{ in_changed_children('la_code', 'child_id') }}
        and episode_type = 'adoption'

),

final as (

    select
        la_code,
        episode_id as adoption_id,
        max(child_id) as child_id,
        max(case when event_type = 'adoption_decision' then event_date end) as decision_date,
        max(case when event_type = 'placement_order' then event_date end) as placement_order_date,
        max(case when event_type = 'adoption_match' then event_date end) as match_date,
        max(case when event_type = 'adoption_placed' then event_date end) as placed_date,
        max(case when event_type = 'adoption_plan_ceased' then event_date end) as plan_ceased_date,
        max(case when event_type = 'adoption_order' then event_date end) as order_date,
        max(case when event_type = 'adoption_order' then event_at end) as order_at,
        max(case when event_type = 'adoption_order' then event_id end) as order_event_id
    from milestones
    group by 1, 2

)

select * from final
