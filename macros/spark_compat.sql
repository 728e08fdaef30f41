{#
    Overrides of dbt's own macros on Apache Spark (dbt-spark), found first through the dispatch
    search order in dbt_project.yml. Only spark__ macros live here: DuckDB is not affected.
#}

{#
    split_part as in DuckDB and Postgres: Spark's built-in split_part (a literal delimiter, '' past
    the last part, any integer expression as the part number). dbt-spark's own version splits on a
    regular expression, gives null past the last part and needs a literal part number.
#}
{% macro spark__split_part(string_text, delimiter_text, part_number) -%}
    split_part({{ string_text }}, {{ delimiter_text }}, {{ part_number }})
{%- endmacro %}


{#
    Model contracts: the data_type of a contract column is written in DuckDB's names; Spark checks it
    by casting null to it, so the names Spark lacks are translated first.
#}
{% macro census_spark_data_type(data_type) -%}
    {%- set spark_types = {'varchar': 'string', 'text': 'string', 'hugeint': 'bigint', 'integer': 'int'} -%}
    {{ return(spark_types.get(data_type | trim | lower, data_type)) }}
{%- endmacro %}

{% macro spark__get_empty_schema_sql(columns) -%}
    {%- set translated = {} -%}
    {%- for name in columns -%}
        {%- set column = {} -%}
        {%- do column.update(columns[name]) -%}
        {%- if column.get('data_type') is not none -%}
            {%- do column.update({'data_type': census_spark_data_type(column['data_type'])}) -%}
        {%- endif -%}
        {%- do translated.update({name: column}) -%}
    {%- endfor -%}
    {{ return(dbt.default__get_empty_schema_sql(translated)) }}
{%- endmacro %}


{# Seeds: the same translation for the column_types of a seed (written in DuckDB's names). #}
{% macro census_spark_seed_model(model) -%}
    {%- set column_types = {} -%}
    {%- for name, data_type in (model['config'].get('column_types') or {}).items() -%}
        {%- do column_types.update({name: census_spark_data_type(data_type)}) -%}
    {%- endfor -%}
    {%- set config = {} -%}
    {%- do config.update(model['config']) -%}
    {%- do config.update({'column_types': column_types}) -%}
    {%- set translated = {} -%}
    {%- do translated.update(model) -%}
    {%- do translated.update({'config': config}) -%}
    {{ return(translated) }}
{%- endmacro %}

{% macro spark__create_csv_table(model, agate_table) -%}
    {{ return(dbt.spark__create_csv_table(census_spark_seed_model(model), agate_table)) }}
{%- endmacro %}

{#
    Seed rows as literals: the session connection of dbt-spark formats bindings into the SQL without
    escaping, so a value with an apostrophe (child's) breaks the insert. Here every value is a
    quoted, escaped literal cast to its column type (null for a blank).
#}
{% macro spark__load_csv_rows(model, agate_table) -%}
    {%- set column_override = census_spark_seed_model(model)['config']['column_types'] -%}
    {%- set types = [] -%}
    {%- for col_name in agate_table.column_names -%}
        {%- do types.append(column_override.get(col_name, adapter.convert_type(agate_table, loop.index0))) -%}
    {%- endfor -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
            ({%- for value in row -%}
                {%- if value is none -%}
                    cast(null as {{ types[loop.index0] }})
                {%- else -%}
                    cast({{ census_string_literal(value) }} as {{ types[loop.index0] }})
                {%- endif -%}
                {{- ", " if not loop.last -}}
            {%- endfor -%}){{ "," if not loop.last }}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first -%}{%- do statements.append(sql) -%}{%- endif -%}
    {%- endfor -%}
    {{ return(statements[0]) }}
{%- endmacro %}


{#
    Date arithmetic as on DuckDB, for dates (the only use here). dbt-spark's own dateadd and datediff
    raise an error on a null date (assert_not_null) and multiply an expression interval without
    parentheses (n - 1 * 12); these take nulls through and bracket the interval. dateadd gives a
    timestamp, as DuckDB's date + interval does.
#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    {%- if datepart in ['day', 'week'] -%}
        cast(date_add({{ from_date_or_timestamp }}, cast(({{ interval }}) * {{ 7 if datepart == 'week' else 1 }} as int)) as timestamp)
    {%- elif datepart in ['month', 'quarter', 'year'] -%}
        {%- set months = {'month': 1, 'quarter': 3, 'year': 12}[datepart] -%}
        cast(add_months({{ from_date_or_timestamp }}, cast(({{ interval }}) * {{ months }} as int)) as timestamp)
    {%- else -%}
        {{ return(dbt.spark__dateadd(datepart, interval, from_date_or_timestamp)) }}
    {%- endif -%}
{%- endmacro %}

{% macro spark__datediff(first_date, second_date, datepart) -%}
    {%- if datepart == 'day' -%}
        datediff({{ second_date }}, {{ first_date }})
    {%- elif datepart == 'month' -%}
        ((year({{ second_date }}) * 12 + month({{ second_date }})) - (year({{ first_date }}) * 12 + month({{ first_date }})))
    {%- elif datepart == 'year' -%}
        (year({{ second_date }}) - year({{ first_date }}))
    {%- else -%}
        {{ return(dbt.spark__datediff(first_date, second_date, datepart)) }}
    {%- endif -%}
{%- endmacro %}


{#
    Column comments of views: the Hive metastore (Derby) keeps at most 256 characters of a column
    comment; a longer one fails the metastore insert, which Spark retries for 20 s before it falls
    back. Comments are cut to 250 characters (dbt-spark's macro, with the cut).
#}
{% macro get_column_comment_sql(column_name, column_dict) -%}
    {%- set column_comment_clause = '' -%}
    {%- if column_name in column_dict and column_dict[column_name]["description"] -%}
        {%- set description = column_dict[column_name]["description"] | trim -%}
        {%- if description | length > 250 -%}{%- set description = description[:247] ~ '...' -%}{%- endif -%}
        {%- set column_comment_clause = "comment " ~ census_string_literal(description) -%}
    {%- endif -%}
    {{ adapter.quote(column_name) }} {{ column_comment_clause }}
{%- endmacro %}
