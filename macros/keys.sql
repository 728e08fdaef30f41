{#
    child_key: the pseudonymous key of a child, derived from the local authority and the id the
    child has in that authority's case system (SYSTEM_ID in CLA, CHILD_CODE in CRCS: the same id).
    The salt comes from the environment variable CENSUS_KEY_SALT; its documented default keeps the
    key stable across runs. Change the salt and every child_key changes: keep it secret and fixed.
#}
{% macro census_key_salt() -%}
    {{ return(env_var('CENSUS_KEY_SALT', 'welsh-care-census-default-salt')) }}
{%- endmacro %}

{# The salt as a string literal of the SQL: the one place keys take it from. #}
{% macro census_key_salt_literal() -%}
    {{ return(census_string_literal(census_key_salt())) }}
{%- endmacro %}

{% macro census_child_key(local_authority_code, child_id) -%}
    {{ census_hash(dbt.concat([census_key_salt_literal(), "'|'", local_authority_code, "'|'", child_id])) }}
{%- endmacro %}

{# Any other surrogate key: a hash of the given expressions, separated so that ('a', 'bc') <> ('ab', 'c'). #}
{% macro census_surrogate_key(expressions) -%}
    {%- set parts = [] -%}
    {%- for expression in expressions -%}
        {%- do parts.append("coalesce(" ~ dbt.safe_cast(expression, dbt.type_string()) ~ ", '')") -%}
        {%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
    {%- endfor -%}
    {{ census_hash(dbt.concat(parts)) }}
{%- endmacro %}
