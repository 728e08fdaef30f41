"""Incremental yearly load: adding a new reporting year's folder and building again reads only the
new files (the base models are incremental on DuckDB), recomputes only the changed files and
years of the partition-incremental models, and gives exactly the marts of a full rebuild, corrections to earlier
years included.

The history is the default census without its last year (202425). That return corrects some
placement postcodes of episodes reported in 202324 (the generator's later-return corrections),
which break rule 434 until the correction arrives: the test checks the errors are there before
the new year and gone after it, and that every mart equals the full build's, row for row.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

from carecensus.dbt_runner import build_warehouse, run_dbt

NEW_YEAR = "202425"
CENSUSES = ("cla", "crcs", "plasc")
# data tests of partition-incremental models (macros/census_partition_tests.sql): a row test of a
# model incremental by file, and a key test of one incremental by year
CODE_TEST = "values_in_code_list_stg_crcs__children_ref_code_sex___sex_code__year_code"
KEY_TEST = "unique_bdg_crcs_parenting_factors_crcs_parenting_factor_key"
# models incremental by year (census_partition_incremental) whose inputs are CRCS rows alone
CRCS_ROW_MODELS = ("int_crcs_parenting_factors_unpivoted", "bdg_crcs_parenting_factors")
# and those that also read that year's CLA episodes and census date (one partition per year too)
YEAR_MODELS = (*CRCS_ROW_MODELS, "int_validation_crcs_rules")
# and those that also read CRCS status groups, which other returns can change
STATUS_MODELS = ("fct_crcs_care_and_support", "int_plasc_pupils_matched_to_care_and_support",
                 "fct_pupil_outcomes", "fct_pub_education_outcomes",
                 "fct_pub_crcs_care_and_support")
# models incremental by raw file (census_rows_in_files, census_clean_rows): the row checks of a
# table's files, and the staging model of its clean rows
FILE_MODELS = {(census, table): (f"base_{census}__{table}_issues", staging) for census, table, staging in (
    ("cla", "episode", "stg_cla__episodes"), ("cla", "child", "stg_cla__children"),
    ("crcs", "child", "stg_crcs__children"), ("plasc", "pupil", "stg_plasc__pupils"))}


def copy_without_year(source: Path, target: Path, year: str) -> None:
    for census in CENSUSES:
        for folder in sorted((source / census).iterdir()):
            if folder.name != year:
                shutil.copytree(folder, target / census / folder.name)


def error_failures(warehouse: Path) -> int:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return int(con.execute("select count(*) from intermediate.int_validation_failures "
                               "where severity = 'error'").fetchall()[0][0])
    finally:
        con.close()


def refreshed_partitions(warehouse: Path) -> dict[str, list[str]]:
    """The partitions (years, files) each partition-incremental model recomputed in its last
    build ('*': every one, '-': none)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute("select model_name, partition_value from main.census_model_refreshes "
                           "order by 1, 2").fetchall()
    finally:
        con.close()
    refreshed: dict[str, list[str]] = {}
    for model, year in rows:
        refreshed.setdefault(str(model), []).append(str(year))
    return refreshed


def compiled_base_model(work: Path, folder: str, model: str) -> str:
    """The SQL the last dbt command compiled for a base model (models/staging/<folder>/base)."""
    return (work / "target" / "compiled" / "welsh_care_census" / "models" / "staging" / folder
            / "base" / f"{model}.sql").read_text()


def compiled_inventory(work: Path) -> str:
    """The SQL the last dbt command compiled for the file inventory."""
    return compiled_base_model(work, "census_extract", "base_census_extract__files")


def inventory_reads(work: Path) -> str:
    """The list of files whose bytes the last build's file inventory read (its compiled
    ``read_blob([...])``)."""
    compiled = compiled_inventory(work)
    read = compiled[compiled.index("read_blob(["):]
    return read[:read.index("])")]


def data_tests_run(work: Path) -> dict[str, tuple[str, str]]:
    """The data tests of the last dbt command: name -> (status, compiled SQL)."""
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    return {r["unique_id"].split(".")[2]: (r["status"], r["compiled_code"] or "")
            for r in results if r["unique_id"].startswith("test.")}


def differing_tables(left: Path, right: Path) -> dict[str, tuple[int, int, int]]:
    """Every table of the marts, intermediate and staging schemas of ``right`` that differs from
    ``left``'s: schema.table -> (rows, rows only in left, rows only in right)."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{left}' as left_db (read_only)")
        con.execute(f"attach '{right}' as right_db (read_only)")
        tables = [f"{schema}.{table}" for schema, table in con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = 'right_db' "
            "and schema_name in ('marts', 'intermediate', 'staging') order by 1, 2").fetchall()]
        assert sum(table.startswith("marts.") for table in tables) > 30, tables
        assert "staging.base_census_extract__files" in tables, tables
        differ: dict[str, tuple[int, int, int]] = {}
        for table in tables:
            only = [int(con.execute(
                f"select count(*) from (select * from {a}.{table} "
                f"except all select * from {b}.{table})").fetchall()[0][0])
                for a, b in (("left_db", "right_db"), ("right_db", "left_db"))]
            rows = int(con.execute(f"select count(*) from right_db.{table}").fetchall()[0][0])
            if any(only):
                differ[table] = (rows, only[0], only[1])
        return differ
    finally:
        con.close()


@pytest.fixture(scope="module")
def incremental(default_census_dir: Path, tmp_path_factory: pytest.TempPathFactory
                ) -> tuple[Path, Path, int]:
    """(the warehouse built from the history then incrementally with the new year, its work
    folder, the error-level rule failures before the new year)."""
    work = tmp_path_factory.mktemp("incremental")
    raw = work / "raw"
    copy_without_year(default_census_dir, raw, NEW_YEAR)
    history_vars = '{census_last_year_code: 202324, census_expect_faults: true}'
    warehouse, _ = build_warehouse(raw, work, "--vars", history_vars)
    errors_before = error_failures(warehouse)
    for census in CENSUSES:
        shutil.copytree(default_census_dir / census / NEW_YEAR, raw / census / NEW_YEAR)
    build_warehouse(raw, work)
    return warehouse, work, errors_before


def test_the_new_year_load_reads_only_the_new_files(incremental: tuple[Path, Path, int]) -> None:
    _, work, _ = incremental
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    statuses = {r["unique_id"].rsplit(".", 1)[1]: r["status"] for r in results}
    for census, table in (("cla", "episode"), ("cla", "child"), ("crcs", "child"), ("plasc", "pupil")):
        model = f"base_{census}__{table}"
        assert statuses[model] == "success"
        compiled = compiled_base_model(work, census, model)
        assert f"{census}/{NEW_YEAR}/{table}.csv" in compiled
        assert f"{census}/202324/{table}.csv" not in compiled and f"{census}/*/" not in compiled
    # the file inventory reads the bytes of the new files only, and keeps the other files' rows
    inventory = compiled_inventory(work)
    read = inventory_reads(work)
    assert read.count(".csv") == 6 and all(f"{census}/{NEW_YEAR}/" in read for census in CENSUSES), read
    assert "described_before" in inventory and "/*/*/*.csv" not in inventory


def test_the_new_return_corrects_the_earlier_year(incremental: tuple[Path, Path, int]) -> None:
    warehouse, _, errors_before = incremental
    assert errors_before > 0  # 202324 as first returned breaks rule 434 ...
    assert error_failures(warehouse) == 0  # ... until 202425 corrects it


def test_incremental_marts_equal_a_full_rebuild(incremental: tuple[Path, Path, int],
                                                clean_warehouse: Path) -> None:
    """Every table of the marts, and of the intermediate and staging models under them."""
    warehouse, _, _ = incremental
    assert differing_tables(clean_warehouse, warehouse) == {}


def test_partition_incremental_models_recompute_only_what_changed(
        incremental: tuple[Path, Path, int]) -> None:
    warehouse, _, _ = incremental
    refreshed = refreshed_partitions(warehouse)
    # the row checks and staging of the raw files: the new year's files, and no other
    for (census, table), (row_checks, staging) in FILE_MODELS.items():
        files = refreshed.get(row_checks, [])
        assert f"{census}/{NEW_YEAR}/{table}.csv" in files, (census, table, refreshed)
        assert all(f"/{NEW_YEAR}/" in file for file in files), (census, table, refreshed)
        assert refreshed.get(staging) == [f"{census}/{NEW_YEAR}/{table}.csv"], (staging, refreshed)
    for model in YEAR_MODELS:
        assert refreshed.get(model) == [NEW_YEAR], (model, refreshed)
    for model in STATUS_MODELS:
        years = refreshed.get(model, [])
        assert NEW_YEAR in years and "*" not in years and len(years) < 4, (model, refreshed)


def test_data_tests_of_partition_models_check_the_new_year(
        incremental: tuple[Path, Path, int]) -> None:
    """The history was built with its data tests, which passed; in the new year's build a test of
    a partition-incremental model checks the rows (or, for a key test, the keys) of the
    partitions recomputed, and a test of a model rebuilt whole checks every row."""
    _, work, _ = incremental
    tests = data_tests_run(work)
    status, code = tests[CODE_TEST]
    expected = f"where ((source_file in ('crcs/{NEW_YEAR}/child.csv')))"
    assert status == "pass" and expected in code, code
    status, code = tests[KEY_TEST]
    assert status == "pass" and f"where (year_code in ({NEW_YEAR})))" in code, code
    status, code = tests["unique_int_crcs_children_grouped_by_status_crcs_key"]
    assert status == "pass" and "in (select" not in code and NEW_YEAR not in code, code


def test_a_correction_to_an_earlier_crcs_year_is_recomputed(
        incremental: tuple[Path, Path, int]) -> None:
    """A later delivery of 201920's CRCS file with one parenting factor corrected: that year, and
    only that year, of the parenting-factor models is recomputed, and the bridge shows the new
    value."""
    warehouse, work, _ = incremental
    child_file = work / "raw" / "crcs" / "201920" / "child.csv"
    original = child_file.read_bytes()
    lines = original.decode("utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\r\n").split(",")
    column = header.index("DOMESTIC_ABUSE")
    # the first row without quoted fields whose factor is 0 (no): corrected to 1 (yes)
    index = next(i for i, line in enumerate(lines[1:], start=1)
                 if '"' not in line and line.rstrip("\r\n").split(",")[column] == "0")
    corrected = lines[index].rstrip("\r\n").split(",")
    corrected[column] = "1"
    lines[index] = ",".join(corrected) + lines[index][len(lines[index].rstrip("\r\n")):]
    child_file.write_bytes("".join(lines).encode("utf-8"))
    try:
        build_warehouse(work / "raw", work)
        refreshed = refreshed_partitions(warehouse)
        for model in YEAR_MODELS:
            assert refreshed.get(model) == ["201920"], (model, refreshed)
        assert refreshed.get("stg_crcs__children") == ["crcs/201920/child.csv"], refreshed
        assert refreshed.get("stg_plasc__pupils") == ["-"], refreshed
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            present = con.execute(
                "select bridge.is_present from marts.bdg_crcs_parenting_factors as bridge "
                "inner join staging.stg_crcs__children as children using (crcs_key) "
                "where children.source_file = 'crcs/201920/child.csv' "
                "and children.source_row_number = ? "
                "and bridge.parenting_factor_code = 'domestic_abuse'", [index]).fetchall()
        finally:
            con.close()
        assert present == [(True,)]
    finally:
        child_file.write_bytes(original)


def test_a_file_delivered_again_with_changes_is_read_again(
        incremental: tuple[Path, Path, int], tmp_path: Path) -> None:
    warehouse, work, _ = incremental
    raw = work / "raw"
    episodes = raw / "cla" / NEW_YEAR / "episode.csv"
    lines = episodes.read_text().splitlines(keepends=True)
    episodes.write_text("".join(lines[:-1]))  # the last episode row withdrawn
    try:
        build_warehouse(raw, work, data_tests_may_fail=True)
        con = duckdb.connect(str(warehouse), read_only=True)
        loaded = con.execute("select count(*) from staging.base_cla__episode "
                             f"where source_file = 'cla/{NEW_YEAR}/episode.csv'").fetchall()[0][0]
        con.close()
        assert loaded == len(lines) - 2  # header and the withdrawn row
    finally:
        episodes.write_text("".join(lines))


def test_a_touched_file_is_described_again_and_nothing_is_reloaded(
        incremental: tuple[Path, Path, int]) -> None:
    """A file whose modification time changed but not its bytes: the inventory reads it again
    (and only it) and records the new time; its rows are not loaded or staged again."""
    warehouse, work, _ = incremental
    build_warehouse(work / "raw", work)  # first, the files the tests before this one restored
    pupils = work / "raw" / "plasc" / NEW_YEAR / "pupil.csv"
    status = pupils.stat()
    touched_ns = status.st_mtime_ns + 3_000_000_000
    os.utime(pupils, ns=(status.st_atime_ns, touched_ns))
    build_warehouse(work / "raw", work)
    read = inventory_reads(work)
    assert read.count(".csv") == 1 and f"plasc/{NEW_YEAR}/pupil.csv" in read, read
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        modified = con.execute("select modified_at from staging.base_census_extract__files "
                               f"where source_file = 'plasc/{NEW_YEAR}/pupil.csv'").fetchall()
    finally:
        con.close()
    expected = datetime.fromtimestamp(touched_ns // 1000 / 1_000_000, tz=timezone.utc)
    assert [row[0].astimezone(timezone.utc) for row in modified] == [expected]
    assert refreshed_partitions(warehouse).get("stg_plasc__pupils") == ["-"]


def test_a_data_test_checks_every_row_again_until_it_passes(
        incremental: tuple[Path, Path, int]) -> None:
    """A test that passed checks only the partitions changed since, so it does not see a row
    changed outside dbt unless told to check every row (census_test_every_row). Once it failed,
    it checks every row, and fails again, until it passes. A key test of the changed partitions
    finds a duplicate whose other row is in an unchanged partition."""
    warehouse, work, _ = incremental

    def run_tests(*extra: str) -> dict[str, tuple[str, str]]:
        result = run_dbt(("test", "--select", CODE_TEST, KEY_TEST, *extra), raw=work / "raw",
                         warehouse=warehouse, work=work, capture=True)
        tests = data_tests_run(work)
        assert set(tests) == {CODE_TEST, KEY_TEST}, result.stdout[-3000:]
        return tests

    def execute(sql: str, *parameters: object) -> list[tuple[object, ...]]:
        con = duckdb.connect(str(warehouse))
        try:
            return con.execute(sql, parameters).fetchall()
        finally:
            con.close()

    def checks_nothing(test: tuple[str, str]) -> bool:
        return test[0] == "pass" and "where 1 = 0" in test[1].replace("(", "").replace(")", "")

    def checks_every_row(test: tuple[str, str]) -> bool:
        return all(filtered not in test[1] for filtered in ("1 = 0", " in (2", "source_file in"))

    # the build before this test passed, and nothing changed since: nothing is checked
    tests = run_tests()
    assert checks_nothing(tests[CODE_TEST]) and checks_nothing(tests[KEY_TEST]), tests
    # a row of an earlier year changed outside dbt: not seen ...
    row = "source_file = 'crcs/201718/child.csv' and source_row_number = 2"
    [(sex,)] = execute(f"select sex_code from staging.stg_crcs__children where {row}")
    execute(f"update staging.stg_crcs__children set sex_code = 'Z' where {row}")
    try:
        assert checks_nothing(run_tests()[CODE_TEST])
        # ... unless every row is checked; having failed, the test checks every row again
        for extra in (("--vars", "{census_test_every_row: true}"), ()):
            test = run_tests(*extra)[CODE_TEST]
            assert test[0] == "fail" and checks_every_row(test), test
    finally:
        execute(f"update staging.stg_crcs__children set sex_code = ? where {row}", sex)
    test = run_tests()[CODE_TEST]
    assert test[0] == "pass" and checks_every_row(test), test
    assert checks_nothing(run_tests()[CODE_TEST])

    # the key test, as if the new year had been recomputed since it passed, and that year now
    # holding a row with the key of a 201718 row
    execute("update main.census_test_passes set row_hash = 'recomputed' "
            f"where test_name like '%.{KEY_TEST}.%' and partition_value = '{NEW_YEAR}'")
    copy = "select * replace ({year} as year_code) from marts.bdg_crcs_parenting_factors"
    execute(f"insert into marts.bdg_crcs_parenting_factors "
            f"{copy.format(year=NEW_YEAR)} where year_code = 201718 order by 1 limit 1")
    try:
        test = run_tests()[KEY_TEST]
        assert test[0] == "fail" and f"where (year_code in ({NEW_YEAR})))" in test[1], test
    finally:
        execute("delete from marts.bdg_crcs_parenting_factors where year_code = "
                f"{NEW_YEAR} and crcs_parenting_factor_key in (select crcs_parenting_factor_key "
                "from marts.bdg_crcs_parenting_factors where year_code = 201718)")
    test = run_tests()[KEY_TEST]
    assert test[0] == "pass" and checks_every_row(test), test


def test_an_empty_full_refresh_leaves_nothing_to_keep(incremental: tuple[Path, Path, int]) -> None:
    """`--empty --full-refresh` makes a partition-incremental model again with no rows, so it was
    built from nothing: the next build fills every partition again."""
    warehouse, work, _ = incremental
    model = "bdg_crcs_parenting_factors"

    def build(*extra: str) -> int:
        result = run_dbt(("run", "--select", model, *extra), raw=work / "raw", warehouse=warehouse,
                         work=work, capture=True)
        assert result.returncode == 0, result.stdout[-4000:]
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            return int(con.execute(f"select count(*) from marts.{model}").fetchall()[0][0])
        finally:
            con.close()

    rows = build()
    assert rows > 0
    assert build("--empty", "--full-refresh") == 0
    assert build() == rows
    assert refreshed_partitions(warehouse)[model] == ["*"]


def test_rows_changed_outside_a_build_are_recomputed(incremental: tuple[Path, Path, int]) -> None:
    """A partition-incremental model counts its rows per partition after each build: a year whose
    rows were deleted by hand, or grew (as when another commit builds the table its own way), no
    longer holds what its last build left, so the next build recomputes that year, and only it."""
    warehouse, work, _ = incremental
    model = "bdg_crcs_parenting_factors"

    def build() -> list[str]:
        result = run_dbt(("run", "--select", model), raw=work / "raw", warehouse=warehouse,
                         work=work, capture=True)
        assert result.returncode == 0, result.stdout[-4000:]
        return refreshed_partitions(warehouse)[model]

    def edit(sql: str) -> dict[int, int]:
        con = duckdb.connect(str(warehouse))
        try:
            con.execute(sql)
            return {int(year): int(rows) for year, rows in con.execute(
                f"select year_code, count(*) from marts.{model} group by 1").fetchall()}
        finally:
            con.close()

    assert build() == ["-"]
    rows = edit("select 1")
    assert rows[201819] > 5 and rows[202021] > 5
    edit(f"delete from marts.{model} where year_code = 201819")
    edit(f"insert into marts.{model} select * from marts.{model} where year_code = 202021 limit 5")
    assert build() == ["201819", "202021"]
    assert edit("select 1") == rows
    assert build() == ["-"]


def test_a_build_by_other_code_reads_every_raw_file_again(
        incremental: tuple[Path, Path, int], monkeypatch: pytest.MonkeyPatch) -> None:
    """The file inventory and the base models keep rows of earlier builds: a build by other code
    (here another key salt, which is part of the code version) reads every raw file again, with
    the same rows; the next build by the same code reads none, and so does one given the raw
    folder by another path (where the folder is, is not code). --empty forgets no file."""
    warehouse, work, _ = incremental
    models = ("base_census_extract__files", "base_cla__adoption")

    def run_base_models(raw: Path, *extra: str) -> tuple[str, str, int]:
        result = run_dbt(("run", "--select", *models, *extra), raw=raw, warehouse=warehouse,
                         work=work, capture=True)
        assert result.returncode == 0, result.stdout[-4000:]
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            rows = int(con.execute("select count(*) from staging.base_cla__adoption").fetchall()[0][0])
        finally:
            con.close()
        adoptions = compiled_base_model(work, "cla", "base_cla__adoption")
        return compiled_inventory(work), adoptions, rows

    raw = work / "raw"
    _, _, rows_before = run_base_models(raw)
    with monkeypatch.context() as patch:
        patch.setenv("CENSUS_KEY_SALT", "another-salt")
        inventory, adoptions, rows = run_base_models(raw)
    assert "described_before" not in inventory and "/*/*/*.csv" in inventory
    assert "cla/*/" in adoptions and f"cla/{NEW_YEAR}/adoption.csv" not in adoptions
    assert rows == rows_before > 0
    run_base_models(raw)  # back to the salt before: every file once more
    link = work / "raw-by-another-path"
    link.symlink_to(raw.resolve(), target_is_directory=True)
    for folder in (raw, link):
        inventory, adoptions, rows = run_base_models(folder)
        assert "read_blob([" not in inventory and "where 1 = 0" in inventory, (folder, inventory)
        assert "described_before" in inventory
        assert "cla/*/" not in adoptions and "no file of this table" in adoptions, (folder, adoptions)
        assert rows == rows_before
    # a build over no rows (--empty) reads the inventory as empty: no loaded file is forgotten
    assert run_base_models(raw, "--empty")[2] == rows_before
