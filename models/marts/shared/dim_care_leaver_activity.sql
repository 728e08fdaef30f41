with

codes as (
    select * from {{ ref('code_care_leaver_activity') }}
),

final as (
    select
        code,
        description,
        publication_group,
        first_year_code,
        last_year_code,
        is_in_education_employment_or_training
    from codes
)

select * from final
