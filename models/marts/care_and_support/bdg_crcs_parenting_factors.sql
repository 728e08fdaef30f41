{#- Year-incremental on DuckDB (census_partition_incremental): a year's rows are that year's factors. -#}
{%- set years = census_partition_incremental({'int_crcs_parenting_factors_unpivoted': 'year_code'}) -%}

with

parenting_factors as (
    select * from {{ ref('int_crcs_parenting_factors_unpivoted') }}
    where {{ census_partition_filter('year_code', years) }}
),

final as (
    select
        crcs_parenting_factor_key,
        crcs_key,
        year_code,
        parenting_factor_code,
        is_present
    from parenting_factors
)

select * from final
