{#-
    The monthly snapshot: one row per child per LA month end at which the child has any open episode
    (referral, assessment, child-in-need plan, child protection plan), with the child's status then.
    Children with nothing open that day have no row. Child-level: never published.
-#}
with

episode_months as (

    select * from {{ ref('int_episode_months_expanded') }}

),

children as (

    select * from {{ ref('stg_case__children') }}

),

statuses as (

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

final as (

    select
        statuses.la_code,
        statuses.child_id,
        statuses.period_end,
        statuses.has_open_referral,
        statuses.has_open_assessment,
        statuses.is_on_cin_plan,
        statuses.is_on_cp_plan,
        children.sex,
        children.ethnicity_code,
        children.is_disabled,
        {{ age_in_years('children.birth_month', 'statuses.period_end') }} as age_years
    from statuses
    left join children
        on
            statuses.la_code = children.la_code
            and statuses.child_id = children.child_id

)

select * from final
