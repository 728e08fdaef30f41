"""dbt build on generated censuses: the clean one stages everything, the faulty one
quarantines exactly what the fault injector broke, and every file reconciles.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from carecensus.dbt_runner import build_warehouse, run_dbt
from carecensus.faults import inject_faults, read_manifest

FAULT_SEED = 7


@pytest.fixture(scope="module")
def clean(clean_warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(clean_warehouse), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def faulty(default_census_dir: Path, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[duckdb.DuckDBPyConnection, Path]]:
    work = tmp_path_factory.mktemp("faulty_build")
    raw = work / "raw"
    inject_faults(default_census_dir, raw, seed=FAULT_SEED)
    warehouse, failing = build_warehouse(raw, work, "--vars", "{census_expect_faults: true}",
                                         data_tests_may_fail=True)
    print(f"\nfaulty build: data tests failing as expected: {failing}")
    con = duckdb.connect(str(warehouse), read_only=True)
    yield con, raw
    con.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return con.execute(sql).fetchall()


QUARANTINE = "intermediate.int_raw_rows_quarantined"
RECONCILED = "intermediate.int_raw_files_reconciled"


def test_clean_census_quarantines_nothing(clean: duckdb.DuckDBPyConnection) -> None:
    assert rows(clean, f"select count(*) from {QUARANTINE}") == [(0,)]


def test_clean_census_every_file_reconciles(clean: duckdb.DuckDBPyConnection) -> None:
    files = rows(clean, f"select source_file, rows_read, rows_staged, rows_quarantined "
                        f"from {RECONCILED}")
    assert len(files) == 54
    for name, read, staged, quarantined in files:
        assert read == staged and quarantined == 0, name
        assert isinstance(read, int) and read > 0, name


def test_faulty_census_every_injected_fault_is_quarantined_with_its_class(
        faulty: tuple[duckdb.DuckDBPyConnection, Path]) -> None:
    con, raw = faulty
    manifest = read_manifest(raw)
    assert len({f.fault_class for f in manifest}) == 9
    quarantined = {(str(f), None if r is None else int(str(r)), str(c)) for f, r, c in rows(
        con, f"select source_file, source_row_number, reason from {QUARANTINE}")}
    files_flagged = {(f, c) for f, _, c in quarantined}
    missing = []
    for fault in manifest:
        row = fault.row_number
        found = ((fault.file, row, fault.fault_class) in quarantined if row is not None
                 else (fault.file, fault.fault_class) in files_flagged)
        if not found:
            missing.append(fault)
    assert not missing, missing


def test_faulty_census_loses_no_clean_row(
        faulty: tuple[duckdb.DuckDBPyConnection, Path], clean: duckdb.DuckDBPyConnection) -> None:
    con, raw = faulty
    manifest = read_manifest(raw)
    touched = {f.file for f in manifest}
    staged_clean = dict(rows(clean, f"select source_file, rows_staged from {RECONCILED}"))
    for name, read, staged, quarantined in rows(
            con, f"select source_file, rows_read, rows_staged, rows_quarantined from {RECONCILED}"):
        assert read == staged + quarantined, name
        if name not in touched:
            assert staged == staged_clean[name], name
    whole_files = {f.file for f in manifest if f.fault_class in ("missing_column", "empty_file")}
    row_faults = [f for f in manifest if f.file not in whole_files]
    row_quarantine = [f for (f,) in rows(con, f"select source_file from {QUARANTINE} "
                                              "where not is_file_level") if f not in whole_files]
    assert len(row_quarantine) == len(row_faults)


def test_quarantine_lists_rows_by_reason(faulty: tuple[duckdb.DuckDBPyConnection, Path]) -> None:
    con, _ = faulty
    by_reason = dict(rows(con, f"select reason, count(*) from {QUARANTINE} group by 1"))
    print("\nquarantined rows by reason:", by_reason)
    assert set(by_reason) >= {"unparseable_date", "unknown_code", "overlapping_episode",
                              "conflicting_episode_rows", "missing_column", "year_code_mismatch",
                              "empty_file", "duplicate_child_row", "truncated_last_line"}


def test_a_build_over_no_rows_passes_and_its_empty_tables_fail_not_empty(
        default_census_dir: Path, tmp_path: Path) -> None:
    """`dbt build --empty` (every ref and source read as empty) runs every model, contract, unit
    test and data test, and passes: the tests that want rows check nothing then
    (census_rows_expected). The same not_empty tests, run without --empty over the empty tables
    it left, fail."""
    warehouse = tmp_path / "warehouse.duckdb"
    results = tmp_path / "target" / "run_results.json"

    def statuses(*arguments: str) -> tuple[int, dict[str, str]]:
        done = run_dbt(arguments, raw=default_census_dir, warehouse=warehouse, work=tmp_path,
                       capture=True)
        found = json.loads(results.read_text())["results"]
        return done.returncode, {r["unique_id"]: r["status"] for r in found}

    code, built = statuses("build", "--empty")
    assert code == 0, built
    wanting_rows = [node for node in built
                    if node.startswith("test.") and (".not_empty_" in node
                                                     or "every_expected_year" in node)]
    assert len(wanting_rows) > 10
    assert {built[node] for node in wanting_rows} == {"pass"}
    assert sum(node.startswith("model.") for node in built) > 80
    code, tested = statuses("test", "--select", "test_name:not_empty")
    tests = {node: status for node, status in tested.items() if node.startswith("test.")}
    assert code != 0
    # every one fails: at error severity, or warn for the staging and folded models
    assert len(tests) > 10 and set(tests.values()) == {"fail", "warn"}, tests
