{#- none: read every file; else the new, changed and touched files, and the rows to keep -#}
{%- set files = census_files_to_describe() %}

with

source as (
    select * from {{ census_raw_files(files['describe'] if files else none) }}
),

decoded as (
    select
        {{ census_relative_path('filename') }} as source_file,
        size as size_bytes,
        last_modified as modified_at,
        {{ census_hash('content') }} as content_hash,
        {{ census_decode_utf8('content') }} as content_text
    from source
),

-- the only CTE that reads the whole text of a file: what follows is a few small values per file
described as (
    select
        source_file,
        size_bytes,
        modified_at,
        content_hash,
        content_text is not null as is_valid_utf8,
        replace({{ census_first_line('content_text') }}, chr(13), '') as header_line,
        {{ census_last_line('content_text') }} as last_line,
        {{ census_count_nonblank_lines('content_text') }} as nonblank_line_count,
        {{ dbt.right('content_text', '1') }} as last_character,
        {{ dbt.split_part('source_file', "'/'", 1) }} as census,
        {{ dbt.split_part('source_file', "'/'", 2) }} as folder_year_code,
        replace({{ dbt.split_part('source_file', "'/'", 3) }}, '.csv', '') as table_name
    from decoded
),

described_now as (
    select
        source_file,
        census,
        folder_year_code,
        table_name,
        {{ dbt.concat(['census', "'/'", 'table_name']) }} as table_path,
        case
            when {{ census_matches('folder_year_code', '[0-9]{6}') }}
                then {{ census_safe_cast('folder_year_code', dbt.type_int()) }}
        end as folder_year_number,
        size_bytes,
        modified_at,
        content_hash,
        is_valid_utf8,
        {{ dbt.concat(["','", "replace(replace(coalesce(header_line, ''), '\"', ''), ' ', '')", "','"]) }}
            as header_columns,
        greatest(nonblank_line_count - 1, 0) as data_row_count,
        coalesce(last_character = {{ census_newline() }}, false) as ends_with_newline,
        -- a last line without a newline and with fewer fields than the header has been cut short
        coalesce(
            last_character <> {{ census_newline() }}
            and {{ dbt.length('last_line') }} - {{ dbt.length("replace(last_line, ',', '')") }}
            < {{ dbt.length('header_line') }} - {{ dbt.length("replace(header_line, ',', '')") }},
            false
        ) as is_last_line_truncated,
        {{ dbt.concat(['census', "'/'", 'table_name']) }} in (
            'cla/child', 'cla/episode', 'cla/adoption', 'cla/care_leaver', 'crcs/child', 'plasc/pupil'
        ) as is_known_table
    from described
),
{%- if files %}

-- the rows of the last build (by the same code: same columns) of the files not read again
described_before as (
    select * from {{ this }}
    where {{ census_partition_filter('source_file', files['keep']) }}
),
{%- endif %}

final as (
    select * from described_now
    {%- if files %}
    union all
    select * from described_before
    {%- endif %}
)

select * from final
