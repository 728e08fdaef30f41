with

clean_rows as (
    {{ census_clean_rows('base_plasc__pupil') }}
),

final as (
    select
        irn,
        local_authority_code as school_local_authority_code,
        {{ census_safe_cast('year_code', dbt.type_int()) }} as year_code,
        {{ census_safe_cast('alf_pe', dbt.type_bigint()) }} as alf_pe,
        {{ census_safe_cast('national_curriculum_year', dbt.type_int()) }} as national_curriculum_year,
        {{ census_safe_cast('ks4_capped_points', 'decimal(9, 2)') }} as ks4_capped_points,
        {{ census_flag('fsm') }} as is_eligible_for_free_school_meals,
        {{ census_flag('sen') }} as has_special_educational_needs,
        {{ census_flag('ks2_csi') }} as has_achieved_ks2_core_subject_indicator,
        {{ census_flag('ks3_csi') }} as has_achieved_ks3_core_subject_indicator,
        source_file,
        source_row_number
    from clean_rows
)

select * from final
