with

codes as (
    select * from {{ ref('code_sex') }}
),

final as (
    select
        code,
        description,
        publication_group,
        first_year_code,
        last_year_code
    from codes
)

select * from final
