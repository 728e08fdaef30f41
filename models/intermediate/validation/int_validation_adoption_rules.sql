{#-
    Adoption rules of the CLA census: each return's adoption rows (stg_cla__adoptions), their
    episodes ending in adoption and the period of care that ended. One row per failure.
-#}

{%- set adopted = "('E1', 'E11', 'E12')" -%}
{%- set couple = "('MM', 'FF', 'MF')" -%}
{%- set adopters = ['number_of_adopters', 'adopter_sex_code', 'adopter_legal_status_code'] -%}

with

adoptions as (
    select * from {{ ref('stg_cla__adoptions') }}
),

episodes as (
    select * from {{ ref('stg_cla__episodes') }}
),

episodes_chained as (
    select * from {{ ref('int_cla_episodes_chained_to_periods_of_care') }}
),

children_folded as (
    select * from {{ ref('int_cla_children_folded_across_returns') }}
),

adoptions_with_child as (
    select
        adoptions.*,
        children_folded.week_of_birth_date
    from adoptions
    left join children_folded
        on adoptions.child_key = children_folded.child_key
),

-- episodes of a return that ended in adoption
adoption_episodes as (
    select *
    from episodes
    where reason_episode_finished_code in {{ adopted }}
),

-- the adoption row with the episode of the same return that ended in adoption on the adoption date
adoptions_with_episode as (
    select
        adoptions.*,
        adoption_episodes.episode_key,
        adoption_episodes.placement_type_code
    from adoptions
    left join adoption_episodes
        on
            adoptions.child_key = adoption_episodes.child_key
            and adoptions.year_code = adoption_episodes.year_code
            and adoptions.adoption_date = adoption_episodes.episode_end_date
),

adoption_episodes_without_adoption as (
    select adoption_episodes.*
    from adoption_episodes
    left join adoptions
        on
            adoption_episodes.child_key = adoptions.child_key
            and adoption_episodes.year_code = adoptions.year_code
    where adoptions.child_key is null
),

-- the first episode of each period of care (its reason for new episode and start)
period_starts as (
    select
        child_key,
        period_of_care_number,
        reason_new_episode_code as period_reason_new_episode_code
    from episodes_chained
    where episode_sequence_in_period = 1
),

-- the period of care that ended on the adoption date
adoptions_with_period as (
    select
        adoptions.*,
        episodes_chained.period_of_care_start_date,
        period_starts.period_reason_new_episode_code
    from adoptions
    inner join episodes_chained
        on
            adoptions.child_key = episodes_chained.child_key
            and adoptions.adoption_date = episodes_chained.episode_end_date
            and episodes_chained.is_last_episode_in_period
    inner join period_starts
        on
            episodes_chained.child_key = period_starts.child_key
            and episodes_chained.period_of_care_number = period_starts.period_of_care_number
),

failures as (
    {{ census_rule_failures('511', 'adoptions',
        "(number_of_adopters = 2 and coalesce(adopter_sex_code, '') not in " ~ couple ~ ')'
        ~ " or (number_of_adopters = 1 and coalesce(adopter_sex_code, '') not in ('M1', 'F1'))",
        adopters) }}

    union all

    {{ census_rule_failures('514', 'adoptions',
        "(adopter_legal_status_code = 'L0') <> (number_of_adopters = 1)", adopters) }}

    union all

    {%- for rule_id, legal_status, sexes in [
        ('517', 'L3', "('MF')"), ('518', 'L4', "('MM', 'FF')"), ('519', 'L2', couple),
        ('520', 'L11', "('MF')"), ('524', 'L12', "('MM', 'FF')"),
    ] %}

        {{ census_rule_failures(rule_id, 'adoptions',
            "adopter_legal_status_code = '" ~ legal_status ~ "' and coalesce(adopter_sex_code, '') not in " ~ sexes,
            ['adopter_legal_status_code', 'adopter_sex_code']) }}

        union all
    {%- endfor %}

    {%- for rule_id, earlier, later in [
        ('333', 'should_be_placed_date', 'matched_date'),
        ('331', 'matched_date', 'placed_for_adoption_date'),
        ('552', 'placed_for_adoption_date', 'adoption_date'),
    ] %}

        {{ census_rule_failures(rule_id, 'adoptions', earlier ~ ' > ' ~ later, [earlier, later]) }}

        union all
    {%- endfor %}

    {{ census_rule_failures('184', 'adoptions_with_child', 'should_be_placed_date < week_of_birth_date',
        ['should_be_placed_date', 'week_of_birth_date']) }}

    union all

    {{ census_rule_failures('334', 'adoptions_with_period',
        "period_reason_new_episode_code = 'S' and period_of_care_start_date > should_be_placed_date",
        ['period_of_care_start_date', 'should_be_placed_date']) }}

    union all

    {{ census_rule_failures('582', 'adoptions', 'matched_date = adoption_date',
        ['matched_date', 'adoption_date']) }}

    union all

    {{ census_rule_failures('335', 'adoptions_with_episode',
        "(not is_adopted_by_foster_carer and placement_type_code in ('A2', 'A3', 'A5'))"
        ~ " or (is_adopted_by_foster_carer and placement_type_code in ('A1', 'A4', 'A6'))",
        ['is_adopted_by_foster_carer', 'placement_type_code'], episode_key='episode_key') }}

    union all

    {{ census_rule_failures('601', 'adoption_episodes_without_adoption', 'true',
        ['reason_episode_finished_code', 'episode_end_date'], episode_key='episode_key') }}

    union all

    {{ census_rule_failures('602', 'adoptions_with_episode', 'episode_key is null', ['adoption_date']) }}
),

final as (
    {{ census_keyed_rule_failures('failures') }}
)

select * from final
