{#-
    Episode rules of the CLA census: each return's episode rows (stg_cla__episodes) and each
    episode once, as folded across returns (int_cla_episodes_folded_across_returns: the latest
    return wins), with the child's week of birth from the latest child return. One row per failure.
-#}

{%- set adopted = "('E1', 'E11', 'E12')" -%}
{%- set episode_values = ['episode_start_date', 'episode_end_date'] -%}

with

episodes as (
    select * from {{ ref('stg_cla__episodes') }}
),

episodes_folded as (
    select * from {{ ref('int_cla_episodes_folded_across_returns') }}
),

children as (
    select * from {{ ref('stg_cla__children') }}
),

children_folded as (
    select * from {{ ref('int_cla_children_folded_across_returns') }}
),

years as (
    select * from {{ ref('int_census_reporting_years') }}
),

lsoas as (
    select * from {{ ref('ref_lsoa_local_authorities') }}
),

-- one row per episode per return, with the year's dates, the child's birth and the lookups
episodes_in_return as (
    select
        episodes.*,
        years.year_start_date,
        years.census_date,
        children_folded.week_of_birth_date,
        children.home_lsoa_code,
        lsoas.local_authority_code as placement_lsoa_local_authority_code,
        row_number() over (
            partition by episodes.child_key, episodes.year_code
            order by episodes.episode_start_date, episodes.episode_number
        ) as expected_episode_number,
        count(*) over (
            partition by episodes.child_key, episodes.year_code, episodes.episode_start_date
        ) as episodes_with_same_start
    from episodes
    inner join years
        on episodes.year_code = years.year_code
    left join children_folded
        on episodes.child_key = children_folded.child_key
    left join children
        on
            episodes.child_key = children.child_key
            and episodes.year_code = children.year_code
    left join lsoas
        on episodes.placement_lsoa_code = lsoas.lsoa_code
),

-- one row per episode (latest return), with the ages that the age rules compare against
episodes_once as (
    select
        episodes_folded.*,
        episodes_folded.latest_return_year_code as year_code,
        years.census_date,
        children_folded.week_of_birth_date,
        {{ census_age_in_years('children_folded.week_of_birth_date', 'episodes_folded.episode_start_date') }}
            as age_at_start,
        {{ census_age_in_years('children_folded.week_of_birth_date', 'episodes_folded.episode_end_date') }}
            as age_at_end,
        {{ dbt.datediff(
            'episodes_folded.episode_start_date',
            'coalesce(episodes_folded.episode_end_date, years.census_date)',
            'day',
        ) }} as days_in_legal_status,
        {% for years_old in [4, 10, 14, 16, 18] -%}
            {{ census_birthday('children_folded.week_of_birth_date', years_old) }} as birthday_{{ years_old }}_date
            {%- if not loop.last %},{% endif %}
        {% endfor %}
    from episodes_folded
    inner join years
        on episodes_folded.latest_return_year_code = years.year_code
    left join children_folded
        on episodes_folded.child_key = children_folded.child_key
),

failures as (
    -- rules on each return's rows
    {{ census_rule_failures('148', 'episodes_in_return',
        '(episode_end_date is null) <> (reason_episode_finished_code is null)',
        ['episode_end_date', 'reason_episode_finished_code'], episode_key='episode_key') }}

    union all

    {{ census_rule_failures('353', 'episodes_in_return',
        "episode_start_date < cast('1991-10-14' as date)", ['episode_start_date'], episode_key='episode_key') }}

    union all

    {{ census_rule_failures('354', 'episodes_in_return',
        'episode_end_date > census_date', ['episode_end_date', 'census_date'], episode_key='episode_key') }}

    union all

    {{ census_rule_failures('W-INYEAR', 'episodes_in_return',
        'episode_start_date > census_date or episode_end_date < year_start_date',
        episode_values, episode_key='episode_key') }}

    union all

    {{ census_rule_failures('356', 'episodes_in_return',
        'episode_end_date < episode_start_date', episode_values, episode_key='episode_key') }}

    union all

    {{ census_rule_failures('EPNUM', 'episodes_in_return',
        'episode_number is null or episode_number <> expected_episode_number or episodes_with_same_start > 1',
        ['episode_number', 'expected_episode_number'], episode_key='episode_key') }}

    union all

    {{ census_rule_failures('302', 'episodes_in_return',
        'episode_start_date < week_of_birth_date', ['episode_start_date', 'week_of_birth_date'],
        episode_key='episode_key') }}

    union all

    {{ census_rule_failures('365', 'episodes_in_return',
        "(legal_status_code = 'V1' and coalesce(short_breaks_count, -1) < 0)"
        ~ " or (legal_status_code <> 'V1' and coalesce(short_breaks_count, 0) <> 0)",
        ['legal_status_code', 'short_breaks_count'], episode_key='episode_key') }}

    union all

    {{ census_rule_failures('392d', 'episodes_in_return',
        "placement_type_code <> 'P1' and home_lsoa_code = placement_lsoa_code",
        ['placement_type_code', 'placement_lsoa_code'], episode_key='episode_key') }}

    union all

    {{ census_rule_failures('W-PLACE-LA', 'episodes_in_return',
        "placement_lsoa_code is not null and ("
        ~ "(placement_type_code in ('F1', 'F2', 'F3', 'H1', 'H3')"
        ~ " and coalesce(placement_lsoa_local_authority_code, '') <> local_authority_code)"
        ~ " or (placement_type_code in ('F4', 'F5', 'F6', 'H21', 'H22', 'H4')"
        ~ " and placement_lsoa_local_authority_code = local_authority_code)"
        ~ " or (placement_type_code = 'H22' and placement_lsoa_code not like 'E01%')"
        ~ " or (placement_type_code = 'H21' and placement_lsoa_code not like 'W01%'))",
        ['placement_type_code', 'placement_lsoa_code', 'placement_lsoa_local_authority_code'],
        episode_key='episode_key') }}

    union all

    -- rules on each episode once (latest return): minimum ages for placements
    {%- for rule_id, placement, years_old in [
        ('370', 'P2', 16), ('371', 'H5', 16), ('372', 'R5', 10), ('373', 'S1', 4), ('374', 'P3', 14)
    ] %}

        {{ census_rule_failures(rule_id, 'episodes_once',
            "placement_type_code = '" ~ placement ~ "' and episode_start_date < birthday_" ~ years_old ~ "_date",
            ['placement_type_code', 'episode_start_date', 'age_at_start'], episode_key='episode_key') }}

        union all
    {%- endfor %}

    {{ census_rule_failures('352', 'episodes_once',
        "reason_new_episode_code = 'S' and episode_start_date >= birthday_18_date",
        ['reason_new_episode_code', 'episode_start_date', 'age_at_start'], episode_key='episode_key') }}

    union all

    {{ census_rule_failures('358', 'episodes_once',
        "legal_status_code in ('J1', 'J2', 'J3') and episode_start_date < birthday_10_date",
        ['legal_status_code', 'age_at_start'], episode_key='episode_key') }}

    union all

    -- ages when care ends
    {%- for rule_id, reasons, comparison in [
        ('386', adopted, '>= birthday_18_date'),
        ('387', "('E5', 'E6')", '< birthday_14_date'),
        ('389', "('E7')", '< birthday_16_date'),
        ('407', "('E43', 'E44')", '>= birthday_18_date'),
    ] %}

        {{ census_rule_failures(rule_id, 'episodes_once',
            'reason_episode_finished_code in ' ~ reasons ~ ' and episode_end_date ' ~ comparison,
            ['reason_episode_finished_code', 'episode_end_date', 'age_at_end'], episode_key='episode_key') }}

        union all
    {%- endfor %}

    {{ census_rule_failures('460', 'episodes_once',
        "reason_episode_finished_code = 'E10' and ("
        ~ dbt.dateadd('day', 1, 'episode_end_date') ~ " < birthday_18_date"
        ~ " or coalesce(placement_type_code, '') not in ('F1', 'F2', 'F3', 'F4', 'F5', 'F6'))",
        ['episode_end_date', 'placement_type_code', 'week_of_birth_date'], episode_key='episode_key') }}

    union all

    {{ census_rule_failures('359', 'episodes_once',
        'coalesce(episode_end_date, ' ~ dbt.dateadd('day', 1, 'census_date') ~ ') > birthday_18_date'
        ~ " and not (legal_status_code = 'V2' and placement_type_code in ('H3', 'H4'))",
        ['episode_end_date', 'week_of_birth_date', 'legal_status_code', 'placement_type_code'],
        episode_key='episode_key') }}

    union all

    -- codes that must agree
    {{ census_rule_failures('378', 'episodes_once',
        "placement_type_code = 'P1' and legal_status_code = 'V2'",
        ['placement_type_code', 'legal_status_code'], episode_key='episode_key') }}

    union all

    {{ census_rule_failures('390', 'episodes_once',
        'reason_episode_finished_code in ' ~ adopted
        ~ " and coalesce(placement_type_code, '') not in ('A1', 'A2', 'A3', 'A4', 'A5', 'A6', 'A8')",
        ['reason_episode_finished_code', 'placement_type_code'], episode_key='episode_key') }}

    union all

    {{ census_rule_failures('408', 'episodes_once',
        "placement_type_code in ('A5', 'A6') and coalesce(legal_status_code, '') not in ('E1', 'D1')",
        ['placement_type_code', 'legal_status_code'], episode_key='episode_key') }}

    union all

    {{ census_rule_failures('445', 'episodes_once',
        "legal_status_code = 'D1' and episode_start_date > cast('2005-12-30' as date)",
        ['legal_status_code', 'episode_start_date'], episode_key='episode_key') }}

    union all

    {{ census_rule_failures('446', 'episodes_once',
        "legal_status_code = 'E1' and episode_start_date < cast('2005-12-30' as date)",
        ['legal_status_code', 'episode_start_date'], episode_key='episode_key') }}

    union all

    -- how long short-term legal statuses may last (days to the end, or to 31 March while open)
    {%- for rule_id, legal_status, max_days in [('361', 'L1', 3), ('362', 'L2', 21), ('363', 'L3', 7)] %}

        {{ census_rule_failures(rule_id, 'episodes_once',
            "legal_status_code = '" ~ legal_status ~ "' and days_in_legal_status > " ~ max_days,
            ['legal_status_code', 'episode_end_date', 'days_in_legal_status'], episode_key='episode_key') }}
        {%- if not loop.last %}

            union all
        {%- endif %}
    {%- endfor %}
),

final as (
    {{ census_keyed_rule_failures('failures') }}
)

select * from final
