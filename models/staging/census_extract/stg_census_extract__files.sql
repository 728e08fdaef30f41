with

files as (
    select * from {{ ref('base_census_extract__files') }}
),

final as (
    select
        source_file,
        census,
        table_name,
        table_path,
        folder_year_number as year_code,
        size_bytes,
        data_row_count,
        is_known_table,
        is_valid_utf8,
        ends_with_newline,
        is_last_line_truncated
    from files
)

select * from final
