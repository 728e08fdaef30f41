{#
    Derivations the intermediate models share: a person's key, age in whole years, the publication
    age band, the reporting year of a date and where a placement is. Portable: dbt cross-database
    macros and ANSI SQL only.
#}

{#
    person_key: one human across authorities and censuses. ALF_PE where the person was matched,
    otherwise the child's own key (a different prefix, so an ALF can never collide with a child).
#}
{% macro census_person_key(alf_pe, child_key) -%}
    case
        when {{ alf_pe }} is not null
            then {{ census_surrogate_key([census_key_salt_literal(), "'alf_pe'", alf_pe]) }}
        else {{ census_surrogate_key(["'child'", child_key]) }}
    end
{%- endmacro %}


{# Age in whole years at a date, from the (week of) birth date: birthdays not yet reached do not count. #}
{% macro census_age_in_years(birth_date, at_date) -%}
    {%- set years = dbt.datediff(birth_date, at_date, 'year') -%}
    cast(
        {{ years }}
        - case when cast({{ dbt.dateadd('year', years, birth_date) }} as date) > {{ at_date }} then 1 else 0 end
        as {{ dbt.type_int() }}
    )
{%- endmacro %}


{# The age band Welsh Government publishes children looked after by: under 1, 1-4, 5-9, 10-15, 16 and over. #}
{% macro census_age_band(age) -%}
    case
        when {{ age }} is null then null
        when {{ age }} < 1 then 'Under 1'
        when {{ age }} < 5 then '1 to 4'
        when {{ age }} < 10 then '5 to 9'
        when {{ age }} < 16 then '10 to 15'
        else '16 and over'
    end
{%- endmacro %}


{# The reporting year (YEAR_CODE, e.g. 202324 for April 2023 to March 2024) a date falls in. #}
{% macro census_year_code_of(date_expression) -%}
    case
        when {{ date_expression }} is null then null
        when extract(month from {{ date_expression }}) >= 4
            then cast(extract(year from {{ date_expression }}) * 100 + mod(cast(extract(year from {{ date_expression }}) as {{ dbt.type_int() }}) + 1, 100) as {{ dbt.type_int() }})
        else cast((extract(year from {{ date_expression }}) - 1) * 100 + mod(cast(extract(year from {{ date_expression }}) as {{ dbt.type_int() }}), 100) as {{ dbt.type_int() }})
    end
{%- endmacro %}


{#
    Where a placement is, from its LSOA and the responsible authority: own_authority,
    elsewhere_in_wales (a Welsh LSOA of another authority, per ref_lsoa_local_authorities) or
    outside_wales (an English E01 code); null when the LSOA is blank or unknown.
#}
{% macro census_placement_location(placement_lsoa_code, lsoa_local_authority_code, responsible_local_authority_code) -%}
    case
        when {{ placement_lsoa_code }} like 'E01%' then 'outside_wales'
        when {{ lsoa_local_authority_code }} = {{ responsible_local_authority_code }} then 'own_authority'
        when {{ lsoa_local_authority_code }} is not null then 'elsewhere_in_wales'
    end
{%- endmacro %}
