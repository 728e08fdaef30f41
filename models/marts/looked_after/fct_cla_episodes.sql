with

episodes as (
    select * from {{ ref('int_cla_episodes_chained_to_periods_of_care') }}
),

final as (
    select
        episode_key,
        child_key,
        person_key,
        period_of_care_key,
        placement_key,
        local_authority_code,
        reason_new_episode_code,
        legal_status_code,
        category_of_need_code,
        placement_type_code,
        placement_location,
        reason_episode_finished_code,
        {{ census_year_code_of('episode_start_date') }} as start_year_code,
        {{ census_year_code_of('episode_end_date') }} as end_year_code,
        child_episode_sequence,
        episode_sequence_in_period,
        age_at_start,
        short_breaks_count,
        is_short_break,
        is_new_period_of_care,
        is_new_placement,
        is_open,
        episode_start_date,
        episode_end_date
    from episodes
)

select * from final
