{#-
    Every field on which two consecutive returns of the same episode disagree (SHORT_BREAKS
    counts the breaks of each year: a new count is not a conflict).
-#}
{%- set fields = [
    'reason_new_episode_code', 'legal_status_code', 'category_of_need_code', 'placement_type_code',
    'placement_lsoa_code', 'reason_episode_finished_code', 'episode_end_date',
] -%}

with

episodes as (
    select * from {{ ref('stg_cla__episodes') }}
),

with_previous_return as (
    select
        episode_key,
        year_code,
        {{ fields | join(',\n        ') }},
        {{ census_previous_values('episode_key', fields) }}
    from episodes
),

conflicts as (
    {{ census_return_conflicts(
        'with_previous_return', 'episode_key', fields,
        progressions=['reason_episode_finished_code', 'episode_end_date']
    ) }}
),

final as (
    select
        {{ census_surrogate_key(['episode_key', 'field_name', 'new_year_code']) }} as conflict_key,
        episode_key,
        field_name,
        old_value,
        new_value,
        old_year_code,
        new_year_code
    from conflicts
)

select * from final
