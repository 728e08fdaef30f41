{#-
    No two rows share the same values of the given columns (dbt_utils' test, written here; nulls
    count as equal). On a partition-incremental model it may check only the keys of the
    partitions that changed since it last passed (macros/census_partition_tests.sql).
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
    {%- set columns = combination_of_columns | join(', ') %}
    {%- set changed_keys = census_test_changed_keys(model, combination_of_columns) %}
    with

    checked_rows as (
        select {{ columns }} from {{ model }}
    )

    select
        {% for column in combination_of_columns -%}
            checked_rows.{{ column }},
        {% endfor -%}
        count(*) as number_of_rows
    from checked_rows
    {%- if changed_keys %}
    inner join ({{ changed_keys }}) as changed_keys
        on
            {% for column in combination_of_columns -%}
                checked_rows.{{ column }} is not distinct from changed_keys.{{ column }}
                {%- if not loop.last %} and {% endif %}
            {% endfor %}
    {%- endif %}
    group by
        {% for column in combination_of_columns -%}
            checked_rows.{{ column }}{% if not loop.last %}, {% endif %}
        {%- endfor %}
    having count(*) > 1
{% endtest %}
