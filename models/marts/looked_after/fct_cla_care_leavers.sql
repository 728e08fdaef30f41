{#-
    One row per care leaver return (child and year: the year of the 19th birthday), with the last
    period of care that ended before the 19th birthday (of two ending the same day, the one that
    started later) and the milestones in days.
-#}

with

care_leavers as (
    select * from {{ ref('stg_cla__care_leavers') }}
),

periods as (
    select * from {{ ref('int_cla_episodes_grouped_into_periods_of_care') }}
),

children as (
    select * from {{ ref('int_children_linked_across_censuses') }}
),

in_touch as (
    select * from {{ ref('code_care_leaver_in_touch') }}
),

activities as (
    select * from {{ ref('code_care_leaver_activity') }}
),

accommodations as (
    select * from {{ ref('code_care_leaver_accommodation') }}
),

with_birthday as (
    select
        care_leavers.*,
        children.person_key,
        cast({{ dbt.dateadd('year', 19, 'children.week_of_birth_date') }} as date) as nineteenth_birthday_date
    from care_leavers
    left join children
        on care_leavers.child_key = children.child_key
),

last_periods as (
    select
        with_birthday.child_key,
        with_birthday.year_code,
        periods.period_of_care_key,
        periods.period_of_care_start_date,
        periods.period_of_care_end_date,
        periods.reason_ended_code,
        row_number() over (
            partition by with_birthday.child_key, with_birthday.year_code
            order by periods.period_of_care_end_date desc, periods.period_of_care_start_date desc
        ) as recency
    from with_birthday
    inner join periods
        on
            with_birthday.child_key = periods.child_key
            and with_birthday.nineteenth_birthday_date >= periods.period_of_care_end_date
),

final as (
    select
        {{ census_surrogate_key(['with_birthday.child_key', 'with_birthday.year_code']) }} as care_leaver_key,
        with_birthday.child_key,
        with_birthday.person_key,
        last_periods.period_of_care_key,
        with_birthday.local_authority_code,
        with_birthday.in_touch_code,
        with_birthday.activity_code,
        with_birthday.accommodation_code,
        last_periods.reason_ended_code as period_of_care_reason_ended_code,
        with_birthday.year_code,
        cast(
            {{ dbt.datediff('last_periods.period_of_care_start_date', 'last_periods.period_of_care_end_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as days_in_last_period_of_care,
        cast(
            {{ dbt.datediff('last_periods.period_of_care_end_date', 'with_birthday.nineteenth_birthday_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as days_from_leaving_care_to_19th_birthday,
        in_touch.is_in_touch,
        activities.is_in_education_employment_or_training,
        accommodations.is_suitable as is_in_suitable_accommodation,
        with_birthday.has_pathway_plan,
        with_birthday.has_personal_adviser,
        last_periods.period_of_care_end_date as left_care_date,
        with_birthday.nineteenth_birthday_date
    from with_birthday
    left join last_periods
        on
            with_birthday.child_key = last_periods.child_key
            and with_birthday.year_code = last_periods.year_code
            and last_periods.recency = 1
    left join in_touch
        on with_birthday.in_touch_code = in_touch.code
    left join activities
        on with_birthday.activity_code = activities.code
    left join accommodations
        on with_birthday.accommodation_code = accommodations.code
)

select * from final
