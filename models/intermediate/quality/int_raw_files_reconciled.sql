{#-
    For each raw file: rows read (non-blank data lines counted on the file's bytes, independently of
    the CSV reader) = rows staged + rows quarantined. A row the reader lost, or read twice, shows
    here as a difference.
-#}

with

files as (
    select * from {{ ref('base_census_extract__files') }}
),

quarantine as (
    select * from {{ ref('int_raw_rows_quarantined') }}
),

stg_cla__children as (
    select * from {{ ref('stg_cla__children') }}
),

stg_cla__episodes as (
    select * from {{ ref('stg_cla__episodes') }}
),

stg_cla__adoptions as (
    select * from {{ ref('stg_cla__adoptions') }}
),

stg_cla__care_leavers as (
    select * from {{ ref('stg_cla__care_leavers') }}
),

stg_crcs__children as (
    select * from {{ ref('stg_crcs__children') }}
),

stg_plasc__pupils as (
    select * from {{ ref('stg_plasc__pupils') }}
),

staged_rows as (
    select
        source_file,
        count(*) as rows_staged
    from stg_cla__children
    group by source_file

    union all

    select
        source_file,
        count(*) as rows_staged
    from stg_cla__episodes
    group by source_file

    union all

    select
        source_file,
        count(*) as rows_staged
    from stg_cla__adoptions
    group by source_file

    union all

    select
        source_file,
        count(*) as rows_staged
    from stg_cla__care_leavers
    group by source_file

    union all

    select
        source_file,
        count(*) as rows_staged
    from stg_crcs__children
    group by source_file

    union all

    select
        source_file,
        count(*) as rows_staged
    from stg_plasc__pupils
    group by source_file
),

quarantined_rows as (
    select
        source_file,
        count(distinct source_row_number) as rows_quarantined
    from quarantine
    where not is_file_level
    group by source_file
),

-- files no reader takes (not a table of the format) are quarantined whole
unread_files as (
    select distinct source_file
    from quarantine
    where reason = 'unexpected_file'
),

final as (
    select
        files.source_file,
        files.census,
        files.table_name,
        files.folder_year_number as year_code,
        files.data_row_count as rows_read,
        coalesce(staged_rows.rows_staged, 0) as rows_staged,
        case
            when unread_files.source_file is not null then files.data_row_count
            else coalesce(quarantined_rows.rows_quarantined, 0)
        end as rows_quarantined,
        unread_files.source_file is not null as is_quarantined_whole
    from files
    left join staged_rows
        on files.source_file = staged_rows.source_file
    left join quarantined_rows
        on files.source_file = quarantined_rows.source_file
    left join unread_files
        on files.source_file = unread_files.source_file
)

select * from final
