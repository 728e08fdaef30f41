{#-
    Rules of the Children Receiving Care and Support census (stg_crcs__children), including its
    agreement with the CLA return of the same year. Ages are taken on 31 March, or on the plan end
    date where the plan closed in the year (from 202324). Staging reads a "not known" (9) dental
    check or youth offending item as null, like a blank: only the half "recorded below the age"
    of CRCS-DENTAL and CRCS-YOUTH can be checked here (a blank from the age is for the raw rules).
    One row per failure. Year-incremental on DuckDB (census_partition_incremental): every rule
    reads one year's CRCS rows, that year's CLA episodes and its census date.
-#}
{%- set changed_years = census_partition_incremental({
    'stg_crcs__children': 'year_code',
    'stg_cla__episodes': 'year_code',
    'int_census_reporting_years': 'year_code',
}) %}

with

crcs as (
    select * from {{ ref('stg_crcs__children') }}
    where {{ census_partition_filter('year_code', changed_years) }}
),

episodes as (
    select * from {{ ref('stg_cla__episodes') }}
    where {{ census_partition_filter('year_code', changed_years) }}
),

years as (
    select * from {{ ref('int_census_reporting_years') }}
    where {{ census_partition_filter('year_code', changed_years) }}
),

-- children in an open CLA episode on 31 March that is not a short-break agreement (V1)
looked_after_on_census_date as (
    select distinct
        episodes.child_key,
        episodes.year_code
    from episodes
    inner join years
        on episodes.year_code = years.year_code
    where
        episodes.episode_start_date <= years.census_date
        and (episodes.episode_end_date is null or episodes.episode_end_date > years.census_date)
        and coalesce(episodes.legal_status_code, '') <> 'V1'
),

crcs_in_year as (
    select
        crcs.*,
        years.year_start_date,
        years.census_date,
        cast({{ dbt.dateadd('month', -3, dbt.dateadd('day', 1, 'years.census_date')) }} as date)
            as latest_plan_start_date,
        case
            when crcs.plan_end_date < years.census_date then crcs.plan_end_date else years.census_date
        end as age_date,
        {{ census_birthday('crcs.week_of_birth_date', 18) }} as eighteenth_birthday_date,
        looked_after_on_census_date.child_key is not null as is_in_open_cla_episode
    from crcs
    inner join years
        on crcs.year_code = years.year_code
    left join looked_after_on_census_date
        on
            crcs.child_key = looked_after_on_census_date.child_key
            and crcs.year_code = looked_after_on_census_date.year_code
),

crcs_with_ages as (
    select
        *,
        {{ census_age_in_years('week_of_birth_date', 'age_date') }} as age_on_age_date,
        age_date < {{ census_birthday('week_of_birth_date', 5) }} as is_under_5,
        age_date < {{ census_birthday('week_of_birth_date', 10) }} as is_under_10
    from crcs_in_year
),

positions as (
    {%- for position in range(1, 13) %}
        select {{ position }} as list_position
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

disability_types as (
    select
        crcs.child_key,
        crcs.local_authority_code,
        crcs.year_code,
        {{ dbt.split_part('crcs.disability_type_codes', "'|'", 'positions.list_position') }} as disability_type_code
    from crcs
    cross join positions
    where crcs.disability_type_codes is not null
),

repeated_disability_types as (
    select
        child_key,
        local_authority_code,
        year_code,
        disability_type_code
    from disability_types
    where disability_type_code <> ''
    group by child_key, local_authority_code, year_code, disability_type_code
    having count(*) > 1
),

shared_irns as (
    select
        local_authority_code,
        year_code,
        irn
    from crcs
    where irn is not null
    group by local_authority_code, year_code, irn
    having count(distinct child_key) > 1
),

children_sharing_an_irn as (
    select crcs.*
    from crcs
    inner join shared_irns
        on
            crcs.local_authority_code = shared_irns.local_authority_code
            and crcs.year_code = shared_irns.year_code
            and crcs.irn = shared_irns.irn
),

failures as (
    {{ census_rule_failures('CRCS-3MONTH', 'crcs_in_year', 'plan_start_date > latest_plan_start_date',
        ['plan_start_date', 'latest_plan_start_date']) }}

    union all

    {{ census_rule_failures('CRCS-PLANSTART', 'crcs_in_year', 'plan_start_date > census_date',
        ['plan_start_date', 'census_date']) }}

    union all

    {{ census_rule_failures('CRCS-AGE', 'crcs_in_year',
        'week_of_birth_date > census_date'
        ~ ' or (plan_end_date is null and census_date >= eighteenth_birthday_date)'
        ~ ' or plan_end_date > eighteenth_birthday_date',
        ['week_of_birth_date', 'plan_end_date']) }}

    union all

    {{ census_rule_failures('CRCS-LAC', 'crcs_in_year', 'is_looked_after <> is_in_open_cla_episode',
        ['is_looked_after', 'is_in_open_cla_episode']) }}

    union all

    {{ census_rule_failures('CRCS-DISTYPE', 'crcs_in_year',
        "disability_type_codes is not null and coalesce(disability_code, '') <> '1'",
        ['disability_code', 'disability_type_codes']) }}

    union all

    {{ census_rule_failures('CIN-8794', 'repeated_disability_types', 'true', ['disability_type_code']) }}

    union all

    {{ census_rule_failures('CRCS-DENTAL', 'crcs_with_ages',
        'is_under_5 and has_dental_check is not null',
        ['has_dental_check', 'age_on_age_date']) }}

    union all

    {{ census_rule_failures('CRCS-YOUTH', 'crcs_with_ages',
        'is_under_10 and has_youth_offending is not null',
        ['has_youth_offending', 'age_on_age_date']) }}

    union all

    {{ census_rule_failures('CRCS-CLOSURE-NONE', 'crcs_in_year',
        'plan_end_date is not null or reason_for_closure_code is not null',
        ['plan_end_date', 'reason_for_closure_code']) }}

    union all

    {{ census_rule_failures('CRCS-CLOSURE', 'crcs_in_year',
        '(plan_end_date is null) <> (reason_for_closure_code is null) or plan_end_date < plan_start_date'
        ~ ' or plan_end_date < year_start_date or plan_end_date > census_date',
        ['plan_start_date', 'plan_end_date', 'reason_for_closure_code']) }}

    union all

    {{ census_rule_failures('CIN-1520', 'children_sharing_an_irn', 'true', ['irn']) }}
),

final as (
    {{ census_keyed_rule_failures('failures') }}
)

select * from final
