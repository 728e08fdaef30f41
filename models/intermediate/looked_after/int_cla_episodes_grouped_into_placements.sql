{#-
    One row per placement: the run of episodes from one that starts a placement (S, P, B, or a new
    period of care) to the next; L episodes (a legal-status change only) continue it. The reason it
    ended is the reason its last episode finished: X1 means the child moved placement and stayed in
    care, any other code that the child left care.
-#}

with

episodes as (
    select * from {{ ref('int_cla_episodes_chained_to_periods_of_care') }}
),

reasons_finished as (
    select * from {{ ref('code_reason_episode_finished') }}
),

counted as (
    select
        placement_key,
        count(*) as episode_count,
        min(case when is_short_break then 1 else 0 end) = 1 as is_short_break_only
    from episodes
    group by placement_key
),

first_episodes as (
    select * from episodes
    where episode_sequence_in_placement = 1
),

last_episodes as (
    select * from episodes
    where is_last_episode_in_placement
),

final as (
    select
        first_episodes.placement_key,
        first_episodes.child_key,
        first_episodes.period_of_care_key,
        first_episodes.person_key,
        first_episodes.local_authority_code,
        first_episodes.reason_new_episode_code as reason_started_code,
        first_episodes.placement_type_code as placement_type_code_at_start,
        first_episodes.placement_location as placement_location_at_start,
        last_episodes.reason_episode_finished_code as reason_ended_code,
        first_episodes.placement_number,
        cast(counted.episode_count as {{ dbt.type_int() }}) as episode_count,
        counted.is_short_break_only,
        last_episodes.is_open,
        coalesce(reasons_finished.is_end_of_period_of_care, false) as is_ended_by_leaving_care,
        first_episodes.episode_start_date as placement_start_date,
        last_episodes.episode_end_date as placement_end_date
    from first_episodes
    inner join last_episodes
        on first_episodes.placement_key = last_episodes.placement_key
    inner join counted
        on first_episodes.placement_key = counted.placement_key
    left join reasons_finished
        on last_episodes.reason_episode_finished_code = reasons_finished.code
)

select * from final
