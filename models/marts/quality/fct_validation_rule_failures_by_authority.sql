{#-
    Validation rule failures per reporting year, local authority and rule: what a data manager
    opens to see which rules each authority's returns fail. Counts only: the failures themselves
    (with child keys) stay in int_validation_failures.
-#}

with

failures as (
    select * from {{ ref('int_validation_failures') }}
),

final as (
    select
        rule_id,
        local_authority_code,
        severity,
        message,
        year_code,
        cast(count(*) as {{ dbt.type_int() }}) as failure_count,
        cast(count(distinct child_key) as {{ dbt.type_int() }}) as child_count
    from failures
    group by
        rule_id,
        local_authority_code,
        severity,
        message,
        year_code
)

select * from final
