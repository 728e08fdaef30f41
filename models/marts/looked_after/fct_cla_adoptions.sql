{#-
    One row per adoption return (child and year), with the period of care the adoption ended (the
    child's period whose end date is the adoption date, when there is one) and the milestones of
    the adoption journey in days.
-#}

with

adoptions as (
    select * from {{ ref('stg_cla__adoptions') }}
),

periods as (
    select * from {{ ref('int_cla_episodes_grouped_into_periods_of_care') }}
),

children as (
    select * from {{ ref('int_children_linked_across_censuses') }}
),

final as (
    select
        {{ census_surrogate_key(['adoptions.child_key', 'adoptions.year_code']) }} as adoption_key,
        adoptions.child_key,
        children.person_key,
        periods.period_of_care_key,
        adoptions.local_authority_code,
        adoptions.adopter_sex_code,
        adoptions.adopter_legal_status_code,
        periods.reason_ended_code as period_of_care_reason_ended_code,
        adoptions.year_code,
        adoptions.number_of_adopters,
        {{ census_age_in_years('children.week_of_birth_date', 'adoptions.adoption_date') }} as age_at_adoption,
        cast(
            {{ dbt.datediff('periods.period_of_care_start_date', 'adoptions.adoption_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as days_from_entering_care_to_adoption,
        cast(
            {{ dbt.datediff('adoptions.should_be_placed_date', 'adoptions.matched_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as days_from_decision_to_match,
        cast(
            {{ dbt.datediff('adoptions.matched_date', 'adoptions.placed_for_adoption_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as days_from_match_to_placement,
        cast(
            {{ dbt.datediff('adoptions.placed_for_adoption_date', 'adoptions.adoption_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as days_from_placement_to_adoption,
        cast(
            {{ dbt.datediff('adoptions.should_be_placed_date', 'adoptions.adoption_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as days_from_decision_to_adoption,
        adoptions.is_adopted_by_foster_carer,
        adoptions.should_be_placed_date,
        adoptions.matched_date,
        adoptions.placed_for_adoption_date,
        adoptions.adoption_date
    from adoptions
    left join children
        on adoptions.child_key = children.child_key
    left join periods
        on
            adoptions.child_key = periods.child_key
            and adoptions.adoption_date = periods.period_of_care_end_date
)

select * from final
