{#-
    A published table is disclosure-controlled (macros/disclosure_control.sql). Each returned row
    is a failure:
      - below_threshold: a cell shown with no count or a count from 1 to below the threshold
        (a zero is shown: it discloses nobody);
      - suppressed_but_shown: a suppressed cell that still shows a count, percentage, rate or
        statistic;
      - recoverable_in_row: a (year, authority, measure, breakdown) group whose total is shown
        and exactly one of whose parts is suppressed (total minus the others gives it back);
      - recoverable_in_column: the same down the authorities, with the Wales row as the total.
    Columns are the published layout: local_authority_code ('Wales' for the total), measure,
    breakdown, category, is_total, published_count, percentage, rate_per_10000, is_suppressed.
-#}
{% test disclosure_controlled(model, threshold=5, wales_code='Wales') %}

with

cells as (
    select
        year_code,
        local_authority_code,
        measure,
        breakdown,
        category,
        is_total,
        published_count,
        percentage,
        rate_per_10000,
        statistic_value,
        is_suppressed,
        local_authority_code = '{{ wales_code }}' as is_wales_row
    from {{ model }}
),

below_threshold as (
    select
        'below_threshold' as failure,
        year_code,
        local_authority_code,
        measure,
        breakdown,
        category
    from cells
    where
        not is_suppressed
        and (published_count is null or (published_count > 0 and published_count < {{ threshold }}))
),

suppressed_but_shown as (
    select
        'suppressed_but_shown' as failure,
        year_code,
        local_authority_code,
        measure,
        breakdown,
        category
    from cells
    where
        is_suppressed
        and (
            published_count is not null
            or percentage is not null
            or rate_per_10000 is not null
            or statistic_value is not null
        )
),

recoverable_in_row as (
    select
        'recoverable_in_row' as failure,
        year_code,
        local_authority_code,
        measure,
        breakdown,
        cast(null as {{ dbt.type_string() }}) as category
    from cells
    group by year_code, local_authority_code, measure, breakdown
    having
        sum(case when not is_total and is_suppressed then 1 else 0 end) = 1
        and sum(case when is_total and not is_suppressed then 1 else 0 end) = 1
),

recoverable_in_column as (
    select
        'recoverable_in_column' as failure,
        year_code,
        cast(null as {{ dbt.type_string() }}) as local_authority_code,
        measure,
        breakdown,
        category
    from cells
    group by year_code, measure, breakdown, category
    having
        sum(case when not is_wales_row and is_suppressed then 1 else 0 end) = 1
        and sum(case when is_wales_row and not is_suppressed then 1 else 0 end) = 1
),

failures as (
    select * from below_threshold
    union all
    select * from suppressed_but_shown
    union all
    select * from recoverable_in_row
    union all
    select * from recoverable_in_column
)

select * from failures

{% endtest %}
