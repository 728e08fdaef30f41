with

parenting_factors as (
    select * from {{ ref('int_crcs_parenting_factors_unpivoted') }}
),

final as (
    select
        crcs_parenting_factor_key,
        crcs_key,
        parenting_factor_code,
        is_present
    from parenting_factors
)

select * from final
