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


{# The path of a file relative to the raw directory: the last three segments. #}
{% macro census_relative_path(path) -%}
    {{ return(adapter.dispatch('census_relative_path', 'welsh_care_census')(path)) }}
{%- endmacro %}

{% macro duckdb__census_relative_path(path) -%}
    regexp_extract(replace({{ path }}, chr(92), '/'), '([^/]*/[^/]*/[^/]*)$', 1)
{%- endmacro %}


{#
    The body of a base model: one read of the raw files of a table. Declared columns missing from
    every file come out as nulls; values in fields beyond a row's header (a row with too many
    fields) are kept in extra_field_value. When no file of the table exists at all the model is
    empty rather than failing (the expected-years test reports the gap).
#}
{% macro census_base_rows(source_name, table_name) -%}
    {%- set table_path = source_name ~ '/' ~ table_name -%}
    {%- set declared = census_source_columns(source_name, table_name) -%}
    {%- set files_found = census_files_found(table_path) -%}
    {%- set present = [] -%}
    {%- if execute and files_found > 0 -%}
        {%- set probe = run_query('select * from ' ~ source(source_name, table_name) ~ ' limit 0') -%}
        {%- for name in probe.column_names -%}{%- do present.append(name) -%}{%- endfor -%}
    {%- endif -%}
    {%- set declared_names = declared | map(attribute='name') | list -%}
    {%- set overflow = [] -%}
    {%- for name in present -%}
        {%- if name not in declared_names and modules.re.match('^column[0-9]+$', name) -%}
            {%- do overflow.append(adapter.quote(name)) -%}
        {%- endif -%}
    {%- endfor -%}

with

{% if files_found > 0 %}
source as (
    select * from {{ source(source_name, table_name) }}
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

final as (
    select
        source_file,
        source_row_number,
        '{{ table_path }}' as table_path,
        {{ dbt.split_part('source_file', "'/'", 2) }} as folder_year_code,
        {%- for column in declared %}
        {{ column.column }},
        {%- endfor %}
        extra_field_value
    from located
)

select * from final
{%- endmacro %}
