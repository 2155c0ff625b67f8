{#-
    The monthly snapshot: one row per child per LA month end at which the child has any open episode
    (referral, assessment, child-in-need plan, child protection plan) or is looked after, with the child's
    status then: looked-after legal status and placement in codes and words, UASC. Children with nothing
    open that day have no row. Child-level: never published.
-#}
{{ rebuild_scope_config('child_month', 'period_end') }}

with

episode_months as (

    select * from {{ ref('int_episode_months_expanded') }}
    where {{ in_changed_children_or_new_months('la_code', 'child_id', 'period_end') }}

),

looked_after_months as (

    select * from {{ ref('int_looked_after_months_expanded') }}
    where {{ in_changed_children_or_new_months('la_code', 'child_id', 'period_end') }}

),

children as (

    select * from {{ ref('stg_case__children') }}

),

legal_statuses as (

    select * from {{ ref('legal_statuses') }}

),

placement_types as (

    select * from {{ ref('placement_types') }}

),

episode_statuses as (

    select
        la_code,
        child_id,
        period_end,
        max(case when episode_type = 'referral' then 1 else 0 end) = 1 as has_open_referral,
        max(case when episode_type = 'assessment' then 1 else 0 end) = 1 as has_open_assessment,
        max(case when episode_type = 'cin_plan' then 1 else 0 end) = 1 as is_on_cin_plan,
        max(case when episode_type = 'cp_plan' then 1 else 0 end) = 1 as is_on_cp_plan
    from episode_months
    group by 1, 2, 3

),

child_months as (

    select
        la_code,
        child_id,
        period_end
    from episode_statuses
    union
    select
        la_code,
        child_id,
        period_end
    from looked_after_months

),

final as (

    select
        child_months.la_code,
        child_months.child_id,
        child_months.period_end,
        coalesce(episode_statuses.has_open_referral, false) as has_open_referral,
        coalesce(episode_statuses.has_open_assessment, false) as has_open_assessment,
        coalesce(episode_statuses.is_on_cin_plan, false) as is_on_cin_plan,
        coalesce(episode_statuses.is_on_cp_plan, false) as is_on_cp_plan,
        looked_after_months.child_id is not null as is_looked_after,
        coalesce(looked_after_months.is_uasc, false) as is_uasc,
        looked_after_months.legal_status as legal_status_code,
        legal_statuses.legal_status_description,
        looked_after_months.placement_type as placement_type_code,
        placement_types.placement_type_description,
        placement_types.placement_group,
        looked_after_months.looked_after_since,
        children.sex,
        children.ethnicity_code,
        children.is_disabled,
        {{ age_in_years('children.birth_month', 'child_months.period_end') }} as age_years
    from child_months
    left join episode_statuses
        on
            child_months.la_code = episode_statuses.la_code
            and child_months.child_id = episode_statuses.child_id
            and child_months.period_end = episode_statuses.period_end
    left join looked_after_months
        on
            child_months.la_code = looked_after_months.la_code
            and child_months.child_id = looked_after_months.child_id
            and child_months.period_end = looked_after_months.period_end
    left join legal_statuses
        on looked_after_months.legal_status = legal_statuses.legal_status_code
    left join placement_types
        on looked_after_months.placement_type = placement_types.placement_type_code
    left join children
        on
            child_months.la_code = children.la_code
            and child_months.child_id = children.child_id

)

select * from final
where {{ in_changed_children_or_new_months('la_code', 'child_id', 'period_end') }}
