{#-
    One row per episode (after folding the returns) with the period of care and the placement it
    belongs to. Per child, in start-date order:
      a period of care starts with the child's first known episode, an episode whose reason for new
      episode starts a period (S), or any episode that does not follow on the same day from an
      episode that ended X1 (a reason that does not end the period of care);
      a placement starts with every new period and every episode whose reason starts a new placement
      (S, P, B; L continues the placement).
    Keys are hashes of the child and the start date of the period or placement, so they are stable
    however many returns are added.
-#}

with

episodes as (
    select * from {{ ref('int_cla_episodes_folded_across_returns') }}
),

children as (
    select * from {{ ref('int_children_linked_across_censuses') }}
),

reasons_new_episode as (
    select * from {{ ref('code_reason_new_episode') }}
),

reasons_finished as (
    select * from {{ ref('code_reason_episode_finished') }}
),

legal_statuses as (
    select * from {{ ref('code_legal_status') }}
),

lsoas as (
    select * from {{ ref('ref_lsoa_local_authorities') }}
),

with_previous as (
    select
        *,
        lag(episode_end_date) over (partition by child_key order by episode_start_date) as previous_end_date,
        lag(reason_episode_finished_code) over (
            partition by child_key order by episode_start_date
        ) as previous_reason_finished_code,
        row_number() over (partition by child_key order by episode_start_date) as child_episode_sequence
    from episodes
),

flagged as (
    select
        with_previous.*,
        coalesce(legal_statuses.is_short_break, false) as is_short_break,
        (
            with_previous.child_episode_sequence = 1
            or coalesce(reasons_new_episode.is_new_period_of_care, false)
            or coalesce(previous_reasons.is_end_of_period_of_care, true)
            or with_previous.previous_end_date is null
            or with_previous.previous_end_date <> with_previous.episode_start_date
        ) as is_new_period_of_care
    from with_previous
    left join reasons_new_episode
        on with_previous.reason_new_episode_code = reasons_new_episode.code
    left join reasons_finished as previous_reasons
        on with_previous.previous_reason_finished_code = previous_reasons.code
    left join legal_statuses
        on with_previous.legal_status_code = legal_statuses.code
),

placement_flagged as (
    select
        flagged.*,
        (
            flagged.is_new_period_of_care
            or coalesce(reasons_new_episode.is_new_placement, false)
        ) as is_new_placement
    from flagged
    left join reasons_new_episode
        on flagged.reason_new_episode_code = reasons_new_episode.code
),

numbered as (
    select
        *,
        sum(case when is_new_period_of_care then 1 else 0 end) over (
            partition by child_key order by episode_start_date rows between unbounded preceding and current row
        ) as period_of_care_number,
        sum(case when is_new_placement then 1 else 0 end) over (
            partition by child_key order by episode_start_date rows between unbounded preceding and current row
        ) as placement_number
    from placement_flagged
),

with_starts as (
    select
        *,
        min(episode_start_date) over (
            partition by child_key, period_of_care_number
        ) as period_of_care_start_date,
        min(episode_start_date) over (partition by child_key, placement_number) as placement_start_date,
        row_number() over (
            partition by child_key, period_of_care_number order by episode_start_date
        ) as episode_sequence_in_period,
        row_number() over (
            partition by child_key, period_of_care_number order by episode_start_date desc
        ) as episode_sequence_from_period_end,
        row_number() over (
            partition by child_key, placement_number order by episode_start_date
        ) as episode_sequence_in_placement,
        row_number() over (
            partition by child_key, placement_number order by episode_start_date desc
        ) as episode_sequence_from_placement_end
    from numbered
),

final as (
    select
        with_starts.episode_key,
        with_starts.child_key,
        {{ census_surrogate_key([
            "with_starts.child_key", "'period_of_care'", "with_starts.period_of_care_start_date",
        ]) }} as period_of_care_key,
        {{ census_surrogate_key(["with_starts.child_key", "'placement'", "with_starts.placement_start_date"]) }}
            as placement_key,
        children.person_key,
        with_starts.local_authority_code,
        with_starts.reason_new_episode_code,
        with_starts.legal_status_code,
        with_starts.category_of_need_code,
        with_starts.placement_type_code,
        with_starts.placement_lsoa_code,
        with_starts.reason_episode_finished_code,
        {{ census_placement_location(
            'with_starts.placement_lsoa_code', 'lsoas.local_authority_code', 'with_starts.local_authority_code'
        ) }} as placement_location,
        -- row_number() is bigint on DuckDB but int on Spark: cast, the contracts say bigint
        cast(with_starts.child_episode_sequence as {{ dbt.type_bigint() }}) as child_episode_sequence,
        with_starts.period_of_care_number,
        with_starts.placement_number,
        cast(with_starts.episode_sequence_in_period as {{ dbt.type_bigint() }}) as episode_sequence_in_period,
        cast(with_starts.episode_sequence_in_placement as {{ dbt.type_bigint() }}) as episode_sequence_in_placement,
        {{ census_age_in_years('children.week_of_birth_date', 'with_starts.episode_start_date') }} as age_at_start,
        with_starts.short_breaks_count,
        with_starts.is_short_break,
        with_starts.is_new_period_of_care,
        with_starts.is_new_placement,
        with_starts.episode_sequence_from_period_end = 1 as is_last_episode_in_period,
        with_starts.episode_sequence_from_placement_end = 1 as is_last_episode_in_placement,
        with_starts.episode_end_date is null as is_open,
        with_starts.episode_start_date,
        with_starts.episode_end_date,
        with_starts.period_of_care_start_date,
        with_starts.placement_start_date
    from with_starts
    left join children
        on with_starts.child_key = children.child_key
    left join lsoas
        on with_starts.placement_lsoa_code = lsoas.lsoa_code
)

select * from final
