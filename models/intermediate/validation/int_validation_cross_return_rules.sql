{#-
    Rules across a local authority's consecutive CLA returns: an episode open at the end of one
    return missing from the next (502), an episode started before the year missing from the
    previous return (562), and an episode's values changed from one return to the next (503,
    503-LSOA). One row per failure. Kept apart from the period-of-care rules: their self-joins of
    every return's episodes and that model's windows over every child's history, in one statement,
    ran out of memory at scale 100 within a 2.5 GB DuckDB limit in 3 of 12 tries; apart, in none of 10.
-#}

with

episodes as (
    select * from {{ ref('stg_cla__episodes') }}
),

episodes_folded as (
    select * from {{ ref('int_cla_episodes_folded_across_returns') }}
),

episode_conflicts as (
    select * from {{ ref('int_cla_episode_return_conflicts') }}
),

years as (
    select * from {{ ref('int_census_reporting_years') }}
),

-- the years each authority returned episodes for
authority_years as (
    {{ census_authority_return_years() }}
),

-- episodes open at the end of a return, and the next return of the authority
open_at_year_end as (
    select
        episodes.episode_key,
        episodes.child_key,
        episodes.local_authority_code,
        episodes.year_code,
        episodes.episode_start_date,
        authority_years.year_code as next_year_code
    from episodes
    -- consecutive year codes differ by 101 (201617, 201718, ...)
    inner join authority_years
        on
            episodes.local_authority_code = authority_years.local_authority_code
            and authority_years.year_code = episodes.year_code + 101
    where episodes.episode_end_date is null
),

missing_from_next_return as (
    select open_at_year_end.*
    from open_at_year_end
    left join episodes as next_return
        on
            open_at_year_end.episode_key = next_return.episode_key
            and open_at_year_end.next_year_code = next_return.year_code
    where next_return.episode_key is null
),

-- episodes started before the year, and the previous return of the authority
started_before_year as (
    select
        episodes.episode_key,
        episodes.child_key,
        episodes.local_authority_code,
        episodes.year_code,
        episodes.episode_start_date,
        authority_years.year_code as previous_year_code
    from episodes
    inner join years
        on episodes.year_code = years.year_code
    inner join authority_years
        on
            episodes.local_authority_code = authority_years.local_authority_code
            and authority_years.year_code = episodes.year_code - 101
    where episodes.episode_start_date < years.year_start_date
),

missing_from_previous_return as (
    select started_before_year.*
    from started_before_year
    left join episodes as previous_return
        on
            started_before_year.episode_key = previous_return.episode_key
            and started_before_year.previous_year_code = previous_return.year_code
    where previous_return.episode_key is null
),

-- an episode's values changed between returns, with its child and authority
conflicts as (
    select
        episode_conflicts.field_name,
        episode_conflicts.old_value,
        episode_conflicts.new_value,
        episode_conflicts.old_year_code,
        episode_conflicts.new_year_code,
        episodes_folded.episode_key,
        episodes_folded.child_key,
        episodes_folded.local_authority_code
    from episode_conflicts
    inner join episodes_folded
        on episode_conflicts.episode_key = episodes_folded.episode_key
),

failures as (
    {{ census_rule_failures('502', 'missing_from_next_return', 'true',
        ['episode_start_date', 'next_year_code'], episode_key='episode_key') }}

    union all

    {{ census_rule_failures('562', 'missing_from_previous_return', 'true',
        ['episode_start_date', 'previous_year_code'], episode_key='episode_key') }}

    union all

    {{ census_rule_failures('503', 'conflicts', "field_name <> 'placement_lsoa_code'",
        ['field_name', 'old_year_code', 'old_value', 'new_value'], episode_key='episode_key',
        year_code='new_year_code') }}

    union all

    {{ census_rule_failures('503-LSOA', 'conflicts', "field_name = 'placement_lsoa_code'",
        ['old_year_code', 'old_value', 'new_value'], episode_key='episode_key', year_code='new_year_code') }}
),

final as (
    {{ census_keyed_rule_failures('failures') }}
)

select * from final
