{#- Every row (optionally of a subset) satisfies a boolean SQL expression; fails on false or null. -#}
{% test expression_is_true(model, expression, where_condition=none) %}
    select *
    from {{ model }}
    where
        not coalesce({{ expression }}, false)
        {%- if where_condition %}
        and ({{ where_condition }})
        {%- endif %}
{% endtest %}
