with

codes as (
    select * from {{ ref('code_care_leaver_accommodation') }}
),

final as (
    select
        code,
        description,
        publication_group,
        first_year_code,
        last_year_code,
        accommodation_type,
        is_suitable
    from codes
)

select * from final
