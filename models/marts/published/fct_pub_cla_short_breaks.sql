{#-
    Table 7: short breaks (children looked after under an agreed series of short breaks, legal
    status V1; StatsWales respite table and performance measure CH/040), per authority and Wales,
    disclosure-controlled: the children who received short breaks during the year (a child counted
    once, by the placement of their latest short-break episode in the year's return), with the
    number of breaks they received (SHORT_BREAKS, summed over the child's short-break episodes in
    the return), and the children receiving short breaks at 31 March.
-#}
{%- set placements = ['Foster placements', "Children's homes", 'Other placements'] -%}

with

episodes as (
    select * from {{ ref('stg_cla__episodes') }}
),

placement_types as (
    select * from {{ ref('dim_placement_type') }}
),

reporting_years as (
    select * from {{ ref('int_census_reporting_years') }}
),

{{ published_grid_ctes() }},

short_break_episodes as (
    select
        episodes.year_code,
        episodes.local_authority_code,
        episodes.child_key,
        episodes.short_breaks_count,
        episodes.episode_start_date,
        case
            when placement_types.is_foster_placement then 'Foster placements'
            when placement_types.placement_group = 'childrens_home'
                then {{ census_string_literal("Children's homes") }}
            else 'Other placements'
        end as placement,
        (
            episodes.episode_start_date <= reporting_years.census_date
            and (episodes.episode_end_date is null or episodes.episode_end_date > reporting_years.census_date)
        ) as is_open_at_31_march,
        row_number() over (
            partition by episodes.year_code, episodes.child_key
            order by episodes.episode_start_date desc
        ) as latest_in_year
    from episodes
    inner join reporting_years
        on episodes.year_code = reporting_years.year_code
    left join placement_types
        on episodes.placement_type_code = placement_types.code
    where episodes.legal_status_code = 'V1'
),

breaks_in_year as (
    select
        year_code,
        child_key,
        sum(short_breaks_count) as short_breaks_count,
        max(case when is_open_at_31_march then 1 else 0 end) = 1 as is_open_at_31_march
    from short_break_episodes
    group by year_code, child_key
),

children as (
    select
        latest.year_code,
        latest.local_authority_code,
        latest.placement,
        breaks.short_breaks_count,
        breaks.is_open_at_31_march
    from short_break_episodes as latest
    inner join breaks_in_year as breaks
        on
            latest.year_code = breaks.year_code
            and latest.child_key = breaks.child_key
    where latest.latest_in_year = 1
),

cells as (
    {{ published_cells('children', 'placement', 'Children receiving short breaks during the year',
        'Placement', placements, statistic_name='Number of short breaks',
        statistic_input='short_breaks_count', statistic_aggregate='sum') }}

    union all

    {{ published_cells('children', 'placement', 'Children receiving short breaks at 31 March',
        'Placement', placements, where='is_open_at_31_march') }}
),

{{ published_table('cells') }}

select * from final
