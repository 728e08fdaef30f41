{#- No two rows share the same values of the given columns (dbt_utils' test, written here). -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
    {%- set columns = combination_of_columns | join(', ') %}
    select
        {{ columns }},
        count(*) as number_of_rows
    from {{ model }}
    group by {{ columns }}
    having count(*) > 1
{% endtest %}
