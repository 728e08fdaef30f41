with

codes as (
    select * from {{ ref('code_reason_episode_finished') }}
),

final as (
    select
        code,
        description,
        publication_group,
        first_year_code,
        last_year_code,
        publication_reason,
        is_end_of_period_of_care
    from codes
)

select * from final
