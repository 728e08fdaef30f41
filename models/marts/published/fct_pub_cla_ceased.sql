{#-
    Table 5: episodes of care that ceased during the year, by reason (X1, a change of placement or
    legal status within a period of care, counted apart), and periods of care that ended during the
    year, by reason; short breaks excluded; per authority and Wales, disclosure-controlled.
-#}
{%- set reasons = [
    'Adopted',
    'Died',
    'Care taken over by another local authority in the UK',
    'Returned home',
    'Special guardianship order to former foster carers',
    'Special guardianship order to other carers',
    'Independent living (supported)',
    'Independent living (no support)',
    'Transferred to adult social services',
    'Sentenced to custody',
    'When I Am Ready',
    'Any other reason',
] -%}

with

episodes as (
    select * from {{ ref('fct_cla_episodes') }}
),

periods_of_care as (
    select * from {{ ref('fct_cla_periods_of_care') }}
),

reasons_finished as (
    select * from {{ ref('dim_reason_episode_finished') }}
),

reporting_years as (
    select year_code from {{ ref('int_census_reporting_years') }}
),

{{ published_grid_ctes() }},

episodes_ceased as (
    select
        episodes.end_year_code as year_code,
        episodes.local_authority_code,
        reasons_finished.publication_reason as reason
    from episodes
    inner join reasons_finished
        on episodes.reason_episode_finished_code = reasons_finished.code
    where not episodes.is_short_break and episodes.end_year_code is not null
),

periods_ended as (
    select
        periods_of_care.end_year_code as year_code,
        periods_of_care.local_authority_code,
        reasons_finished.publication_reason as reason
    from periods_of_care
    inner join reasons_finished
        on periods_of_care.reason_ended_code = reasons_finished.code
    where not periods_of_care.is_short_break_only and periods_of_care.end_year_code is not null
),

cells as (
    {{ published_cells(
        'episodes_ceased', 'reason', 'Episodes ceased during the year', 'Reason episode ceased',
        ['Episode ceased and new episode began'] + reasons
    ) }}

    union all

    {{ published_cells(
        'periods_ended', 'reason', 'Periods of care ended during the year', 'Reason period of care ended', reasons
    ) }}
),

{{ published_table('cells') }}

select * from final
