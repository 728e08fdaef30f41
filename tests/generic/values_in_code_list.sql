{#-
    Every non-null value of a column is a code of a code-list seed valid in the row's year
    (year_column, optional). Staging already quarantines unknown codes; this proves it did.
-#}
{% test values_in_code_list(model, column_name, code_list, year_column=none) %}
    with

    checked as (
        select * from {{ model }}
    )

    select *
    from checked
    where
        checked.{{ column_name }} is not null
        and not exists (
            select 1
            from {{ code_list }} as code_list
            where
                code_list.code = checked.{{ column_name }}
                {%- if year_column %}
                and checked.{{ year_column }} >= coalesce(code_list.first_year_code, 0)
                and checked.{{ year_column }} <= coalesce(code_list.last_year_code, 999999)
                {%- endif %}
        )
{% endtest %}
