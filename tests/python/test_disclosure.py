"""The disclosure-control test (tests/generic/disclosure_controlled.sql) fails on leaky tables,
and the macro (macros/disclosure_control.sql) produces tables it passes.

Both are compiled with ``dbt compile --inline`` (no warehouse build needed) and run in DuckDB
on small fixture tables written here: a published table with one deliberate leak per case, and
random raw grids for the macro.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pytest

PROJECT = Path(__file__).resolve().parents[2]
DBT = Path(sys.executable).with_name("dbt")

PublishedRow = tuple[int, str, str, str, str, bool, int | None, float | None, bool]
RawRow = tuple[int, str, str, str, str, int, bool, int]

PUBLISHED_COLUMNS = (
    "year_code integer, local_authority_code varchar, measure varchar, breakdown varchar, "
    "category varchar, is_total boolean, published_count integer, percentage double, "
    "is_suppressed boolean"
)
RAW_COLUMNS = (
    "year_code integer, local_authority_code varchar, measure varchar, breakdown varchar, "
    "category varchar, category_order integer, is_total boolean, raw_count integer"
)


def compile_inline(sql: str, work: Path) -> str:
    """The SQL dbt compiles from a Jinja query over this project's macros."""
    env = {**os.environ, "CENSUS_WAREHOUSE_PATH": str(work / "compile.duckdb")}
    result = subprocess.run(
        [str(DBT), "compile", "--profiles-dir", ".", "--target-path", str(work / "target"),
         "--log-path", str(work / "logs"), "--quiet", "--inline", sql],
        cwd=PROJECT, env=env, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """(the disclosure test over `cells_under_test`, the macro over `raw_input` as published)."""
    work = tmp_path_factory.mktemp("disclosure_compile")
    test_sql = compile_inline(
        "select failure, local_authority_code, breakdown, category from "
        "({{ test_disclosure_controlled(model='cells_under_test') }}) as checked", work)
    macro_sql = compile_inline(
        "with raw_cells as (select *, max(case when is_total then raw_count end) over "
        "(partition by year_code, local_authority_code, measure, breakdown) as base_count, "
        "cast(null as integer) as rate_base, cast(null as varchar) as statistic_name, "
        "cast(null as decimal(28, 6)) as statistic_value from raw_input), "
        "{{ disclosure_control('raw_cells', 'controlled') }} "
        "select year_code, local_authority_code, measure, breakdown, category, is_total, "
        "raw_count, published_count, percentage, rate_per_10000, statistic_value, is_suppressed "
        "from controlled", work)
    return test_sql, macro_sql


def failures(test_sql: str, cells: Sequence[PublishedRow]) -> set[tuple[str, str | None]]:
    """What the disclosure test reports on a published table: (failure, breakdown)."""
    con = duckdb.connect()
    con.execute(f"create table published ({PUBLISHED_COLUMNS})")
    con.executemany("insert into published values (?, ?, ?, ?, ?, ?, ?, ?, ?)", list(cells))
    con.execute("create view cells_under_test as select *, cast(null as double) as rate_per_10000, "
                "cast(null as double) as statistic_value from published")
    found = {(str(r[0]), None if r[2] is None else str(r[2]))
             for r in con.execute(test_sql).fetchall()}
    con.close()
    return found


def cell(la: str, breakdown: str, category: str, count: int | None, *, total: bool = False,
         percentage: float | None = None) -> PublishedRow:
    return (202223, la, "m", breakdown, category, total, count, percentage, count is None)


SAFE = [
    cell("512", "b", "A", None), cell("512", "b", "B", None), cell("512", "b", "C", 30),
    cell("512", "b", "Total", 55, total=True),
    cell("514", "b", "A", None), cell("514", "b", "B", None), cell("514", "b", "C", 40),
    cell("514", "b", "Total", 60, total=True),
    cell("Wales", "b", "A", 15), cell("Wales", "b", "B", 30), cell("Wales", "b", "C", 70),
    cell("Wales", "b", "Total", 115, total=True),
]


def test_a_safe_table_passes(compiled: tuple[str, str]) -> None:
    assert failures(compiled[0], SAFE) == set()


def test_fails_on_a_shown_count_below_the_threshold(compiled: tuple[str, str]) -> None:
    leaky = SAFE + [cell("512", "small", "A", 3)]
    assert failures(compiled[0], leaky) == {("below_threshold", "small")}


def test_fails_on_a_suppressed_cell_that_shows_a_percentage(compiled: tuple[str, str]) -> None:
    leaky = SAFE + [cell("512", "pct", "A", None, percentage=4.0)]
    assert failures(compiled[0], leaky) == {("suppressed_but_shown", "pct")}


def test_fails_when_one_suppressed_part_can_be_recovered_from_the_total(
        compiled: tuple[str, str]) -> None:
    # 512 row: total 55 shown, only A suppressed: A = 55 - 25 - 30
    leaky = [c if (c[1], c[4]) != ("512", "B") else cell("512", "b", "B", 25) for c in SAFE]
    assert ("recoverable_in_row", "b") in failures(compiled[0], leaky)


def test_fails_when_one_suppressed_authority_can_be_recovered_from_wales(
        compiled: tuple[str, str]) -> None:
    # category A: Wales 15 shown, only 512 suppressed: 512 = 15 - 10
    leaky = [c if (c[1], c[4]) != ("514", "A") else cell("514", "b", "A", 10) for c in SAFE]
    assert ("recoverable_in_column", "b") in failures(compiled[0], leaky)


def random_grid(seed: int) -> list[RawRow]:
    """True counts for 2 breakdowns x 4 categories x 5 authorities and Wales, many of them small."""
    rng = random.Random(seed)
    rows: list[RawRow] = []
    for breakdown in ("b1", "b2"):
        per_la = {la: [rng.choice([0, 1, 2, 4, 5, 6, 9, 12, 30, 80]) for _ in range(4)]
                  for la in ("512", "514", "516", "518", "520")}
        wales = [sum(counts[i] for counts in per_la.values()) for i in range(4)]
        for la, counts in [*per_la.items(), ("Wales", wales)]:
            for i, count in enumerate(counts):
                rows.append((202223, la, "m", breakdown, f"c{i}", i + 1, False, count))
            rows.append((202223, la, "m", breakdown, "Total", 0, True, sum(counts)))
    return rows


@pytest.mark.parametrize("seed", range(8))
def test_the_macro_output_passes_the_test(compiled: tuple[str, str], seed: int) -> None:
    test_sql, macro_sql = compiled
    con = duckdb.connect()
    con.execute(f"create table raw_input ({RAW_COLUMNS})")
    con.executemany("insert into raw_input values (?, ?, ?, ?, ?, ?, ?, ?)", random_grid(seed))
    con.execute(f"create table published as {macro_sql}")
    shown = con.execute("select raw_count, published_count from published "
                        "where not is_suppressed").fetchall()
    small = con.execute("select raw_count, is_suppressed from published "
                        "where raw_count between 1 and 4").fetchall()
    zeros = con.execute("select is_suppressed, published_count from published "
                        "where raw_count = 0 and not is_total").fetchall()
    con.execute("create view cells_under_test as select * exclude (raw_count) from published")
    reported = con.execute(test_sql).fetchall()
    con.close()
    assert reported == []
    assert all((int(raw) >= 5 or raw == 0) and published % 5 == 0 and abs(published - raw) <= 2
               for raw, published in shown)
    assert small and all(suppressed for _, suppressed in small)  # 1 to 4: always suppressed
    # a zero discloses nobody: shown as 0 unless needed as a secondary suppression
    assert zeros and any(not suppressed and count == 0 for suppressed, count in zeros)


def test_a_shown_zero_is_not_a_leak(compiled: tuple[str, str]) -> None:
    zeros = [cell("512", "z", "A", 0), cell("512", "z", "B", 20), cell("512", "z", "Total", 20, total=True),
             cell("Wales", "z", "A", 0), cell("Wales", "z", "B", 20),
             cell("Wales", "z", "Total", 20, total=True)]
    assert failures(compiled[0], SAFE + zeros) == set()


def test_published_labels_may_hold_quotes(tmp_path: Path) -> None:
    """A measure, breakdown, category, total or statistic named with an apostrophe reaches the
    published table as written (each label is an SQL literal with its quotes escaped)."""
    sql = compile_inline(
        "with reporting_years as (select 202324 as year_code), "
        "authorities as (select '512' as local_authority_code, 'A' as local_authority_name, "
        "1 as publication_order union all select 'Wales', 'Wales', 0), "
        "rollup_levels as ({{ published_rollup_levels() }}), "
        "children as (select 202324 as year_code, '512' as local_authority_code, "
        "'Child''s home' as placement, 3 as breaks from range(12)), "
        "cells as ({{ published_cells('children', 'placement', \"Children's measure\", "
        "\"Carer's breakdown\", [\"Child's home\", 'Other'], total_label=\"All children's\", "
        "statistic_name=\"Children's breaks\", statistic_input='breaks', "
        "statistic_aggregate='sum') }}), "
        "{{ published_table('cells') }} "
        "select measure, breakdown, category, statistic_name, published_count from final "
        "where local_authority_code = 'Wales'", tmp_path)
    con = duckdb.connect()
    rows = set(con.execute(sql).fetchall())
    con.close()
    assert {(r[0], r[1], r[3]) for r in rows} == {
        ("Children's measure", "Carer's breakdown", "Children's breaks")}
    assert {r[2] for r in rows} == {"Child's home", "Other", "All children's"}
    assert ("Children's measure", "Carer's breakdown", "Child's home", "Children's breaks",
            10) in rows  # 12 children, rounded to 5
