"""The raw-file inventory (base_census_extract__files) on files with awkward line endings, blank
lines, non-ASCII text, bytes that are not UTF-8 and cut-short last lines: every measure of a file
agrees with the same measure taken in Python from its bytes.

The model measures a file without splitting it into lines (a split took gigabytes at scale 100),
so this is what keeps those measures exact.
"""

from __future__ import annotations

import csv
import hashlib
import os
from pathlib import Path

import duckdb
import pytest

from carecensus.dbt_runner import run_dbt
from carecensus.sql import literal

FILES: dict[str, bytes] = {
    "plain": b"A,B\n1,2\n3,4\n",
    "crlf": b"A,B\r\n1,2\r\n3,4\r\n",
    "blank_lines": b"A,B\n1,2\n\n  \n\r\n3,4\n\n\n",
    "empty": b"",
    "no_final_newline": b"A,B\n1,2\n3",
    "non_ascii": "Caf\u00e9,B\n\u00e9,2\n\u00e9\u00e9,\u00e9".encode(),
    "not_utf8": b"A,B\n1,\xff2\n",
    "only_newlines": b"\n\n\n",
    "header_only": b"A,B\n",
    "header_no_newline": b"A,B",
    "tab_line": b"A,B\n\t\n1,2\n \r\n",
    "carriage_returns_only": b"A,B\r1,2\r",
    "leading_spaces": b"  A,B\n 1, 2 \n  \n",
    "blank_first": b"\r\n\r\nA,B\n1,2",
    "quoted": b'"A","B C"\n"1","x,y"\n',
    "spaces_after_last_row": b"A,B\n1\n  ",
    # a line of no-break spaces is not blank: only spaces and carriage returns make a line blank
    # (DuckDB's trim() also removes other Unicode spaces; Spark's, as here, only spaces)
    "no_break_space_line": "A,B\n1,2\n\u00a0".encode(),
}

COLUMNS = ("size_bytes", "content_hash", "is_valid_utf8", "header_columns", "data_row_count",
           "ends_with_newline", "is_last_line_truncated")


def expected(data: bytes) -> tuple[object, ...]:
    """The inventory's measures of one file, from its bytes."""
    digest = hashlib.sha256(data).hexdigest()[:32]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return (len(data), digest, False, ",,", 0, False, False)
    lines = text.split("\n")
    nonblank = [line for line in lines if line.replace("\r", "").strip(" ")]
    header = lines[0].replace("\r", "")
    last = nonblank[-1].replace("\r", "") if nonblank else None
    ends_with_newline = text.endswith("\n")
    truncated = not ends_with_newline and last is not None and last.count(",") < header.count(",")
    header_columns = "," + header.replace('"', "").replace(" ", "") + ","
    return (len(data), digest, True, header_columns, max(len(nonblank) - 1, 0), ends_with_newline,
            truncated)


@pytest.fixture(scope="module")
def inventory(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[object, ...]]:
    work = tmp_path_factory.mktemp("raw_files")
    folder = work / "raw" / "cla" / "202324"
    folder.mkdir(parents=True)
    for name, data in FILES.items():
        (folder / f"{name}.csv").write_bytes(data)
    warehouse = work / "warehouse.duckdb"
    run_dbt(("run", "--select", "base_census_extract__files"), raw=work / "raw",
            warehouse=warehouse, work=work, check=True)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        found = con.execute(
            f"select source_file, {', '.join(COLUMNS)} from staging.base_census_extract__files"
        ).fetchall()
    return {str(row[0]): tuple(row[1:]) for row in found}


def test_every_file_is_in_the_inventory(inventory: dict[str, tuple[object, ...]]) -> None:
    assert sorted(inventory) == sorted(f"cla/202324/{name}.csv" for name in FILES)


@pytest.mark.parametrize("name", sorted(FILES))
def test_the_inventory_measures_a_file_as_python_does(
        inventory: dict[str, tuple[object, ...]], name: str) -> None:
    measured = dict(zip(COLUMNS, inventory[f"cla/202324/{name}.csv"], strict=True))
    assert measured == dict(zip(COLUMNS, expected(FILES[name]), strict=True))


def test_a_raw_folder_and_key_salt_with_apostrophes_load(
        default_census_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths and the key salt go into SQL as string literals (census_string_literal): a raw folder
    under o'brien's census/ loads every row, read by glob and then a touched file by name, and a
    salt with an apostrophe keys children as the documented hash does (salt|authority|id)."""
    raw = tmp_path / "o'brien's census" / "raw"
    salt = "it's a salt"
    rows, keys = 0, set()
    for source in sorted(default_census_dir.glob("cla/*/adoption.csv")):
        copy = raw / "cla" / source.parent.name / source.name
        copy.parent.mkdir(parents=True)
        copy.write_bytes(source.read_bytes())
        with copy.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                rows += 1
                text = f"{salt}|{row['LOCAL_AUTHORITY_CODE']}|{row['SYSTEM_ID']}"
                keys.add(hashlib.sha256(text.encode()).hexdigest()[:32])
    assert rows > 0
    monkeypatch.setenv("CENSUS_KEY_SALT", salt)
    warehouse = tmp_path / "warehouse.duckdb"

    def build() -> tuple[int, set[str], str]:
        result = run_dbt(("build", "--select", "+stg_cla__adoptions", "--exclude-resource-type",
                          "test", "--exclude-resource-type", "unit_test"),
                         raw=raw, warehouse=warehouse, work=tmp_path, capture=True)
        assert result.returncode == 0, result.stdout[-4000:]
        with duckdb.connect(str(warehouse), read_only=True) as con:
            loaded = con.execute("select count(*) from staging.base_cla__adoption").fetchall()
            built = con.execute("select distinct child_key from staging.stg_cla__adoptions")
            child_keys = {str(key) for (key,) in built.fetchall()}
        inventory = next((tmp_path / "target" / "run").rglob("base_census_extract__files.sql"))
        return int(loaded[0][0]), child_keys, inventory.read_text()

    loaded, child_keys, _ = build()
    assert loaded == rows
    assert child_keys and child_keys <= keys
    touched = next(raw.glob("cla/*/adoption.csv"))
    os.utime(touched, (touched.stat().st_atime, touched.stat().st_mtime + 60))
    loaded, _, inventory = build()
    assert loaded == rows
    assert f"read_blob([{literal(touched.as_posix())}])" in inventory
