{#- Year-incremental on DuckDB (census_partition_incremental): a year's rows are that year's pupils. -#}
{%- set years = census_partition_incremental({'int_plasc_pupils_matched_to_care_and_support': 'year_code'}) -%}

with

pupils as (
    select * from {{ ref('int_plasc_pupils_matched_to_care_and_support') }}
    where {{ census_partition_filter('year_code', years) }}
),

final as (
    select
        pupil_year_key,
        pupil_key,
        crcs_key,
        child_key,
        person_key,
        school_local_authority_code,
        child_status_group,
        match_method,
        year_code,
        national_curriculum_year,
        ks4_capped_points,
        is_eligible_for_free_school_meals,
        has_special_educational_needs,
        has_achieved_ks2_core_subject_indicator,
        has_achieved_ks3_core_subject_indicator
    from pupils
)

select * from final
