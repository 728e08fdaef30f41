{#- One row per looked-after child across all CLA returns: the latest return wins. -#}

with

children as (
    select * from {{ ref('stg_cla__children') }}
),

ranked as (
    select
        *,
        row_number() over (partition by child_key order by year_code desc) as recency,
        min(year_code) over (partition by child_key) as first_return_year_code,
        count(*) over (partition by child_key) as return_count
    from children
),

final as (
    select
        child_key,
        local_authority_code,
        irn,
        sex_code,
        ethnicity_code,
        disability_code,
        home_lsoa_code,
        first_return_year_code,
        year_code as latest_return_year_code,
        return_count,
        alf_pe,
        is_uasc,
        is_disabled,
        week_of_birth_date,
        uasc_ceased_date,
        source_file as latest_source_file,
        source_row_number as latest_source_row_number
    from ranked
    where recency = 1
)

select * from final
