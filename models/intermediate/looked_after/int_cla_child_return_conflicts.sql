{#-
    Every child characteristic on which two consecutive CLA returns of the same child disagree
    (an IRN or ALF appearing where it was blank is a match made, not a conflict).
-#}
{%- set fields = [
    'sex_code', 'ethnicity_code', 'week_of_birth_date', 'disability_code', 'is_uasc',
    'uasc_ceased_date', 'home_lsoa_code', 'irn', 'alf_pe',
] -%}

with

children as (
    select * from {{ ref('stg_cla__children') }}
),

with_previous_return as (
    select
        child_key,
        year_code,
        {{ fields | join(',\n        ') }},
        {{ census_previous_values('child_key', fields) }}
    from children
),

conflicts as (
    {{ census_return_conflicts(
        'with_previous_return', 'child_key', fields,
        progressions=['uasc_ceased_date', 'irn', 'alf_pe']
    ) }}
),

final as (
    select
        {{ census_surrogate_key(['child_key', 'field_name', 'new_year_code']) }} as conflict_key,
        child_key,
        field_name,
        old_value,
        new_value,
        old_year_code,
        new_year_code
    from conflicts
)

select * from final
