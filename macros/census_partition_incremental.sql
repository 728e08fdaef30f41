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
    whose fingerprint differs, appears or disappears is recomputed. So is one whose rows in the
    model no longer number what the model's last build left (counted per partition after each
    build, not hashed: a scan of one column): rows deleted or added outside the build, or the
    table built by other code into other row counts. A change outside the build that keeps the
    counts is not seen: --full-refresh recomputes everything. Everything is recomputed on
    the model's first build, on --full-refresh, when a parent read whole (a dimension, a code
    list) changed, and when the code it depends on changed since its last build (its own SQL,
    this project's macros, the sources' column rules, the key salt, dbt's version:
    census_partition_code_version). Under --empty these models change nothing, except that one
    made again (--empty --full-refresh, no rows) forgets what it was built from.

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
        post_hook=(["{{ census_partition_record('" ~ partition_column ~ "') }}"] if incremental else []),
        meta={'census_incremental_partition': partition_column},
    ) -}}
    {%- for name in partitioned_inputs -%}{%- do ref(name) -%}{%- endfor -%}
    {{- return(census_partition_plan(partitioned_inputs, partition_column) if incremental else none) -}}
{%- endmacro -%}


{#-
    The ledger tables, in the target schema, created before any model runs (on-run-start in
    dbt_project.yml: models creating them side by side would conflict). Empty on other targets:
    dbt runs no statement for a hook that renders empty.
-#}
{%- macro census_create_partition_ledger() -%}
    {%- if target.type == 'duckdb' -%}
        create schema if not exists {{ census_ledger_relation('census_model_inputs').without_identifier() }};
        create table if not exists {{ census_ledger_relation('census_model_inputs') }} (
            model_name varchar, state varchar, input_name varchar, partition_value varchar,
            row_count bigint, row_hash varchar, code_version varchar, invocation_id varchar
        );
        create table if not exists {{ census_ledger_relation('census_model_refreshes') }} (
            model_name varchar, partition_value varchar, invocation_id varchar
        );
        {#- what each data test last passed on (macros/census_partition_tests.sql) #}
        create table if not exists {{ census_ledger_relation('census_test_passes') }} (
            test_name varchar, test_version varchar, input_name varchar, partition_value varchar,
            row_count bigint, row_hash varchar, code_version varchar, invocation_id varchar
        )
    {%- endif -%}
{%- endmacro -%}


{#- A ledger table: census_model_inputs, census_model_refreshes or census_test_passes. -#}
{%- macro census_ledger_relation(identifier) -%}
    {{ return(api.Relation.create(database=target.database, schema=target.schema,
                                  identifier=identifier, type='table')) }}
{%- endmacro -%}


{#- Whether a ledger table exists (a warehouse built before the ledger has none). -#}
{%- macro census_ledger_exists(identifier) -%}
    {{ return(load_relation(census_ledger_relation(identifier)) is not none) }}
{%- endmacro -%}


{#-
    The partitions to select: none for every partition, else a list of partition values
    (strings; maybe empty). Only a run or build plans (and writes its plan, and the inputs'
    fingerprints as pending); a compile, docs or show selects everything and writes nothing.
-#}
{%- macro census_partition_plan(partitioned_inputs, partition_column) -%}
    {%- set ledger = census_ledger_relation('census_model_inputs') -%}
    {#- --empty reads every input as empty: plan nothing, and change nothing (see the hooks) ... -#}
    {%- if execute and flags.WHICH in ('run', 'build') and flags.EMPTY and not is_incremental() -%}
        {#- ... but a table made again (--full-refresh) holds nothing built from them -#}
        {%- call statement('census_partition_forget') -%}
            delete from {{ ledger }} where model_name = '{{ this.identifier }}'
        {%- endcall -%}
    {%- endif -%}
    {%- if not execute or flags.WHICH not in ('run', 'build') or flags.EMPTY -%}{{ return(none) }}{%- endif -%}
    {%- set refreshes = census_ledger_relation('census_model_refreshes') -%}
    {%- set code_version = census_partition_code_version() -%}
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
    {#- and the model's own rows per partition, as its last build left them (census_partition_record) -#}
    {%- if is_incremental() -%}
        {%- do fingerprints.append(census_partition_row_counts(partition_column)) -%}
    {%- endif -%}
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
                {{ census_ledger_differences('now_read', 'last_read') }}
            )

            select distinct partition_value from differences
        {%- endset -%}
        {#- never built with this code and salt (or never recorded): everything -#}
        {%- if census_built_with_current_code() -%}
            {%- set values = run_query(changed).columns[0].values() | map('string') | list -%}
            {#- '*': a parent read whole changed -#}
            {%- if '*' not in values -%}{%- set partitions = values | sort -%}{%- endif -%}
        {%- endif -%}
    {%- endif -%}
    {%- call statement('census_partition_plan_refreshes') -%}
        delete from {{ refreshes }} where model_name = '{{ this.identifier }}';
        {%- for value in (partitions or ['-']) %}
        insert into {{ refreshes }}
        values ('{{ this.identifier }}', {{ census_string_literal(value) }}, '{{ invocation_id }}');
        {%- endfor %}
    {%- endcall -%}
    {{- return(none if partitions == ['*'] else partitions) -}}
{%- endmacro -%}


{#-
    A select of the partition values whose ledger rows differ between two relations (CTEs) of
    the ledger's columns: a fingerprint or code version that differs, appears or goes.
-#}
{%- macro census_ledger_differences(now_rows, last_rows) -%}
    select coalesce({{ now_rows }}.partition_value, {{ last_rows }}.partition_value) as partition_value
    from {{ now_rows }}
    full outer join {{ last_rows }}
        on
            {{ now_rows }}.input_name = {{ last_rows }}.input_name
            and {{ now_rows }}.partition_value = {{ last_rows }}.partition_value
    where
        {{ now_rows }}.row_hash is distinct from {{ last_rows }}.row_hash
        or {{ now_rows }}.row_count is distinct from {{ last_rows }}.row_count
        or {{ now_rows }}.code_version is distinct from {{ last_rows }}.code_version
{%- endmacro -%}


{#-
    A boolean SQL expression: the rows of the partitions to select (from census_partition_plan;
    none: every row). Numbers stay numbers (year codes: the filter reaches the scan); 'null' is
    the null partition.
-#}
{%- macro census_partition_filter(column, partitions) -%}
    {%- if partitions is none -%}{{ return('1 = 1') }}{%- endif -%}
    {%- set literals = [] -%}
    {%- for value in partitions if value != 'null' -%}
        {%- do literals.append(value if modules.re.fullmatch('[0-9]{1,18}', value)
                               else census_string_literal(value)) -%}
    {%- endfor -%}
    {%- set conditions = [] -%}
    {%- if literals -%}{%- do conditions.append(column ~ ' in (' ~ literals | join(', ') ~ ')') -%}{%- endif -%}
    {%- if 'null' in partitions -%}{%- do conditions.append(column ~ ' is null') -%}{%- endif -%}
    {{- return('(' ~ conditions | join(' or ') ~ ')' if conditions else '1 = 0') -}}
{%- endmacro -%}


{#-
    What a model's output depends on besides its inputs' rows: its own SQL, every macro of this
    project (the row checks and published cells are macros), the sources' column rules (formats,
    code lists, the year a column starts, reader options), the key salt and dbt's version. Any
    change to them and the model is recomputed whole. Not in it: where the raw folder is (a build
    by `carecensus run`, which passes its absolute path, and one by plain `dbt build` are the
    same code), and vars (today only int_census_reporting_years, a table, reads any). The checksum
    of another node's SQL may be given (census_test_version: a test's, after the run).
-#}
{%- macro census_partition_code_version(checksum=none) -%}
    {%- set parts = [model.checksum.checksum if checksum is none else checksum, census_key_salt(), dbt_version] -%}
    {%- for name, value in context.items() | sort(attribute='0') -%}
        {%- if value.macro is defined and value.macro.package_name == project_name -%}
            {%- do parts.append(name ~ ':' ~ value.macro.macro_sql) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for source in graph.sources.values() | sort(attribute='unique_id') -%}
        {%- do parts.append(source.unique_id ~ ':' ~ tojson(source.columns)) -%}
        {#- not where the raw folder is (raw_dir, and raw_dir_in_sql, the same as SQL puts it):
            the files' fingerprints say what they hold -#}
        {%- for meta in (source.meta, source.source_meta) -%}
            {%- for key, value in (meta or {}).items() | sort(attribute='0')
                if key not in ('raw_dir', 'raw_dir_in_sql') -%}
                {%- do parts.append(key ~ '=' ~ tojson(value)) -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endfor -%}
    {{- return(local_md5(parts | join('|'))) -}}
{%- endmacro -%}


{#- Pre-hook: the model's rows of the partitions about to be selected again go (renders empty,
    so dbt skips it, when the model is built whole). -#}
{%- macro census_partition_delete(partition_column) -%}
    {%- if is_incremental() -%}
        {%- set refreshes = census_ledger_relation('census_model_refreshes') -%}
        {#- only this build's plan: without one (--empty) nothing is deleted -#}
        delete from {{ this }}
        where
            exists (
                select 1 from {{ refreshes }}
                where
                    model_name = '{{ this.identifier }}' and invocation_id = '{{ invocation_id }}'
                    and partition_value = '*'
            )
            or coalesce(cast({{ partition_column }} as {{ dbt.type_string() }}), 'null') in (
                select partition_value from {{ refreshes }}
                where model_name = '{{ this.identifier }}' and invocation_id = '{{ invocation_id }}'
            )
    {%- endif -%}
{%- endmacro -%}


{#-
    Post-hook: the model is now built from the pending fingerprints, and holds the rows counted
    now per partition (input 'census_model_rows'). A partition whose rows were changed in number
    outside this build (deleted by hand, or the table built by other code, such as an older
    commit where the model is a plain table, into other counts) is recomputed by the next build.
-#}
{%- macro census_partition_record(partition_column) -%}
    {%- set ledger = census_ledger_relation('census_model_inputs') -%}
    {#- only when this build planned (not under --empty): else the last build's record stays -#}
    delete from {{ ledger }}
    where
        model_name = '{{ this.identifier }}' and state = 'built'
        and exists (
            select 1 from {{ ledger }}
            where
                model_name = '{{ this.identifier }}' and state = 'pending'
                and invocation_id = '{{ invocation_id }}'
        );
    update {{ ledger }} set state = 'built'
    where
        model_name = '{{ this.identifier }}' and state = 'pending'
        and invocation_id = '{{ invocation_id }}';
    {#- whether this build planned: its plan is in census_model_refreshes even when no input has a row -#}
    {%- set built_now -%}
        exists (
            select 1 from {{ census_ledger_relation('census_model_refreshes') }}
            where model_name = '{{ this.identifier }}' and invocation_id = '{{ invocation_id }}'
        )
    {%- endset %}
    delete from {{ ledger }}
    where
        model_name = '{{ this.identifier }}' and state = 'built' and input_name = 'census_model_rows'
        and {{ built_now }};
    insert into {{ ledger }}
    select
        '{{ this.identifier }}', 'built', input_name, partition_value, row_count, row_hash,
        (
            select max(code_version) from {{ ledger }}
            where model_name = '{{ this.identifier }}' and invocation_id = '{{ invocation_id }}'
        ),
        '{{ invocation_id }}'
    from ({{ census_partition_row_counts(partition_column) }}) as model_rows
    where {{ built_now }}
{%- endmacro -%}


{#- The model's own rows per partition, counted, not hashed (a scan of one column). -#}
{%- macro census_partition_row_counts(partition_column) -%}
    {{ return(census_partition_fingerprints(this, 'census_model_rows', partition_column, hash_rows=false)) }}
{%- endmacro -%}


{#-
    A select of (input_name, partition_value, row_count, row_hash): one row per partition of the
    relation (partition_value '*' for an input read whole), its row count and a hash of all its
    rows ('' with hash_rows=false). Only the adapters with partition-incremental models need it.
-#}
{%- macro census_partition_fingerprints(relation, input_name, partition_column, hash_rows=true) -%}
    {{ return(adapter.dispatch('census_partition_fingerprints', 'welsh_care_census')(
        relation, input_name, partition_column, hash_rows)) }}
{%- endmacro -%}

{%- macro default__census_partition_fingerprints(relation, input_name, partition_column, hash_rows=true) -%}
    {{ exceptions.raise_compiler_error('census_partition_fingerprints: not written for ' ~ target.type) }}
{%- endmacro -%}

{%- macro duckdb__census_partition_fingerprints(relation, input_name, partition_column, hash_rows=true) -%}
    select
        '{{ input_name }}' as input_name,
        {% if partition_column -%}
        coalesce(cast(census_fingerprinted_row.{{ partition_column }} as varchar), 'null')
        {%- else -%}
        '*'
        {%- endif %} as partition_value,
        count(*) as row_count,
        {% if hash_rows -%}
        -- hash() of the table alias hashes the whole row (a struct of every column)
        cast(sum(hash(census_fingerprinted_row)) as varchar)
        {%- else -%}
        ''
        {%- endif %} as row_hash
    from {{ relation }} as census_fingerprinted_row
    group by 1, 2
{%- endmacro -%}


{#
    Post-hook of the models that keep rows of their last build without fingerprinting their
    inputs (the file inventory, the base models): the code the model is now built with, in the
    partition ledger (census_create_partition_ledger). Not under --empty, which reads no file
    (the hook then renders empty, and dbt skips it).
#}
{% macro census_record_code_version() -%}
    {%- if execute and target.type == 'duckdb' and not flags.EMPTY -%}
        {%- set ledger = census_ledger_relation('census_model_inputs') -%}
        delete from {{ ledger }} where model_name = '{{ this.identifier }}' and input_name = 'code';
        insert into {{ ledger }}
        values (
            '{{ this.identifier }}', 'built', 'code', '*', 0, '', '{{ census_partition_code_version() }}',
            '{{ invocation_id }}'
        )
    {%- endif -%}
{%- endmacro %}


{#-
    Whether this model was last built by the code of this build (census_partition_code_version:
    its SQL, every project macro, the sources' column rules, the key salt, dbt's version), as
    recorded by census_record_code_version (the file inventory, the base models) or
    census_partition_record (the partition-incremental models: every input row they record
    carries it). A model that keeps rows of earlier builds reads everything again when not.
-#}
{% macro census_built_with_current_code() -%}
    {%- set ledger = census_ledger_relation('census_model_inputs') -%}
    {#- a warehouse built before the ledger existed (only a compile gets here without one) -#}
    {%- if not census_ledger_exists('census_model_inputs') -%}{{ return(false) }}{%- endif -%}
    {%- set same_code -%}
        select count(*) from {{ ledger }}
        where
            model_name = '{{ this.identifier }}' and state = 'built'
            and code_version = '{{ census_partition_code_version() }}'
    {%- endset -%}
    {{ return(run_query(same_code).columns[0].values()[0] > 0) }}
{%- endmacro %}
