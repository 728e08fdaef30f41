{#-
    Table 1: children looked after at 31 March (short-break-only children excluded), by legal
    status, placement, age band and sex, ethnicity, category of need and UASC, per authority and
    Wales, disclosure-controlled.
-#}
{%- set measure = 'Children looked after at 31 March' -%}

with

looked_after_at_31_march as (
    select * from {{ ref('fct_cla_looked_after_at_31_march') }}
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

looked_after as (
    select
        looked_after_at_31_march.year_code,
        looked_after_at_31_march.local_authority_code,
        looked_after_at_31_march.legal_status_group,
        looked_after_at_31_march.age_band,
        case
            when looked_after_at_31_march.placement_group = 'kinship_care'
                then 'Foster placement with relatives or friends'
            when looked_after_at_31_march.placement_group = 'foster_care'
                then 'Other foster placement'
            when looked_after_at_31_march.placement_publication_group in (
                'Placed with own parents or other person with parental responsibility',
                'Placed for adoption',
                'Living independently',
                {{ census_string_literal("Secure units, children's homes and hostels") }},
                'Residential schools'
            ) then looked_after_at_31_march.placement_publication_group
            else 'Other placements'
        end as placement_category,
        case looked_after_at_31_march.sex_code when '1' then 'Male' when '2' then 'Female' end as sex,
        coalesce(looked_after_at_31_march.ethnicity_group, 'Not known') as ethnicity_group,
        coalesce(categories_of_need.publication_group, 'Not known') as category_of_need,
        case
            when looked_after_at_31_march.is_uasc then 'Unaccompanied asylum-seeking children'
            else 'Other children'
        end as uasc_status
    from looked_after_at_31_march
    left join categories_of_need
        on looked_after_at_31_march.category_of_need_code = categories_of_need.code
    where not looked_after_at_31_march.is_short_break_only
),

cells as (
    {{ published_cells('looked_after', 'legal_status_group', measure, 'Legal status', [
        'Care orders',
        'Other legal status',
        'Remand, detained or other compulsory order',
        'Single period of accommodation under section 76',
    ]) }}

    union all

    {{ published_cells('looked_after', 'placement_category', measure, 'Placement', [
        'Foster placement with relatives or friends',
        'Other foster placement',
        'Placed with own parents or other person with parental responsibility',
        'Placed for adoption',
        'Living independently',
        "Secure units, children's homes and hostels",
        'Residential schools',
        'Other placements',
    ]) }}

    union all

    {{ published_cells('looked_after', 'sex', measure, 'Sex', ['Male', 'Female']) }}

    union all

    {%- set age_bands = ['Under 1', '1 to 4', '5 to 9', '10 to 15', '16 and over'] %}

    {{ published_cells('looked_after', 'age_band', measure, 'Age band', age_bands) }}

    union all

    {{ published_cells('looked_after', 'age_band', measure, 'Age band: male', age_bands, where="sex = 'Male'") }}

    union all

    {{ published_cells('looked_after', 'age_band', measure, 'Age band: female', age_bands, where="sex = 'Female'") }}

    union all

    {{ published_cells('looked_after', 'ethnicity_group', measure, 'Ethnicity', [
        'White',
        'Mixed',
        'Asian or Asian British',
        'Black, Black British, Caribbean or African',
        'Other ethnic group',
        'Not known',
    ]) }}

    union all

    {{ published_cells('looked_after', 'category_of_need', measure, 'Category of need', [
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

    {{ published_cells('looked_after', 'uasc_status', measure, 'Unaccompanied asylum-seeking children', [
        'Unaccompanied asylum-seeking children',
        'Other children',
    ]) }}
),

{{ published_table('cells', with_rate=true) }}

select * from final
