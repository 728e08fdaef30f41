{{ census_base_rows('cla', 'episode') }}
