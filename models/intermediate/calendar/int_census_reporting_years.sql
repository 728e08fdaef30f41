{#-
    One row per reporting year the census covers (vars census_first_year_code to
    census_last_year_code): 1 April to 31 March, the census date being the 31 March.
-#}
{%- set first_year = (var('census_first_year_code') | string)[:4] | int -%}
{%- set last_year = (var('census_last_year_code') | string)[:4] | int -%}

with

years as (
    {%- for year in range(first_year, last_year + 1) %}
        select {{ year }} as start_calendar_year
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

final as (
    select
        cast(start_calendar_year * 100 + mod(start_calendar_year + 1, 100) as {{ dbt.type_int() }}) as year_code,
        {{ dbt.concat([
            dbt.safe_cast('start_calendar_year', dbt.type_string()),
            "'-'",
            dbt.right(dbt.safe_cast('start_calendar_year + 1', dbt.type_string()), 2),
        ]) }} as financial_year_label,
        cast({{ dbt.concat([dbt.safe_cast('start_calendar_year', dbt.type_string()), "'-04-01'"]) }} as date)
            as year_start_date,
        cast({{ dbt.concat([dbt.safe_cast('start_calendar_year + 1', dbt.type_string()), "'-03-31'"]) }} as date)
            as census_date
    from years
)

select * from final
