with

clean_rows as (
    {{ census_clean_rows('base_cla__episode') }}
),

keyed as (
    select
        *,
        {{ census_child_key('local_authority_code', 'system_id') }} as child_key
    from clean_rows
),

final as (
    select
        {{ census_surrogate_key(['child_key', 'episode_start_date']) }} as episode_key,
        child_key,
        local_authority_code,
        reason_episode_started_code as reason_new_episode_code,
        legal_status_code,
        category_of_need_code,
        placement_type_code,
        lsoa2011_placement_postcode as placement_lsoa_code,
        reason_episode_finished_code,
        {{ census_safe_cast('year_code', dbt.type_int()) }} as year_code,
        {{ census_safe_cast('episode_number', dbt.type_int()) }} as episode_number,
        {{ census_safe_cast('short_breaks', dbt.type_int()) }} as short_breaks_count,
        lsoa2011_placement_postcode like 'E01%' as is_placed_outside_wales,
        episode_end_date is null as is_open_in_return,
        {{ census_safe_cast('episode_start_date', 'date') }} as episode_start_date,
        {{ census_safe_cast('episode_end_date', 'date') }} as episode_end_date,
        source_file,
        source_row_number
    from keyed
)

select * from final
