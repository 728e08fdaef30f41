with

clean_rows as (
    {{ census_clean_rows('base_crcs__child') }}
),

typed as (
    select
        {{ census_child_key('local_authority_code', 'child_code') }} as child_key,
        local_authority_code,
        irn,
        gndr_cd as sex_code,
        ethnicity as ethnicity_code,
        lsoa2011_cd as home_lsoa_code,
        category_of_need_code,
        reason_for_closure as reason_for_closure_code,
        disability as disability_code,
        disability_types as disability_type_codes,
        {{ census_safe_cast('year_code', dbt.type_int()) }} as year_code,
        {{ census_safe_cast('alf_pe', dbt.type_bigint()) }} as alf_pe,
        {{ census_flag('looked_after') }} as is_looked_after,
        {{ census_flag('child_protection_register') }} as is_on_child_protection_register,
        {{ census_flag("case disability when '2' then null else disability end") }} as is_disabled,
        {{ census_flag('domestic_abuse') }} as has_domestic_abuse,
        {{ census_flag('parental_substance_misuse') }} as has_parental_substance_misuse,
        {{ census_flag('parental_mental_ill_health') }} as has_parental_mental_ill_health,
        {{ census_flag('parental_learning_disability') }} as has_parental_learning_disability,
        {{ census_flag('parental_physical_ill_health') }} as has_parental_physical_ill_health,
        {{ census_flag('immunisations_up_to_date') }} as has_immunisations_up_to_date,
        {{ census_flag('dental_check') }} as has_dental_check,
        {{ census_flag('mental_health') }} as has_mental_health_problem,
        {{ census_flag('substance_misuse') }} as has_substance_misuse_problem,
        {{ census_flag('youth_offending') }} as has_youth_offending,
        {{ census_flag('welsh_language') }} as is_welsh_first_language,
        {{ census_safe_cast('wob', 'date') }} as week_of_birth_date,
        {{ census_safe_cast('plan_start_date', 'date') }} as plan_start_date,
        {{ census_safe_cast('plan_end_date', 'date') }} as plan_end_date,
        source_file,
        source_row_number
    from clean_rows
),

final as (
    select
        {{ census_surrogate_key(['child_key', 'year_code']) }} as crcs_key,
        *
    from typed
)

select * from final
