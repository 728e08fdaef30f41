{#-
    Freshness of the raw extract: every reporting year from var census_first_year_code to
    census_last_year_code has a file for each of the six tables. Fails with one row per missing file
    (none under --empty, census_rows_expected).
-#}
{%- set tables = ['cla/child', 'cla/episode', 'cla/adoption', 'cla/care_leaver', 'crcs/child', 'plasc/pupil'] -%}
{%- set first_year = var('census_first_year_code') | int -%}
{%- set last_year = var('census_last_year_code') | int -%}

with

files as (
    select * from {{ ref('stg_census_extract__files') }}
),

-- the rows below are written by jinja loops, whose rendering sqlfluff cannot indent
-- noqa: disable=LT02
expected as (
    {%- for year in range(first_year // 100, last_year // 100 + 1) %}
    {%- for table_path in tables %}
    select
        {{ year * 100 + (year + 1) % 100 }} as year_code,
        '{{ table_path }}' as table_path
    {%- if not (loop.last and year == last_year // 100) %}
    union all
    {%- endif %}
    {%- endfor %}
    {%- endfor %}
),
-- noqa: enable=LT02

final as (
    select
        expected.year_code,
        expected.table_path
    from expected
    left join files
        on
            expected.year_code = files.year_code
            and expected.table_path = files.table_path
    where files.source_file is null and {{ census_rows_expected() }}
)

select * from final
