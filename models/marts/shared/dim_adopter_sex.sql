with

codes as (
    select * from {{ ref('code_adopter_sex') }}
),

final as (
    select
        code,
        description,
        publication_group,
        first_year_code,
        last_year_code,
        number_of_adopters
    from codes
)

select * from final
