{#-
    Table 2: children in foster placements at 31 March (short-break-only children excluded) by
    location of the placement (inside the responsible authority, elsewhere in Wales, outside
    Wales), for all foster placements, kinship (with relatives or friends) and other foster
    placements, per authority and Wales, disclosure-controlled.
-#}
{%- set locations = [
    'Inside own authority',
    'Elsewhere in Wales',
    'Outside Wales',
    'Location not known',
] -%}

with

looked_after_at_31_march as (
    select * from {{ ref('fct_cla_looked_after_at_31_march') }}
),

reporting_years as (
    select year_code from {{ ref('int_census_reporting_years') }}
),

{{ published_grid_ctes() }},

fostered as (
    select
        year_code,
        local_authority_code,
        placement_group,
        case placement_location
            when 'own_authority' then 'Inside own authority'
            when 'elsewhere_in_wales' then 'Elsewhere in Wales'
            when 'outside_wales' then 'Outside Wales'
            else 'Location not known'
        end as placement_location_label
    from looked_after_at_31_march
    where
        not is_short_break_only
        and placement_group in ('kinship_care', 'foster_care')
),

cells as (
    {{ published_cells(
        'fostered', 'placement_location_label', 'Children in foster placements at 31 March', 'Location', locations
    ) }}

    union all

    {{ published_cells(
        'fostered', 'placement_location_label', 'Children in foster placements with relatives or friends at 31 March', 'Location',
        locations, where="placement_group = 'kinship_care'"
    ) }}

    union all

    {{ published_cells(
        'fostered', 'placement_location_label', 'Children in other foster placements at 31 March', 'Location',
        locations, where="placement_group = 'foster_care'"
    ) }}
),

{{ published_table('cells') }}

select * from final
