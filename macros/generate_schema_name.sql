{#
    Use the folder's custom schema as it is (staging, intermediate, marts, codes, reference)
    rather than dbt's default <target schema>_<custom schema>: BI users find tables by schema.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
