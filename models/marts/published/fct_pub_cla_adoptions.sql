{#-
    Table 6: adoptions and special guardianship orders during the year, per authority and Wales,
    disclosure-controlled: children adopted, by whether the adopters were the child's former
    foster carers and by single adopter or couple (and same-sex couples); the median days from
    entering care, from the best-interest decision (should be placed for adoption) and from
    matching to the adoption, each over the adoptions with both dates; and periods of care ended
    by a special guardianship order, to former foster carers or to other carers.
-#}
{%- set adopted = 'Children adopted during the year' -%}
{%- set special_guardianship = 'Special guardianship orders made during the year' -%}
{%- set intervals = [
    'From entering care to adoption',
    'From the best-interest decision to adoption',
    'From matching to adoption',
] -%}

with

adoptions as (
    select * from {{ ref('fct_cla_adoptions') }}
),

adopter_legal_statuses as (
    select * from {{ ref('dim_adopter_legal_status') }}
),

adopter_sexes as (
    select * from {{ ref('dim_adopter_sex') }}
),

periods_of_care as (
    select * from {{ ref('fct_cla_periods_of_care') }}
),

reporting_years as (
    select year_code from {{ ref('int_census_reporting_years') }}
),

{{ published_grid_ctes() }},

adopted_children as (
    select
        adoptions.year_code,
        adoptions.local_authority_code,
        case
            when adoptions.is_adopted_by_foster_carer then 'Former foster carers'
            when not adoptions.is_adopted_by_foster_carer then 'Other adopters'
        end as adopted_by,
        case
            when adopter_legal_statuses.is_couple then 'Couple'
            when not adopter_legal_statuses.is_couple then 'Single adopter'
            else 'Not known'
        end as adopter_type,
        case
            when adopter_sexes.publication_group = 'Same-sex couple' then 'Same-sex couple'
            when adopter_sexes.publication_group is not null then 'Other adopters'
            else 'Not known'
        end as same_sex_couple,
        adoptions.days_from_entering_care_to_adoption,
        adoptions.days_from_decision_to_adoption,
        {{ dbt.datediff('adoptions.matched_date', 'adoptions.adoption_date', 'day') }}
            as days_from_matching_to_adoption
    from adoptions
    left join adopter_legal_statuses
        on adoptions.adopter_legal_status_code = adopter_legal_statuses.code
    left join adopter_sexes
        on adoptions.adopter_sex_code = adopter_sexes.code
),

adoption_intervals as (
    select
        year_code,
        local_authority_code,
        'From entering care to adoption' as time_interval,
        days_from_entering_care_to_adoption as days_to_adoption
    from adopted_children

    union all

    select
        year_code,
        local_authority_code,
        'From the best-interest decision to adoption' as time_interval,
        days_from_decision_to_adoption as days_to_adoption
    from adopted_children

    union all

    select
        year_code,
        local_authority_code,
        'From matching to adoption' as time_interval,
        days_from_matching_to_adoption as days_to_adoption
    from adopted_children
),

special_guardianship_orders as (
    select
        end_year_code as year_code,
        local_authority_code,
        case
            when reason_ended_code = 'E43' then 'Former foster carers'
            when reason_ended_code = 'E44' then 'Other carers'
        end as special_guardians
    from periods_of_care
    where reason_ended_code in ('E43', 'E44') and end_year_code is not null
),

cells as (
    {{ published_cells('adopted_children', 'adopted_by', adopted, 'Adopted by', [
        'Former foster carers', 'Other adopters',
    ]) }}

    union all

    {{ published_cells('adopted_children', 'adopter_type', adopted, 'Adopters', [
        'Single adopter', 'Couple', 'Not known',
    ]) }}

    union all

    {{ published_cells('adopted_children', 'same_sex_couple', adopted, 'Same-sex couple', [
        'Same-sex couple', 'Other adopters', 'Not known',
    ]) }}

    union all

    {{ published_cells('adoption_intervals', 'time_interval', adopted, 'Time to adoption',
        intervals, with_total=false, where='days_to_adoption is not null',
        statistic_name='Median days', statistic_input='days_to_adoption') }}

    union all

    {{ published_cells('special_guardianship_orders', 'special_guardians', special_guardianship,
        'Special guardians', ['Former foster carers', 'Other carers']) }}
),

{{ published_table('cells') }}

select * from final
