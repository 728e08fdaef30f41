{{ config(
    materialized=census_base_materialization(),
    incremental_strategy='delete+insert',
    unique_key='source_file',
    post_hook="{{ census_forget_removed_files() }}",
) }}

{{ census_base_rows('plasc', 'pupil') }}
