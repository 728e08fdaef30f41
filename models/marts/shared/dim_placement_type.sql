with

codes as (
    select * from {{ ref('code_placement_type') }}
),

final as (
    select
        code,
        description,
        publication_group,
        first_year_code,
        last_year_code,
        placement_group,
        placement_location,
        is_foster_placement,
        is_legacy
    from codes
)

select * from final
