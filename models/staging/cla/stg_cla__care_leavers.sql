with

clean_rows as (
    {{ census_clean_rows('base_cla__care_leaver') }}
),

final as (
    select
        {{ census_child_key('local_authority_code', 'system_id') }} as child_key,
        local_authority_code,
        in_touch as in_touch_code,
        activity as activity_code,
        accommodation as accommodation_code,
        {{ census_safe_cast('year_code', dbt.type_int()) }} as year_code,
        {{ census_flag('pathway_plan') }} as has_pathway_plan,
        {{ census_flag('personal_adviser') }} as has_personal_adviser,
        source_file,
        source_row_number
    from clean_rows
)

select * from final
