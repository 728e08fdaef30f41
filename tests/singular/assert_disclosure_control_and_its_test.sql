{#-
    The disclosure test must be able to fail, and the macro must pass it. Two small fixtures:
      - leaky_fixture: a published table with every kind of leak (a shown count of 3; a suppressed
        cell that still shows a percentage; a group whose total is shown with exactly one part
        suppressed; a category with exactly one authority suppressed and the Wales row shown).
        The generic test disclosure_controlled must report each kind: it FAILS on this table.
      - raw_fixture: true counts where primary suppression leaves one suppressed cell in a row and
        in a column; disclosure_control() must add the secondary suppressions, so the generic test
        reports nothing; its zero cells are shown as 0, not suppressed.
    A row returned here is a failure of this assertion.
-#}

with

leaky_fixture as (
    select * from (
        values
        (202223, '512', 'm', 'below threshold', 'A', false, 3, false),
        (202223, '512', 'm', 'shown percentage', 'A', false, null, true),
        (202223, '512', 'm', 'row', 'A', false, 10, false),
        (202223, '512', 'm', 'row', 'B', false, null, true),
        (202223, '512', 'm', 'row', 'Total', true, 15, false),
        (202223, '512', 'm', 'column', 'A', false, null, true),
        (202223, '514', 'm', 'column', 'A', false, 10, false),
        (202223, 'Wales', 'm', 'column', 'A', false, 15, false)
    ) as fixture ( -- noqa: AL05
        year_code, local_authority_code, measure, breakdown, category, is_total, published_count, is_suppressed
    )
),

leaky_published as (
    select
        year_code,
        local_authority_code,
        measure,
        breakdown,
        category,
        is_total,
        published_count,
        case when breakdown = 'shown percentage' then 12.5 end as percentage,
        cast(null as {{ dbt.type_numeric() }}) as rate_per_10000,
        cast(null as {{ dbt.type_numeric() }}) as statistic_value,
        is_suppressed
    from leaky_fixture
),

raw_fixture as (
    select
        year_code,
        local_authority_code,
        measure,
        breakdown,
        category,
        category_order,
        is_total,
        raw_count,
        max(case when is_total then raw_count end)
            over (partition by year_code, local_authority_code, measure, breakdown)
            as base_count,
        cast(null as {{ dbt.type_int() }}) as rate_base,
        cast(null as {{ dbt.type_string() }}) as statistic_name,
        cast(null as {{ dbt.type_numeric() }}) as statistic_value
    from (
        values
        (202223, '512', 'm', 'b', 'A', 1, false, 3),
        (202223, '512', 'm', 'b', 'B', 2, false, 20),
        (202223, '512', 'm', 'b', 'C', 3, false, 30),
        (202223, '512', 'm', 'b', 'Total', 0, true, 53),
        (202223, '514', 'm', 'b', 'A', 1, false, 10),
        (202223, '514', 'm', 'b', 'B', 2, false, 12),
        (202223, '514', 'm', 'b', 'C', 3, false, 40),
        (202223, '514', 'm', 'b', 'Total', 0, true, 62),
        (202223, 'Wales', 'm', 'b', 'A', 1, false, 13),
        (202223, 'Wales', 'm', 'b', 'B', 2, false, 32),
        (202223, 'Wales', 'm', 'b', 'C', 3, false, 70),
        (202223, 'Wales', 'm', 'b', 'Total', 0, true, 115),
        (202223, '512', 'm', 'zeros', 'A', 1, false, 0),
        (202223, '512', 'm', 'zeros', 'B', 2, false, 20),
        (202223, '512', 'm', 'zeros', 'Total', 0, true, 20),
        (202223, 'Wales', 'm', 'zeros', 'A', 1, false, 0),
        (202223, 'Wales', 'm', 'zeros', 'B', 2, false, 20),
        (202223, 'Wales', 'm', 'zeros', 'Total', 0, true, 20)
    ) as fixture ( -- noqa: AL05
        year_code, local_authority_code, measure, breakdown, category, category_order, is_total, raw_count
    )
),

{{ disclosure_control('raw_fixture', 'controlled_fixture') }},

failures_on_leaky as (
    select distinct failure
    from ({{ test_disclosure_controlled(model='leaky_published') }}) as test_result
),

failures_on_controlled as (
    select failure
    from ({{ test_disclosure_controlled(model='controlled_fixture') }}) as test_result
),

expected_failures as (
    select 'below_threshold' as failure
    union all
    select 'suppressed_but_shown' as failure
    union all
    select 'recoverable_in_row' as failure
    union all
    select 'recoverable_in_column' as failure
),

final as (
    select
        {{ dbt.concat(["'the disclosure test did not catch '", 'expected_failures.failure']) }} as problem
    from expected_failures
    left join failures_on_leaky
        on expected_failures.failure = failures_on_leaky.failure
    where failures_on_leaky.failure is null

    union all

    select
        {{ dbt.concat(["'disclosure_control() left a leak: '", 'failure']) }} as problem
    from failures_on_controlled

    union all

    select 'disclosure_control() did not suppress the expected cells' as problem
    from controlled_fixture
    having
        sum(case when is_suppressed then 1 else 0 end) <> 4
        or sum(
            case
                when
                    is_suppressed
                    and local_authority_code in ('512', '514')
                    and category in ('A', 'B')
                    then 1
                else 0
            end
        ) <> 4

    union all

    select 'disclosure_control() suppressed or altered a zero count' as problem
    from controlled_fixture
    where breakdown = 'zeros' and category = 'A' and (is_suppressed or published_count <> 0)
)

select * from final
