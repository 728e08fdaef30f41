{#
    Reading the raw extract. Every raw table is read by exactly one base model, which calls
    census_base_rows(): all columns as text, the file each row came from and its data-row number
    (1 = the first line after the header, as in the fault manifest).

    The column contract lives in the sources YAML: each column's config.meta says how it is checked
    (format, code_list, required, since_year_code). census_source_columns() reads it from the graph.
#}

{% macro census_source_columns(source_name, table_name) -%}
    {%- set found = [] -%}
    {%- if execute -%}
        {%- for node in graph.sources.values() if node.source_name == source_name and node.name == table_name -%}
            {%- for column in node.columns.values() -%}
                {%- set meta = {} -%}
                {%- do meta.update(column.get('meta') or {}) -%}
                {%- do meta.update((column.get('config') or {}).get('meta') or {}) -%}
                {%- do found.append({
                    'name': column.name,
                    'column': column.name | lower,
                    'format': meta.get('format', 'text'),
                    'code_list': meta.get('code_list'),
                    'required': meta.get('required', false),
                    'since': meta.get('since_year_code'),
                }) -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(found) }}
{%- endmacro %}


{# Files of the inventory that belong to a raw table, e.g. census_files_found('cla/episode'). #}
{% macro census_files_found(table_path) -%}
    {%- set files = ref('base_census_extract__files') -%}
    {%- if not execute -%}{{ return(1) }}{%- endif -%}
    {#- not built yet (e.g. sqlfluff compiling without a warehouse): treat as no files -#}
    {%- if adapter.get_relation(files.database, files.schema, files.identifier) is none -%}{{ return(0) }}{%- endif -%}
    {%- set sql -%}
        select count(*) from {{ files }}
        where table_path = '{{ table_path }}' and is_known_table
    {%- endset -%}
    {{ return(run_query(sql).columns[0].values()[0]) }}
{%- endmacro %}


{#
    The raw files as a relation of (filename, content, size, last_modified): every CSV two folders
    below CENSUS_RAW_DIR, read as bytes. DuckDB: the source census_extract.files (read_blob); given
    a list of filenames (census_files_to_describe), only those files.
#}
{% macro census_raw_files(filenames=none) -%}
    {{ return(adapter.dispatch('census_raw_files', 'welsh_care_census')(filenames)) }}
{%- endmacro %}

{% macro default__census_raw_files(filenames=none) -%}
    {%- set files = source('census_extract', 'files') -%}
    {%- if filenames is none -%}{{ return(files) }}{%- endif -%}
    {%- if not filenames -%}{{ return('(select * from ' ~ files ~ ' where 1 = 0)') }}{%- endif -%}
    {%- set quoted = [] -%}
    {%- for filename in filenames -%}{%- do quoted.append(census_string_literal(filename)) -%}{%- endfor -%}
    {{ return('read_blob([' ~ quoted | join(', ') ~ '])') }}
{%- endmacro %}


{#
    What the file inventory (base_census_extract__files) reads in a build. none: every file. Else,
    on DuckDB, {'describe': the filenames whose bytes to read, 'keep': the source_file of each row
    kept as it is}: a file is read again when its path, size or modification time is not among
    the inventory's rows (new, changed, touched files). Both lists come from one listing of the
    folder (a file changed during the build is read at the next). Every file is read on a first
    build, under --full-refresh or --empty, on other targets, when the inventory was built by
    other code (its code version, census_partition_code_version, recorded by the post-hook
    census_record_code_version) and when a file to read has a glob character in its name
    (read_blob would expand it). A file rewritten with the same size and modification time is
    not noticed: --full-refresh reads every file again.
#}
{% macro census_files_to_describe() -%}
    {%- do config(post_hook=["{{ census_record_code_version() }}"]) -%}
    {%- if not execute or target.type != 'duckdb' or flags.WHICH not in ('run', 'build')
        or flags.FULL_REFRESH or flags.EMPTY -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set built = adapter.get_relation(database=this.database, schema=this.schema, identifier=this.identifier) -%}
    {%- if built is none or not census_built_with_current_code() -%}{{ return(none) }}{%- endif -%}
    {%- set listing -%}
        select
            listing.filename,
            described.source_file
        from {{ source('census_extract', 'files') }} as listing
        left join {{ built }} as described
            on
                described.source_file = {{ census_relative_path('listing.filename') }}
                and described.size_bytes = listing.size
                and described.modified_at = listing.last_modified
        order by 1
    {%- endset -%}
    {%- set files = {'describe': [], 'keep': []} -%}
    {%- for row in run_query(listing).rows -%}
        {%- if row[1] is none -%}
            {%- if modules.re.search('[][*?{}]', row[0]) -%}{{ return(none) }}{%- endif -%}
            {%- do files['describe'].append(row[0]) -%}
        {%- else -%}
            {%- do files['keep'].append(row[1]) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(files) }}
{%- endmacro %}


{# Spark: the binaryFile data source over the same glob, every file (the source is kept for lineage). #}
{% macro spark__census_raw_files(filenames=none) -%}
    {%- do source('census_extract', 'files') -%}
    (
        select
            path as filename,
            content,
            length as size,
            modificationTime as last_modified
        from binaryFile.`{{ env_var('CENSUS_RAW_DIR', 'data/raw') }}/*/*/*.csv`
    )
{%- endmacro %}


{# The path of a file relative to the raw directory: the last three segments. #}
{% macro census_relative_path(path) -%}
    {{ return(adapter.dispatch('census_relative_path', 'welsh_care_census')(path)) }}
{%- endmacro %}

{% macro default__census_relative_path(path) -%}
    regexp_extract(replace({{ path }}, chr(92), '/'), '([^/]*/[^/]*/[^/]*)$', 1)
{%- endmacro %}


{#
    How a base model is materialised: incremental on DuckDB, so a build reads only the raw files
    that are new or changed since the last build (census_base_rows); a plain table elsewhere
    (delete+insert incrementals need a table format the Spark target does not have here).
#}
{% macro census_base_materialization() -%}
    {{ return('incremental' if target.type == 'duckdb' else 'table') }}
{%- endmacro %}


{#
    Hooks of the base models (a hook that renders empty is skipped by dbt: no statement, no
    round trip). The profile lets DuckDB write rows in any order (it holds less in
    memory), but a base model numbers raw rows in the order the reader returns them
    (census_read_in_file_order): for its own statements, on its own connection, the order is kept
    (keep=true), then the profile's setting comes back (keep=false). Nothing on other targets.
#}
{% macro census_keep_read_order(keep) -%}
    {%- if target.type == 'duckdb' -%}
    {{ 'set session preserve_insertion_order = true' if keep else 'reset session preserve_insertion_order' }}
    {%- endif -%}
{%- endmacro %}


{#
    After an incremental load: forget the rows of files no longer in the raw folder (a year folder
    taken away), so the base table always holds exactly the files the folder holds.
#}
{% macro census_forget_removed_files() -%}
    {#- not under --empty, where the file inventory reads as no rows -#}
    {%- if is_incremental() and not flags.EMPTY -%}
    delete from {{ this }}
    where source_file not in (select source_file from {{ ref('base_census_extract__files') }})
    {%- endif -%}
{%- endmacro %}


{#
    The raw files of a table still to be read in an incremental build: known files whose path or
    content hash is not yet in the base model. Returns none on a full build (read every file), and
    when the base model was last built by other code (census_built_with_current_code: a fix to
    the reading or the checks of raw rows reaches every file, not only the new ones).
#}
{% macro census_files_to_load(table_path) -%}
    {%- if not (execute and is_incremental()) -%}{{ return(none) }}{%- endif -%}
    {%- if not census_built_with_current_code() -%}{{ return(none) }}{%- endif -%}
    {%- set sql -%}
        select files.source_file
        from {{ ref('base_census_extract__files') }} as files
        where
            files.table_path = '{{ table_path }}'
            and files.is_known_table
            and not exists (
                select 1 from {{ this }} as loaded
                where
                    loaded.source_file = files.source_file
                    and loaded.source_content_hash = files.content_hash
            )
        order by files.source_file
    {%- endset -%}
    {{ return(run_query(sql).columns[0].values() | list) }}
{%- endmacro %}


{#
    A read of some of the raw files of a table, with the same reader options as the source
    (its meta raw_dir and csv_options).
#}
{% macro census_read_files(source_name, table_name, source_files) -%}
    {{ return(adapter.dispatch('census_read_files', 'welsh_care_census')(source_name, table_name, source_files)) }}
{%- endmacro %}

{% macro default__census_read_files(source_name, table_name, source_files) -%}
    {%- set meta = {} -%}
    {%- for node in graph.sources.values() if node.source_name == source_name and node.name == table_name -%}
        {%- do meta.update(node.source_meta or {}) -%}
        {%- do meta.update(node.meta or {}) -%}
        {%- do meta.update((node.config or {}).get('meta') or {}) -%}
    {%- endfor -%}
    {%- set paths = [] -%}
    {%- for source_file in source_files -%}
        {%- do paths.append(census_string_literal(meta['raw_dir'] ~ '/' ~ source_file)) -%}
    {%- endfor -%}
    read_csv([{{ paths | join(', ') }}], {{ meta['csv_options'] }})
{%- endmacro %}


{#
    The body of a base model, and its configuration: one read of the raw files of a table. Declared columns missing from
    every file come out as nulls; values in fields beyond a row's header (a row with too many
    fields) are kept in extra_field_value. When no file of the table exists at all the model is
    empty rather than failing (the expected-years test reports the gap).
#}
{% macro census_base_rows(source_name, table_name) -%}
    {#- every base model: incremental by raw file (census_base_materialization) -#}
    {{- config(
        materialized=census_base_materialization(),
        incremental_strategy='delete+insert',
        unique_key='source_file',
        on_schema_change='fail',
        pre_hook=['{{ census_keep_read_order(true) }}'],
        post_hook=['{{ census_keep_read_order(false) }}', '{{ census_forget_removed_files() }}',
                   '{{ census_record_code_version() }}'],
    ) -}}
    {%- set table_path = source_name ~ '/' ~ table_name -%}
    {%- set declared = census_source_columns(source_name, table_name) -%}
    {%- set files_found = census_files_found(table_path) -%}
    {#- an incremental build reads only the new or changed files (none: a full read) -#}
    {%- set files_to_load = census_files_to_load(table_path) -%}
    {%- if files_to_load is not none and files_to_load | length == 0 -%}
        {%- set files_found = 0 -%}
    {%- endif -%}

with

{% if files_found > 0 %}
{{ census_read_in_file_order(source_name, table_name, declared, files_to_load) }}
{% else %}
read_in_file_order as (
    -- no file of this table exists: an empty relation with the declared columns
    select
        cast(null as {{ dbt.type_string() }}) as source_path,
        cast(null as {{ dbt.type_bigint() }}) as read_order,
        {%- for column in declared %}
        cast(null as {{ dbt.type_string() }}) as {{ column.column }},
        {%- endfor %}
        cast(null as {{ dbt.type_string() }}) as extra_field_value
    where 1 = 0
),
{% endif %}

located as (
    select
        {{ census_relative_path('source_path') }} as source_file,
        read_order - min(read_order) over (partition by source_path) + 1 as source_row_number,
        read_in_file_order.*
    from read_in_file_order
),

files as (
    select * from {{ ref('base_census_extract__files') }}
),

final as (
    select
        located.source_file,
        located.source_row_number,
        files.content_hash as source_content_hash,
        '{{ table_path }}' as table_path,
        {{ dbt.split_part('located.source_file', "'/'", 2) }} as folder_year_code,
        {%- for column in declared %}
        located.{{ column.column }},
        {%- endfor %}
        located.extra_field_value
    from located
    left join files
        on located.source_file = files.source_file
)

select * from final
{%- endmacro %}


{#
    The CTEs that read the raw files of a table, ending in read_in_file_order (one row per data row:
    source_path, read_order in file order, the declared columns as trimmed text or null, and
    extra_field_value), each CTE followed by a comma. files_to_load: the raw files to read (paths
    relative to the raw folder), or none for every file of the table.
#}
{% macro census_read_in_file_order(source_name, table_name, declared, files_to_load=none) -%}
    {{ return(adapter.dispatch('census_read_in_file_order', 'welsh_care_census')(source_name, table_name, declared, files_to_load)) }}
{%- endmacro %}

{# DuckDB: one read_csv over every year folder (the source's external_location), union by name. #}
{% macro default__census_read_in_file_order(source_name, table_name, declared, files_to_load=none) -%}
    {%- if files_to_load is none -%}
        {%- set reader = source(source_name, table_name) -%}
    {%- else -%}
        {%- set reader = census_read_files(source_name, table_name, files_to_load) -%}
    {%- endif -%}
    {%- set present = [] -%}
    {%- if execute -%}
        {%- set probe = run_query('select * from ' ~ reader ~ ' limit 0') -%}
        {%- for name in probe.column_names -%}{%- do present.append(name) -%}{%- endfor -%}
    {%- endif -%}
    {%- set declared_names = declared | map(attribute='name') | list -%}
    {%- set overflow = [] -%}
    {%- for name in present -%}
        {%- if name not in declared_names and modules.re.match('^column[0-9]+$', name) -%}
            {%- do overflow.append(adapter.quote(name)) -%}
        {%- endif -%}
    {%- endfor -%}

source as (
    select * from {{ reader }}
),

read_in_file_order as (
    -- row_number() over () numbers rows in the order the reader returns them: file by file, line by line
    select
        filename as source_path,
        row_number() over () as read_order,
        {%- for column in declared %}
        {%- if column.name in present %}
        nullif(trim({{ adapter.quote(column.name) }}), '') as {{ column.column }},
        {%- else %}
        cast(null as {{ dbt.type_string() }}) as {{ column.column }},
        {%- endif %}
        {%- endfor %}
        {%- if overflow %}
        coalesce({{ overflow | join(', ') }}) as extra_field_value
        {%- else %}
        cast(null as {{ dbt.type_string() }}) as extra_field_value
        {%- endif %}
    from source
),
{%- endmacro %}


{#
    Spark: one temporary view per file (Spark's CSV reader takes its columns from the first file
    only, so the years are read one file at a time and unioned by name here). Each view reads every
    column of its file's header as text, plus the malformed line when a row has more or fewer fields
    than the header (_corrupt_record); the first field beyond the header is extra_field_value.
    A file is read as one partition (multiLine), so monotonically_increasing_id() is the file order.
#}
{% macro spark__census_read_in_file_order(source_name, table_name, declared, files_to_load=none) -%}
    {%- do source(source_name, table_name) -%}
    {%- set raw_dir = env_var('CENSUS_RAW_DIR', 'data/raw') -%}
    {%- set csv_options = "header 'true', multiLine 'true', quote '\"', escape '\"', mode 'PERMISSIVE'" -%}
    {%- set reads = [] -%}
    {%- if execute -%}
        {%- set files = run_query(
            "select source_file from " ~ ref('base_census_extract__files')
            ~ " where table_path = '" ~ source_name ~ "/" ~ table_name ~ "' and is_known_table and size_bytes > 0"
            ~ " order by source_file") -%}
        {%- for file in files.columns[0].values() -%}
            {%- set path = raw_dir ~ '/' ~ file -%}
            {%- set view = 'census_raw__' ~ source_name ~ '__' ~ table_name ~ '__' ~ loop.index -%}
            {%- do run_query(
                "create or replace temporary view " ~ view ~ "_header using csv options (path "
                ~ census_string_literal(path) ~ ", " ~ csv_options ~ ")") -%}
            {%- set present = run_query('select * from ' ~ view ~ '_header limit 0').column_names -%}
            {%- set schema = [] -%}
            {%- for name in present -%}{%- do schema.append(adapter.quote(name) ~ ' string') -%}{%- endfor -%}
            {%- do run_query(
                "create or replace temporary view " ~ view ~ " (" ~ (schema | join(', '))
                ~ ", _corrupt_record string) using csv options (path " ~ census_string_literal(path) ~ ", " ~ csv_options
                ~ ", columnNameOfCorruptRecord '_corrupt_record')") -%}
            {%- do reads.append({'view': view, 'path': path, 'present': present}) -%}
        {%- endfor -%}
    {%- endif -%}

read_in_file_order as (
    {%- for read in reads %}
    select
        {{ census_string_literal(read.path) }} as source_path,
        monotonically_increasing_id() as read_order,
        {%- for column in declared %}
        {%- if column.name in read.present %}
        nullif(trim({{ adapter.quote(column.name) }}), '') as {{ column.column }},
        {%- else %}
        cast(null as {{ dbt.type_string() }}) as {{ column.column }},
        {%- endif %}
        {%- endfor %}
        from_csv(
            _corrupt_record,
            '{% for n in range(read.present | length + 1) %}f{{ n }} string{{ ", " if not loop.last }}{% endfor %}',
            map('quote', '"', 'escape', '"')
        ).f{{ read.present | length }} as extra_field_value
    from {{ read.view }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
    {%- if not reads %}
    select
        cast(null as {{ dbt.type_string() }}) as source_path,
        cast(null as {{ dbt.type_bigint() }}) as read_order,
        {%- for column in declared %}
        cast(null as {{ dbt.type_string() }}) as {{ column.column }},
        {%- endfor %}
        cast(null as {{ dbt.type_string() }}) as extra_field_value
    where 1 = 0
    {%- endif %}
),
{%- endmacro %}
