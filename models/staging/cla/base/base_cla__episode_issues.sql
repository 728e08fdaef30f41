{#- Every issue found in the rows of cla/*/episode.csv: one row per row, column and reason. -#}
{#- The code lists the column contract checks against (refs made inside macros need declaring): #}
-- depends_on: {{ ref('code_reason_new_episode') }}
-- depends_on: {{ ref('code_legal_status') }}
-- depends_on: {{ ref('code_category_of_need') }}
-- depends_on: {{ ref('code_placement_type') }}
-- depends_on: {{ ref('code_reason_episode_finished') }}
-- depends_on: {{ ref('ref_local_authorities') }}
-- depends_on: {{ ref('ref_lsoa_local_authorities') }}

with

rows_in_files as (
    {{ census_rows_in_files('cla', 'episode') }}
),

row_issues as (
    {{ census_row_issues('cla', 'episode', 'rows_in_files') }}
),

-- one episode = one child and start date within a return; EPISODE_NUMBER is not part of the key
keyed_rows as (
    select
        *,
        row_number() over (
            partition by source_file, local_authority_code, system_id, episode_start_date
            order by source_row_number
        ) as copy_number
    from rows_in_files
    where
        local_authority_code is not null
        and system_id is not null
        and episode_start_date is not null
        and not is_truncated_row
),

repeated_episode_issues as (
    {{ census_duplicate_issues(
        'cla', 'episode', 'keyed_rows',
        ['local_authority_code', 'system_id', 'episode_start_date'],
        'conflicting_episode_rows', 'the episode'
    ) }}
),

-- an exact copy of an episode row does not conflict: it is a duplicate
repeated_episodes as (
    select
        source_file,
        source_row_number,
        column_name,
        offending_value,
        case
            when column_name is null then 'duplicate_episode_row'
            else reason
        end as reason,
        detail
    from repeated_episode_issues
),

rows_with_bad_dates as (
    select distinct
        source_file,
        source_row_number
    from row_issues
    where column_name in ('EPISODE_START_DATE', 'EPISODE_END_DATE')
),

dated_episodes as (
    select
        keyed_rows.source_file,
        keyed_rows.source_row_number,
        keyed_rows.local_authority_code,
        keyed_rows.system_id,
        keyed_rows.episode_start_date,
        {{ census_safe_cast('keyed_rows.episode_start_date', 'date') }} as start_date,
        coalesce({{ census_safe_cast('keyed_rows.episode_end_date', 'date') }}, cast('9999-12-31' as date)) as end_date
    from keyed_rows
    left join rows_with_bad_dates
        on
            keyed_rows.source_file = rows_with_bad_dates.source_file
            and keyed_rows.source_row_number = rows_with_bad_dates.source_row_number
    where keyed_rows.copy_number = 1 and rows_with_bad_dates.source_file is null
),

-- the latest end of the child's episodes that started earlier in the same return
episodes_with_previous_end as (
    select
        *,
        max(end_date) over (
            partition by source_file, local_authority_code, system_id
            order by start_date, source_row_number
            rows between unbounded preceding and 1 preceding
        ) as previous_latest_end_date
    from dated_episodes
),

overlap_issues as (
    select
        source_file,
        source_row_number,
        'EPISODE_START_DATE' as column_name,
        episode_start_date as offending_value,
        'overlapping_episode' as reason,
        {{ dbt.concat([
            "'starts before an earlier episode of the child ends ('",
            "case when previous_latest_end_date = cast('9999-12-31' as date) then 'still open' else "
                ~ census_safe_cast('previous_latest_end_date', dbt.type_string()) ~ " end",
            "')'"]) }} as detail
    from episodes_with_previous_end
    where start_date < previous_latest_end_date
),

final as (
    select * from row_issues
    union all
    select * from repeated_episodes
    union all
    select * from overlap_issues
)

select * from final
