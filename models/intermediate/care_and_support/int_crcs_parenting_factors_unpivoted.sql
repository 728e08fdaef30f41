{#-
    One row per CRCS child-year and parenting capacity factor (the five factors of the census),
    with whether it was present: true, false, or null when not known (9). Year-incremental on
    DuckDB (census_partition_incremental): a year's rows come from that year's CRCS rows alone.
-#}
{%- set years = census_partition_incremental({'stg_crcs__children': 'year_code'}) -%}
{%- set factors = [
    'domestic_abuse', 'parental_substance_misuse', 'parental_mental_ill_health',
    'parental_learning_disability', 'parental_physical_ill_health',
] -%}

with

crcs as (
    select * from {{ ref('stg_crcs__children') }}
    where {{ census_partition_filter('year_code', years) }}
),

unpivoted as (
    {%- for factor in factors %}
        select
            crcs_key,
            year_code,
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
        year_code,
        parenting_factor_code,
        is_present
    from unpivoted
)

select * from final
