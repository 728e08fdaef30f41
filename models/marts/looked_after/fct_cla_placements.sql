with

placements as (
    select * from {{ ref('int_cla_episodes_grouped_into_placements') }}
),

final as (
    select
        placement_key,
        child_key,
        person_key,
        period_of_care_key,
        local_authority_code,
        reason_started_code,
        placement_type_code_at_start,
        placement_location_at_start,
        reason_ended_code,
        {{ census_year_code_of('placement_start_date') }} as start_year_code,
        {{ census_year_code_of('placement_end_date') }} as end_year_code,
        placement_number,
        episode_count,
        cast(
            {{ dbt.datediff('placement_start_date', 'placement_end_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as duration_days,
        is_short_break_only,
        is_open,
        is_ended_by_leaving_care,
        placement_start_date,
        placement_end_date
    from placements
)

select * from final
