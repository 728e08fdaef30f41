{#- Issues about whole files: one row per file and issue (a missing contract column: one per column). -#}
{%- set tables = [
    ('cla', 'child'), ('cla', 'episode'), ('cla', 'adoption'), ('cla', 'care_leaver'),
    ('crcs', 'child'), ('plasc', 'pupil'),
] -%}

with

files as (
    select * from {{ ref('base_census_extract__files') }}
),

empty_files as (
    select
        source_file,
        'empty_file' as reason,
        cast(null as {{ dbt.type_string() }}) as column_name,
        'the file is empty: no header, no rows' as detail
    from files
    where size_bytes = 0
),

undecodable_files as (
    select
        source_file,
        'invalid_encoding' as reason,
        cast(null as {{ dbt.type_string() }}) as column_name,
        'the file is not valid UTF-8: rows the reader could not decode are missing' as detail
    from files
    where not is_valid_utf8
),

unexpected_files as (
    select
        source_file,
        'unexpected_file' as reason,
        cast(null as {{ dbt.type_string() }}) as column_name,
        'not a table of the raw extract format: the file is not read' as detail
    from files
    where not is_known_table
),

misplaced_files as (
    select
        source_file,
        'year_code_mismatch' as reason,
        cast(null as {{ dbt.type_string() }}) as column_name,
        'the year folder is not a reporting year (YYYYyy)' as detail
    from files
    where is_known_table and folder_year_number is null
),

column_issues as (
    {{ census_missing_column_files('files', tables) }}
),

final as (
    select * from empty_files
    union all
    select * from undecodable_files
    union all
    select * from unexpected_files
    union all
    select * from misplaced_files
    union all
    select * from column_issues
)

select * from final
