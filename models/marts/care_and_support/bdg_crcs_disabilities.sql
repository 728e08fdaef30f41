with

disabilities as (
    select * from {{ ref('int_crcs_disabilities_split') }}
),

final as (
    select
        crcs_disability_key,
        crcs_key,
        disability_type_code,
        list_position
    from disabilities
)

select * from final
