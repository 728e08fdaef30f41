with

clean_rows as (
    {{ census_clean_rows('base_cla__child') }}
),

final as (
    select
        {{ census_child_key('local_authority_code', 'system_id') }} as child_key,
        local_authority_code,
        irn,
        gndr_cd as sex_code,
        ethnicity as ethnicity_code,
        disability_code,
        lsoa2011_home_postcode as home_lsoa_code,
        transferred_from_la_code as transferred_from_local_authority_code,
        {{ census_safe_cast('year_code', dbt.type_int()) }} as year_code,
        {{ census_safe_cast('alf_pe', dbt.type_bigint()) }} as alf_pe,
        {{ census_flag('asylum') }} as is_uasc,
        {{ census_flag("case disability_code when '2' then null else disability_code end") }} as is_disabled,
        {{ census_safe_cast('wob', 'date') }} as week_of_birth_date,
        {{ census_safe_cast('date_ceased_uasc', 'date') }} as uasc_ceased_date,
        source_file,
        source_row_number
    from clean_rows
)

select * from final
