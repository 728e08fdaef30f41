{#
    Data tests of partition-incremental models check only what changed since they last passed.

    A partition-incremental model (census_partition_incremental) recomputes only the partitions
    whose inputs changed; the rows of its other partitions stay exactly as they were. A data test
    that checks each row on its own (not_null, accepted_values, accepted_range,
    expression_is_true, values_in_code_list) or each key (unique, unique_combination_of_columns),
    and that passed with no failing row, need not read those rows again: on DuckDB it checks the
    rows of the partitions that changed since it last passed, and a key test the keys of those
    rows against the whole table (a duplicate that involves no changed row was there when the test
    passed). Its compiled SQL shows the filter.

    What "changed since it last passed" means: after each run, an on-run-end hook
    (census_record_test_passes) keeps, for every such test that passed with no failing row, the
    ledger rows its model was then built from (census_model_inputs: each input's partitions,
    fingerprints and code version), the fingerprints of the code lists (seeds) the test reads
    and a version of the test itself (census_test_version), in the table census_test_passes of
    the target schema; records of tests no longer in the project go. A test that failed, warned
    or errored loses its record. The next time the test runs, a partition whose ledger row differs
    from the kept one (or appears, or goes) is checked; everything is checked when there is no
    record (first run, last run failed), when the test or a code list it reads changed, when a
    parent read whole or the model's code changed (its ledger row '*' or its code version), on
    other targets, under `dbt build --full-refresh` and with the var census_test_every_row set to
    true. Under --empty nothing is recorded. A row changed outside dbt is not seen: run
    `dbt test --vars '{census_test_every_row: true}'` to check every row.
#}

{#- The data tests that check rows one by one, and those that check keys. -#}
{%- macro census_row_tests() -%}
    {{ return(['not_null', 'accepted_values', 'accepted_range', 'expression_is_true', 'values_in_code_list']) }}
{%- endmacro -%}

{%- macro census_key_tests() -%}
    {{ return(['unique', 'unique_combination_of_columns']) }}
{%- endmacro -%}

{#- The generic test a node runs (a node of the graph or of the run's results), else none. -#}
{%- macro census_test_name(node) -%}
    {{ return(node.test_metadata.name if node.resource_type == 'test' and node.test_metadata else none) }}
{%- endmacro -%}


{#-
    The partition column of the model a test checks, when the test may check only changed
    partitions: a row or key test of a partition-incremental model, on DuckDB, whose other
    parents are seeds, and whose arguments and filter judge a row by itself (no subquery, window,
    clock or var: those can change the verdict on rows that did not change). Else none.
-#}
{%- macro census_test_partition_column(test) -%}
    {%- if target.type != 'duckdb' or test.resource_type != 'test' or not test.attached_node
        or census_test_name(test) not in census_row_tests() + census_key_tests() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set arguments = (tojson(test.test_metadata.kwargs) ~ tojson(test.config.get('where'))) | lower -%}
    {%- if modules.re.search('select|over\\s*\\(|current_|now\\s*\\(|var\\s*\\(', arguments) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set tested = graph.nodes.get(test.attached_node) -%}
    {%- if not tested or tested.config.materialized != 'incremental' -%}{{ return(none) }}{%- endif -%}
    {%- for parent_id in test.depends_on.nodes
        if parent_id != test.attached_node and not parent_id.startswith('seed.') -%}
        {{ return(none) }}
    {%- endfor -%}
    {{ return(tested.config.meta.get('census_incremental_partition')) }}
{%- endmacro -%}


{#-
    The version of a test: its arguments and filter, every project macro (the project's generic
    tests and its unique test), the key salt, the sources' rules and dbt's version. dbt's own
    not_null and accepted_values SQL comes with the pinned dbt-adapters: after an upgrade,
    `dbt build --full-refresh` (which the README asks for) checks every row.
-#}
{%- macro census_test_version(test) -%}
    {{ return(local_md5(census_partition_code_version(test.checksum.checksum or '')
        ~ tojson(test.test_metadata.kwargs, sort_keys=true) ~ tojson(test.config.get('where')))) }}
{%- endmacro -%}


{#-
    A select of the test's current state, in the columns of census_test_passes: its model's
    built ledger rows, and a fingerprint of each seed it reads ('seed:' and its name).
-#}
{%- macro census_test_state(test) -%}
    {%- set tested = graph.nodes.get(test.attached_node) -%}
    select input_name, partition_value, row_count, row_hash, code_version
    from {{ census_ledger_relation('census_model_inputs') }}
    where model_name = '{{ tested.alias }}' and state = 'built'
    {%- for parent_id in test.depends_on.nodes | unique if parent_id.startswith('seed.') %}
        {%- set seed = graph.nodes.get(parent_id) %}
    union all
    select input_name, partition_value, row_count, row_hash, '' as code_version
    from (
        {{ census_partition_fingerprints(
            api.Relation.create(database=seed.database, schema=seed.schema, identifier=seed.alias),
            'seed:' ~ seed.name, none) }}
    ) as seed_fingerprint
    {%- endfor %}
{%- endmacro -%}


{#-
    In a data test: a boolean SQL expression selecting the rows of the tested model's partitions
    that changed since the test last passed, or none to check every row (see above).
-#}
{%- macro census_test_partition_filter() -%}
    {%- if not execute or flags.WHICH not in ('test', 'build') or flags.EMPTY or flags.FULL_REFRESH
        or var('census_test_every_row', false) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set column = census_test_partition_column(model) -%}
    {%- if not column -%}{{ return(none) }}{%- endif -%}
    {%- if not census_ledger_exists('census_test_passes') -%}{{ return(none) }}{%- endif -%}
    {%- set passes = census_ledger_relation('census_test_passes') -%}
    {%- set changed -%}
        with

        last_passed as (
            select input_name, partition_value, row_count, row_hash, code_version
            from {{ passes }}
            where test_name = '{{ model.unique_id }}' and test_version = '{{ census_test_version(model) }}'
        ),

        now_state as (
            {{ census_test_state(model) }}
        ),

        differences as (
            {{ census_ledger_differences('now_state', 'last_passed') }}
        )

        select 'passed' as kind, cast(count(*) as varchar) as partition_value from last_passed
        union all
        select distinct 'changed' as kind, partition_value from differences
    {%- endset -%}
    {%- set rows = run_query(changed).rows -%}
    {%- set partitions = [] -%}
    {%- for row in rows -%}
        {%- if row[0] == 'passed' and row[1] == '0' -%}{{ return(none) }}{%- endif -%}
        {%- if row[0] == 'changed' -%}{%- do partitions.append(row[1] | string) -%}{%- endif -%}
    {%- endfor -%}
    {%- if '*' in partitions -%}{{ return(none) }}{%- endif -%}
    {{ return(census_partition_filter(column, partitions | sort)) }}
{%- endmacro -%}


{#- A row test's model, with the test's `where` and the changed partitions' filter. -#}
{% macro default__get_where_subquery(relation) -%}
    {%- set conditions = [config.get('where')] if config.get('where') else [] -%}
    {%- if census_test_name(model) in census_row_tests() -%}
        {%- set partition_filter = census_test_partition_filter() -%}
        {%- if partition_filter -%}{%- do conditions.append(partition_filter) -%}{%- endif -%}
    {%- endif -%}
    {%- if conditions -%}
        {{ return('(select * from ' ~ relation ~ ' where (' ~ conditions | join(') and (') ~ ')) dbt_subquery') }}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}


{#-
    In a key test: none to check every key (see above), else a select of the distinct keys (the
    columns, a list) of the rows of the changed partitions.
-#}
{%- macro census_test_changed_keys(relation, columns) -%}
    {%- set partition_filter = census_test_partition_filter() -%}
    {%- if partition_filter is none -%}{{ return(none) }}{%- endif -%}
    {{ return('select distinct ' ~ columns | join(', ') ~ ' from ' ~ relation ~ ' where ' ~ partition_filter) }}
{%- endmacro -%}


{#- dbt's unique test, checking only the keys of changed partitions when it may (see above). -#}
{% macro default__test_unique(model, column_name) %}
{%- set changed_keys = census_test_changed_keys(model, [column_name]) %}
select
    {{ column_name }} as unique_field,
    count(*) as n_records
from {{ model }}
where
    {{ column_name }} is not null
    {%- if changed_keys %}
    and {{ column_name }} in ({{ changed_keys }})
    {%- endif %}
group by {{ column_name }}
having count(*) > 1
{% endmacro %}


{#-
    On-run-end: for each row or key test of a partition-incremental model that ran, its record in
    census_test_passes: the state it passed on (census_test_state), or none when it did not pass
    with no failing row. A test skipped keeps its record.
-#}
{%- macro census_record_test_passes(results) -%}
    {%- set statements = [] -%}
    {%- if execute and target.type == 'duckdb' and not flags.EMPTY -%}
        {%- set passes = census_ledger_relation('census_test_passes') -%}
        {%- set tests = graph.nodes.values() | selectattr('resource_type', 'equalto', 'test')
                        | map(attribute='unique_id') | list -%}
        {%- do statements.append("delete from " ~ passes ~ " where test_name not in ('"
                                 ~ tests | join("', '") ~ "')") -%}
        {%- for result in results
            if result.node.resource_type == 'test' and result.status != 'skipped'
            and census_test_partition_column(result.node) -%}
            {%- do statements.append("delete from " ~ passes ~ " where test_name = '" ~ result.node.unique_id ~ "'") -%}
            {%- if result.status == 'pass' and (result.failures or 0) == 0 -%}
                {%- do statements.append(
                    "insert into " ~ passes ~ " select '" ~ result.node.unique_id ~ "', '"
                    ~ census_test_version(result.node) ~ "', input_name, partition_value, row_count, row_hash, "
                    ~ "code_version, '" ~ invocation_id ~ "' from (" ~ census_test_state(result.node) ~ ") as test_state") -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {#- nothing to record: empty, and dbt runs no statement -#}
    {{ return(statements | join(';\n')) }}
{%- endmacro -%}
