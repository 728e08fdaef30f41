{#-
    One row per child (child_key) known to either census, with the person it is: ALF_PE where
    either census matched the child (the CLA return wins), otherwise the child's own key. Child
    characteristics come from the latest CLA return, else the latest CRCS return. Children known
    only from an adoption or care-leaver return (their care ended before the first return) are
    included with no characteristics.
-#}

with

cla_children as (
    select * from {{ ref('int_cla_children_folded_across_returns') }}
),

crcs_children as (
    select * from {{ ref('stg_crcs__children') }}
),

adopted_children as (
    select * from {{ ref('stg_cla__adoptions') }}
),

care_leavers as (
    select * from {{ ref('stg_cla__care_leavers') }}
),

episodes as (
    select * from {{ ref('int_cla_episodes_folded_across_returns') }}
),

crcs_ranked as (
    select
        *,
        row_number() over (partition by child_key order by year_code desc) as recency,
        min(year_code) over (partition by child_key) as first_return_year_code,
        max(alf_pe) over (partition by child_key) as any_alf_pe
    from crcs_children
),

crcs_latest as (
    select * from crcs_ranked
    where recency = 1
),

all_children as (
    select
        child_key,
        local_authority_code
    from cla_children
    union
    select
        child_key,
        local_authority_code
    from crcs_latest
    union
    select
        child_key,
        local_authority_code
    from adopted_children
    union
    select
        child_key,
        local_authority_code
    from care_leavers
    union
    select
        child_key,
        local_authority_code
    from episodes
),

linked as (
    select
        all_children.child_key,
        all_children.local_authority_code,
        cla_children.first_return_year_code as first_cla_year_code,
        cla_children.latest_return_year_code as latest_cla_year_code,
        crcs_latest.first_return_year_code as first_crcs_year_code,
        crcs_latest.year_code as latest_crcs_year_code,
        cla_children.is_uasc,
        cla_children.uasc_ceased_date,
        coalesce(cla_children.sex_code, crcs_latest.sex_code) as sex_code,
        coalesce(cla_children.ethnicity_code, crcs_latest.ethnicity_code) as ethnicity_code,
        coalesce(cla_children.alf_pe, crcs_latest.any_alf_pe) as alf_pe,
        coalesce(cla_children.is_disabled, crcs_latest.is_disabled) as is_disabled,
        cla_children.child_key is not null as is_in_cla,
        crcs_latest.child_key is not null as is_in_crcs,
        coalesce(cla_children.week_of_birth_date, crcs_latest.week_of_birth_date) as week_of_birth_date
    from all_children
    left join cla_children
        on all_children.child_key = cla_children.child_key
    left join crcs_latest
        on all_children.child_key = crcs_latest.child_key
),

identified as (
    select
        *,
        {{ census_person_key('alf_pe', 'child_key') }} as person_key,
        alf_pe is not null as is_matched_to_alf
    from linked
),

final as (
    select
        child_key,
        person_key,
        local_authority_code,
        sex_code,
        ethnicity_code,
        first_cla_year_code,
        latest_cla_year_code,
        first_crcs_year_code,
        latest_crcs_year_code,
        alf_pe,
        is_uasc,
        is_disabled,
        is_in_cla,
        is_in_crcs,
        is_matched_to_alf,
        week_of_birth_date,
        uasc_ceased_date
    from identified
)

select * from final
