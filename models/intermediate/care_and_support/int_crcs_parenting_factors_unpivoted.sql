{#-
    One row per CRCS child-year and parenting capacity factor (the five factors of the census),
    with whether it was present: true, false, or null when not known (9).
-#}
{%- set factors = [
    'domestic_abuse', 'parental_substance_misuse', 'parental_mental_ill_health',
    'parental_learning_disability', 'parental_physical_ill_health',
] -%}

with

crcs as (
    select * from {{ ref('stg_crcs__children') }}
),

unpivoted as (
    {%- for factor in factors %}
        select
            crcs_key,
            '{{ factor }}' as parenting_factor_code,
            has_{{ factor }} as is_present
        from crcs
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

final as (
    select
        {{ census_surrogate_key(['crcs_key', 'parenting_factor_code']) }} as crcs_parenting_factor_key,
        crcs_key,
        parenting_factor_code,
        is_present
    from unpivoted
)

select * from final
