{#-
    One row per child per CRCS census year with the child status group Welsh Government reports
    by: looked after (who may also be on the child protection register), on the register and not
    looked after, or neither. Also whether the child is looked after on 31 March in the CLA census.
-#}

with

crcs_children as (
    select * from {{ ref('stg_crcs__children') }}
),

children as (
    select * from {{ ref('int_children_linked_across_censuses') }}
),

years as (
    select * from {{ ref('int_census_reporting_years') }}
),

looked_after_at_31_march as (
    select * from {{ ref('int_cla_children_looked_after_at_31_march') }}
    where not is_short_break_only
),

final as (
    select
        crcs_children.crcs_key,
        crcs_children.child_key,
        children.person_key,
        crcs_children.local_authority_code,
        case
            when crcs_children.is_looked_after then 'looked_after'
            when crcs_children.is_on_child_protection_register then 'on_cpr_not_looked_after'
            else 'neither'
        end as child_status_group,
        crcs_children.sex_code,
        crcs_children.ethnicity_code,
        crcs_children.category_of_need_code,
        crcs_children.disability_code,
        crcs_children.disability_type_codes,
        crcs_children.reason_for_closure_code,
        crcs_children.year_code,
        {{ census_age_in_years('crcs_children.week_of_birth_date', 'years.census_date') }} as age_at_census_date,
        crcs_children.is_looked_after,
        crcs_children.is_on_child_protection_register,
        looked_after_at_31_march.child_key is not null as is_looked_after_in_cla_census,
        crcs_children.is_disabled,
        crcs_children.has_domestic_abuse,
        crcs_children.has_parental_substance_misuse,
        crcs_children.has_parental_mental_ill_health,
        crcs_children.has_parental_learning_disability,
        crcs_children.has_parental_physical_ill_health,
        crcs_children.has_immunisations_up_to_date,
        crcs_children.has_dental_check,
        crcs_children.has_mental_health_problem,
        crcs_children.has_substance_misuse_problem,
        crcs_children.has_youth_offending,
        crcs_children.is_welsh_first_language,
        crcs_children.plan_start_date,
        crcs_children.plan_end_date,
        years.census_date
    from crcs_children
    left join children
        on crcs_children.child_key = children.child_key
    left join years
        on crcs_children.year_code = years.year_code
    left join looked_after_at_31_march
        on
            crcs_children.child_key = looked_after_at_31_march.child_key
            and crcs_children.year_code = looked_after_at_31_march.year_code
)

select * from final
