{#-
    Table 4: children starting to be looked after during the year (a period of care starting with
    reason S, short-break-only periods excluded; a child who starts twice in a year is counted once,
    as at the first start), by legal status and category of need at the start and age band, per
    authority and Wales, disclosure-controlled, with the rate per 10,000 children under 18.
-#}
{%- set measure = 'Children starting to be looked after during the year' -%}

with

periods_of_care as (
    select * from {{ ref('fct_cla_periods_of_care') }}
),

legal_statuses as (
    select * from {{ ref('dim_legal_status') }}
),

categories_of_need as (
    select * from {{ ref('dim_category_of_need') }}
),

populations as (
    select * from {{ ref('ref_population_under_18') }}
),

reporting_years as (
    select year_code from {{ ref('int_census_reporting_years') }}
),

{{ published_grid_ctes() }},

first_starts as (
    select
        *,
        row_number() over (
            partition by child_key, start_year_code
            order by period_of_care_start_date
        ) as start_in_year
    from periods_of_care
    where
        reason_started_code = 'S'
        and not is_short_break_only
),

starters as (
    select
        first_starts.start_year_code as year_code,
        first_starts.local_authority_code,
        coalesce(legal_statuses.publication_group, 'Not known') as legal_status_group,
        coalesce(categories_of_need.publication_group, 'Not known') as category_of_need,
        {{ census_age_band('first_starts.age_at_start') }} as age_band
    from first_starts
    left join legal_statuses
        on first_starts.legal_status_code_at_start = legal_statuses.code
    left join categories_of_need
        on first_starts.category_of_need_code_at_start = categories_of_need.code
    where first_starts.start_in_year = 1
),

cells as (
    {{ published_cells('starters', 'legal_status_group', measure, 'Legal status at start', [
        'Care orders',
        'Other legal status',
        'Remand, detained or other compulsory order',
        'Single period of accommodation under section 76',
    ]) }}

    union all

    {{ published_cells('starters', 'category_of_need', measure, 'Category of need', [
        'Abuse or neglect',
        "Child's disability",
        'Parental illness or disability',
        'Family in acute stress',
        'Family dysfunction',
        'Socially unacceptable behaviour',
        'Low income',
        'Absent parenting',
        'Not known',
    ]) }}

    union all

    {{ published_cells('starters', 'age_band', measure, 'Age band at start', [
        'Under 1', '1 to 4', '5 to 9', '10 to 15', '16 and over',
    ]) }}
),

{{ published_table('cells', with_rate=true) }}

select * from final
