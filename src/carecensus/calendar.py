"""Reporting years, census dates and ages, as the censuses define them."""

from __future__ import annotations

from datetime import date, timedelta


def year_code(year: int) -> str:
    """``2023`` -> ``"202324"``: the reporting year 1 April 2023 to 31 March 2024."""
    return f"{year}{(year + 1) % 100:02d}"


def year_from_code(code: str) -> int:
    """``"202324"`` -> ``2023``."""
    if len(code) != 6 or not code.isdigit() or int(code[4:]) != (int(code[:4]) + 1) % 100:
        raise ValueError(f"not a reporting year code: {code!r}")
    return int(code[:4])


def year_start(year: int) -> date:
    """First day of reporting year ``year`` (1 April)."""
    return date(year, 4, 1)


def census_date(year: int) -> date:
    """Census date of reporting year ``year`` (31 March of the following calendar year)."""
    return date(year + 1, 3, 31)


def add_years(day: date, years: int) -> date:
    """The same day ``years`` later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def birthday(birth: date, age: int) -> date:
    """The day a child born on ``birth`` turns ``age``."""
    return add_years(birth, age)


def age_on(birth: date, day: date) -> int:
    """Age in whole years on ``day``."""
    years = day.year - birth.year
    if (day.month, day.day) < (birth.month, birth.day):
        years -= 1
    return years


def week_of_birth(birth: date) -> date:
    """The Monday of the week of ``birth`` (how research extracts coarsen dates of birth)."""
    return birth - timedelta(days=birth.weekday())


def reporting_year_of(day: date) -> int:
    """The reporting year a day falls in."""
    return day.year if day.month >= 4 else day.year - 1
