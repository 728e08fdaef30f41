{#-
    One row per child per reporting year for every child looked after on the census date (31
    March): an episode that started on or before that day and ended after it or is still open. An
    episode ending on 31 March does not count for that day; one starting on it does. Children
    whose only such episodes are short breaks (legal status V1) are flagged, to be counted apart.
    The child's situation is that of the episode open on the day (a non-short-break one first).
-#}

with

episodes as (
    select * from {{ ref('int_cla_episodes_chained_to_periods_of_care') }}
),

placements as (
    select * from {{ ref('int_cla_episodes_grouped_into_placements') }}
),

years as (
    select * from {{ ref('int_census_reporting_years') }}
),

children as (
    select * from {{ ref('int_children_linked_across_censuses') }}
),

open_on_census_date as (
    select
        episodes.*,
        years.year_code,
        years.year_start_date,
        years.census_date,
        row_number() over (
            partition by episodes.child_key, years.year_code
            order by case when episodes.is_short_break then 1 else 0 end, episodes.episode_start_date desc
        ) as preference,
        min(case when episodes.is_short_break then 1 else 0 end) over (
            partition by episodes.child_key, years.year_code
        ) = 1 as is_short_break_only
    from episodes
    inner join years
        on
            episodes.episode_start_date <= years.census_date
            and (episodes.episode_end_date is null or episodes.episode_end_date > years.census_date)
),

on_census_date as (
    select * from open_on_census_date
    where preference = 1
),

placements_in_year as (
    select
        on_census_date.child_key,
        on_census_date.year_code,
        count(distinct placements.placement_key) as placement_count
    from on_census_date
    inner join placements
        on
            on_census_date.child_key = placements.child_key
            and on_census_date.census_date >= placements.placement_start_date
            and (
                placements.placement_end_date is null
                or on_census_date.year_start_date <= placements.placement_end_date
            )
            and on_census_date.is_short_break_only = placements.is_short_break_only
    group by on_census_date.child_key, on_census_date.year_code
),

final as (
    select
        {{ census_surrogate_key(['on_census_date.child_key', 'on_census_date.year_code']) }}
            as child_year_key,
        on_census_date.child_key,
        on_census_date.person_key,
        on_census_date.episode_key,
        on_census_date.period_of_care_key,
        on_census_date.placement_key,
        on_census_date.local_authority_code,
        children.sex_code,
        children.ethnicity_code,
        on_census_date.legal_status_code,
        on_census_date.placement_type_code,
        on_census_date.placement_location,
        on_census_date.category_of_need_code,
        on_census_date.year_code,
        {{ census_age_in_years('children.week_of_birth_date', 'on_census_date.census_date') }} as age_at_census_date,
        cast(coalesce(placements_in_year.placement_count, 0) as {{ dbt.type_int() }}) as placement_count_in_year,
        cast(
            {{ dbt.datediff('on_census_date.period_of_care_start_date', 'on_census_date.census_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as days_looked_after_continuously,
        on_census_date.is_short_break_only,
        (
            coalesce(children.is_uasc, false)
            and (children.uasc_ceased_date is null or children.uasc_ceased_date > on_census_date.census_date)
        ) as is_uasc,
        on_census_date.census_date,
        on_census_date.period_of_care_start_date
    from on_census_date
    left join placements_in_year
        on
            on_census_date.child_key = placements_in_year.child_key
            and on_census_date.year_code = placements_in_year.year_code
    left join children
        on on_census_date.child_key = children.child_key
)

select * from final
