{#-
    Table 3: placement stability and location of children looked after at 31 March (short-break-only
    children excluded): three or more placements during the year (CH/043), placed outside the
    responsible authority in Wales (CH/047) or outside Wales (CH/048), and not placed with parents,
    family or friends (CH/046), per authority and Wales, disclosure-controlled. Each indicator is a
    breakdown with its complement, so its total is every child looked after at 31 March.
-#}
{%- set measure = 'Children looked after at 31 March' -%}

with

looked_after_at_31_march as (
    select * from {{ ref('fct_cla_looked_after_at_31_march') }}
),

reporting_years as (
    select year_code from {{ ref('int_census_reporting_years') }}
),

{{ published_grid_ctes() }},

looked_after as (
    select
        year_code,
        local_authority_code,
        case
            when has_three_or_more_placements_in_year then 'Three or more placements'
            else 'One or two placements'
        end as placements_in_year,
        case placement_location
            when 'own_authority' then 'Placed inside own authority'
            when 'elsewhere_in_wales' then 'Placed outside own authority in Wales'
            when 'outside_wales' then 'Placed outside Wales'
            else 'Location not known'
        end as placement_location,
        case
            when placement_group in ('parents', 'kinship_care') then 'Placed with parents, family or friends'
            else 'Not placed with parents, family or friends'
        end as placed_with_family
    from looked_after_at_31_march
    where not is_short_break_only
),

cells as (
    {{ published_cells('looked_after', 'placements_in_year', measure, 'Placements during the year', [
        'Three or more placements',
        'One or two placements',
    ]) }}

    union all

    {{ published_cells('looked_after', 'placement_location', measure, 'Placement location', [
        'Placed inside own authority',
        'Placed outside own authority in Wales',
        'Placed outside Wales',
        'Location not known',
    ]) }}

    union all

    {{ published_cells('looked_after', 'placed_with_family', measure, 'Placed with parents, family or friends', [
        'Not placed with parents, family or friends',
        'Placed with parents, family or friends',
    ]) }}
),

{{ published_table('cells') }}

select * from final
