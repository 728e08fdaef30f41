{{ census_base_rows('cla', 'care_leaver') }}
