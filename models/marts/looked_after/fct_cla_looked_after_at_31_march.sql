with

looked_after as (
    select * from {{ ref('int_cla_children_looked_after_at_31_march') }}
),

ethnicities as (
    select * from {{ ref('code_ethnicity') }}
),

legal_statuses as (
    select * from {{ ref('code_legal_status') }}
),

placement_types as (
    select * from {{ ref('code_placement_type') }}
),

final as (
    select
        looked_after.child_year_key,
        looked_after.child_key,
        looked_after.person_key,
        looked_after.period_of_care_key,
        looked_after.placement_key,
        looked_after.episode_key,
        looked_after.local_authority_code,
        looked_after.sex_code,
        looked_after.ethnicity_code,
        ethnicities.publication_group as ethnicity_group,
        looked_after.legal_status_code,
        legal_statuses.publication_group as legal_status_group,
        looked_after.placement_type_code,
        placement_types.placement_group,
        placement_types.publication_group as placement_publication_group,
        looked_after.placement_location,
        looked_after.category_of_need_code,
        {{ census_age_band('looked_after.age_at_census_date') }} as age_band,
        looked_after.year_code,
        looked_after.age_at_census_date,
        looked_after.placement_count_in_year,
        looked_after.days_looked_after_continuously,
        looked_after.is_short_break_only,
        looked_after.is_uasc,
        looked_after.placement_count_in_year >= 3 as has_three_or_more_placements_in_year,
        looked_after.census_date,
        looked_after.period_of_care_start_date
    from looked_after
    left join ethnicities
        on looked_after.ethnicity_code = ethnicities.code
    left join legal_statuses
        on looked_after.legal_status_code = legal_statuses.code
    left join placement_types
        on looked_after.placement_type_code = placement_types.code
)

select * from final
