{#-
    Table 8: care leavers at their 19th birthday (the young people of the care leavers return whose
    19th birthday fell in the year; one row each in fct_cla_care_leavers), per authority and Wales, disclosure-controlled: in touch with the
    authority, in education, employment or training, in suitable accommodation, with a pathway
    plan and with a personal adviser; each Yes / No / Not known with the percentage of all care
    leavers at 19.
-#}
{%- set measure = 'Care leavers at their 19th birthday' -%}
{%- set indicators = [
    ('is_in_touch', 'In touch with the local authority'),
    ('is_in_education_employment_or_training', 'In education, employment or training'),
    ('is_in_suitable_accommodation', 'In suitable accommodation'),
    ('has_pathway_plan', 'Has a pathway plan'),
    ('has_personal_adviser', 'Has a personal adviser'),
] -%}
{%- set parts = [] -%}
{%- for column, label in indicators -%}
    {%- do parts.append(published_cells('care_leavers', published_yes_no(column), measure, label,
        ['Yes', 'No', 'Not known'])) -%}
{%- endfor %}

with

care_leavers as (
    select * from {{ ref('fct_cla_care_leavers') }}
),

reporting_years as (
    select year_code from {{ ref('int_census_reporting_years') }}
),

{{ published_grid_ctes() }},

cells as (
    {{ parts | join('\n\n    union all\n\n    ') }}
),

{{ published_table('cells') }}

select * from final
