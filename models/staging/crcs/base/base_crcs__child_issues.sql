{#- Every issue found in the rows of crcs/*/child.csv: one row per row, column and reason. -#}
{#- The code lists the column contract checks against (refs made inside macros need declaring): #}
-- depends_on: {{ ref('code_sex') }}
-- depends_on: {{ ref('code_ethnicity') }}
-- depends_on: {{ ref('code_reason_for_closure') }}
-- depends_on: {{ ref('code_category_of_need') }}
-- depends_on: {{ ref('code_yes_no') }}
-- depends_on: {{ ref('code_disability_status') }}
-- depends_on: {{ ref('code_disability_type') }}
-- depends_on: {{ ref('code_yes_no_not_known') }}
-- depends_on: {{ ref('ref_local_authorities') }}
-- depends_on: {{ ref('ref_lsoa_local_authorities') }}

{#- A row's key within its file: a repeated key is a duplicate row. #}
{%- set row_key = ['local_authority_code', 'child_code'] %}

with

rows_in_files as (
    {{ census_rows_in_files('crcs', 'child') }}
),

row_issues as (
    {{ census_row_issues('crcs', 'child', 'rows_in_files') }}
),

keyed_rows as (
    {{ census_repeated_key_rows('rows_in_files', row_key) }}
),

duplicate_issues as (
    {{ census_duplicate_issues(
        'crcs', 'child', 'keyed_rows', row_key, 'duplicate_child_row', 'the child'
    ) }}
),

final as (
    select * from row_issues
    union all
    select * from duplicate_issues
)

select * from final
