{#- Every issue found in the rows of cla/*/care_leaver.csv: one row per row, column and reason. -#}
{#- The code lists the column contract checks against (refs made inside macros need declaring): #}
-- depends_on: {{ ref('code_care_leaver_in_touch') }}
-- depends_on: {{ ref('code_care_leaver_activity') }}
-- depends_on: {{ ref('code_care_leaver_accommodation') }}
-- depends_on: {{ ref('code_yes_no') }}
-- depends_on: {{ ref('ref_local_authorities') }}
-- depends_on: {{ ref('ref_lsoa_local_authorities') }}

{#- A row's key within its file: a repeated key is a duplicate row. #}
{%- set row_key = ['local_authority_code', 'system_id'] %}

with

rows_in_files as (
    {{ census_rows_in_files('cla', 'care_leaver') }}
),

row_issues as (
    {{ census_row_issues('cla', 'care_leaver', 'rows_in_files') }}
),

keyed_rows as (
    {{ census_repeated_key_rows('rows_in_files', row_key) }}
),

duplicate_issues as (
    {{ census_duplicate_issues(
        'cla', 'care_leaver', 'keyed_rows', row_key, 'duplicate_child_row', 'the child'
    ) }}
),

final as (
    select * from row_issues
    union all
    select * from duplicate_issues
)

select * from final
