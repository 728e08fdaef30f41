{#- One row per episode (child + start date) across all returns: the latest return wins. -#}

with

episodes as (
    select * from {{ ref('stg_cla__episodes') }}
),

ranked as (
    select
        *,
        row_number() over (partition by episode_key order by year_code desc) as recency,
        min(year_code) over (partition by episode_key) as first_return_year_code,
        count(*) over (partition by episode_key) as return_count
    from episodes
),

final as (
    select
        episode_key,
        child_key,
        local_authority_code,
        reason_new_episode_code,
        legal_status_code,
        category_of_need_code,
        placement_type_code,
        placement_lsoa_code,
        reason_episode_finished_code,
        first_return_year_code,
        year_code as latest_return_year_code,
        return_count,
        short_breaks_count,
        is_placed_outside_wales,
        is_open_in_return as is_open_in_latest_return,
        episode_start_date,
        episode_end_date,
        source_file as latest_source_file,
        source_row_number as latest_source_row_number
    from ranked
    where recency = 1
)

select * from final
