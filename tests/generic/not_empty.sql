{#- The model has at least one row (returns one failing row when it is empty; nothing under --empty, census_rows_expected). -#}
{% test not_empty(model) %}
    select 'the relation is empty' as failure
    where not exists (select 1 from {{ model }}) and {{ census_rows_expected() }}
{% endtest %}
