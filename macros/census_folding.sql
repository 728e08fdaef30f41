{#
    Annual returns folded into one history. census_return_conflicts() lists, for every field of a
    key that changes from one return to the next, the old and new value and the two years.
    `progressions` are fields whose blank-to-value change is the expected course of events (an
    open episode's end date and reason appear in the return in which it closes): not conflicts.
#}
{% macro census_return_conflicts(relation, key_column, fields, progressions=[]) -%}
    {%- for field in fields %}
    select
        {{ key_column }},
        '{{ field }}' as field_name,
        {{ census_safe_cast('previous_' ~ field, dbt.type_string()) }} as old_value,
        {{ census_safe_cast(field, dbt.type_string()) }} as new_value,
        previous_year_code as old_year_code,
        year_code as new_year_code
    from {{ relation }}
    where
        previous_year_code is not null
        and (
            previous_{{ field }} <> {{ field }}
            or (previous_{{ field }} is null and {{ field }} is not null
                {%- if field in progressions %} and false{% endif %})
            or (previous_{{ field }} is not null and {{ field }} is null)
        )
    {%- if not loop.last %}

    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}


{# Each field's value in the key's previous return (as columns previous_<field>). #}
{% macro census_previous_values(key_column, fields) -%}
    lag(year_code) over (partition by {{ key_column }} order by year_code) as previous_year_code,
    {%- for field in fields %}
    lag({{ field }}) over (partition by {{ key_column }} order by year_code) as previous_{{ field }}
    {%- if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}
