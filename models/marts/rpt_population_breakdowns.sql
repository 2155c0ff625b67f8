{#-
    Who the children are: per la_code x month end, each population counted by one characteristic at a
    time (aggregates only: no child_id, no row per child). Populations: looked_after, child_protection
    and children_in_need (children at the month end, from fct_child_month) and referrals (referrals
    received in the month, one per referral episode, the child's characteristics at the referral date).
    Breakdowns: total, age_band, sex, ethnicity_group (all populations); legal_status, placement_type,
    placement_group, uasc (looked_after); category_of_abuse (child_protection: the initial category of the
    child's current plan, the latest started of the open ones).
-#}
{{ rebuild_scope_config('la_month', 'period_end') }}

{%- set breakdowns = [
    {'name': 'total', 'code': "'all'", 'label': "'All'"},
    {'name': 'age_band', 'code': 'age_band', 'label': 'age_band', 'order': 'age_band_order'},
    {'name': 'sex', 'code': 'sex_code', 'label': 'sex'},
    {'name': 'ethnicity_group', 'code': 'ethnicity_group', 'label': 'ethnicity_group',
        'order': 'ethnicity_group_order'},
    {'name': 'legal_status', 'code': "coalesce(legal_status_code, 'not known')",
        'label': "coalesce(legal_status_description, 'Not known')", 'population': 'looked_after'},
    {'name': 'placement_type', 'code': "coalesce(placement_type_code, 'not known')",
        'label': "coalesce(placement_type_description, 'Not known')", 'population': 'looked_after'},
    {'name': 'placement_group', 'code': "coalesce(placement_group, 'Not known')",
        'label': "coalesce(placement_group, 'Not known')", 'population': 'looked_after'},
    {'name': 'uasc', 'code': 'uasc', 'label': 'uasc', 'population': 'looked_after'},
    {'name': 'category_of_abuse', 'code': "coalesce(category_code, 'not known')",
        'label': "coalesce(category_description, 'Not known')", 'population': 'child_protection'},
] -%}

with

child_months as (

    select * from {{ ref('fct_child_month') }}
    where {{ from_rebuilt_la_months('la_code', 'period_end') }}

),

months as (

    select * from {{ ref('int_la_months_spanned') }}
    where {{ in_rebuilt_la_months('la_code', 'period_end') }}

),

episodes as (

    select * from {{ ref('int_episodes_built') }}

),

episode_months as (

    select * from {{ ref('int_episode_months_expanded') }}
    where {{ from_rebuilt_la_months('la_code', 'period_end') }}

),

children as (

    select * from {{ ref('stg_case__children') }}

),

age_bands as (

    select * from {{ ref('age_bands') }}

),

ethnicities as (

    select * from {{ ref('ethnicities') }}

),

cp_categories as (

    select * from {{ ref('cp_categories') }}

),

ethnicity_groups as (

    select
        ethnicity_group,
        min(display_order) as group_order
    from ethnicities
    group by 1

),

current_cp_plans as (

    select
        episode_months.la_code,
        episode_months.child_id,
        episode_months.period_end,
        episodes.start_code as category_code,
        row_number() over (
            partition by episode_months.la_code, episode_months.child_id, episode_months.period_end
            order by episode_months.start_date desc, episode_months.episode_id desc
        ) as plan_rank
    from episode_months
    inner join episodes
        on
            episode_months.la_code = episodes.la_code
            and episode_months.episode_type = episodes.episode_type
            and episode_months.episode_id = episodes.episode_id
    where episode_months.episode_type = 'cp_plan'

),

referrals as (

    select
        months.la_code,
        months.period_end,
        episodes.child_id,
        episodes.start_date
    from episodes
    inner join months
        on
            episodes.la_code = months.la_code
            and episodes.start_date >= months.period_start
            and episodes.start_date <= months.period_end
    where episodes.episode_type = 'referral' and episodes.has_start

),

members as (

    select
        la_code,
        period_end,
        'looked_after' as population,
        'children' as population_unit,
        age_years,
        sex,
        ethnicity_code,
        legal_status_code,
        legal_status_description,
        placement_type_code,
        placement_type_description,
        placement_group,
        case when is_uasc then 'UASC' else 'Not UASC' end as uasc,
        cast(null as {{ dbt.type_string() }}) as category_code
    from child_months
    where is_looked_after
    union all
    select
        child_months.la_code,
        child_months.period_end,
        'child_protection' as population,
        'children' as population_unit,
        child_months.age_years,
        child_months.sex,
        child_months.ethnicity_code,
        null as legal_status_code,
        null as legal_status_description,
        null as placement_type_code,
        null as placement_type_description,
        null as placement_group,
        null as uasc,
        current_cp_plans.category_code
    from child_months
    left join current_cp_plans
        on
            child_months.la_code = current_cp_plans.la_code
            and child_months.child_id = current_cp_plans.child_id
            and child_months.period_end = current_cp_plans.period_end
            and current_cp_plans.plan_rank = 1
    where child_months.is_on_cp_plan
    union all
    select
        la_code,
        period_end,
        'children_in_need' as population,
        'children' as population_unit,
        age_years,
        sex,
        ethnicity_code,
        null as legal_status_code,
        null as legal_status_description,
        null as placement_type_code,
        null as placement_type_description,
        null as placement_group,
        null as uasc,
        null as category_code
    from child_months
    where has_open_referral
    union all
    select
        referrals.la_code,
        referrals.period_end,
        'referrals' as population,
        'referrals' as population_unit,
        {{ age_in_years('children.birth_month', 'referrals.start_date') }} as age_years,
        children.sex,
        children.ethnicity_code,
        null as legal_status_code,
        null as legal_status_description,
        null as placement_type_code,
        null as placement_type_description,
        null as placement_group,
        null as uasc,
        null as category_code
    from referrals
    left join children
        on
            referrals.la_code = children.la_code
            and referrals.child_id = children.child_id

),

described as (

    select
        members.la_code,
        members.period_end,
        members.population,
        members.population_unit,
        coalesce(age_bands.age_band, 'Not known') as age_band,
        coalesce(age_bands.display_order, 99) as age_band_order,
        coalesce(members.sex, 'U') as sex_code,
        case members.sex when 'M' then 'Male' when 'F' then 'Female' else 'Not known' end as sex,
        coalesce(ethnicities.ethnicity_group, 'Not recorded') as ethnicity_group,
        coalesce(ethnicity_groups.group_order, 99) as ethnicity_group_order,
        members.legal_status_code,
        members.legal_status_description,
        members.placement_type_code,
        members.placement_type_description,
        members.placement_group,
        members.uasc,
        members.category_code,
        cp_categories.category_description
    from members
    left join age_bands
        on members.age_years between age_bands.min_age and age_bands.max_age
    left join ethnicities
        on members.ethnicity_code = ethnicities.ethnicity_code
    left join ethnicity_groups
        on coalesce(ethnicities.ethnicity_group, 'Not recorded') = ethnicity_groups.ethnicity_group
    left join cp_categories
        on members.category_code = cp_categories.category_code

),

breakdowns as (

    {% for breakdown in breakdowns -%}
        {% if not loop.first %}union all{% endif %}
        select
            la_code,
            period_end,
            population,
            population_unit,
            '{{ breakdown.name }}' as breakdown,
            {{ breakdown.code }} as category_code,
            {{ breakdown.label }} as category,
            {{ breakdown.get('order', '0') }} as category_order,
            count(*) as member_count
        from described
        {% if breakdown.population -%}
            where population = '{{ breakdown.population }}'
        {%- endif %}
        group by 1, 2, 3, 4, 6, 7, 8
    {% endfor %}

),

final as (

    select
        la_code,
        period_end,
        population,
        population_unit,
        breakdown,
        category_code,
        category,
        category_order,
        member_count,
        sum(case when breakdown = 'total' then member_count else 0 end)
            over (partition by la_code, period_end, population) as population_total,
        100.0 * member_count / sum(case when breakdown = 'total' then member_count else 0 end)
            over (partition by la_code, period_end, population) as share_pct
    from breakdowns

)

select * from final
where {{ in_rebuilt_la_months('la_code', 'period_end') }}
