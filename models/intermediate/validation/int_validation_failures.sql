{#-
    Every failure of the census validation rules: the rule models unioned, with the severity and
    message of the rule catalogue (seed census_validation_rules), each rule kept only within its
    first and last reporting year. One row per failure; carries child keys, so it stays here.
-#}

with

failures as (
    {{ census_union_rule_models([
        'int_validation_child_rules',
        'int_validation_episode_rules',
        'int_validation_period_of_care_rules',
        'int_validation_cross_return_rules',
        'int_validation_adoption_rules',
        'int_validation_care_leaver_rules',
        'int_validation_crcs_rules',
    ]) }}
),

rules as (
    select * from {{ ref('census_validation_rules') }}
),

final as (
    select
        {{ census_surrogate_key([
            'failures.rule_id', 'failures.year_code', 'failures.child_key', 'failures.episode_key',
            'failures.offending_values',
        ]) }} as failure_key,
        failures.rule_id,
        failures.local_authority_code,
        failures.child_key,
        failures.episode_key,
        rules.severity,
        rules.message,
        failures.offending_values,
        failures.year_code
    from failures
    inner join rules
        on failures.rule_id = rules.rule_id
    where
        failures.year_code >= coalesce(rules.first_year_code, failures.year_code)
        and failures.year_code <= coalesce(rules.last_year_code, failures.year_code)
)

select * from final
