{#-
    Table 10: education outcomes of pupils by child status group against all pupils (the CRCS
    education tables: pupils of the school census matched to the CRCS census by UPN), per authority
    of the school and Wales, disclosure-controlled with exact counts (as the CRCS release): free
    school meals, special or additional learning needs, the Key Stage 2 and Key Stage 3 core
    subject indicator (pupils in national curriculum years 6 and 9) and the Key Stage 4 average
    capped points score (pupils in year 11 with a score), each with its numerator, denominator
    and percentage (or average). The groups are the three CRCS status groups and all pupils; the
    pupils not receiving care and support, and all pupils receiving it, are not published as
    groups of their own, since with them a suppressed cell of one status group could be recovered
    by subtraction from the others.
-#}
{%- set groups = [
    ('Pupils looked after', "child_status_group = 'looked_after'"),
    ('Pupils on the child protection register (not looked after)', "child_status_group = 'on_cpr_not_looked_after'"),
    ('Other pupils receiving care and support', "child_status_group = 'neither'"),
    ('All pupils', '1 = 1'),
] -%}
{#- Year-incremental on DuckDB (census_partition_incremental): every cell is within a year. -#}
{%- set years = census_partition_incremental({
    'fct_pupil_outcomes': 'year_code',
    'int_census_reporting_years': 'year_code',
}) -%}
{%- set yes_no = ['Yes', 'No', 'Not known'] -%}
{%- set achieved = ['Achieved', 'Not achieved', 'Not known'] -%}
{#- every breakdown of every group, as published_cells() selects to union -#}
{%- set parts = [] -%}
{%- for measure, condition in groups -%}
    {%- do parts.append(published_cells('pupils', 'free_school_meals', measure, 'Eligible for free school meals',
        yes_no, where=condition)) -%}
    {%- do parts.append(published_cells('pupils', 'special_educational_needs', measure,
        'Special or additional learning needs', yes_no, where=condition)) -%}
    {%- do parts.append(published_cells('pupils', 'key_stage_2', measure, 'Key Stage 2 core subject indicator (year 6)',
        achieved, where=condition ~ ' and national_curriculum_year = 6')) -%}
    {%- do parts.append(published_cells('pupils', 'key_stage_3', measure, 'Key Stage 3 core subject indicator (year 9)',
        achieved, where=condition ~ ' and national_curriculum_year = 9')) -%}
    {%- do parts.append(published_cells('pupils', "'Pupils with a score'", measure,
        'Key Stage 4 capped points (year 11)', ['Pupils with a score'], with_total=false,
        where=condition ~ ' and national_curriculum_year = 11 and ks4_capped_points is not null',
        statistic_name='Average capped points', statistic_input='ks4_capped_points',
        statistic_aggregate='average')) -%}
{%- endfor -%}

with

pupil_outcomes as (
    select * from {{ ref('fct_pupil_outcomes') }}
    where {{ census_partition_filter('year_code', years) }}
),

reporting_years as (
    select year_code from {{ ref('int_census_reporting_years') }}
    where {{ census_partition_filter('year_code', years) }}
),

{{ published_grid_ctes() }},

pupils as (
    select
        year_code,
        school_local_authority_code as local_authority_code,
        child_status_group,
        national_curriculum_year,
        ks4_capped_points,
        {{ published_yes_no('is_eligible_for_free_school_meals') }} as free_school_meals,
        {{ published_yes_no('has_special_educational_needs') }} as special_educational_needs,
        case
            when has_achieved_ks2_core_subject_indicator then 'Achieved'
            when not has_achieved_ks2_core_subject_indicator then 'Not achieved'
            else 'Not known'
        end as key_stage_2,
        case
            when has_achieved_ks3_core_subject_indicator then 'Achieved'
            when not has_achieved_ks3_core_subject_indicator then 'Not achieved'
            else 'Not known'
        end as key_stage_3
    from pupil_outcomes
),

cells as (
    {{ parts | join('\n\n    union all\n\n    ') }}
),

{{ published_table('cells', round_to=1) }}

select * from final
