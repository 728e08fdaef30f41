with

periods as (
    select * from {{ ref('int_cla_episodes_grouped_into_periods_of_care') }}
),

final as (
    select
        period_of_care_key,
        child_key,
        person_key,
        local_authority_code,
        reason_started_code,
        legal_status_code_at_start,
        category_of_need_code_at_start,
        placement_type_code_at_start,
        reason_ended_code,
        start_year_code,
        end_year_code,
        period_of_care_number,
        episode_count,
        placement_count,
        age_at_start,
        age_at_end,
        duration_days,
        is_short_break_only,
        is_open,
        has_reentered_care_later,
        period_of_care_start_date,
        period_of_care_end_date
    from periods
)

select * from final
