with

codes as (
    select * from {{ ref('code_care_leaver_in_touch') }}
),

final as (
    select
        code,
        description,
        publication_group,
        first_year_code,
        last_year_code,
        is_in_touch
    from codes
)

select * from final
