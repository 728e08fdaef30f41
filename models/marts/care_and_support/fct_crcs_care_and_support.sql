{#- Year-incremental on DuckDB (census_partition_incremental): a year's rows are that year's CRCS children. -#}
{%- set years = census_partition_incremental({'int_crcs_children_grouped_by_status': 'year_code'}) -%}

with

crcs as (
    select * from {{ ref('int_crcs_children_grouped_by_status') }}
    where {{ census_partition_filter('year_code', years) }}
),

final as (
    select
        crcs_key,
        child_key,
        person_key,
        local_authority_code,
        child_status_group,
        sex_code,
        ethnicity_code,
        category_of_need_code,
        disability_code,
        reason_for_closure_code,
        {{ census_age_band('age_at_census_date') }} as age_band,
        year_code,
        age_at_census_date,
        is_looked_after,
        is_on_child_protection_register,
        is_looked_after_in_cla_census,
        is_disabled,
        has_immunisations_up_to_date,
        has_dental_check,
        has_mental_health_problem,
        has_substance_misuse_problem,
        has_youth_offending,
        is_welsh_first_language,
        plan_start_date,
        plan_end_date,
        census_date
    from crcs
)

select * from final
