{#
    Census validation rules over the staged and folded models (models/intermediate/validation).
    Every rule is one select of the same shape, one row per failure:
        rule_id, year_code, local_authority_code, child_key, episode_key, offending_values
    The rule catalogue (message, severity, years) is the seed census_validation_rules; the rule
    meanings and Welsh adaptations follow src/carecensus/rules.py, which runs the same rules on the
    raw files.
#}

{#
    The failures of one rule: the rows of `relation` matching `condition`. `offending_values` is a
    list of column expressions, or [label, expression] pairs, shown as "label=value; ..." (blank as
    <blank>). `episode_key` is null for rules that are not about one episode.
#}
{% macro census_rule_failures(
    rule_id, relation, condition, offending_values, episode_key=none,
    year_code='year_code', local_authority_code='local_authority_code', child_key='child_key'
) -%}
    select
        '{{ rule_id }}' as rule_id,
        cast({{ year_code }} as {{ dbt.type_int() }}) as year_code,
        {{ local_authority_code }} as local_authority_code,
        {{ child_key }} as child_key,
        {{ episode_key if episode_key else 'cast(null as ' ~ dbt.type_string() ~ ')' }} as episode_key,
        {{ census_offending_values(offending_values) }} as offending_values
    from {{ relation }}
    where {{ condition }}
{%- endmacro %}



{# The reporting years each local authority returned episodes for, with each year's start date:
   one row per authority and year. `episodes` and `years` name CTEs or relations. #}
{% macro census_authority_return_years(episodes='episodes', years='years') -%}
    select distinct
        {{ episodes }}.local_authority_code,
        {{ episodes }}.year_code,
        {{ years }}.year_start_date
    from {{ episodes }}
    inner join {{ years }}
        on {{ episodes }}.year_code = {{ years }}.year_code
{%- endmacro %}


{# The failures of a rule model with their key, in the layout int_validation_failures unions:
   one row per rule, year, child, episode and offending values. #}
{% macro census_keyed_rule_failures(failures_cte) -%}
    select
        {{ census_surrogate_key(['rule_id', 'year_code', 'child_key', 'episode_key', 'offending_values']) }}
            as failure_key,
        rule_id,
        local_authority_code,
        child_key,
        episode_key,
        offending_values,
        year_code
    from {{ failures_cte }}
{%- endmacro %}

{# "label=value; label=value" from column expressions or [label, expression] pairs. #}
{% macro census_offending_values(items) -%}
    {%- set parts = [] -%}
    {%- for item in items -%}
        {%- if item is string -%}
            {%- set label, expression = item.split('.')[-1], item -%}
        {%- else -%}
            {%- set label, expression = item[0], item[1] -%}
        {%- endif -%}
        {%- do parts.append("'" ~ label ~ "='") -%}
        {%- do parts.append("coalesce(" ~ dbt.safe_cast(expression, dbt.type_string()) ~ ", '<blank>')") -%}
        {%- if not loop.last %}{% do parts.append("'; '") %}{% endif -%}
    {%- endfor -%}
    {{ dbt.concat(parts) }}
{%- endmacro %}


{#
    The first day on which a child born in the week of `birth_date` is `years` old: the same day of
    the month `years` later (29 February gives 1 March in a common year, as in rules.py).
#}
{% macro census_birthday(birth_date, years) -%}
    cast({{ dbt.dateadd(
        'day',
        dbt.datediff(dbt.date_trunc('month', birth_date), birth_date, 'day'),
        dbt.dateadd('year', years, dbt.date_trunc('month', birth_date)),
    ) }} as date)
{%- endmacro %}


{# The failures of the rule models, unioned. #}
{% macro census_union_rule_models(model_names) -%}
    {%- for name in model_names %}
    select
        rule_id,
        year_code,
        local_authority_code,
        child_key,
        episode_key,
        offending_values
    from {{ ref(name) }}
    {%- if not loop.last %}

    union all
    {% endif -%}
    {%- endfor %}
{%- endmacro %}
