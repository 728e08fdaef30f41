with

local_authorities as (
    select * from {{ ref('ref_local_authorities') }}
),

final as (
    select
        local_authority_code,
        ons_code,
        local_authority_name,
        lea_code,
        publication_order
    from local_authorities
)

select * from final
