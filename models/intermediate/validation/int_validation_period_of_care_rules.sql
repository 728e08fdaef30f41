{#-
    Period-of-care rules of the CLA census: each child's episode history in start-date order (the
    episodes folded across returns, with the period of care of int_cla_episodes_chained_to_periods_of_care).
    One row per failure. The rules across consecutive returns are int_validation_cross_return_rules.
-#}

{%- set history_values = ['reason_new_episode_code', 'episode_start_date', 'previous_episode_end_date'] -%}
{%- set change_values = [
    'reason_new_episode_code', 'previous_legal_status_code', 'legal_status_code', 'previous_placement_type_code',
    'placement_type_code', 'previous_placement_lsoa_code', 'placement_lsoa_code',
] -%}

with

episodes as (
    select * from {{ ref('stg_cla__episodes') }}
),

episodes_folded as (
    select * from {{ ref('int_cla_episodes_folded_across_returns') }}
),

episodes_chained as (
    select * from {{ ref('int_cla_episodes_chained_to_periods_of_care') }}
),

years as (
    select * from {{ ref('int_census_reporting_years') }}
),

-- the years each authority returned episodes for, and its first
authority_years as (
    {{ census_authority_return_years() }}
),

authority_first_years as (
    select
        local_authority_code,
        min(year_start_date) as first_year_start_date
    from authority_years
    group by local_authority_code
),

-- each episode once with its neighbours in the child's history
history as (
    select
        episodes_folded.episode_key,
        episodes_folded.child_key,
        episodes_folded.local_authority_code,
        episodes_folded.latest_return_year_code as year_code,
        episodes_folded.reason_new_episode_code,
        episodes_folded.legal_status_code,
        episodes_folded.category_of_need_code,
        episodes_folded.placement_type_code,
        episodes_folded.placement_lsoa_code,
        episodes_folded.reason_episode_finished_code,
        episodes_folded.episode_start_date,
        episodes_folded.episode_end_date,
        episodes_chained.period_of_care_number,
        episodes_chained.period_of_care_start_date,
        episodes_chained.is_last_episode_in_period,
        authority_first_years.first_year_start_date,
        {%- for column in ['episode_start_date', 'episode_end_date', 'reason_episode_finished_code',
            'legal_status_code', 'placement_type_code', 'placement_lsoa_code'] %}
            lag(episodes_folded.{{ column }}) over (
                partition by episodes_folded.child_key order by episodes_folded.episode_start_date
            ) as previous_{{ column }},
        {%- endfor %}
        lead(episodes_folded.episode_start_date) over (
            partition by episodes_folded.child_key order by episodes_folded.episode_start_date
        ) as next_episode_start_date,
        lead(episodes_folded.reason_new_episode_code) over (
            partition by episodes_folded.child_key order by episodes_folded.episode_start_date
        ) as next_reason_new_episode_code
    from episodes_folded
    inner join episodes_chained
        on episodes_folded.episode_key = episodes_chained.episode_key
    left join authority_first_years
        on episodes_folded.local_authority_code = authority_first_years.local_authority_code
),

history_in_periods as (
    select
        *,
        min(case when episode_start_date = period_of_care_start_date then category_of_need_code end) over (
            partition by child_key, period_of_care_number
        ) as period_category_of_need_code,
        coalesce(episode_start_date = previous_episode_end_date, false) as follows_on_same_day,
        (
            placement_type_code = previous_placement_type_code
            and coalesce(placement_lsoa_code, '') = coalesce(previous_placement_lsoa_code, '')
        ) as is_same_placement
    from history
),

failures as (
    {{ census_rule_failures('501', 'history_in_periods',
        'episode_start_date < previous_episode_end_date', history_values, episode_key='episode_key') }}

    union all

    {{ census_rule_failures('142', 'history_in_periods',
        'previous_episode_start_date is not null and previous_episode_end_date is null',
        ['episode_start_date', 'previous_episode_start_date'], episode_key='episode_key') }}

    union all

    {{ census_rule_failures('431', 'history_in_periods',
        "reason_new_episode_code = 'S' and follows_on_same_day", history_values, episode_key='episode_key') }}

    union all

    {{ census_rule_failures('432', 'history_in_periods',
        "previous_reason_episode_finished_code <> 'X1' and coalesce(reason_new_episode_code, '') <> 'S'",
        ['reason_new_episode_code', 'previous_reason_episode_finished_code'], episode_key='episode_key') }}

    union all

    {{ census_rule_failures('433', 'history_in_periods',
        "reason_new_episode_code in ('L', 'P', 'B') and ("
        ~ "(previous_episode_start_date is null and episode_start_date >= first_year_start_date)"
        ~ " or (previous_episode_start_date is not null and not follows_on_same_day))",
        history_values, episode_key='episode_key') }}

    union all

    {{ census_rule_failures('357', 'history_in_periods',
        'previous_episode_start_date is null and episode_start_date >= first_year_start_date'
        ~ " and coalesce(reason_new_episode_code, '') <> 'S'",
        ['reason_new_episode_code', 'episode_start_date'], episode_key='episode_key') }}

    union all

    {{ census_rule_failures('388', 'history_in_periods',
        "reason_episode_finished_code = 'X1' and (next_episode_start_date is null"
        ~ " or next_episode_start_date <> episode_end_date or next_reason_new_episode_code = 'S')",
        ['episode_end_date', 'next_episode_start_date', 'next_reason_new_episode_code'],
        episode_key='episode_key') }}

    union all

    {{ census_rule_failures('437', 'history_in_periods',
        "reason_episode_finished_code = 'E2' and next_episode_start_date is not null",
        ['episode_end_date', 'next_episode_start_date'], episode_key='episode_key') }}

    union all

    {{ census_rule_failures('434', 'history_in_periods',
        "reason_new_episode_code = 'L' and follows_on_same_day"
        ~ ' and (legal_status_code = previous_legal_status_code or not is_same_placement)',
        change_values, episode_key='episode_key') }}

    union all

    {{ census_rule_failures('435', 'history_in_periods',
        "reason_new_episode_code = 'P' and follows_on_same_day"
        ~ ' and (legal_status_code <> previous_legal_status_code or is_same_placement)',
        change_values, episode_key='episode_key') }}

    union all

    {{ census_rule_failures('436', 'history_in_periods',
        "reason_new_episode_code = 'B' and follows_on_same_day"
        ~ ' and (legal_status_code = previous_legal_status_code or is_same_placement)',
        change_values, episode_key='episode_key') }}

    union all

    {{ census_rule_failures('504', 'history_in_periods',
        "coalesce(category_of_need_code, '') <> coalesce(period_category_of_need_code, '')",
        ['category_of_need_code', 'period_category_of_need_code'], episode_key='episode_key') }}

    union all

    {{ census_rule_failures('355', 'history_in_periods',
        "is_last_episode_in_period and episode_end_date = period_of_care_start_date"
        ~ " and coalesce(reason_episode_finished_code, '') <> 'X1'",
        ['period_of_care_start_date', 'episode_end_date'], episode_key='episode_key') }}
),

final as (
    {{ census_keyed_rule_failures('failures') }}
)

select * from final
