{#
    Statistical disclosure control for the published tables (models/marts/published).

    disclosure_control(input_cte, output_cte, round_to=5, threshold=5, passes=3) writes a chain of
    CTEs (call it inside a model's `with` list, followed by a comma) that ends in `output_cte`. The
    input must carry, one row per published cell:
        year_code, local_authority_code (the Wales row is 'Wales'), measure, breakdown, category,
        category_order,
        is_total     true for the cell that is the total of its (year, authority, measure,
                     breakdown) group (e.g. category 'Total'); false for the parts
        raw_count    the true count: never to be published
        base_count   the true denominator of the percentage (null for none)
        rate_base    the population the rate per 10,000 is of (null for none)
        statistic_name, statistic_value
                     a statistic of the cell's children other than a count (a median, an
                     average, a total of breaks; null for none): shown only with its count
    The output adds:
        is_suppressed    primary (raw_count below the threshold) or secondary suppression
        published_count  null when suppressed, else raw_count rounded to the nearest round_to
        percentage       published_count over the rounded base_count, one decimal
        rate_per_10000   published_count per 10,000 of rate_base, one decimal
    Percentages and rates are computed from the rounded figures, so they cannot give back the
    unrounded count, and are null for a suppressed cell (or a base below the threshold).

    Zeros are shown: a count of 0 (nothing counted, often a structural zero such as 'placed
    outside Wales' in a small authority) discloses nobody, and suppressing it would hide key Wales
    cells by secondary suppression. Primary suppression is of counts 1 to threshold - 1.

    Secondary suppression, so that no suppressed cell can be recovered by subtraction:
      - along a row: within a (year, authority, measure, breakdown) group with a shown total, if
        exactly one part is suppressed, the smallest shown non-zero part is suppressed too (a
        shown zero only when no non-zero part is left; the total
        itself when no other part is left);
      - down a column: within a (year, measure, breakdown, category) across the authorities, with
        the Wales row as the total, the same rule.
    The two passes alternate `passes` times, since a secondary suppression in one direction can
    leave a single suppressed cell in the other. The generic test disclosure_controlled checks the
    result, so a table the passes do not settle fails its build rather than leaking.
#}

{% macro disclosure_control(input_cte, output_cte, round_to=5, threshold=5, passes=3) -%}
    {%- set row_group = ['year_code', 'local_authority_code', 'measure', 'breakdown'] -%}
    {%- set column_group = ['year_code', 'measure', 'breakdown', 'category'] -%}
    {%- set previous = namespace(name=input_cte ~ '__primary') %}
    {{ input_cte }}__primary as (
        select
            {{ input_cte }}.*,
            {{ input_cte }}.local_authority_code = 'Wales' as is_wales_row,
            coalesce({{ input_cte }}.raw_count, 0) > 0
            and {{ input_cte }}.raw_count < {{ threshold }} as is_suppressed
        from {{ input_cte }}
    ),
    {%- for pass_number in range(1, passes + 1) %}
        {%- for direction, group, total_flag in [
            ('row', row_group, 'is_total'),
            ('column', column_group, 'is_wales_row'),
        ] %}
            {%- set step = input_cte ~ '__' ~ direction ~ '_pass_' ~ pass_number %}

    {{ step }}__ranked as (
        select
            {{ previous.name }}.*,
            sum(case when not {{ total_flag }} and is_suppressed then 1 else 0 end)
                over (partition by {{ group | join(', ') }})
                as suppressed_parts,
            sum(case when not {{ total_flag }} and not is_suppressed then 1 else 0 end)
                over (partition by {{ group | join(', ') }})
                as shown_parts,
            max(case when {{ total_flag }} and not is_suppressed then 1 else 0 end)
                over (partition by {{ group | join(', ') }})
                as has_shown_total,
            row_number() over (
                partition by {{ group | join(', ') }}
                order by
                    case
                        when not {{ total_flag }} and not is_suppressed and raw_count > 0 then 0
                        when not {{ total_flag }} and not is_suppressed then 1
                        else 2
                    end,
                    raw_count,
                    local_authority_code,
                    category
            ) as shown_part_rank
        from {{ previous.name }}
    ),

    {{ step }} as (
        select
            {%- for column in ['year_code', 'local_authority_code', 'measure', 'breakdown', 'category',
                'category_order', 'is_total', 'raw_count', 'base_count', 'rate_base', 'statistic_name',
                'statistic_value', 'is_wales_row'] %}
            {{ column }},
            {%- endfor %}
            (
                is_suppressed
                or (
                    suppressed_parts = 1
                    and has_shown_total = 1
                    and (
                        (shown_parts > 0 and shown_part_rank = 1)
                        or (shown_parts = 0 and {{ total_flag }})
                    )
                )
            ) as is_suppressed
        from {{ step }}__ranked
    ),
            {%- set previous.name = step %}
        {%- endfor %}
    {%- endfor %}

    {{ output_cte }} as (
        select
            year_code,
            local_authority_code,
            measure,
            breakdown,
            category,
            category_order,
            is_total,
            raw_count,
            is_suppressed,
            statistic_name,
            case
                when not is_suppressed and raw_count >= {{ threshold }}
                    then cast(round(statistic_value, 1) as {{ dbt.type_numeric() }})
            end as statistic_value,
            case
                when not is_suppressed
                    then cast(round(raw_count * 1.0 / {{ round_to }}, 0) * {{ round_to }} as {{ dbt.type_int() }})
            end as published_count,
            case
                when
                    not is_suppressed
                    and base_count >= {{ threshold }}
                    and max(case when is_total and is_suppressed then 1 else 0 end)
                        over (partition by {{ row_group | join(', ') }}) = 0
                    then cast(round(
                        round(raw_count * 1.0 / {{ round_to }}, 0) * 100.0
                        / round(base_count * 1.0 / {{ round_to }}, 0),
                        1
                    ) as {{ dbt.type_numeric() }})
            end as percentage,
            case
                when not is_suppressed and rate_base > 0
                    then cast(
                        round(round(raw_count * 1.0 / {{ round_to }}, 0) * {{ round_to }} * 10000.0 / rate_base, 1)
                        as {{ dbt.type_numeric() }}
                    )
            end as rate_per_10000
        from {{ previous.name }}
    )
{%- endmacro %}


{#
    The rows a published table is reported for: every authority (dim_local_authorities) and a
    'Wales' row (publication_order 0), as a select.
#}
{% macro published_authorities() -%}
    select
        local_authority_code,
        local_authority_name,
        cast(publication_order as {{ dbt.type_int() }}) as publication_order
    from {{ ref('dim_local_authorities') }}

    union all

    select
        'Wales' as local_authority_code,
        'Wales' as local_authority_name,
        cast(0 as {{ dbt.type_int() }}) as publication_order
{%- endmacro %}


{#
    The four ways a counted row rolls up in published_cells(): into its own cell, its authority's
    total, Wales's cell and Wales's total (the CTE `rollup_levels`, see published_grid_ctes()).
#}
{% macro published_rollup_levels() -%}
    select
        false as to_wales,
        false as to_total
    union all
    select
        true as to_wales,
        false as to_total
    union all
    select
        false as to_wales,
        true as to_total
    union all
    select
        true as to_wales,
        true as to_total
{%- endmacro %}


{#
    The two CTEs every published table's grid needs, `authorities` (published_authorities()) and
    `rollup_levels` (published_rollup_levels()), as one macro so the tables do not repeat them.
#}
{% macro published_grid_ctes() -%}
authorities as (
    {{ published_authorities() }}
),

rollup_levels as (
    {{ published_rollup_levels() }}
)
{%- endmacro %}


{#
    The cells of one breakdown of a published table before disclosure control: every (reporting
    year, authority or Wales, category) with zero where nothing was counted, and the group's total
    (category `total_label`, the sum over the listed categories) unless with_total=false (a group
    whose categories overlap or do not add up to a total). It is a select of pieces, not of cells:
    one row per grid cell (the only rows with a category_order) and one per counted row or (for counts) per counted
    (year, authority, category), copied to its totals and Wales. A model unions the selects of all
    its breakdowns, and published_table() sums the union into cells in one aggregation
    (published_cells_summed). A join and an aggregation per breakdown instead held DuckDB memory
    for every breakdown at once: table 9's 66 breakdowns needed 600 to 800 MB at scale 10, and
    build within 350 MB so (docs/benchmark.md).
      rows_cte             one row per thing counted, with year_code and local_authority_code
      category_expression  the category of a row (over rows_cte's columns); rows in no listed
                           category count nowhere, not even in the total
      categories           the categories to publish, in order
      value_expression     what a row adds to its cell (1 = count rows; a column to add it up)
      where                a condition on the rows
      first_year_code      the first reporting year the item was collected (none: every year)
      statistic_name       the name of a statistic of each cell other than its count (none: no
                           statistic), e.g. 'Median days from entering care to adoption'
      statistic_input      what a row gives the statistic (an expression over rows_cte; rows
                           where it is null are left out of the statistic)
      statistic_aggregate  how the statistic is computed over the cell's rows: 'median', 'average'
                           or 'sum'
    The grid comes from CTEs `reporting_years` (year_code) and `authorities`
    (published_authorities()) of the calling model, the roll-up to totals and Wales from its CTE
    `rollup_levels` (published_rollup_levels()); published_grid_ctes() declares both.
#}
{% macro published_cells(rows_cte, category_expression, measure, breakdown, categories, with_total=true, value_expression='1', where='1 = 1', total_label='Total', first_year_code=none, statistic_name=none, statistic_input=none, statistic_aggregate='median') -%}
    {%- if statistic_aggregate not in ('median', 'average', 'sum') -%}
        {{ exceptions.raise_compiler_error('statistic_aggregate: median, average or sum') }}
    {%- endif -%}
    {#- every label as a string literal of the engine (census_string_literal) -#}
    {%- set quoted = [] -%}
    {%- for category in categories -%}
        {%- do quoted.append(census_string_literal(category)) -%}
    {%- endfor -%}
    {%- set measure_sql = census_string_literal(measure) -%}
    {%- set breakdown_sql = census_string_literal(breakdown) -%}
    {%- set total_label_sql = census_string_literal(total_label) -%}
    {%- set statistic_name_sql = census_string_literal(statistic_name) if statistic_name
        else 'cast(null as ' ~ dbt.type_string() ~ ')' -%}
    {%- set statistic_aggregate_sql = census_string_literal(statistic_aggregate) if statistic_name
        else 'cast(null as ' ~ dbt.type_string() ~ ')' %}
    {#- the grid: every cell once, with nothing counted #}
    select
        reporting_years.year_code,
        authorities.local_authority_code,
        {{ measure_sql }} as measure,
        {{ breakdown_sql }} as breakdown,
        category_list.category,
        category_list.category_order,
        category_list.is_total,
        0 as cell_value,
        {{ statistic_name_sql }} as statistic_name,
        {{ statistic_aggregate_sql }} as statistic_aggregate,
        cast(null as {{ dbt.type_numeric() }}) as statistic_input
    from reporting_years
    cross join authorities
    cross join (
        {%- for category in quoted %}
        select
            {{ category }} as category,
            cast({{ loop.index }} as {{ dbt.type_int() }}) as category_order,
            false as is_total
        {%- if not loop.last %}
        union all
        {%- endif %}
        {%- endfor %}
        {%- if with_total %}
        union all
        select
            {{ total_label_sql }} as category,
            cast(0 as {{ dbt.type_int() }}) as category_order,
            true as is_total
        {%- endif %}
    ) as category_list
    {%- if first_year_code %}
    where reporting_years.year_code >= {{ first_year_code }}
    {%- endif %}

    union all

    {#- each row once in its own cell, in its authority's total and in Wales's cell and total:
        copies of the row, not a join of rows with cells (a join on "own authority or Wales"
        would compare every row with every cell of its year) #}
    select
        counted_rows.year_code,
        case
            when rollup_levels.to_wales then 'Wales' else counted_rows.local_authority_code
        end as local_authority_code,
        {{ measure_sql }} as measure,
        {{ breakdown_sql }} as breakdown,
        case
            when rollup_levels.to_total then {{ total_label_sql }} else counted_rows.category
        end as category,
        cast(null as {{ dbt.type_int() }}) as category_order,
        cast(null as {{ dbt.type_boolean() }}) as is_total,
        counted_rows.cell_value,
        {{ statistic_name_sql }} as statistic_name,
        {{ statistic_aggregate_sql }} as statistic_aggregate,
        counted_rows.statistic_input
    from (
        {%- if not statistic_name %}
        {#- counts only: each (year, authority, category) summed before the roll-up copies it
            to its totals and Wales, so the roll-up handles cells, not rows -#}
        select
            year_code,
            local_authority_code,
            category,
            sum(cell_value) as cell_value,
            cast(null as {{ dbt.type_numeric() }}) as statistic_input
        from (
        {%- endif %}
        select
            year_code,
            local_authority_code,
            {{ category_expression }} as category,
            {{ value_expression }} as cell_value,
            {{ statistic_input or ('cast(null as ' ~ dbt.type_numeric() ~ ')') }} as statistic_input
        from {{ rows_cte }}
        where
            ({{ where }})
            and {{ category_expression }} in ({{ quoted | join(', ') }})
        {%- if not statistic_name %}
        ) as row_values
        group by
            year_code,
            local_authority_code,
            category
        {%- endif %}
    ) as counted_rows
    cross join rollup_levels
    {%- if not with_total %}
    where not rollup_levels.to_total
    {%- endif %}
{%- endmacro %}


{#
    The cells with what their percentage and rate are of, as a select: base_count is the group's
    total (null in a group without one) and rate_base the population under 18 of the authority (or
    of Wales) for the total cells when with_rate, else null. `populations_cte` holds
    ref_population_under_18.
#}
{% macro published_bases(cells_cte, populations_cte='populations', with_rate=false) -%}
    select
        {{ cells_cte }}.year_code,
        {{ cells_cte }}.local_authority_code,
        {{ cells_cte }}.measure,
        {{ cells_cte }}.breakdown,
        {{ cells_cte }}.category,
        {{ cells_cte }}.category_order,
        {{ cells_cte }}.is_total,
        {{ cells_cte }}.raw_count,
        {{ cells_cte }}.statistic_name,
        {{ cells_cte }}.statistic_value,
        max(case when {{ cells_cte }}.is_total then {{ cells_cte }}.raw_count end) over (
            partition by
                {{ cells_cte }}.year_code,
                {{ cells_cte }}.local_authority_code,
                {{ cells_cte }}.measure,
                {{ cells_cte }}.breakdown
        ) as base_count,
        {%- if with_rate %}
        case when {{ cells_cte }}.is_total then population_totals.population_under_18 end as rate_base
        {%- else %}
        cast(null as {{ dbt.type_int() }}) as rate_base
        {%- endif %}
    from {{ cells_cte }}
    {%- if with_rate %}
    left join (
        select
            year_code,
            local_authority_code,
            population_under_18
        from {{ populations_cte }}

        union all

        select
            year_code,
            'Wales' as local_authority_code,
            sum(population_under_18) as population_under_18
        from {{ populations_cte }}
        group by year_code
    ) as population_totals
        on
            {{ cells_cte }}.year_code = population_totals.year_code
            and {{ cells_cte }}.local_authority_code = population_totals.local_authority_code
    {%- endif %}
{%- endmacro %}


{# The published columns of a disclosure-controlled table, as a select (never raw_count). #}
{% macro published_columns(controlled_cte, authorities_cte='authorities') -%}
    select
        {{ controlled_cte }}.year_code,
        {{ controlled_cte }}.local_authority_code,
        {{ authorities_cte }}.local_authority_name,
        {{ controlled_cte }}.measure,
        {{ controlled_cte }}.breakdown,
        {{ controlled_cte }}.category,
        {{ authorities_cte }}.publication_order,
        {{ controlled_cte }}.category_order,
        {{ controlled_cte }}.published_count,
        {{ controlled_cte }}.percentage,
        {{ controlled_cte }}.rate_per_10000,
        {{ controlled_cte }}.statistic_name,
        {{ controlled_cte }}.statistic_value,
        {{ controlled_cte }}.is_total,
        {{ controlled_cte }}.is_suppressed
    from {{ controlled_cte }}
    inner join {{ authorities_cte }}
        on {{ controlled_cte }}.local_authority_code = {{ authorities_cte }}.local_authority_code
{%- endmacro %}


{# A boolean as the published category: Yes, No, or Not known when null. #}
{% macro published_yes_no(expression) -%}
    case when {{ expression }} then 'Yes' when not {{ expression }} then 'No' else 'Not known' end
{%- endmacro %}


{#
    The end of every published table, as CTEs (call it last in a model's `with` list, without a
    comma, then `select * from final`): the cells of `cells_cte` (the union of published_cells()
    selects, summed by published_cells_summed) with their bases (published_bases), disclosure
    control (disclosure_control) and the published columns, as the CTE `final`.
#}
{% macro published_table(cells_cte, with_rate=false, round_to=5) -%}
cells_summed as (
    {{ published_cells_summed(cells_cte) }}
),

cells_with_bases as (
    {{ published_bases('cells_summed', with_rate=with_rate) }}
),

{{ disclosure_control('cells_with_bases', 'controlled', round_to=round_to) }},

final as (
    {{ published_columns('controlled') }}
)
{%- endmacro %}


{#
    The cells of a published table from the union of its published_cells() selects: each cell of
    the grids once, with what was counted in it (zero where nothing was), as one aggregation over
    every breakdown. Rows counted outside every grid cell (a year before the item was collected,
    an authority not published) count nowhere.
#}
{% macro published_cells_summed(pieces_cte) -%}
    select
        year_code,
        local_authority_code,
        measure,
        breakdown,
        category,
        max(category_order) as category_order,
        max(case when is_total then 1 else 0 end) = 1 as is_total,
        sum(cell_value) as raw_count,
        max(statistic_name) as statistic_name,
        cast(
            case max(statistic_aggregate)
                when 'median' then {{ census_median('statistic_input') }}
                when 'average' then avg(statistic_input)
                when 'sum' then sum(statistic_input)
            end as {{ dbt.type_numeric() }}
        ) as statistic_value
    from {{ pieces_cte }}
    group by
        year_code,
        local_authority_code,
        measure,
        breakdown,
        category
    {#- a cell of a grid: only grid rows carry a category order #}
    having count(category_order) > 0
{%- endmacro %}
