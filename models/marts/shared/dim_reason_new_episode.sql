with

codes as (
    select * from {{ ref('code_reason_new_episode') }}
),

final as (
    select
        code,
        description,
        publication_group,
        first_year_code,
        last_year_code,
        is_new_period_of_care,
        is_new_placement
    from codes
)

select * from final
