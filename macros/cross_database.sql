{#
    Dispatched macros of our own: a duckdb__ implementation for the warehouse we run on and a
    default__ one in plain SQL (or a clear error) for any other adapter. Models call these instead
    of writing DuckDB-only syntax.
#}

{#
    A hex digest of a string expression, used for pseudonymous keys: the first 128 bits of SHA-256
    (32 hex characters; md5, also 128 bits, on adapters without SHA-256 here). 128 bits keep
    collisions out of reach (a chance below 10^-24 among ten million keys), and half the characters of
    the full digest make every table that carries keys smaller and quicker to write and join
    (a scale-1 build: 3.5 s faster, warehouse file 502 to 302 MB).
#}
{% macro census_hash(expression) -%}
    {%- set digest = census_sha256_hex(expression) | trim -%}
    {%- if digest -%}
        left({{ digest }}, 32)
    {%- else -%}
        {{ dbt.hash(expression) }}
    {%- endif -%}
{%- endmacro %}

{# The full SHA-256 of a string expression as 64 lowercase hex characters; empty where the
   adapter has no SHA-256 here (census_hash then falls back to dbt.hash, md5). #}
{% macro census_sha256_hex(expression) -%}
    {{ return(adapter.dispatch('census_sha256_hex', 'welsh_care_census')(expression)) }}
{%- endmacro %}

{% macro duckdb__census_sha256_hex(expression) -%}
    sha256({{ expression }})
{%- endmacro %}

{% macro default__census_sha256_hex(expression) -%}
{%- endmacro %}


{# True when a text expression matches a regular expression as a whole. #}
{% macro census_matches(expression, pattern) -%}
    {{ return(adapter.dispatch('census_matches', 'welsh_care_census')(expression, pattern)) }}
{%- endmacro %}

{% macro duckdb__census_matches(expression, pattern) -%}
    regexp_full_match({{ expression }}, '{{ pattern }}')
{%- endmacro %}

{% macro default__census_matches(expression, pattern) -%}
    ({{ expression }} ~ '^(?:{{ pattern }})$')
{%- endmacro %}


{# A blob's text when it is valid UTF-8, else null (never an error). #}
{% macro census_decode_utf8(expression) -%}
    {{ return(adapter.dispatch('census_decode_utf8', 'welsh_care_census')(expression)) }}
{%- endmacro %}

{% macro duckdb__census_decode_utf8(expression) -%}
    try(decode({{ expression }}))
{%- endmacro %}

{% macro default__census_decode_utf8(expression) -%}
    {{ exceptions.raise_compiler_error('census_decode_utf8 is only implemented for duckdb') }}
{%- endmacro %}


{#
    The number of lines of a text that are not blank (how many records a CSV reader sees): lines
    split at line feeds, blank when they hold nothing but spaces and carriage returns.
    DuckDB: one match per non-blank line (its first visible character), so a file is never split
    into a list of its lines: a 400 MB file would take gigabytes as lines (docs/benchmark.md).
#}
{% macro census_count_nonblank_lines(expression) -%}
    {{ return(adapter.dispatch('census_count_nonblank_lines', 'welsh_care_census')(expression)) }}
{%- endmacro %}

{% macro duckdb__census_count_nonblank_lines(expression) -%}
    len(regexp_extract_all({{ expression }}, '(?m)^[ \r]*[^ \r\n]'))
{%- endmacro %}

{% macro default__census_count_nonblank_lines(expression) -%}
    {{ exceptions.raise_compiler_error('census_count_nonblank_lines is only implemented for duckdb') }}
{%- endmacro %}


{#
    A value from outside the SQL (a path, the key salt, a partition value, a label, a seed value,
    a description) as a string literal of the adapter's SQL: single quotes doubled (standard SQL,
    DuckDB); on Spark, whose literals take backslash escapes ('it''s' there reads as 'its'),
    backslashes and single quotes escaped with a backslash. The one way this project quotes a
    value from outside into an SQL string (names it writes itself, such as column names and
    table paths, are put in quotes as they are).
#}
{% macro census_string_literal(value) -%}
    {{ return(adapter.dispatch('census_string_literal', 'welsh_care_census')(value | string)) }}
{%- endmacro %}

{% macro default__census_string_literal(value) -%}
    {{ return("'" ~ value.replace("'", "''") ~ "'") }}
{%- endmacro %}

{% macro spark__census_string_literal(value) -%}
    {{ return("'" ~ value.replace('\\', '\\\\').replace("'", "\\'") ~ "'") }}
{%- endmacro %}


{# The newline character as an expression. #}
{% macro census_newline() -%}
    {{ return(adapter.dispatch('census_newline', 'welsh_care_census')()) }}
{%- endmacro %}

{% macro default__census_newline() -%}
    chr(10)
{%- endmacro %}


{#
    The last non-blank line of a text, without carriage returns; null when every line is blank.
    DuckDB: the line matched at the end of the text (only blank lines may follow it), not a split
    of the whole text into lines.
#}
{% macro census_last_line(expression) -%}
    {{ return(adapter.dispatch('census_last_line', 'welsh_care_census')(expression)) }}
{%- endmacro %}

{% macro duckdb__census_last_line(expression) -%}
    replace(nullif(regexp_extract({{ expression }}, '([^\n]*[^ \r\n][^\n]*)[ \r\n]*$', 1), ''), chr(13), '')
{%- endmacro %}


{# The first line of a text (up to its first line feed, carriage return kept). #}
{% macro census_first_line(expression) -%}
    {{ return(adapter.dispatch('census_first_line', 'welsh_care_census')(expression)) }}
{%- endmacro %}

{#- Not a split into lines, which would copy the whole text: the text up to its first line feed. -#}
{% macro default__census_first_line(expression) -%}
    case
        when {{ dbt.position(census_newline(), expression) }} > 0
            then left({{ expression }}, {{ dbt.position(census_newline(), expression) }} - 1)
        else {{ expression }}
    end
{%- endmacro %}

{% macro spark__census_first_line(expression) -%}
    {{ dbt.split_part(expression, census_newline(), 1) }}
{%- endmacro %}

{% macro default__census_last_line(expression) -%}
    {{ exceptions.raise_compiler_error('census_last_line is only implemented for duckdb') }}
{%- endmacro %}


{# A cast that gives null instead of an error (dbt.safe_cast is a plain cast on duckdb). #}
{% macro census_safe_cast(expression, data_type) -%}
    {{ return(adapter.dispatch('census_safe_cast', 'welsh_care_census')(expression, data_type)) }}
{%- endmacro %}

{% macro duckdb__census_safe_cast(expression, data_type) -%}
    try_cast({{ expression }} as {{ data_type }})
{%- endmacro %}

{% macro default__census_safe_cast(expression, data_type) -%}
    {{ dbt.safe_cast(expression, data_type) }}
{%- endmacro %}


{# The median of a numeric expression, as an aggregate (the continuous median: the mean of the two
   middle values when their number is even). #}
{% macro census_median(expression) -%}
    {{ return(adapter.dispatch('census_median', 'welsh_care_census')(expression)) }}
{%- endmacro %}

{% macro duckdb__census_median(expression) -%}
    quantile_cont({{ expression }}, 0.5)
{%- endmacro %}

{% macro spark__census_median(expression) -%}
    percentile({{ expression }}, 0.5)
{%- endmacro %}

{% macro default__census_median(expression) -%}
    percentile_cont(0.5) within group (order by {{ expression }})
{%- endmacro %}


{#
    Apache Spark (dbt-spark) implementations of the macros above. Spark runs with ANSI mode off
    (dbt-spark forces it), so a plain cast gives null on a bad value.
#}
{% macro spark__census_sha256_hex(expression) -%}
    sha2({{ expression }}, 256)
{%- endmacro %}

{% macro spark__census_matches(expression, pattern) -%}
    ({{ expression }} rlike '^(?:{{ pattern }})$')
{%- endmacro %}

{# Spark's decode() replaces invalid bytes: the text is valid when it encodes back to the same bytes. #}
{% macro spark__census_decode_utf8(expression) -%}
    case
        when encode(decode({{ expression }}, 'UTF-8'), 'UTF-8') = {{ expression }}
            then decode({{ expression }}, 'UTF-8')
    end
{%- endmacro %}

{% macro spark__census_count_nonblank_lines(expression) -%}
    case when {{ expression }} is not null then
        size(filter(split({{ expression }}, chr(10)), line -> trim(replace(line, chr(13), '')) <> ''))
    end
{%- endmacro %}

{% macro spark__census_last_line(expression) -%}
    element_at(filter(split(replace({{ expression }}, chr(13), ''), chr(10)), line -> trim(line) <> ''), -1)
{%- endmacro %}
