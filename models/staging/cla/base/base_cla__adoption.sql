{{ census_base_rows('cla', 'adoption') }}
