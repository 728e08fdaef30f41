{{ census_base_rows('cla', 'child') }}
