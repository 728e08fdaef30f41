{#-
    Care-leaver rules of the CLA census: each return's care-leaver rows (stg_cla__care_leavers)
    against the child's week of birth and last episode in the authority. A child with no care
    history in the data is only reported where the authority's returns start at least three years
    before the care-leaver year (otherwise the care may predate the data). One row per failure.
-#}

{%- set observed = 'first_year_start_date <= ' ~ dbt.dateadd('year', -3, 'year_start_date') -%}

with

care_leavers as (
    select * from {{ ref('stg_cla__care_leavers') }}
),

episodes as (
    select * from {{ ref('stg_cla__episodes') }}
),

episodes_folded as (
    select * from {{ ref('int_cla_episodes_folded_across_returns') }}
),

children_folded as (
    select * from {{ ref('int_cla_children_folded_across_returns') }}
),

years as (
    select * from {{ ref('int_census_reporting_years') }}
),

authority_first_years as (
    select
        episodes.local_authority_code,
        min(years.year_start_date) as first_year_start_date
    from episodes
    inner join years
        on episodes.year_code = years.year_code
    group by episodes.local_authority_code
),

last_episodes as (
    select
        *,
        row_number() over (partition by child_key order by episode_start_date desc) as recency
    from episodes_folded
),

care_leavers_with_history as (
    select
        care_leavers.*,
        years.year_start_date,
        years.census_date,
        children_folded.week_of_birth_date,
        {{ census_birthday('children_folded.week_of_birth_date', 19) }} as nineteenth_birthday_date,
        authority_first_years.first_year_start_date,
        last_episodes.episode_key as last_episode_key,
        last_episodes.episode_end_date as last_episode_end_date,
        last_episodes.reason_episode_finished_code as last_reason_episode_finished_code,
        {{ census_age_in_years('children_folded.week_of_birth_date', 'last_episodes.episode_end_date') }}
            as age_at_last_episode_end
    from care_leavers
    inner join years
        on care_leavers.year_code = years.year_code
    left join children_folded
        on care_leavers.child_key = children_folded.child_key
    left join authority_first_years
        on care_leavers.local_authority_code = authority_first_years.local_authority_code
    left join last_episodes
        on
            care_leavers.child_key = last_episodes.child_key
            and last_episodes.recency = 1
),

failures as (
    {{ census_rule_failures('344', 'care_leavers_with_history',
        "in_touch_code in ('DIED', 'RHOM') and (coalesce(activity_code, '') <> '0'"
        ~ " or coalesce(accommodation_code, '') <> '0')",
        ['in_touch_code', 'activity_code', 'accommodation_code']) }}

    union all

    {{ census_rule_failures('345', 'care_leavers_with_history',
        "in_touch_code = 'YES' and (activity_code = '0' or accommodation_code = '0')",
        ['in_touch_code', 'activity_code', 'accommodation_code']) }}

    union all

    {{ census_rule_failures('391', 'care_leavers_with_history',
        '(week_of_birth_date is null and ' ~ observed ~ ')'
        ~ ' or nineteenth_birthday_date < year_start_date or nineteenth_birthday_date > census_date',
        ['week_of_birth_date', 'nineteenth_birthday_date']) }}

    union all

    {{ census_rule_failures('1000', 'care_leavers_with_history',
        "last_reason_episode_finished_code = 'E2'", ['last_reason_episode_finished_code'],
        episode_key='last_episode_key') }}

    union all

    {{ census_rule_failures('1011', 'care_leavers_with_history',
        "last_reason_episode_finished_code = 'E3'", ['last_reason_episode_finished_code'],
        episode_key='last_episode_key') }}

    union all

    {{ census_rule_failures('1002', 'care_leavers_with_history',
        '(last_episode_key is null and ' ~ observed ~ ') or (last_episode_key is not null and ('
        ~ "last_episode_end_date is null or last_reason_episode_finished_code = 'X1'"
        ~ ' or age_at_last_episode_end < 16 or age_at_last_episode_end > 18))',
        ['last_episode_end_date', 'last_reason_episode_finished_code', 'age_at_last_episode_end'],
        episode_key='last_episode_key') }}
),

final as (
    {{ census_keyed_rule_failures('failures') }}
)

select * from final
