with

codes as (
    select * from {{ ref('code_yes_no') }}
),

final as (
    select
        code,
        description,
        publication_group,
        first_year_code,
        last_year_code,
        is_yes
    from codes
)

select * from final
