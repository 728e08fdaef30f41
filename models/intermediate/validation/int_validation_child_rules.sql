{#-
    Child rules of the CLA census: the child file of each return (stg_cla__children) and its
    consistency between returns (int_cla_child_return_conflicts). One row per failure.
-#}

with

children as (
    select * from {{ ref('stg_cla__children') }}
),

children_folded as (
    select * from {{ ref('int_cla_children_folded_across_returns') }}
),

child_conflicts as (
    select * from {{ ref('int_cla_child_return_conflicts') }}
),

episodes as (
    select * from {{ ref('stg_cla__episodes') }}
),

years as (
    select * from {{ ref('int_census_reporting_years') }}
),

children_in_year as (
    select
        children.*,
        years.year_start_date,
        years.census_date,
        {{ census_birthday('children.week_of_birth_date', 18) }} as eighteenth_birthday_date,
        {{ census_birthday('children.week_of_birth_date', 25) }} as twenty_fifth_birthday_date
    from children
    inner join years
        on children.year_code = years.year_code
),

conflicts as (
    select
        child_conflicts.field_name,
        child_conflicts.old_value,
        child_conflicts.new_value,
        child_conflicts.old_year_code,
        child_conflicts.new_year_code,
        children_folded.child_key,
        children_folded.local_authority_code
    from child_conflicts
    inner join children_folded
        on child_conflicts.child_key = children_folded.child_key
),

episodes_without_child as (
    select
        episodes.year_code,
        episodes.local_authority_code,
        episodes.child_key,
        episodes.episode_key,
        episodes.episode_start_date
    from episodes
    left join children
        on
            episodes.child_key = children.child_key
            and episodes.year_code = children.year_code
    where children.child_key is null
),

failures as (
    {{ census_rule_failures('301', 'children_in_year',
        'week_of_birth_date > census_date', ['week_of_birth_date', 'census_date']) }}

    union all

    {{ census_rule_failures('351', 'children_in_year',
        'twenty_fifth_birthday_date < year_start_date', ['week_of_birth_date', 'year_start_date']) }}

    union all

    {{ census_rule_failures('303', 'children_in_year',
        'uasc_ceased_date is not null and not coalesce(is_uasc, false)', ['uasc_ceased_date', 'is_uasc']) }}

    union all

    {{ census_rule_failures('304', 'children_in_year',
        'uasc_ceased_date > eighteenth_birthday_date', ['uasc_ceased_date', 'week_of_birth_date']) }}

    union all

    {%- for rule_id, field in [
        ('202', 'sex_code'), ('203', 'week_of_birth_date'), ('204', 'ethnicity_code'), ('208', 'irn')
    ] %}

        {{ census_rule_failures(rule_id, 'conflicts',
            "field_name = '" ~ field ~ "' and old_value is not null and new_value is not null",
            ['field_name', 'old_year_code', 'old_value', 'new_value'], year_code='new_year_code') }}

        union all
    {%- endfor %}

    {{ census_rule_failures('TRANSFER-LA', 'children_in_year',
        'transferred_from_local_authority_code is not null and (year_code < 202223'
        ~ ' or transferred_from_local_authority_code = local_authority_code)',
        ['transferred_from_local_authority_code']) }}

    union all

    {{ census_rule_failures('INT03', 'episodes_without_child', 'true',
        ['episode_start_date'], episode_key='episode_key') }}
),

final as (
    {{ census_keyed_rule_failures('failures') }}
)

select * from final
