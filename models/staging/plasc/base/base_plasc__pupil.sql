{{ census_base_rows('plasc', 'pupil') }}
