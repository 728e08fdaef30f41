{#- The model has no rows (each row is a failure), e.g. quarantine on a clean census. -#}
{% test is_empty(model) %}
    select *
    from {{ model }}
{% endtest %}
