"""The synthetic generator obeys every census rule: zero violations per rule.

One census per scale (default 1.0, and 10 under the ``scale10`` marker) comes
from the session fixtures in conftest.py, loaded once into DuckDB, and each rule is its
own test. Failures print the first violations.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from carecensus.rules import RULES_BY_ID, connect, format_report, run_rule

RULE_IDS = sorted(RULES_BY_ID)
# Rules that report something the generator does on purpose, with the largest share
# of repeated episodes they may report: the generator writes a small share of
# placement LSOAs that a later return corrects (the latest return wins).
ALLOWED_SHARE = {"503-LSOA": 0.05}


def _loaded(raw_dir: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(raw_dir, materialize=True)
    yield con
    con.close()


@pytest.fixture(scope="session")
def census_default(default_census_dir: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    yield from _loaded(default_census_dir)


@pytest.fixture(scope="session")
def census_scale10(scale10_census_dir: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    yield from _loaded(scale10_census_dir)


def _assert_clean(con: duckdb.DuckDBPyConnection, rule_id: str) -> None:
    rows = run_rule(con, RULES_BY_ID[rule_id])
    if rule_id in ALLOWED_SHARE:
        repeated = con_count(con, "(SELECT la, cid, start_date FROM v_episode GROUP BY ALL HAVING count(*) > 1)")
        assert len(rows) <= ALLOWED_SHARE[rule_id] * repeated, "\n" + format_report({rule_id: rows}, max_rows=8)
        return
    assert not rows, "\n" + format_report({rule_id: rows}, max_rows=8)


def test_generated_census_is_not_empty(census_default: duckdb.DuckDBPyConnection) -> None:
    for table in ("cla_child", "cla_episode", "crcs_child"):
        assert con_count(census_default, table) > 0, table


def con_count(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    value = con.execute(f"SELECT count(*) FROM {relation}").fetchall()[0][0]
    return int(value)


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_default_census_obeys_rule(rule_id: str, census_default: duckdb.DuckDBPyConnection) -> None:
    _assert_clean(census_default, rule_id)


@pytest.mark.scale10
@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_scale10_census_obeys_rule(rule_id: str, census_scale10: duckdb.DuckDBPyConnection) -> None:
    _assert_clean(census_scale10, rule_id)
