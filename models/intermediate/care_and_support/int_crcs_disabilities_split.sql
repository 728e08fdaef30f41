{#- One row per CRCS child-year and disability type listed in DISABILITY_TYPES (|-separated, up to 12). -#}

with

crcs as (
    select * from {{ ref('stg_crcs__children') }}
),

positions as (
    {%- for position in range(1, 13) %}
        select {{ position }} as list_position
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

split as (
    select
        crcs.crcs_key,
        positions.list_position,
        {{ dbt.split_part('crcs.disability_type_codes', "'|'", 'positions.list_position') }} as disability_type_code
    from crcs
    cross join positions
    where crcs.disability_type_codes is not null
),

final as (
    select
        {{ census_surrogate_key(['crcs_key', 'disability_type_code']) }} as crcs_disability_key,
        crcs_key,
        disability_type_code,
        cast(min(list_position) as {{ dbt.type_int() }}) as list_position
    from split
    where disability_type_code <> ''
    group by crcs_key, disability_type_code
)

select * from final
