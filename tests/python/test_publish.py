"""Publishing the public marts: only public models, comments kept, Parquet beside, an atomic swap
that a reader holding the old file never notices, and nothing replaced when a publish fails.

The build databases here are small DuckDB files written by the test with a manifest of the same
shape as dbt's, so the test does not depend on which marts are public in the real project."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

from carecensus.dbt_runner import Manifest
from carecensus.publish import public_models, publish

PUBLIC = ("marts", "fct_visits")
PRIVATE = ("staging", "stg_visits")
COLUMN_COMMENTS = {"visit_key": "Key of a visit.", "visit_count": "Visits that day, it's a count."}


def make_build_db(path: Path, version: int) -> None:
    """A build database as dbt + persist_docs leave it: a public mart with comments and a
    staging view; ``version`` changes the row count so versions can be told apart."""
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema marts")
        con.execute("create schema staging")
        con.execute("create table marts.fct_visits as select 'v' || i as visit_key, "
                    "i * ? as visit_count from range(?) as t(i)", [version, 1000 * version])
        con.execute("comment on table marts.fct_visits is 'One row per visit.'")
        for column, comment in COLUMN_COMMENTS.items():
            escaped = comment.replace("'", "''")
            con.execute(f"comment on column marts.fct_visits.{column} is '{escaped}'")
        con.execute("create view staging.stg_visits as select 1 as id")
    finally:
        con.close()


def _model_node(schema: str, name: str, access: str, enabled: bool = True) -> dict[str, Any]:
    return {"resource_type": "model", "name": name, "alias": name, "schema": schema,
            "access": access, "description": f"{name} from the manifest",
            "config": {"enabled": enabled}}


def make_manifest(version: int, *extra_public: str) -> Manifest:
    nodes = {"model.demo.fct_visits": _model_node(*PUBLIC, "public"),
             "model.demo.stg_visits": _model_node(*PRIVATE, "protected"),
             "model.demo.fct_disabled": _model_node("marts", "fct_disabled", "public", False),
             "seed.demo.codes": {"resource_type": "seed", "name": "codes", "schema": "codes",
                                 "access": "public"}}
    for name in extra_public:
        nodes[f"model.demo.{name}"] = _model_node("marts", name, "public")
    return {"metadata": {"invocation_id": f"build-{version}"}, "nodes": nodes}


@pytest.fixture()
def places(tmp_path: Path) -> dict[str, Path]:
    return {"build": tmp_path / "warehouse.duckdb", "serving": tmp_path / "serve" / "serving.duckdb",
            "parquet": tmp_path / "serve" / "parquet", "manifest": tmp_path / "manifest.json"}


def _publish_version(places: dict[str, Path], version: int) -> None:
    make_build_db(places["build"], version)
    publish(places["build"], make_manifest(version), places["serving"], places["parquet"])


def query(path: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_public_models_come_from_the_manifest_access() -> None:
    names = [m.relation for m in public_models(make_manifest(1, "dim_days"))]
    assert names == ["dim_days", "fct_visits"]


def test_publish_copies_only_public_models_with_their_comments(places: dict[str, Path]) -> None:
    _publish_version(places, 2)
    serving = places["serving"]
    tables = query(serving, "select schema_name, table_name from duckdb_tables() "
                            "where database_name = 'serving' order by all")
    assert tables == [("main", "publication"), PUBLIC]
    assert query(serving, "select count(*), sum(visit_count) from marts.fct_visits") == [
        (2000, 2 * sum(range(2000)))]
    comments = dict(query(serving, "select column_name, comment from duckdb_columns() "
                                   "where table_name = 'fct_visits'"))
    assert comments == COLUMN_COMMENTS
    assert query(serving, "select comment from duckdb_tables() where table_name = 'fct_visits'"
                 ) == [("One row per visit.",)]
    assert query(serving, "select table_name, row_count, dbt_invocation_id from publication") == [
        ("fct_visits", 2000, "build-2")]
    parquet = places["parquet"] / "marts.fct_visits.parquet"
    assert duckdb.execute(f"select count(*) from '{parquet}'").fetchall() == [(2000,)]
    assert sorted(p.name for p in places["parquet"].iterdir()) == [parquet.name]
    leftovers = [p.name for p in serving.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_failed_publish_leaves_the_previous_serving_file_untouched(
        places: dict[str, Path]) -> None:
    _publish_version(places, 1)
    before = _digest(places["serving"])
    parquet_before = sorted(p.name for p in places["parquet"].iterdir())
    make_build_db(places["build"], 3)
    # the manifest lists a public model the build did not make (a failed or partial build)
    with pytest.raises(duckdb.Error):
        publish(places["build"], make_manifest(3, "fct_missing"), places["serving"],
                places["parquet"])
    assert _digest(places["serving"]) == before
    assert query(places["serving"], "select dbt_invocation_id from publication") == [("build-1",)]
    assert sorted(p.name for p in places["parquet"].iterdir()) == parquet_before
    assert [p.name for p in places["serving"].parent.iterdir() if p.name.startswith(".")] == []


def test_publish_without_a_build_database_refuses(places: dict[str, Path]) -> None:
    with pytest.raises(FileNotFoundError):
        publish(places["build"], make_manifest(1), places["serving"], places["parquet"])
    assert not places["serving"].exists()


NEW_READER = """
import duckdb, json, sys
con = duckdb.connect(sys.argv[1], read_only=True)
print(json.dumps(con.execute(
    "select dbt_invocation_id, row_count, (select count(*) from marts.fct_visits) "
    "from publication").fetchall()))
"""


def test_a_reader_holding_the_old_file_keeps_a_complete_old_version(
        places: dict[str, Path]) -> None:
    _publish_version(places, 1)
    reader = duckdb.connect(str(places["serving"]), read_only=True)
    try:
        old = "select dbt_invocation_id, row_count, (select count(*) from marts.fct_visits) " \
              "from publication"
        assert reader.execute(old).fetchall() == [("build-1", 1000, 1000)]
        # rebuild, then publish from another process (as the main job does) while the reader
        # still has the serving file open: it must not be blocked
        make_build_db(places["build"], 4)
        places["manifest"].write_text(json.dumps(make_manifest(4)))
        result = subprocess.run(
            [str(Path(sys.executable).with_name("carecensus")), "publish",
             "--build-db", str(places["build"]), "--manifest", str(places["manifest"]),
             "--serving", str(places["serving"]), "--parquet", str(places["parquet"])],
            capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "published 1 public tables" in result.stdout
        # the old reader: the complete previous version, table and publication log agreeing
        assert reader.execute(old).fetchall() == [("build-1", 1000, 1000)]
        assert reader.execute("select sum(visit_count) from marts.fct_visits").fetchall() == [
            (sum(range(1000)),)]
        # a new connection (another process, as a BI tool would be) sees the new version
        fresh = subprocess.run([sys.executable, "-c", NEW_READER, str(places["serving"])],
                               capture_output=True, text=True, timeout=60)
        assert fresh.returncode == 0, fresh.stderr
        assert json.loads(fresh.stdout) == [["build-4", 4000, 4000]]
    finally:
        reader.close()
