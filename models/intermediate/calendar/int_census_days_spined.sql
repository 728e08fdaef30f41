{#- One row per day of the reporting years the census covers, with its reporting year. -#}

with

years as (
    select * from {{ ref('int_census_reporting_years') }}
),

digits as (
    {%- for digit in range(10) %}
        select {{ digit }} as digit
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

day_offsets as (
    select units.digit + tens.digit * 10 + hundreds.digit * 100 as day_offset
    from digits as units
    cross join digits as tens
    cross join digits as hundreds
),

days as (
    select
        years.year_code,
        years.financial_year_label,
        years.year_start_date,
        years.census_date,
        cast({{ dbt.dateadd('day', 'day_offsets.day_offset', 'years.year_start_date') }} as date) as date_day
    from years
    cross join day_offsets
    where day_offsets.day_offset < 366
),

final as (
    select
        date_day,
        year_code,
        financial_year_label,
        cast(extract(year from date_day) as {{ dbt.type_int() }}) as calendar_year,
        cast(extract(month from date_day) as {{ dbt.type_int() }}) as calendar_month,
        year_start_date,
        census_date,
        date_day = census_date as is_census_date
    from days
    where date_day <= census_date
)

select * from final
