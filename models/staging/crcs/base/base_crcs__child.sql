{{ census_base_rows('crcs', 'child') }}
