{#-
    One row per pupil (IRN) per PLASC year, matched to the CRCS census of the same year on the
    pupil number (IRN) or, failing that, on ALF_PE. Where several CRCS rows match, the most
    serious status wins (looked after, then on the register, then neither). Pupils with no match
    are not receiving care and support.

    Year-incremental on DuckDB (census_partition_incremental): a year's rows depend only on that
    year's pupils, CRCS rows and CRCS status groups, so a build recomputes the years where any of
    them changed.
-#}
{%- set years = census_partition_incremental({
    'stg_plasc__pupils': 'year_code',
    'stg_crcs__children': 'year_code',
    'int_crcs_children_grouped_by_status': 'year_code',
}) -%}

with

pupils as (
    select * from {{ ref('stg_plasc__pupils') }}
    where {{ census_partition_filter('year_code', years) }}
),

crcs_children as (
    select * from {{ ref('stg_crcs__children') }}
    where {{ census_partition_filter('year_code', years) }}
),

crcs as (
    select * from {{ ref('int_crcs_children_grouped_by_status') }}
    where {{ census_partition_filter('year_code', years) }}
),

crcs_identified as (
    select
        crcs.crcs_key,
        crcs.child_key,
        crcs.person_key,
        crcs.child_status_group,
        crcs.year_code,
        crcs_children.irn,
        crcs_children.alf_pe,
        case crcs.child_status_group
            when 'looked_after' then 1
            when 'on_cpr_not_looked_after' then 2
            else 3
        end as status_rank
    from crcs
    inner join crcs_children
        on
            crcs.child_key = crcs_children.child_key
            and crcs.year_code = crcs_children.year_code
),

matches as (
    select
        pupils.irn,
        pupils.year_code,
        crcs_identified.crcs_key,
        crcs_identified.child_key,
        crcs_identified.person_key,
        crcs_identified.child_status_group,
        'irn' as match_method,
        crcs_identified.status_rank,
        1 as method_rank
    from pupils
    inner join crcs_identified
        on
            pupils.irn = crcs_identified.irn
            and pupils.year_code = crcs_identified.year_code

    union all

    select
        pupils.irn,
        pupils.year_code,
        crcs_identified.crcs_key,
        crcs_identified.child_key,
        crcs_identified.person_key,
        crcs_identified.child_status_group,
        'alf_pe' as match_method,
        crcs_identified.status_rank,
        2 as method_rank
    from pupils
    inner join crcs_identified
        on
            pupils.alf_pe = crcs_identified.alf_pe
            and pupils.year_code = crcs_identified.year_code
),

best_match as (
    select
        *,
        row_number() over (
            partition by irn, year_code order by method_rank, status_rank, crcs_key
        ) as preference
    from matches
),

final as (
    select
        {{ census_surrogate_key([census_key_salt_literal(), 'pupils.irn', 'pupils.year_code']) }}
            as pupil_year_key,
        {{ census_surrogate_key([census_key_salt_literal(), "'irn'", 'pupils.irn']) }} as pupil_key,
        best_match.crcs_key,
        best_match.child_key,
        coalesce(
            best_match.person_key,
            case
                when pupils.alf_pe is not null
                    then {{ census_person_key('pupils.alf_pe', 'null') }}
            end
        ) as person_key,
        pupils.school_local_authority_code,
        coalesce(best_match.child_status_group, 'not_receiving_care_and_support') as child_status_group,
        best_match.match_method,
        pupils.year_code,
        pupils.national_curriculum_year,
        pupils.ks4_capped_points,
        pupils.is_eligible_for_free_school_meals,
        pupils.has_special_educational_needs,
        pupils.has_achieved_ks2_core_subject_indicator,
        pupils.has_achieved_ks3_core_subject_indicator
    from pupils
    left join best_match
        on
            pupils.irn = best_match.irn
            and pupils.year_code = best_match.year_code
            and best_match.preference = 1
)

select * from final
