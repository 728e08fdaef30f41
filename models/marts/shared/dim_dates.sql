with

days as (
    select * from {{ ref('int_census_days_spined') }}
),

final as (
    select
        date_day,
        year_code,
        financial_year_label,
        calendar_year,
        calendar_month,
        is_census_date,
        year_start_date,
        census_date
    from days
)

select * from final
