{#- Quarantine: every raw row (or whole file) that was not staged, with where it is and why. -#}

with

file_issues as (
    select * from {{ ref('base_census_extract__file_issues') }}
),

{%- set row_issue_models = [
    'base_cla__child_issues', 'base_cla__episode_issues', 'base_cla__adoption_issues',
    'base_cla__care_leaver_issues', 'base_crcs__child_issues', 'base_plasc__pupil_issues',
] %}

row_issues as (
    {%- for issue_model in row_issue_models %}
        select
            source_file,
            source_row_number,
            column_name,
            offending_value,
            reason,
            detail
        from {{ ref(issue_model) }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

whole_file_issues as (
    select
        source_file,
        cast(null as {{ dbt.type_bigint() }}) as source_row_number,
        column_name,
        cast(null as {{ dbt.type_string() }}) as offending_value,
        reason,
        detail
    from file_issues
),

all_issues as (
    select * from row_issues
    union all
    select * from whole_file_issues
),

final as (
    select
        {{ census_surrogate_key(['source_file', 'source_row_number', 'column_name', 'reason', 'detail']) }}
            as quarantine_key,
        source_file,
        {{ dbt.split_part('source_file', "'/'", 1) }} as census,
        replace({{ dbt.split_part('source_file', "'/'", 3) }}, '.csv', '') as table_name,
        {{ dbt.split_part('source_file', "'/'", 2) }} as folder_year_code,
        column_name,
        offending_value,
        reason,
        detail,
        source_row_number,
        source_row_number is null as is_file_level
    from all_issues
)

select * from final
