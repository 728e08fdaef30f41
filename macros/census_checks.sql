{#
    Checks of raw rows against the column contract (config.meta of each source column).
    Reasons, chosen to match the fault classes of carecensus.faults:
      missing_value       a required value (config.meta required: true) is blank
      unparseable_date    a date that is not an ISO YYYY-MM-DD calendar date
      invalid_value       an integer, decimal or year code that does not parse
      unknown_code        a code not in its code list (or not valid in the file's year)
      year_code_mismatch  YEAR_CODE disagrees with the year folder
      missing_column      the file lacks a contract column (from its since_year_code on): every row
                          of the file, and the file itself in base_census_extract__file_issues
      truncated_last_line the file's last line has no newline: the row is cut short
      too_many_fields     a row with more fields than its header
    The cross-row reasons (duplicate_child_row, conflicting_episode_rows, overlapping_episode)
    are in census_duplicate_issues() and the episode issues model.
#}

{#
    One check of census_row_issues: when it fails (condition, SQL over the row and, with a
    code_list, that list joined as code_alias on code_expression) and the issue row it makes:
    column_name and detail are SQL literals, detail_from_row an optional SQL expression over the
    row appended to the detail, offending_value an SQL expression over the row.
#}
{% macro census_check(column_name, offending_value, reason, detail, condition, code_list=none, code_expression=none, code_alias=none, detail_from_row=none) -%}
    {{ return({
        'column_name': column_name, 'offending_value': offending_value, 'reason': reason,
        'detail': detail, 'condition': condition, 'code_list': code_list,
        'code_expression': code_expression, 'code_alias': code_alias,
        'detail_from_row': detail_from_row}) }}
{%- endmacro %}


{#
    Append to `checks` the code list check of one code (code_expression): unknown_code when the
    code is not in code_list or not valid in the file's year, further narrowed by `condition`. The
    list's alias in the join is numbered by the check's position, so each check has its own.
#}
{% macro census_append_code_check(checks, column_name, offending_value, detail, condition, code_list, code_expression) -%}
    {%- set alias = 'code_list_' ~ (checks | length) -%}
    {%- do checks.append(census_check(
        column_name, offending_value, 'unknown_code', detail,
        condition ~ ' and ' ~ census_code_condition('coalesce(folder_year_number, 0)', alias),
        code_list=code_list, code_expression=code_expression, code_alias=alias)) -%}
{%- endmacro %}


{#
    The code list check for one column (a left join of the list as `alias`): the code is not in
    the list, or not valid in the file's year. (A left join, not a correlated subquery: the code
    lists are unique on code, and a hash join is fast on a million rows.)
#}
{% macro census_code_condition(year_expression, alias) -%}
    (
        {{ alias }}.code is null
        or {{ year_expression }} < coalesce({{ alias }}.first_year_code, 0)
        or {{ year_expression }} > coalesce({{ alias }}.last_year_code, 999999)
    )
{%- endmacro %}


{# Is a column present in the file header (header_columns is ',COL1,COL2,'). #}
{% macro census_in_header(name) -%}
    {{ dbt.position("'," ~ name ~ ",'", 'header_columns') }} > 0
{%- endmacro %}


{#
    The checks of one raw table (see census_row_issues), in a fixed order.
    Rows whose last line is truncated get that one reason only; the other value checks apply to
    columns present in the file (a missing column is reported once per row as missing_column).
#}
{% macro census_row_checks(source_name, table_name) -%}
    {%- set declared = census_source_columns(source_name, table_name) -%}
    {%- set checks = [] -%}
    {%- set applies = "(folder_year_number is null or folder_year_number >= {since})" -%}
    {%- set no_column = 'cast(null as ' ~ dbt.type_string() ~ ')' -%}

    {%- do checks.append(census_check(
        no_column, no_column, 'truncated_last_line',
        "'the last line of the file has no newline: the row is cut short'", 'is_truncated_row')) -%}
    {%- do checks.append(census_check(
        no_column, 'extra_field_value', 'too_many_fields', "'the row has more fields than the header'",
        'extra_field_value is not null and not is_truncated_row')) -%}

    {%- for c in declared -%}
        {%- set name_literal = "'" ~ c.name ~ "'" -%}
        {%- set in_year = applies.format(since=c.since) if c.since else 'true' -%}
        {%- set checkable = 'not is_truncated_row and ' ~ census_header_flag(c.column) -%}

        {#- every contract column must be in the header from its since_year_code on, even where its values may be blank -#}
        {%- do checks.append(census_check(
            name_literal, no_column, 'missing_column', "'the file has no " ~ c.name ~ " column'",
            'not is_truncated_row and not ' ~ census_header_flag(c.column) ~ ' and ' ~ in_year)) -%}
        {%- if c.required -%}
            {%- do checks.append(census_check(
                name_literal, c.column, 'missing_value', "'a required value is blank'",
                checkable ~ ' and ' ~ c.column ~ ' is null and ' ~ in_year)) -%}
        {%- endif -%}

        {%- set present = checkable ~ ' and ' ~ c.column ~ ' is not null and ' -%}
        {%- if c.format == 'date' -%}
            {%- do checks.append(census_check(
                name_literal, c.column, 'unparseable_date', "'not an ISO YYYY-MM-DD calendar date'",
                present ~ '(not ' ~ census_matches(c.column, '[0-9]{4}-[0-9]{2}-[0-9]{2}') ~ ' or '
                ~ census_safe_cast(c.column, 'date') ~ ' is null)')) -%}
        {%- elif c.format == 'integer' -%}
            {%- do checks.append(census_check(
                name_literal, c.column, 'invalid_value', "'not a whole number'",
                present ~ 'not ' ~ census_matches(c.column, '[0-9]{1,18}'))) -%}
        {%- elif c.format == 'signed_integer' -%}
            {%- do checks.append(census_check(
                name_literal, c.column, 'invalid_value', "'not a whole number'",
                present ~ 'not ' ~ census_matches(c.column, '-?[0-9]{1,9}'))) -%}
        {%- elif c.format == 'decimal' -%}
            {%- do checks.append(census_check(
                name_literal, c.column, 'invalid_value', "'not a decimal number'",
                present ~ 'not ' ~ census_matches(c.column, '[0-9]{1,9}([.][0-9]{1,6})?'))) -%}
        {%- elif c.format == 'year_code' -%}
            {%- do checks.append(census_check(
                name_literal, c.column, 'invalid_value', "'not a six-digit reporting year'",
                present ~ 'not ' ~ census_matches(c.column, '[0-9]{6}'))) -%}
            {%- do checks.append(census_check(
                name_literal, c.column, 'year_code_mismatch',
                "'the file is in year folder '",
                present ~ census_matches(c.column, '[0-9]{6}') ~ ' and ' ~ c.column
                ~ ' <> coalesce(folder_year_code, \'\')', detail_from_row='folder_year_code')) -%}
        {%- elif c.format == 'code' -%}
            {%- do census_append_code_check(
                checks, name_literal, c.column,
                census_string_literal("not in " ~ c.code_list ~ " for the file's year"),
                checkable ~ ' and ' ~ c.column ~ ' is not null', c.code_list, c.column) -%}
        {%- elif c.format == 'code_set' -%}
            {#- a |-separated list of codes: each part must be in the code list (up to 12 parts, one per code) -#}
            {%- for n in range(1, 13) -%}
                {%- set part = dbt.split_part(c.column, "'|'", n) -%}
                {%- do census_append_code_check(
                    checks, name_literal, c.column, "'listed code " ~ n ~ " is not in " ~ c.code_list ~ "'",
                    present ~ part ~ " <> ''", c.code_list, part) -%}
            {%- endfor -%}
            {%- do checks.append(census_check(
                name_literal, c.column, 'unknown_code', "'more than 12 codes listed'",
                present ~ dbt.split_part(c.column, "'|'", 13) ~ " <> ''")) -%}
        {%- elif c.format == 'local_authority' -%}
            {%- do checks.append(census_check(
                name_literal, c.column, 'unknown_code', "'not a Welsh local authority code'",
                present ~ c.column ~ ' not in (select local_authority_code from ' ~ ref('ref_local_authorities') ~ ')')) -%}
        {%- elif c.format == 'lsoa' -%}
            {%- do checks.append(census_check(
                name_literal, c.column, 'unknown_code',
                "'neither a Welsh LSOA of the lookup nor an English E01 code'",
                present ~ 'not ' ~ census_matches(c.column, 'E01[0-9]{6}') ~ ' and ' ~ c.column
                ~ ' not in (select lsoa_code from ' ~ ref('ref_lsoa_local_authorities') ~ ')')) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(checks) }}
{%- endmacro %}


{#
    Row-level issues of one raw table over `relation`, which must carry the base columns plus
    folder_year_number, is_truncated_row and the in_header__<column> flags (census_rows_in_files): one row per
    row, column and reason. One scan: each row gets a string of flags, one character per check
    ('1' failed), with every code list the checks need joined once under its own alias; only the
    rows with a failed check are then crossed with the numbered checks, which gives each check's
    issue row. (A union of one select per check read the table about 130 times, and on Spark
    planned as many scans.)
#}
{% macro census_row_issues(source_name, table_name, relation) -%}
    {%- set checks = census_row_checks(source_name, table_name) -%}
    {%- set flags = [] -%}
    {%- set by_offending_value = {} -%}
    {%- set by_detail_from_row = {} -%}
    {%- for check in checks -%}
        {%- do flags.append("case when " ~ check.condition ~ " then '1' else '0' end") -%}
        {%- do by_offending_value.setdefault(check.offending_value, []).append(loop.index) -%}
        {%- if check.detail_from_row -%}
            {%- do by_detail_from_row.setdefault(check.detail_from_row, []).append(loop.index) -%}
        {%- endif -%}
    {%- endfor %}
    select
        failed_rows.source_file,
        failed_rows.source_row_number,
        numbered_checks.column_name,
        case
        {%- for expression, numbers in by_offending_value.items() %}
            when numbered_checks.check_number in ({{ numbers | join(', ') }}) then {{ expression }}
        {%- endfor %}
        end as offending_value,
        numbered_checks.reason,
        {%- if by_detail_from_row %}
        case
        {%- for expression, numbers in by_detail_from_row.items() %}
            when numbered_checks.check_number in ({{ numbers | join(', ') }})
                then {{ dbt.concat(['numbered_checks.detail', expression]) }}
        {%- endfor %}
            else numbered_checks.detail
        end as detail
        {%- else %}
        numbered_checks.detail
        {%- endif %}
    from (
        select *
        from (
            select
                checked_rows.*,
                {{ dbt.concat(flags) }} as check_flags
            from {{ relation }} as checked_rows
            {%- for check in checks if check.code_list %}
            left join (
                select
                    code,
                    first_year_code,
                    last_year_code
                from {{ ref(check.code_list) }}
            ) as {{ check.code_alias }}
                on {{ check.code_expression }} = {{ check.code_alias }}.code
            {%- endfor %}
        ) as flagged_rows
        where check_flags <> '{{ '0' * (checks | length) }}'
    ) as failed_rows
    cross join (
        {%- for check in checks %}
        select
            {{ loop.index }} as check_number,
            {{ check.column_name }} as column_name,
            '{{ check.reason }}' as reason,
            {{ check.detail }} as detail
        {%- if not loop.last %}
        union all
        {%- endif %}
        {%- endfor %}
    ) as numbered_checks
    where substr(failed_rows.check_flags, numbered_checks.check_number, 1) = '1'
{%- endmacro %}


{#
    Rows that repeat a key within one file. The first row (in file order) is kept; every later
    copy is quarantined: once with no column when it is an exact copy, else once per column on
    which it disagrees with the first row.
#}
{% macro census_duplicate_issues(source_name, table_name, relation, key_columns, reason, what) -%}
    {%- set declared = census_source_columns(source_name, table_name) -%}
    {%- set compared = [] -%}
    {%- for c in declared if c.column not in key_columns -%}{%- do compared.append(c) -%}{%- endfor -%}
    {%- set key_list = key_columns | join(', ') -%}
    {%- set join_condition = [] -%}
    {%- for k in key_columns -%}{%- do join_condition.append('copies.' ~ k ~ ' = firsts.' ~ k) -%}{%- endfor -%}
    {%- set differs = [] -%}
    {%- for c in compared -%}
        {%- do differs.append('coalesce(copies.' ~ c.column ~ ", '~') <> coalesce(firsts." ~ c.column ~ ", '~')") -%}
    {%- endfor %}
    select
        copies.source_file,
        copies.source_row_number,
        cast(null as {{ dbt.type_string() }}) as column_name,
        cast(null as {{ dbt.type_string() }}) as offending_value,
        '{{ reason }}' as reason,
        {{ dbt.concat(["'exact copy of " ~ what ~ " at row '", census_safe_cast('firsts.source_row_number', dbt.type_string())]) }} as detail
    from {{ relation }} as copies
    inner join {{ relation }} as firsts
        on copies.source_file = firsts.source_file
        and {{ join_condition | join(' and ') }}
        and firsts.copy_number = 1
    where copies.copy_number > 1
        and not ({{ differs | join(' or ') }})
    {%- for c in compared %}

    union all

    select
        copies.source_file,
        copies.source_row_number,
        '{{ c.name }}' as column_name,
        copies.{{ c.column }} as offending_value,
        '{{ reason }}' as reason,
        {{ dbt.concat([
            "'" ~ what ~ " repeated: row '",
            census_safe_cast('firsts.source_row_number', dbt.type_string()),
            "' has '",
            "coalesce(firsts." ~ c.column ~ ", '(blank)')"]) }} as detail
    from {{ relation }} as copies
    inner join {{ relation }} as firsts
        on copies.source_file = firsts.source_file
        and {{ join_condition | join(' and ') }}
        and firsts.copy_number = 1
    where copies.copy_number > 1
        and coalesce(copies.{{ c.column }}, '~') <> coalesce(firsts.{{ c.column }}, '~')
    {%- endfor %}
{%- endmacro %}


{#
    The rows of one raw table's base model (base_<source>__<table>) with what the checks need from
    their file: the folder year as a number, whether the row is the file's truncated last line and
    one in_header__<column> flag per contract column (worked out once per file, not once per row).

    It also makes the model calling it (a row-check model, base_<source>__<table>_issues)
    incremental by raw file on DuckDB (census_partition_incremental): a file's issues come from
    its own rows, its entry in the file inventory and the code lists, so a build checks only the
    new and changed files.
#}
{% macro census_rows_in_files(source_name, table_name) -%}
    {%- set base_model = 'base_' ~ source_name ~ '__' ~ table_name -%}
    {%- set partitioned_inputs = {'base_census_extract__files': 'source_file'} -%}
    {%- do partitioned_inputs.update({base_model: 'source_file'}) -%}
    {%- set files = census_partition_incremental(partitioned_inputs, 'source_file') -%}
    {%- set declared = census_source_columns(source_name, table_name) %}
    select
        rows_read.*,
        files.folder_year_number,
        {%- for c in declared %}
        files.{{ census_header_flag(c.column) }},
        {%- endfor %}
        coalesce(
            files.is_last_line_truncated and rows_read.source_row_number = files.data_row_count, false
        ) as is_truncated_row
    from {{ ref(base_model) }} as rows_read
    left join (
        select
            {%- for c in declared %}
            {{ census_in_header(c.name) }} as {{ census_header_flag(c.column) }},
            {%- endfor %}
            source_file,
            folder_year_number,
            is_last_line_truncated,
            data_row_count
        from {{ ref('base_census_extract__files') }}
    ) as files
        on rows_read.source_file = files.source_file
    where {{ census_partition_filter('rows_read.source_file', files) }}
{%- endmacro %}


{# The column of census_rows_in_files that says whether the row's file has a contract column. #}
{% macro census_header_flag(column) -%}
    in_header__{{ column }}
{%- endmacro %}


{#
    The rows of `relation` whose key is repeated within their file, each with its copy_number in
    file order (1 = the first). Only repeated keys are numbered: a window over every row of a
    large table is the costly part of finding a few duplicates.
#}
{% macro census_repeated_key_rows(relation, key_columns) -%}
    {%- set key_list = key_columns | join(', ') %}
    select
        rows_checked.*,
        row_number() over (
            partition by rows_checked.source_file
            {%- for k in key_columns %}, rows_checked.{{ k }}{% endfor %}
            order by rows_checked.source_row_number
        ) as copy_number
    from {{ relation }} as rows_checked
    inner join (
        select
            source_file,
            {{ key_list }}
        from {{ relation }}
        where
            not is_truncated_row
            {%- for k in key_columns %}
            and {{ k }} is not null
            {%- endfor %}
        group by source_file, {{ key_list }}
        having count(*) > 1
    ) as repeated_keys
        on
            rows_checked.source_file = repeated_keys.source_file
            {%- for k in key_columns %}
            and rows_checked.{{ k }} = repeated_keys.{{ k }}
            {%- endfor %}
    where not rows_checked.is_truncated_row
{%- endmacro %}


{# A checked 0/1(/9) flag as a boolean: 1 true, 0 false, anything else (9 not known, blank) null. #}
{% macro census_flag(column) -%}
    case {{ column }} when '1' then true when '0' then false end
{%- endmacro %}


{#
    The rows of a base model (base_<source>__<table>) that have no issue at all in its row-check
    model (base_<source>__<table>_issues): what a staging model types and keys.

    It also makes the staging model calling it incremental by raw file on DuckDB
    (census_partition_incremental): a file's clean rows come from its own rows and their issues,
    so a build stages only the new and changed files, and the staging model is a table that its
    readers and tests read without recomputing it.
#}
{% macro census_clean_rows(base_model) -%}
    {%- set issues_model = base_model ~ '_issues' -%}
    {%- set files = census_partition_incremental(
        {base_model: 'source_file', issues_model: 'source_file'}, 'source_file') -%}
    select rows_read.*
    from {{ ref(base_model) }} as rows_read
    left join (
        select distinct
            source_file,
            source_row_number
        from {{ ref(issues_model) }}
        where {{ census_partition_filter('source_file', files) }}
    ) as rows_with_issues
        on
            rows_read.source_file = rows_with_issues.source_file
            and rows_read.source_row_number = rows_with_issues.source_row_number
    where
        rows_with_issues.source_file is null
        and {{ census_partition_filter('rows_read.source_file', files) }}
{%- endmacro %}


{# Files that lack a contract column (from the column's since_year_code on): one row per file and column. #}
{% macro census_missing_column_files(files_relation, tables) -%}
    {%- set selects = [] -%}
    {%- for source_name, table_name in tables -%}
        {%- for c in census_source_columns(source_name, table_name) -%}
            {%- set in_year = '(folder_year_number is null or folder_year_number >= ' ~ c.since ~ ')' if c.since else 'true' -%}
            {%- do selects.append(
                "select source_file, 'missing_column' as reason, '" ~ c.name ~ "' as column_name, "
                ~ "'the file has no " ~ c.name ~ " column: every row is quarantined' as detail "
                ~ "from " ~ files_relation ~ " where table_path = '" ~ source_name ~ "/" ~ table_name ~ "' "
                ~ "and size_bytes > 0 and is_valid_utf8 and not (" ~ census_in_header(c.name) ~ ") and " ~ in_year) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if selects -%}
        {{ selects | join('\n    union all\n    ') }}
    {%- else -%}
        select
            source_file,
            'missing_column' as reason,
            cast(null as {{ dbt.type_string() }}) as column_name,
            cast(null as {{ dbt.type_string() }}) as detail
        from {{ files_relation }}
        where 1 = 0
    {%- endif -%}
{%- endmacro %}


{#
    A condition for the tests that want rows (not_empty; every expected year has every raw file):
    false under --empty, dbt's build over no rows (every ref and source read as empty), where such
    a test has nothing to check; true otherwise. So `dbt build --empty` runs every model's SQL,
    its contract and every other test over empty tables, and passes: a check of the project's
    SQL without its data.
#}
{% macro census_rows_expected() -%}
    {{ return('1 = 0' if flags.EMPTY else '1 = 1') }}
{%- endmacro %}
