"""The same project on Apache Spark: a census built on the `spark` target (dbt-spark, session
mode, local pyspark) gives every public mart of the DuckDB build, row for row.

Skipped where the Spark extras (requirements-spark.lock) are not installed, unless
CENSUS_SPARK_REQUIRED is set; `make spark-test`, the last step of `make test`, installs them and
runs this file with it set. The census is the default one at scale 0.2 (a Spark build of the
full default census took 22 minutes under load on two cores).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from carecensus.dbt_runner import build_warehouse, load_manifest, run_dbt
from carecensus.generator import GeneratorConfig, generate

SPARK_INSTALLED = (importlib.util.find_spec("pyspark") is not None
                   and importlib.util.find_spec("dbt.adapters.spark") is not None)
# `make spark-test` (and so CI) sets CENSUS_SPARK_REQUIRED: there, missing extras fail the run.
SPARK_REQUIRED = bool(os.environ.get("CENSUS_SPARK_REQUIRED"))

pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(not SPARK_INSTALLED and not SPARK_REQUIRED,
                       reason="the Spark extras are not installed (make spark-setup)"),
]


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, Path]]:
    """(the DuckDB warehouse, the Spark table folder, the DuckDB build's manifest)."""
    assert SPARK_INSTALLED, "CENSUS_SPARK_REQUIRED is set but pyspark or dbt-spark is not importable"
    work = tmp_path_factory.mktemp("spark")
    raw = work / "raw"
    generate(GeneratorConfig(out_dir=raw, scale=0.2))
    warehouse, _ = build_warehouse(raw, work / "duckdb")
    spark_dir = work / "spark"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SPARK_LOCAL_IP", "127.0.0.1")
        env.setenv("CENSUS_SPARK_DIR", str(spark_dir))
        result = run_dbt(["build", "--target", "spark", "--threads", "2"], raw=raw,
                         work=work / "spark_dbt", capture=True)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    # A JVM whose code cache fills stops compiling and can then die ("Out of space in CodeCache
    # for adapters"): profiles.yml reserves room for it beside -XX:TieredStopAtLevel=1.
    assert "CodeCache is full" not in result.stderr, result.stderr[-2000:]
    yield warehouse, spark_dir / "warehouse", work / "duckdb" / "target" / "manifest.json"


def public_marts(manifest: Path) -> list[tuple[str, str]]:
    nodes = load_manifest(manifest)["nodes"].values()
    return sorted((n["schema"], n["alias"]) for n in nodes
                  if n["resource_type"] == "model" and n.get("access") == "public")


def test_every_public_mart_is_the_same_on_spark(builds: tuple[Path, Path, Path]) -> None:
    warehouse, spark_tables, manifest = builds
    marts = public_marts(manifest)
    assert len(marts) > 30
    con = duckdb.connect(str(warehouse), read_only=True)
    differ: dict[str, tuple[int, int, int]] = {}
    try:
        for schema, name in marts:
            folder = spark_tables / f"{schema}.db" / name
            assert folder.is_dir(), f"no Spark table {schema}.{name}"
            columns = [r[0] for r in con.execute(
                "select column_name from information_schema.columns where table_schema = ? "
                "and table_name = ? order by ordinal_position", [schema, name]).fetchall()]
            as_text = ", ".join(f'cast("{c}" as varchar) as "{c}"' for c in columns)
            duck = f'select {as_text} from "{schema}"."{name}"'
            spark = f"select {as_text} from read_parquet('{folder}{os.sep}*.parquet')"
            only_duck = con.execute(f"select count(*) from ({duck} except all {spark})").fetchall()[0][0]
            only_spark = con.execute(f"select count(*) from ({spark} except all {duck})").fetchall()[0][0]
            rows = con.execute(f"select count(*) from ({duck})").fetchall()[0][0]
            if only_duck or only_spark:
                differ[f"{schema}.{name}"] = (rows, only_duck, only_spark)
    finally:
        con.close()
    assert differ == {}
