with

children as (
    select * from {{ ref('int_children_linked_across_censuses') }}
),

ethnicities as (
    select * from {{ ref('code_ethnicity') }}
),

final as (
    select
        children.child_key,
        children.person_key,
        children.local_authority_code,
        children.sex_code,
        children.ethnicity_code,
        ethnicities.publication_group as ethnicity_group,
        children.first_cla_year_code,
        children.latest_cla_year_code,
        children.first_crcs_year_code,
        children.latest_crcs_year_code,
        children.is_uasc,
        children.is_disabled,
        children.is_in_cla,
        children.is_in_crcs,
        children.is_matched_to_alf,
        children.week_of_birth_date,
        children.uasc_ceased_date
    from children
    left join ethnicities
        on children.ethnicity_code = ethnicities.code
)

select * from final
