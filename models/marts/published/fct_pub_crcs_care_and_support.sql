{#-
    Table 9: children receiving care and support at 31 March (a plan open on the census date; from
    202324, when the collection became all-year, plans closed during the year are left out of
    these counts and published as closures), per authority and Wales, disclosure-controlled:
      - by child status group, and for all children and each status group, and each status group
        by disability, the category of need (so status x need x disability);
      - the share with each parenting capacity factor, the health items (immunisations, dental
        check from age 5, mental health, substance misuse), youth offending (from age 10) and
        Welsh language, for all children and each status group;
      - from 202324, plans closed during the year by reason.
    Counts are not rounded (the CRCS release publishes exact counts); suppression applies.
-#}
{%- set measure = 'Children receiving care and support at 31 March' -%}
{%- set statuses = [
    ('looked_after', 'Looked after'),
    ('on_cpr_not_looked_after', 'On the child protection register, not looked after'),
    ('neither', 'Other children receiving care and support'),
] -%}
{%- set slices = [(none, measure)] -%}
{%- for code, label in statuses -%}
    {%- do slices.append(("child_status_group = '" ~ code ~ "'", measure ~ ': ' ~ (label | lower))) -%}
{%- endfor -%}
{%- set disabilities = [
    ('Disabled', 'disabled'),
    ('Not disabled', 'not disabled'),
    ('Disability not known', 'disability not known'),
] -%}
{%- set needs = [
    'Abuse or neglect',
    "Child's disability",
    'Parental illness or disability',
    'Family in acute stress',
    'Family dysfunction',
    'Socially unacceptable behaviour',
    'Low income',
    'Absent parenting',
    'Not known',
] -%}
{%- set yes_no = ['Yes', 'No', 'Not known'] -%}
{%- set items = [
    ('domestic_abuse', 'Parenting capacity: domestic abuse', '1 = 1'),
    ('parental_substance_misuse', 'Parenting capacity: parental substance or alcohol misuse', '1 = 1'),
    ('parental_mental_ill_health', 'Parenting capacity: parental mental ill health', '1 = 1'),
    ('parental_learning_disability', 'Parenting capacity: parental learning disability', '1 = 1'),
    ('parental_physical_ill_health', 'Parenting capacity: parental physical ill health or disability', '1 = 1'),
    ('immunisations', 'Immunisations up to date', '1 = 1'),
    ('dental_check', 'Dental check in the year (aged 5 and over)', 'age_at_census_date >= 5'),
    ('mental_health', 'Mental health problem', '1 = 1'),
    ('substance_misuse', 'Substance misuse problem', '1 = 1'),
    ('youth_offending', 'Youth offending (aged 10 and over)', 'age_at_census_date >= 10'),
    ('welsh_language', 'Welsh first language', '1 = 1'),
] -%}

{%- set closure_reasons = [
    'Adopted',
    'Died',
    'Child arrangements order granted',
    'Special guardianship order granted',
    'Transferred to another local authority',
    'Transferred to adult social care',
    'Services ceased for any other reason including no longer in need',
    'Case closed after assessment with no further action',
    'Case closed after assessment, referred to early help',
    'Not known',
] -%}
{#- every breakdown of the table, as published_cells() selects to union -#}
{%- set parts = [
    published_cells('children', 'child_status', measure, 'Child status', statuses | map(attribute=1) | list),
] -%}
{%- for condition, slice_measure in slices -%}
    {%- set in_slice = condition or '1 = 1' -%}
    {%- do parts.append(published_cells('children', 'category_of_need', slice_measure, 'Category of need', needs,
        where=in_slice)) -%}
    {%- do parts.append(published_cells('children', 'disability', slice_measure, 'Disability',
        disabilities | map(attribute=0) | list, where=in_slice)) -%}
    {%- for disability, disability_label in disabilities -%}
        {%- do parts.append(published_cells('children', 'category_of_need', slice_measure ~ ', ' ~ disability_label,
            'Category of need', needs, where=in_slice ~ " and disability = '" ~ disability ~ "'")) -%}
    {%- endfor -%}
    {%- for item, label, applies in items -%}
        {%- do parts.append(published_cells('children', item, slice_measure, label, yes_no,
            where=in_slice ~ ' and ' ~ applies)) -%}
    {%- endfor -%}
{%- endfor -%}
{%- do parts.append(published_cells('closures', 'reason_for_closure', 'Care and support plans closed during the year',
    'Reason for closure', closure_reasons, first_year_code=202324)) %}
{#- Year-incremental on DuckDB (census_partition_incremental): every cell is within a year. -#}
{%- set years = census_partition_incremental({
    'fct_crcs_care_and_support': 'year_code',
    'bdg_crcs_parenting_factors': 'year_code',
    'int_census_reporting_years': 'year_code',
}) %}

with

care_and_support as (
    select * from {{ ref('fct_crcs_care_and_support') }}
    where {{ census_partition_filter('year_code', years) }}
),

parenting_factors as (
    select * from {{ ref('bdg_crcs_parenting_factors') }}
    where {{ census_partition_filter('year_code', years) }}
),

categories_of_need as (
    select * from {{ ref('dim_category_of_need') }}
),

reasons_for_closure as (
    select * from {{ ref('dim_reason_for_closure') }}
),

populations as (
    select * from {{ ref('ref_population_under_18') }}
),

reporting_years as (
    select year_code from {{ ref('int_census_reporting_years') }}
    where {{ census_partition_filter('year_code', years) }}
),

{{ published_grid_ctes() }},

factors_pivoted as (
    select
        crcs_key,
        max(case when parenting_factor_code = 'domestic_abuse' then is_present end) as domestic_abuse,
        max(case when parenting_factor_code = 'parental_substance_misuse' then is_present end)
            as parental_substance_misuse,
        max(case when parenting_factor_code = 'parental_mental_ill_health' then is_present end)
            as parental_mental_ill_health,
        max(case when parenting_factor_code = 'parental_learning_disability' then is_present end)
            as parental_learning_disability,
        max(case when parenting_factor_code = 'parental_physical_ill_health' then is_present end)
            as parental_physical_ill_health
    from parenting_factors
    group by crcs_key
),

children as (
    select
        care_and_support.year_code,
        care_and_support.local_authority_code,
        care_and_support.child_status_group,
        care_and_support.age_at_census_date,
        case care_and_support.child_status_group
            when 'looked_after' then 'Looked after'
            when 'on_cpr_not_looked_after' then 'On the child protection register, not looked after'
            when 'neither' then 'Other children receiving care and support'
        end as child_status,
        coalesce(categories_of_need.publication_group, 'Not known') as category_of_need,
        case care_and_support.disability_code
            when '1' then 'Disabled'
            when '0' then 'Not disabled'
            else 'Disability not known'
        end as disability,
        {{ published_yes_no('factors_pivoted.domestic_abuse') }} as domestic_abuse,
        {{ published_yes_no('factors_pivoted.parental_substance_misuse') }} as parental_substance_misuse,
        {{ published_yes_no('factors_pivoted.parental_mental_ill_health') }} as parental_mental_ill_health,
        {{ published_yes_no('factors_pivoted.parental_learning_disability') }} as parental_learning_disability,
        {{ published_yes_no('factors_pivoted.parental_physical_ill_health') }} as parental_physical_ill_health,
        {{ published_yes_no('care_and_support.has_immunisations_up_to_date') }} as immunisations,
        {{ published_yes_no('care_and_support.has_dental_check') }} as dental_check,
        {{ published_yes_no('care_and_support.has_mental_health_problem') }} as mental_health,
        {{ published_yes_no('care_and_support.has_substance_misuse_problem') }} as substance_misuse,
        {{ published_yes_no('care_and_support.has_youth_offending') }} as youth_offending,
        {{ published_yes_no('care_and_support.is_welsh_first_language') }} as welsh_language
    from care_and_support
    left join categories_of_need
        on care_and_support.category_of_need_code = categories_of_need.code
    left join factors_pivoted
        on care_and_support.crcs_key = factors_pivoted.crcs_key
    where care_and_support.plan_end_date is null
),

closures as (
    select
        care_and_support.year_code,
        care_and_support.local_authority_code,
        coalesce(reasons_for_closure.description, 'Not known') as reason_for_closure
    from care_and_support
    left join reasons_for_closure
        on care_and_support.reason_for_closure_code = reasons_for_closure.code
    where care_and_support.plan_end_date is not null
),

cells as (
    {{ parts | join('\n\n    union all\n\n    ') }}
),

{{ published_table('cells', with_rate=true, round_to=1) }}

select * from final
