with

codes as (
    select * from {{ ref('code_legal_status') }}
),

final as (
    select
        code,
        description,
        publication_group,
        first_year_code,
        last_year_code,
        is_short_break
    from codes
)

select * from final
