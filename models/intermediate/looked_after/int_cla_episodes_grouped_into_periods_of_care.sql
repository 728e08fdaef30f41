{#-
    One row per period of care: its first and last episode, counts, duration and whether the same
    person came back into care later (a later period of the same person starting on or after this
    one ended, unless this one ended because another authority took the care over, E3: a transfer
    is not a return to care).
-#}

with

episodes as (
    select * from {{ ref('int_cla_episodes_chained_to_periods_of_care') }}
),

children as (
    select * from {{ ref('int_children_linked_across_censuses') }}
),

counted as (
    select
        period_of_care_key,
        count(*) as episode_count,
        count(distinct placement_key) as placement_count,
        min(case when is_short_break then 1 else 0 end) = 1 as is_short_break_only
    from episodes
    group by period_of_care_key
),

first_episodes as (
    select * from episodes
    where episode_sequence_in_period = 1
),

last_episodes as (
    select * from episodes
    where is_last_episode_in_period
),

periods as (
    select
        first_episodes.period_of_care_key,
        first_episodes.child_key,
        first_episodes.person_key,
        first_episodes.local_authority_code,
        first_episodes.reason_new_episode_code as reason_started_code,
        first_episodes.legal_status_code as legal_status_code_at_start,
        first_episodes.category_of_need_code as category_of_need_code_at_start,
        first_episodes.placement_type_code as placement_type_code_at_start,
        last_episodes.reason_episode_finished_code as reason_ended_code,
        first_episodes.period_of_care_number,
        counted.episode_count,
        counted.placement_count,
        first_episodes.age_at_start,
        counted.is_short_break_only,
        last_episodes.is_open,
        first_episodes.episode_start_date as period_of_care_start_date,
        last_episodes.episode_end_date as period_of_care_end_date
    from first_episodes
    inner join last_episodes
        on first_episodes.period_of_care_key = last_episodes.period_of_care_key
    inner join counted
        on first_episodes.period_of_care_key = counted.period_of_care_key
),

later_periods as (
    select
        earlier.period_of_care_key,
        count(*) as later_period_count
    from periods as earlier
    inner join periods as later
        on
            earlier.person_key = later.person_key
            and earlier.period_of_care_key <> later.period_of_care_key
            and earlier.period_of_care_end_date <= later.period_of_care_start_date
    group by earlier.period_of_care_key
),

with_reentry as (
    select
        periods.*,
        later_periods.period_of_care_key is not null as has_later_period
    from periods
    left join later_periods
        on periods.period_of_care_key = later_periods.period_of_care_key
),

final as (
    select
        with_reentry.period_of_care_key,
        with_reentry.child_key,
        with_reentry.person_key,
        with_reentry.local_authority_code,
        with_reentry.reason_started_code,
        with_reentry.legal_status_code_at_start,
        with_reentry.category_of_need_code_at_start,
        with_reentry.placement_type_code_at_start,
        with_reentry.reason_ended_code,
        {{ census_year_code_of('with_reentry.period_of_care_start_date') }} as start_year_code,
        {{ census_year_code_of('with_reentry.period_of_care_end_date') }} as end_year_code,
        with_reentry.period_of_care_number,
        cast(with_reentry.episode_count as {{ dbt.type_int() }}) as episode_count,
        cast(with_reentry.placement_count as {{ dbt.type_int() }}) as placement_count,
        with_reentry.age_at_start,
        {{ census_age_in_years('children.week_of_birth_date', 'with_reentry.period_of_care_end_date') }} as age_at_end,
        cast(
            {{ dbt.datediff('with_reentry.period_of_care_start_date', 'with_reentry.period_of_care_end_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as duration_days,
        with_reentry.is_short_break_only,
        with_reentry.is_open,
        (
            with_reentry.has_later_period
            and coalesce(with_reentry.reason_ended_code, '') <> 'E3'
        ) as has_reentered_care_later,
        with_reentry.period_of_care_start_date,
        with_reentry.period_of_care_end_date
    from with_reentry
    left join children
        on with_reentry.child_key = children.child_key
)

select * from final
