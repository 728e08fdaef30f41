{#
    Partition-incremental models: incremental by reporting year, or by raw file.

    A model whose rows of one partition (a reporting year, a raw file) depend only on its inputs'
    rows of that same partition (joins on it, groups within it) need not be rebuilt whole when a
    new return arrives. On DuckDB such a model is incremental: a build recomputes only the
    partitions whose input rows changed, deletes the model's rows of those partitions and inserts
    the new ones. A correction to an earlier year, in any input, changes that year's input rows,
    so that year is recomputed too. On other targets (Spark here: no table format for deletes)
    the model is a plain table, and the same SQL selects every partition.

    How a build knows what changed: it takes a fingerprint of each partitioned input per
    partition, and of each other parent of the model whole (row count and the sum of a hash of
    every row, census_partition_fingerprints), and compares them with the fingerprints the model
    was last built from, kept in the table census_model_inputs of the target schema. A partition
    whose fingerprint differs, appears or disappears is recomputed. Everything is recomputed on
    the model's first build, on --full-refresh, when a parent read whole (a dimension, a code
    list) changed, and when the model's own SQL or the key salt changed since its last build.

    A model uses it like this (the partition column must have the same name in the model and in
    its partitioned inputs):

        {%- set years = census_partition_incremental({'stg_crcs__children': 'year_code'}) -%}
        ...
        select * from {{ ref('stg_crcs__children') }}
        where {{ census_partition_filter('year_code', years) }}

    Every partitioned input must be read with the filter; any other parent is read whole.
    The partitions each build recomputed are kept in census_model_refreshes, with dbt's
    invocation id ('*': every partition; '-': none).
#}

{%- macro census_partition_incremental(partitioned_inputs, partition_column='year_code') -%}
    {%- set incremental = target.type == 'duckdb' -%}
    {{- config(
        materialized=('incremental' if incremental else 'table'),
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=(["{{ census_partition_delete('" ~ partition_column ~ "') }}"] if incremental else []),
        post_hook=(["{{ census_partition_record() }}"] if incremental else []),
        meta={'census_incremental_partition': partition_column},
    ) -}}
    {%- for name in partitioned_inputs -%}{%- do ref(name) -%}{%- endfor -%}
    {{- return(census_partition_plan(partitioned_inputs) if incremental else none) -}}
{%- endmacro -%}


{#-
    The ledger tables, in the target schema, created before any model runs (on-run-start in
    dbt_project.yml: models creating them side by side would conflict).
-#}
{%- macro census_create_partition_ledger() -%}
    {%- if target.type == 'duckdb' -%}
        create schema if not exists {{ census_model_inputs_relation().without_identifier() }};
        create table if not exists {{ census_model_inputs_relation() }} (
            model_name varchar, state varchar, input_name varchar, partition_value varchar,
            row_count bigint, row_hash varchar, code_version varchar, invocation_id varchar
        );
        create table if not exists {{ census_model_refreshes_relation() }} (
            model_name varchar, partition_value varchar, invocation_id varchar
        )
    {%- else -%}
        select 1 as no_partition_ledger
    {%- endif -%}
{%- endmacro -%}


{%- macro census_model_inputs_relation() -%}
    {{ return(api.Relation.create(database=target.database, schema=target.schema,
                                  identifier='census_model_inputs', type='table')) }}
{%- endmacro -%}

{%- macro census_model_refreshes_relation() -%}
    {{ return(api.Relation.create(database=target.database, schema=target.schema,
                                  identifier='census_model_refreshes', type='table')) }}
{%- endmacro -%}


{#-
    The partitions to select: none for every partition, else a list of partition values
    (strings; maybe empty). Only a run or build plans (and writes its plan, and the inputs'
    fingerprints as pending); a compile, docs or show selects everything and writes nothing.
-#}
{%- macro census_partition_plan(partitioned_inputs) -%}
    {%- if not execute or flags.WHICH not in ('run', 'build') -%}{{ return(none) }}{%- endif -%}
    {%- set ledger = census_model_inputs_relation() -%}
    {%- set refreshes = census_model_refreshes_relation() -%}
    {%- set code_version = local_md5(model.checksum.checksum ~ '|' ~ census_key_salt()) -%}
    {%- set fingerprints = [] -%}
    {%- for name, column in partitioned_inputs.items() -%}
        {%- do fingerprints.append(census_partition_fingerprints(ref(name), name, column)) -%}
    {%- endfor -%}
    {#- every other parent, whole -#}
    {%- for parent_id in model.depends_on.nodes | unique -%}
        {%- set parent = graph.nodes.get(parent_id) or graph.sources.get(parent_id) -%}
        {%- if parent and parent.resource_type in ('model', 'seed', 'snapshot')
            and parent.name not in partitioned_inputs -%}
            {%- do fingerprints.append(census_partition_fingerprints(ref(parent.name), parent.name, none)) -%}
        {%- elif parent and parent.resource_type == 'source' -%}
            {%- do fingerprints.append(census_partition_fingerprints(
                source(parent.source_name, parent.name), parent.source_name ~ '.' ~ parent.name, none)) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- call statement('census_partition_plan_pending') -%}
        delete from {{ ledger }} where model_name = '{{ this.identifier }}' and state = 'pending';
        insert into {{ ledger }}
        select
            '{{ this.identifier }}', 'pending', input_name, partition_value, row_count, row_hash,
            '{{ code_version }}', '{{ invocation_id }}'
        from (
            {{ fingerprints | join('\n            union all\n            ') }}
        ) as fingerprints
    {%- endcall -%}
    {%- set partitions = ['*'] -%}
    {%- if is_incremental() -%}
        {%- set changed -%}
            with

            now_read as (
                select * from {{ ledger }}
                where model_name = '{{ this.identifier }}' and state = 'pending'
            ),

            last_read as (
                select * from {{ ledger }}
                where model_name = '{{ this.identifier }}' and state = 'built'
            ),

            differences as (
                select coalesce(now_read.partition_value, last_read.partition_value) as partition_value
                from now_read
                full outer join last_read
                    on
                        now_read.input_name = last_read.input_name
                        and now_read.partition_value = last_read.partition_value
                where
                    now_read.row_hash is distinct from last_read.row_hash
                    or now_read.row_count is distinct from last_read.row_count
            )

            select distinct partition_value from differences
            union all
            -- never built with this code and salt (or never recorded): everything
            select '*' as partition_value
            where not exists (select 1 from last_read where code_version = '{{ code_version }}')
        {%- endset -%}
        {%- set values = run_query(changed).columns[0].values() | map('string') | list -%}
        {%- if '*' not in values -%}{%- set partitions = values | sort -%}{%- endif -%}
    {%- endif -%}
    {%- call statement('census_partition_plan_refreshes') -%}
        delete from {{ refreshes }} where model_name = '{{ this.identifier }}';
        {%- for value in (partitions or ['-']) %}
        insert into {{ refreshes }}
        values ('{{ this.identifier }}', '{{ value | replace("'", "''") }}', '{{ invocation_id }}');
        {%- endfor %}
    {%- endcall -%}
    {{- return(none if partitions == ['*'] else partitions) -}}
{%- endmacro -%}


{#- A boolean SQL expression: the rows of the partitions to select (from census_partition_plan). -#}
{%- macro census_partition_filter(column, partitions) -%}
    {%- if partitions is none -%}
        1 = 1
    {%- else -%}
        {{ census_partition_in(column, partitions) }}
    {%- endif -%}
{%- endmacro -%}

{%- macro census_partition_in(column, values) -%}
    {%- set literals = [] -%}
    {%- for value in values -%}
        {%- do literals.append(value if value.isdigit() else "'" ~ value | replace("'", "''") ~ "'") -%}
    {%- endfor -%}
    {%- if literals -%}{{ column }} in ({{ literals | join(', ') }}){%- else -%}1 = 0{%- endif -%}
{%- endmacro -%}


{#- Pre-hook: the model's rows of the partitions about to be selected again go. -#}
{%- macro census_partition_delete(partition_column) -%}
    {%- if is_incremental() -%}
        {%- set refreshes = census_model_refreshes_relation() -%}
        delete from {{ this }}
        where
            exists (
                select 1 from {{ refreshes }}
                where model_name = '{{ this.identifier }}' and partition_value = '*'
            )
            or cast({{ partition_column }} as {{ dbt.type_string() }}) in (
                select partition_value from {{ refreshes }}
                where model_name = '{{ this.identifier }}'
            )
    {%- else -%}
        select 1 as nothing_to_delete
    {%- endif -%}
{%- endmacro -%}


{#- Post-hook: the model is now built from the pending fingerprints. -#}
{%- macro census_partition_record() -%}
    {%- set ledger = census_model_inputs_relation() -%}
    delete from {{ ledger }} where model_name = '{{ this.identifier }}' and state = 'built';
    update {{ ledger }} set state = 'built'
    where model_name = '{{ this.identifier }}' and state = 'pending'
{%- endmacro -%}


{#-
    A select of (input_name, partition_value, row_count, row_hash): one row per partition of the
    relation (partition_value '*' for an input read whole), its row count and a hash of all its
    rows. Only the adapters with partition-incremental models need it.
-#}
{%- macro census_partition_fingerprints(relation, input_name, partition_column) -%}
    {{ return(adapter.dispatch('census_partition_fingerprints', 'welsh_care_census')(relation, input_name, partition_column)) }}
{%- endmacro -%}

{%- macro default__census_partition_fingerprints(relation, input_name, partition_column) -%}
    {{ exceptions.raise_compiler_error('census_partition_fingerprints: not written for ' ~ target.type) }}
{%- endmacro -%}

{%- macro duckdb__census_partition_fingerprints(relation, input_name, partition_column) -%}
    select
        '{{ input_name }}' as input_name,
        {% if partition_column -%}
        coalesce(cast(census_fingerprinted_row.{{ partition_column }} as varchar), 'null')
        {%- else -%}
        '*'
        {%- endif %} as partition_value,
        count(*) as row_count,
        -- hash() of the table alias hashes the whole row (a struct of every column)
        cast(sum(hash(census_fingerprinted_row)) as varchar) as row_hash
    from {{ relation }} as census_fingerprinted_row
    group by 1, 2
{%- endmacro -%}


{#-
    Tests of an incremental build look at the rows it recomputed.

    In a `dbt build` that recomputed only some partitions of a partition-incremental model, its
    generic tests whose verdict on a table is the union of their verdicts on its partitions (row
    checks, relationships, keys: a partition-incremental model's key must include its partition,
    as the models' keys do; disclosure control, whose groups are within a year) read only those
    partitions: the others passed the same tests when they were built, and their rows have not
    changed. Tests of a table as a whole (not_empty, is_empty) and singular tests read
    everything. Set the var census_test_all_partitions (dbt build --vars
    '{census_test_all_partitions: true}') to test everything; a plain `dbt test` and a full build
    always do.

    (One macro on purpose: dbt's get_where_subquery dispatches here from the dbt namespace, and
    some callers of it, sqlfluff's dbt templater among them, do not see this project's other
    macros from there.)
-#}
{%- macro duckdb__get_where_subquery(relation) -%}
    {%- set partition_local_tests = [
        'not_null', 'unique', 'accepted_values', 'relationships', 'unique_combination_of_columns',
        'values_in_code_list', 'accepted_range', 'expression_is_true', 'disclosure_controlled',
    ] -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}{%- do conditions.append('(' ~ where ~ ')') -%}{%- endif -%}
    {%- set partition_column = none -%}
    {%- if execute and flags.WHICH == 'build' and not var('census_test_all_partitions', false) -%}
        {%- set test_name = (model.get('test_metadata') or {}).get('name') -%}
        {%- set tested = (graph.get('nodes') or {}).get(model.get('attached_node') or '') -%}
        {%- if test_name in partition_local_tests and tested and relation.identifier == tested.alias -%}
            {%- set partition_column = ((tested.config or {}).get('meta') or {}).get('census_incremental_partition') -%}
        {%- endif -%}
    {%- endif -%}
    {%- if partition_column -%}
        {%- set known -%}
            select count(*) from information_schema.tables
            where table_schema = '{{ target.schema }}' and table_name = 'census_model_refreshes'
        {%- endset -%}
        {%- set values = [] -%}
        {%- if run_query(known).columns[0].values()[0] > 0 -%}
            {%- set refreshed -%}
                select partition_value from {{ target.schema }}.census_model_refreshes
                where model_name = '{{ tested.alias }}' and invocation_id = '{{ invocation_id }}'
            {%- endset -%}
            {%- set values = run_query(refreshed).columns[0].values() | map('string') | list -%}
        {%- endif -%}
        {#- recomputed in this invocation, and not whole: test the recomputed partitions -#}
        {%- if values and '*' not in values -%}
            {%- set literals = [] -%}
            {%- for value in values if value != '-' -%}
                {%- do literals.append(value if value.isdigit() else "'" ~ value | replace("'", "''") ~ "'") -%}
            {%- endfor -%}
            {%- do conditions.append(partition_column ~ ' in (' ~ literals | join(', ') ~ ')'
                                     if literals else '1 = 0') -%}
        {%- endif -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ conditions | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {{- return(filtered) -}}
    {%- else -%}
        {{- return(relation) -}}
    {%- endif -%}
{%- endmacro -%}
