with

codes as (
    select * from {{ ref('code_category_of_need') }}
),

final as (
    select
        code,
        description,
        publication_group,
        first_year_code,
        last_year_code,
        long_description
    from codes
)

select * from final
