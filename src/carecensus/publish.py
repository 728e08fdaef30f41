"""Publishing: copy the public marts from the build database to the serving database.

dbt builds into the build database (``CENSUS_WAREHOUSE_PATH``). Once the build and the
validation gates have passed, :func:`publish` copies every model marked ``access: public``
in the manifest into a separate serving DuckDB file (``CENSUS_SERVING_PATH``, default
``data/serving.duckdb``) that BI tools open read-only, and exports the same tables as Parquet.

The swap is atomic: the new serving file is written under a temporary name in the same folder
and moved over the old one with :func:`os.replace`. A reader that has the old file open keeps
the old inode, so it goes on seeing the complete previous version; a connection opened after
the swap sees the new one. Nothing is replaced unless every table copied: a failure removes
the temporary file and leaves the previous serving file as it was.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb

from carecensus.dbt_runner import Manifest
from carecensus.paths import PROJECT_DIR
from carecensus.sql import identifier, literal

PUBLICATION_TABLE = "main.publication"

# The publishing connection's DuckDB settings: a memory limit of its own (a large census pages to
# disk instead of growing the process), and no insertion order to keep (the marts are sets of rows,
# and copying without an order lets DuckDB write in parallel with less memory)
PUBLISH_SETTINGS: dict[str, str | bool] = {"memory_limit": "2GB", "preserve_insertion_order": False}


def serving_path() -> Path:
    """The serving database: ``CENSUS_SERVING_PATH`` or ``data/serving.duckdb``."""
    return Path(os.environ.get("CENSUS_SERVING_PATH", PROJECT_DIR / "data" / "serving.duckdb"))


def parquet_dir() -> Path:
    """Where the Parquet copies go: ``CENSUS_PARQUET_DIR`` or ``data/parquet``."""
    return Path(os.environ.get("CENSUS_PARQUET_DIR", PROJECT_DIR / "data" / "parquet"))


@dataclass(frozen=True)
class PublicModel:
    """A model the manifest marks ``access: public``, and where dbt built it."""

    unique_id: str
    schema: str
    relation: str
    description: str

    @property
    def qualified_name(self) -> str:
        return f"{identifier(self.schema)}.{identifier(self.relation)}"


@dataclass(frozen=True)
class PublishedTable:
    model: PublicModel
    row_count: int
    parquet_file: Path


def public_models(manifest: Manifest) -> list[PublicModel]:
    """Every enabled model with ``access: public``, in name order."""
    models = []
    for unique_id, node in manifest["nodes"].items():
        if node.get("resource_type") != "model" or node.get("access") != "public":
            continue
        if not node.get("config", {}).get("enabled", True):
            continue
        models.append(PublicModel(unique_id=unique_id, schema=str(node["schema"]),
                                  relation=str(node.get("alias") or node["name"]),
                                  description=str(node.get("description") or "")))
    return sorted(models, key=lambda m: (m.schema, m.relation))


def _copy_table(con: duckdb.DuckDBPyConnection, model: PublicModel) -> int:
    """CREATE TABLE AS from the attached build database, then the table and column comments
    that persist_docs wrote there (CREATE TABLE AS does not carry comments)."""
    con.execute(f"create schema if not exists {identifier(model.schema)}")
    con.execute(f"create table {model.qualified_name} as "
                f"select * from build.{model.qualified_name}")
    found = con.execute(
        "select comment from duckdb_tables() where database_name = 'build' "
        "and schema_name = ? and table_name = ?", [model.schema, model.relation]).fetchall()
    if not found:  # a view in the build database
        found = con.execute(
            "select comment from duckdb_views() where database_name = 'build' "
            "and schema_name = ? and view_name = ?", [model.schema, model.relation]).fetchall()
    table_comment = found[0][0] if found and found[0][0] else model.description
    if table_comment:
        con.execute(f"comment on table {model.qualified_name} is {literal(str(table_comment))}")
    columns = con.execute(
        "select column_name, comment from duckdb_columns() where database_name = 'build' "
        "and schema_name = ? and table_name = ? and comment is not null",
        [model.schema, model.relation]).fetchall()
    for column, comment in columns:
        con.execute(f"comment on column {model.qualified_name}.{identifier(str(column))} "
                    f"is {literal(str(comment))}")
    counted = con.execute(f"select count(*) from {model.qualified_name}").fetchall()
    return int(counted[0][0])


def _write_serving_file(build_db: Path, target: Path, models: list[PublicModel],
                        invocation_id: str, parquet: Path) -> dict[str, int]:
    """The serving database at ``target`` and the Parquet copies in the folder ``parquet``."""
    counts: dict[str, int] = {}
    con = duckdb.connect(str(target), config=dict(PUBLISH_SETTINGS))
    try:
        con.execute(f"attach {literal(str(build_db))} as build (read_only)")
        # The Parquet copies are written straight from the build database, on a connection of
        # their own, while the tables are copied: most tables are too small for DuckDB to spread
        # one statement over both cores, so two at once finish sooner (about 2 s at scale 1).
        exporter, stop = con.cursor(), threading.Event()
        with ThreadPoolExecutor(max_workers=1) as pool:
            exported = pool.submit(_export_parquet, exporter, models, parquet, stop)
            try:
                for model in models:
                    counts[model.unique_id] = _copy_table(con, model)
            except BaseException:  # a failed copy or Ctrl-C: stop the export too, not wait for it
                stop.set()
                with contextlib.suppress(duckdb.Error):
                    exporter.interrupt()
                raise
            exported.result()
        con.execute("detach build")
        con.execute(f"create table {PUBLICATION_TABLE} (schema_name varchar, table_name varchar, "
                    "row_count bigint, dbt_invocation_id varchar, published_at timestamp)")
        published_at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        for model in models:
            con.execute(f"insert into {PUBLICATION_TABLE} values (?, ?, ?, ?, ?)",
                        [model.schema, model.relation, counts[model.unique_id], invocation_id,
                         published_at])
        con.execute(f"comment on table {PUBLICATION_TABLE} is "
                    "'One row per public table in this serving file: its row count and the dbt "
                    "run that built it.'")
        con.execute("checkpoint")
    finally:
        con.close()
    return counts


def _export_parquet(con: duckdb.DuckDBPyConnection, models: list[PublicModel], parquet: Path,
                    stop: threading.Event) -> None:
    """Each model's table in the attached build database as a Parquet file in ``parquet``,
    until ``stop`` is set."""
    try:
        for model in models:
            if stop.is_set():
                return
            con.execute(f"copy (select * from build.{model.qualified_name}) to "
                        f"{literal(str(parquet / parquet_name(model)))} (format parquet)")
    finally:
        con.close()


def parquet_name(model: PublicModel) -> str:
    return f"{model.schema}.{model.relation}.parquet"


def _swap_folder(new: Path, out: Path) -> None:
    """Put the folder ``new`` where ``out`` is (two renames: not atomic, but never partial)."""
    retired = out.with_name(f".{out.name}.retired")
    shutil.rmtree(retired, ignore_errors=True)
    if out.exists():
        out.rename(retired)
    new.rename(out)
    shutil.rmtree(retired, ignore_errors=True)


def publish(build_db: Path, manifest: Manifest, serving: Path | None = None,
            parquet: Path | None = None) -> list[PublishedTable]:
    """Copy the manifest's public models from ``build_db`` into a fresh serving file that
    replaces ``serving`` atomically, with Parquet copies that replace the folder ``parquet``."""
    serving = serving or serving_path()
    parquet = parquet or parquet_dir()
    if not build_db.exists():
        raise FileNotFoundError(f"no build database at {build_db}: run dbt build first")
    models = public_models(manifest)
    invocation_id = str(manifest.get("metadata", {}).get("invocation_id") or "")
    serving.parent.mkdir(parents=True, exist_ok=True)
    parquet.parent.mkdir(parents=True, exist_ok=True)
    # same folders as the targets, so the final renames never cross a file system
    new_file = serving.with_name(f".{serving.name}.{os.getpid()}.building")
    new_parquet = Path(tempfile.mkdtemp(prefix=f".{parquet.name}.", dir=parquet.parent))
    new_parquet.chmod(0o755)  # mkdtemp makes it private; readers of the folder need it
    try:
        new_file.unlink(missing_ok=True)
        counts = _write_serving_file(build_db, new_file, models, invocation_id, new_parquet)
        os.replace(new_file, serving)
    except BaseException:
        new_file.unlink(missing_ok=True)
        Path(f"{new_file}.wal").unlink(missing_ok=True)
        shutil.rmtree(new_parquet, ignore_errors=True)
        raise
    _swap_folder(new_parquet, parquet)
    return [PublishedTable(model=m, row_count=counts[m.unique_id],
                           parquet_file=parquet / parquet_name(m)) for m in models]


def format_report(published: list[PublishedTable], serving: Path) -> str:
    if not published:
        return (f"published no tables to {serving}: no model in the manifest has "
                "access: public yet")
    lines = [f"published {len(published)} public tables to {serving}:"]
    lines += [f"  {t.model.schema}.{t.model.relation:<45} {t.row_count:>10,} rows"
              for t in published]
    return "\n".join(lines)
