"""Published Welsh figures the synthetic census is calibrated to.

Every number comes from ``shared/census/domain-reference.md`` section 5 (with its
source tag there); where a year has no published figure the value used is marked
as an assumption.
"""

from __future__ import annotations

# Children looked after at 31 March (excluding short-break-only children), by the
# calendar year of the census date (5.1). 2020: revised 7,150; 2022: revised 7,053;
# 2023: revised 7,188.
CLA_AT_31_MARCH: dict[int, int] = {
    2003: 4194, 2004: 4321, 2005: 4389, 2006: 4534, 2007: 4647, 2008: 4635,
    2009: 4695, 2010: 5160, 2011: 5411, 2012: 5719, 2013: 5763, 2014: 5743,
    2015: 5609, 2016: 5661, 2017: 5961, 2018: 6407, 2019: 6846, 2020: 7150,
    2021: 7263, 2022: 7053, 2023: 7188, 2024: 7198,
}
# Warm-up before 2003 (assumption: a ramp from an empty simulation to the 2003 stock).
CLA_WARM_UP: dict[int, int] = {
    1995: 1200, 1996: 2200, 1997: 3000, 1998: 3500, 1999: 3800, 2000: 3950,
    2001: 4050, 2002: 4120,
}
CLA_AFTER_LAST_PUBLISHED = 7200  # assumption: flat after 2024 (CH/039 latest 7,200)

# Flows (5.2): starts and ceases per reporting year where published.
CLA_STARTS: dict[int, int] = {2017: 2162, 2018: 2125, 2022: 1950}
CLA_CEASES: dict[int, int] = {2017: 1727, 2018: 1678}
ADOPTIONS: dict[int, int] = {2016: 312, 2017: 308, 2018: 309, 2022: 244}

# Reasons care-leaving episodes ended (5.2, experimental StatsWales year, rounded to 5).
CEASE_REASON_COUNTS: dict[str, int] = {
    "adopted": 305, "died": 5, "transferred_to_other_la": 55, "returned_home": 580,
    "sgo_former_foster_carers": 140, "sgo_other": 60, "independent_living_supported": 145,
    "independent_living_unsupported": 45, "adult_social_services": 35, "custody": 10,
    "other": 235, "when_i_am_ready": 115,
}
CEASE_REASON_GROUP: dict[str, str] = {
    "E1": "adopted", "E11": "adopted", "E12": "adopted", "E2": "died",
    "E3": "transferred_to_other_la", "E4": "returned_home",
    "E43": "sgo_former_foster_carers", "E44": "sgo_other",
    "E5": "independent_living_supported", "E6": "independent_living_unsupported",
    "E7": "adult_social_services", "E9": "custody", "E8": "other", "E10": "when_i_am_ready",
}

# Composition at 31 March 2023 (5.3), shares of children looked after.
LEGAL_STATUS_2023: dict[str, float] = {
    "care_orders": 5890 / 7188, "single_period_of_accommodation": 860 / 7188,
    "other_legal_status": 455 / 7188, "remand_detained": 10 / 7188,
}
PLACEMENT_2023: dict[str, float] = {
    "foster": 0.69, "parents": 0.14, "residential": 0.10, "placed_for_adoption": 0.03,
    "other": 0.03,
}
KINSHIP_SHARE_OF_FOSTER_2023 = 0.34
IN_OWN_LA_2023 = 0.66
OUTSIDE_WALES_SHARE = 530 / 7200   # CH/048
ELSEWHERE_IN_WALES_SHARE = 1895 / 7200  # CH/047
THREE_PLUS_PLACEMENTS_SHARE = 0.10  # 2016-2017: 10%; 2023: 9%
UASC_SHARE_2024 = 0.047

# CRCS (5.4): children in the census at 31 March.
CRCS_TOTAL: dict[int, int] = {2020: 16745, 2021: 17004}
CRCS_ASSUMED: dict[int, int] = {  # assumption: 2017-19 "rising, 15,500-16,700"; 2022+ flat
    2013: 15000, 2014: 15200, 2015: 15300, 2016: 15400, 2017: 15600, 2018: 16100,
    2019: 16500, 2022: 17000, 2023: 17000, 2024: 17000, 2025: 17000, 2026: 17000,
}
CRCS_SPLIT_2021: dict[str, int] = {
    "looked_after": 7188, "child_protection_not_looked_after": 2469, "neither": 7347,
}
CRCS_ABUSE_NEGLECT_SHARE_2021 = 0.52
CRCS_PARENTAL_MENTAL_ILL_HEALTH_2021 = 0.42

# Reason-ceased codes that end a period of care (2.7.7): all but X1.
PERIOD_ENDING_REASONS = frozenset(CEASE_REASON_GROUP)


def cla_target(census_year: int) -> int:
    """The number looked after at 31 March ``census_year`` the generator aims for."""
    if census_year in CLA_AT_31_MARCH:
        return CLA_AT_31_MARCH[census_year]
    if census_year in CLA_WARM_UP:
        return CLA_WARM_UP[census_year]
    if census_year > max(CLA_AT_31_MARCH):
        return CLA_AFTER_LAST_PUBLISHED
    return 0


def crcs_target(census_year: int) -> int:
    """Children in the CRCS snapshot at 31 March ``census_year`` the generator aims for."""
    return CRCS_TOTAL.get(census_year) or CRCS_ASSUMED.get(census_year, 17000)
