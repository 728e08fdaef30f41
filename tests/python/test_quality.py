"""Great Expectations suites: raw suites pass on a clean census and name what the fault injector
broke, a broken expectation is an error (never a pass or a data failure), suites are read from the
committed JSON and never rewritten, and the mart suites pass on a built warehouse and name the
authority and year of a damaged one.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from carecensus.faults import Fault, inject_faults, read_manifest
from carecensus.quality import (
    EXPECTATIONS_DIR,
    ExpectationOutcome,
    Kind,
    Summary,
    build_suites,
    file_digest,
    load_suites,
    run_suites,
    suite_files,
)
from test_warehouse_build import FAULT_SEED

ALL_SUITE_FILES = suite_files("raw") + suite_files("mart")


@pytest.fixture(scope="module")
def clean_raw(default_census_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Summary, str, str]:
    before = file_digest(ALL_SUITE_FILES)
    summary = run_suites("raw", default_census_dir, tmp_path_factory.mktemp("quality_clean"))
    print(f"\nraw suites on the default census: {summary.seconds:.1f} s\n{summary.describe()}")
    return summary, before, file_digest(ALL_SUITE_FILES)


@pytest.fixture(scope="module")
def faulty_raw(default_census_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Summary, Path]:
    raw = tmp_path_factory.mktemp("quality_faulty") / "raw"
    inject_faults(default_census_dir, raw, seed=FAULT_SEED)
    summary = run_suites("raw", raw, raw.parent / "out")
    print(f"\nraw suites on the faulty census: {summary.seconds:.1f} s\n{summary.describe()}")
    return summary, raw


def expectation_count(kind: Kind) -> int:
    return sum(len(s["expectations"]) for s in load_suites(kind))


def test_committed_suites_are_what_authoring_writes() -> None:
    """The JSON in expectations/ is current with the contract, code lists and published figures
    (after changing one of those, run carecensus.quality.author_suites() and commit the diff)."""
    for kind, suites in build_suites().items():
        committed = {s["name"]: s for s in load_suites(kind)}  # type: ignore[arg-type]
        assert committed == {s["name"]: s for s in suites}, kind


def test_raw_suites_pass_on_the_default_census(clean_raw: tuple[Summary, str, str]) -> None:
    summary, _, _ = clean_raw
    assert summary.with_status("error") == []
    assert summary.with_status("failed") == []
    assert len(summary.with_status("passed")) == expectation_count("raw")
    assert summary.exit_code == 0
    written = json.loads(summary.summary_path.read_text()) if summary.summary_path else {}
    assert written["counts"] == {"passed": expectation_count("raw"), "failed": 0, "error": 0}
    assert summary.data_docs_index is not None and summary.data_docs_index.is_file()
    assert any((summary.data_docs_index.parent / "validations").rglob("*.html"))


def test_running_the_suites_does_not_rewrite_them(clean_raw: tuple[Summary, str, str]) -> None:
    _, before, after = clean_raw
    assert before == after


def fault_row(raw: Path, fault: Fault) -> dict[str, str]:
    with (raw / fault.file).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert fault.row_number is not None
    return rows[fault.row_number - 1]


def failures_in(summary: Summary, suite: str, column: str | None = None, expectation: str | None = None
                ) -> list[ExpectationOutcome]:
    return [o for o in summary.with_status("failed") if o.suite == suite
            and (column is None or o.column == column) and (expectation is None or o.expectation == expectation)]


def test_raw_suites_fail_on_the_faulty_copy_and_name_what_failed(faulty_raw: tuple[Summary, Path]) -> None:
    summary, raw = faulty_raw
    assert summary.with_status("error") == []
    assert summary.exit_code == 1
    manifest = read_manifest(raw)
    unexplained = []
    for fault in manifest:
        dataset, year, name = fault.file.removesuffix(".csv").split("/")
        table_suite = f"raw_{dataset}_{name}"
        if fault.fault_class == "overlapping_episode":
            continue  # chronology across a child's rows: quarantine and the rule catalogue, not a raw suite
        if fault.fault_class in ("missing_column", "empty_file", "truncated_last_line"):
            column = {"missing_column": "missing_contract_columns", "empty_file": "has_header",
                      "truncated_last_line": "malformed_rows"}[fault.fault_class]
            found = [o for o in failures_in(summary, "raw_files", column)
                     if o.severity == "critical" and any(fault.file in e for e in o.examples)]
        elif fault.fault_class in ("duplicate_child_row", "conflicting_episode_rows"):
            found = [o for o in failures_in(summary, table_suite, expectation="expect_compound_columns_to_be_unique")
                     if any(year in e for e in o.examples)]
        else:
            column = {"unparseable_date": f"{fault.column}__unparseable", "unknown_code": fault.column,
                      "year_code_mismatch": "YEAR_CODE"}[fault.fault_class]
            authority = fault_row(raw, fault).get("LOCAL_AUTHORITY_CODE")
            found = [o for o in failures_in(summary, table_suite, column)
                     if year in o.years and (authority is None or authority in o.authorities)]
        if not found:
            unexplained.append(fault)
    assert not unexplained, unexplained


def test_a_broken_expectation_is_an_error_not_a_failure_or_a_pass(
        default_census_dir: Path, tmp_path: Path) -> None:
    suites = tmp_path / "expectations"
    (suites / "raw").mkdir(parents=True)
    document = json.loads((EXPECTATIONS_DIR / "raw" / "raw_cla_adoption.json").read_text())
    document["expectations"].append({
        "type": "expect_column_values_to_not_be_null", "kwargs": {"column": "NO_SUCH_COLUMN"},
        "meta": {"severity": "warning", "description": "a column that does not exist"}})
    (suites / "raw" / "raw_cla_adoption.json").write_text(json.dumps(document))
    missing_table = {"name": "raw_no_such_table", "meta": {"kind": "raw", "batch": {"table": "no_such_table"}},
                     "expectations": [{"type": "expect_table_row_count_to_be_between",
                                       "kwargs": {"min_value": 1}, "meta": {"severity": "critical"}}]}
    (suites / "raw" / "raw_no_such_table.json").write_text(json.dumps(missing_table))

    summary = run_suites("raw", default_census_dir, tmp_path / "out", expectations_dir=suites)

    errors = {(o.suite, o.column or o.expectation) for o in summary.with_status("error")}
    assert errors == {("raw_cla_adoption", "NO_SUCH_COLUMN"),
                      ("raw_no_such_table", "expect_table_row_count_to_be_between")}
    assert all(o.error for o in summary.with_status("error"))
    assert summary.with_status("failed") == []
    assert len(summary.with_status("passed")) == len(document["expectations"]) - 1
    assert summary.exit_code == 2


READER = ("import sys, time, duckdb; con = duckdb.connect(sys.argv[1], read_only=True); "
          "print('open', flush=True); time.sleep(600)")


@pytest.fixture(scope="module")
def warehouse(clean_warehouse: Path) -> Path:
    return clean_warehouse


def test_mart_suites_pass_on_the_built_warehouse(warehouse: Path, tmp_path: Path) -> None:
    # another process reading the warehouse shows that validation takes no writer lock (a writer
    # could not open the file while that reader holds it)
    reader = subprocess.Popen([sys.executable, "-c", READER, str(warehouse)], stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout is not None and reader.stdout.readline().strip() == "open"
        before = file_digest([warehouse])
        summary = run_suites("mart", warehouse, tmp_path)
    finally:
        reader.kill()
        reader.wait()
    assert file_digest([warehouse]) == before
    print(f"\nmart suites on the default warehouse: {summary.seconds:.1f} s\n{summary.describe()}")
    assert summary.with_status("error") == []
    assert summary.with_status("failed") == []
    assert len(summary.with_status("passed")) == expectation_count("mart")
    assert summary.exit_code == 0


def test_mart_suites_name_the_authority_and_year_of_a_damaged_warehouse(warehouse: Path, tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.duckdb"
    shutil.copyfile(warehouse, damaged)
    con = duckdb.connect(str(damaged))
    try:
        la, year = con.execute("select min(local_authority_code), max(year_code) "
                               "from marts.fct_cla_looked_after_at_31_march").fetchall()[0]
        con.execute("delete from marts.fct_cla_looked_after_at_31_march "
                    "where local_authority_code = ? and year_code = ?", [la, year])
    finally:
        con.close()
    summary = run_suites("mart", damaged, tmp_path / "out")
    assert summary.with_status("error") == []
    assert summary.exit_code == 1
    for suite, column in (("mart_cross_census", "without_open_cla_episode"),
                          ("mart_volumes_by_authority", "children")):
        [failure] = failures_in(summary, suite, column)
        assert failure.severity == "critical"
        assert failure.authorities == (str(la),) and failure.years == (str(year),), failure
    [reconcile] = failures_in(summary, "mart_cla_31_march_reconciliation", "difference")
    assert reconcile.years == (str(year),)
