with

clean_rows as (
    {{ census_clean_rows('base_cla__adoption') }}
),

final as (
    select
        {{ census_child_key('local_authority_code', 'system_id') }} as child_key,
        local_authority_code,
        sex_of_adopters as adopter_sex_code,
        legal_status_of_adopters as adopter_legal_status_code,
        ethnicity_of_adopters as adopter_ethnicity_code,
        {{ census_safe_cast('year_code', dbt.type_int()) }} as year_code,
        {{ census_safe_cast('number_of_adopters', dbt.type_int()) }} as number_of_adopters,
        {{ census_flag('adopted_by_foster_carer') }} as is_adopted_by_foster_carer,
        {{ census_safe_cast('date_should_be_placed', 'date') }} as should_be_placed_date,
        {{ census_safe_cast('date_matched', 'date') }} as matched_date,
        {{ census_safe_cast('date_placed', 'date') }} as placed_for_adoption_date,
        {{ census_safe_cast('date_of_adoption', 'date') }} as adoption_date,
        source_file,
        source_row_number
    from clean_rows
)

select * from final
