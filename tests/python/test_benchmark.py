"""The benchmark: its arithmetic, report, targets and model order; one tiny run end to end."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from carecensus import benchmark as bm
from carecensus.benchmark import Sample, ScaleResult, Spread
from carecensus.paths import PROJECT_DIR

CARECENSUS = Path(sys.executable).with_name("carecensus")


# --- summaries --------------------------------------------------------------------------------

def test_summarize_gives_median_and_spread() -> None:
    assert bm.summarize([3.0, 1.0, 2.0]) == Spread(median=2.0, low=1.0, high=3.0, runs=3)
    assert bm.summarize([4.0, 1.0, 2.0, 10.0]) == Spread(median=3.0, low=1.0, high=10.0, runs=4)
    with pytest.raises(ValueError):
        bm.summarize([])


def test_summarize_metric_keeps_the_reason_a_stage_did_not_run() -> None:
    row = bm.summarize_metric("x", "s", [Sample(2.0, peak_rss=10, peak_tree=30),
                                         Sample(4.0, peak_rss=20, peak_tree=5),
                                         Sample.missing("time budget spent")])
    assert row.spread == Spread(3.0, 2.0, 4.0, 2)
    assert (row.peak_rss, row.peak_tree) == (20, 30)
    assert row.note == "1 of 3 runs not run: time budget spent"
    none = bm.summarize_metric("x", "s", [Sample.missing("b"), Sample.missing("a")])
    assert none.spread is None and none.note == "not run: a; b"


def test_derive_adds_main_job_ratios_and_rows_per_second() -> None:
    run = {stage: Sample(float(i + 1)) for i, stage in enumerate(bm.MAIN_JOB_STAGES)}  # 1..6 s
    run[bm.MODELS] = Sample(6.0)
    run[bm.MODELS_WALL] = Sample(4.0)
    run[bm.RAW_DUCKDB] = Sample(2.0)
    run[bm.MODELS_SERIAL] = Sample(2.5)
    run[bm.INCREMENTAL] = Sample.missing("no incremental model")
    run[bm.MAIN_JOB] = Sample(20.0)  # measured end to end
    bm.derive(run, rows_generated=2100)
    assert run[bm.MAIN_JOB_SUM].value == pytest.approx(21.0)
    assert run[bm.MAIN_JOB].value == pytest.approx(20.0)
    assert run[bm.SERIAL_RATIO].value == pytest.approx(1.25)
    assert run[bm.MODEL_RATIO].value == pytest.approx(3.0)
    assert run[bm.MODEL_WALL_RATIO].value == pytest.approx(2.0)
    build_seconds = run[bm.BUILD].value
    assert build_seconds is not None
    assert run[bm.ROWS_PER_S_BUILD].value == pytest.approx(2100 / build_seconds)
    assert run[bm.ROWS_PER_S_JOB].value == pytest.approx(105.0)
    assert run[bm.INCREMENTAL_RATIO].value is None
    assert "incremental" in (run[bm.INCREMENTAL_RATIO].reason or "")
    assert run[bm.EMPTY_RATIO].value is None


def test_derive_sets_the_floor_of_the_incremental_ratio_beside_it() -> None:
    run = {bm.INCREMENTAL: Sample(30.0), bm.FULL_REBUILD: Sample(40.0),
           bm.EMPTY_BUILD: Sample(28.0)}
    bm.derive(run, rows_generated=None)
    assert run[bm.INCREMENTAL_RATIO].value == pytest.approx(0.75)
    assert run[bm.EMPTY_RATIO].value == pytest.approx(0.70)
    del run[bm.EMPTY_BUILD]
    bm.derive(run, rows_generated=None)
    assert run[bm.EMPTY_RATIO].reason == f"no value for {bm.EMPTY_BUILD}"


def test_derive_names_the_missing_stage_of_the_main_job() -> None:
    run = {stage: Sample(1.0) for stage in bm.MAIN_JOB_STAGES}
    run[bm.DOCS] = Sample.missing("failed")
    bm.derive(run, rows_generated=None)
    assert run[bm.MAIN_JOB_SUM].value is None
    assert run[bm.MAIN_JOB_SUM].reason == f"stage missing: {bm.DOCS}"
    assert run[bm.ROWS_PER_S_BUILD].reason == "no row count from the generator"


# --- targets ----------------------------------------------------------------------------------

def _scale(scale: float, values: dict[str, float], peak: int | None = None) -> ScaleResult:
    run = {m: Sample(v, peak_rss=peak) for m, v in values.items()}
    return ScaleResult(scale, runs=[run])


def test_targets_pass_and_miss_with_margins() -> None:
    complete = {s: 1.0 for s in (bm.GENERATE, *bm.MAIN_JOB_STAGES)}
    results = [
        # the target is judged on the serial ratio, not on the build's contended one
        _scale(1.0, {bm.MAIN_JOB: 45.0, bm.SERIAL_RATIO: 2.0, bm.MODEL_RATIO: 1.0,
                     bm.INCREMENTAL_RATIO: 0.2}),
        _scale(100.0, {**complete, bm.SERIAL_RATIO: 1.2}, peak=5 * 1000**3),
    ]
    targets = {t.target: t for t in bm.evaluate_targets(results)}
    job = targets["scale 1: main job (generate excluded) under 60 s"]
    assert job.passed is True and job.margin == "15.0 s under the limit (25%)"
    ratio = targets["scale 1: dbt model execution within 1.5x raw DuckDB"]
    assert ratio.passed is False and ratio.margin == "0.50x over the limit (33%)"
    incremental = targets["scale 1: one new year's incremental load under 30% of a full rebuild"]
    assert incremental.passed is True
    memory = targets["scale 100: completes with peak memory under 4 GB"]
    assert memory.passed is False and memory.measured == "completed, peak 5.00 GB"
    assert memory.margin == "1.00 GB over the limit (25%)"
    assert targets["scale 100: dbt model execution within 1.5x raw DuckDB"].passed is True
    not_run = targets["scale 100: one new year's incremental load under 30% of a full rebuild"]
    assert not_run.passed is None and "not evaluated" in not_run.margin


def test_targets_without_the_scales_are_not_evaluated() -> None:
    targets = bm.evaluate_targets([_scale(0.1, {bm.MAIN_JOB: 1.0})])
    verdicts = {t.target: t.passed for t in targets}
    assert verdicts["scale 1: main job (generate excluded) under 60 s"] is None
    assert verdicts["scale 100: completes with peak memory under 4 GB"] is None


def test_scale_100_that_did_not_finish_misses_the_memory_target() -> None:
    partial = ScaleResult(100.0, runs=[{bm.GENERATE: Sample(1.0, peak_rss=10)}],
                          note="2 of 3 runs not run: time budget")
    target = next(t for t in bm.evaluate_targets([partial]) if "scale 100: completes" in t.target)
    assert target.passed is False and "time budget" in target.margin


# --- report -----------------------------------------------------------------------------------

def _facts() -> bm.MachineFacts:
    return bm.MachineFacts(started="s", finished="f", command="carecensus benchmark", cores=2,
                           memory_bytes=8 * 1000**3, load_start=(1.0, 2.0, 3.0),
                           load_end=(0.5, 0.25, 0.125), versions={"duckdb": "9.9"},
                           duckdb_settings={"memory_limit": "4GB"}, runs=2, project="commit abc",
                           dbt_threads="4")


def test_report_has_a_row_for_every_metric_with_spread_and_reasons() -> None:
    result = ScaleResult(0.5, runs=[{bm.BUILD: Sample(10.0, peak_rss=2 * 1000**2,
                                                      peak_disk=5 * 1000**3)},
                                    {bm.BUILD: Sample(12.0, peak_rss=3 * 1000**2,
                                                      peak_disk=4 * 1000**3)}],
                         rows_generated=12345)
    for run in result.runs:
        run[bm.SPARK] = Sample.missing("no Spark target")
    text = bm.format_report(_facts(), [result], bm.evaluate_targets([result]))
    assert "dbt threads (nodes at once) from profiles.yml: 4; DuckDB settings" in text
    table = [line for line in text.splitlines() if line.startswith("| ")]
    for metric, _ in bm.METRICS:
        assert sum(1 for line in table if line.startswith(f"| {metric} |")) == 1, metric
    assert f"| {bm.BUILD} | 11.0 s | 10.0 s | 12.0 s | 3 MB | - | 5.00 GB |  |" in table
    assert f"| {bm.SPARK} | - | - | - | - | - | - | not run: no Spark target |" in table
    assert "1.00 / 2.00 / 3.00" in text and "0.50 / 0.25 / 0.12" in text
    assert "Raw rows generated: 12,345. Runs: 2." in text
    assert "- project: commit abc" in text
    assert "| scale 1: main job (generate excluded) under 60 s | - | not evaluated |" in text


# --- manifest ---------------------------------------------------------------------------------

def test_topological_order_puts_dependencies_first_and_breaks_ties_by_name() -> None:
    order = bm.topological_order({"d": ["b", "c"], "c": ["a", "source.x"], "b": ["a"], "a": []})
    assert order == ["a", "b", "c", "d"]
    assert bm.topological_order({"z": [], "y": ["z"], "x": []}) == ["x", "z", "y"]


def test_topological_order_refuses_a_cycle() -> None:
    with pytest.raises(ValueError, match="cycle among: a, b, c"):
        bm.topological_order({"a": ["c"], "b": ["a"], "c": ["b"], "d": []})
    with pytest.raises(ValueError, match="a depends on itself"):
        bm.topological_order({"a": ["a"]})


def _model(name: str, sql: str, deps: list[str], materialized: str = "table") -> dict[str, Any]:
    return {"resource_type": "model", "relation_name": f'"bench"."main"."{name}"',
            "config": {"materialized": materialized}, "compiled_code": sql,
            "depends_on": {"nodes": deps}}


def test_replay_runs_compiled_sql_in_dependency_order(tmp_path: Path) -> None:
    database = tmp_path / "bench.duckdb"  # catalog "bench", as in the relation names
    con = duckdb.connect(str(database))
    con.execute("create table main.seed_numbers as select range as n from range(5)")
    con.close()
    manifest = {"nodes": {
        # listed out of order on purpose: the leaf first
        "model.p.total": _model("total", "select sum(n) as n from \"bench\".\"main\".\"doubled\"\n"
                                "-- a trailing comment", ["model.p.doubled"]),
        "model.p.doubled": _model("doubled", "select n * 2 as n from \"bench\".\"main\".\"base\";",
                                  ["model.p.base"], "view"),
        "model.p.base": _model("base", "select n from \"bench\".\"main\".\"seed_numbers\"",
                               ["seed.p.seed_numbers"]),
        "model.p.inlined": _model("inlined", "select 1", [], "ephemeral"),
        "test.p.t": {"resource_type": "test", "compiled_code": "select 1"},
    }}
    statements = bm.replay_statements(manifest)
    assert [uid for uid, _ in statements] == ["model.p.base", "model.p.doubled", "model.p.total"]
    assert statements[1][1].startswith('create or replace view "bench"."main"."doubled" as (')
    seconds, models = bm.replay(database, manifest, {"threads": "1", "memory_limit": "1GB"})
    assert models == 3 and seconds >= 0
    con = duckdb.connect(str(database), read_only=True)
    try:
        assert con.execute("select n from main.total").fetchall() == [(20,)]
    finally:
        con.close()


def test_replay_keeps_read_order_only_for_models_whose_hooks_do(tmp_path: Path) -> None:
    database = tmp_path / "bench.duckdb"
    base = _model("base", "select current_setting('preserve_insertion_order') as kept", [])
    base["config"]["pre-hook"] = [{"sql": "{{ census_keep_read_order(true) }}"}]
    manifest = {"nodes": {
        "model.p.base": base,
        "model.p.mart": _model("mart", "select current_setting('preserve_insertion_order') as kept, "
                               "b.kept as base_kept from \"bench\".\"main\".\"base\" as b",
                               ["model.p.base"]),
    }}
    statements = dict(bm.replay_statements(manifest))
    assert statements["model.p.base"].startswith("set session preserve_insertion_order = true;")
    assert statements["model.p.mart"].startswith("create or replace table")
    assert bm.replay(database, manifest, {"preserve_insertion_order": "false"})[1] == 2
    con = duckdb.connect(str(database), read_only=True)
    try:
        assert con.execute("select kept, base_kept from main.mart").fetchall() == [(False, True)]
    finally:
        con.close()


def test_replay_needs_compiled_sql() -> None:
    with pytest.raises(ValueError, match="no compiled SQL"):
        bm.replay_statements({"nodes": {"model.p.a": _model("a", "", [])}})


def test_split_run_results_sums_node_kinds_and_model_wall_time() -> None:
    manifest = {"nodes": {"model.p.base": _model("base", "x", ["source.p.raw.child"]),
                          "model.p.mart": _model("mart", "x", ["model.p.base"])}}

    def result(uid: str, seconds: float, start: str, end: str) -> dict[str, Any]:
        return {"unique_id": uid, "execution_time": seconds,
                "timing": [{"name": "execute", "started_at": f"2026-01-01T00:00:{start}Z",
                            "completed_at": f"2026-01-01T00:00:{end}Z"}]}

    split = bm.split_run_results({"results": [
        result("seed.p.codes", 0.5, "00", "01"),
        result("model.p.base", 2.0, "01", "03"),
        result("model.p.mart", 3.0, "02", "05"),  # overlaps base by one second
        result("test.p.not_null", 0.25, "05", "06"),
        result("unit_test.p.u", 0.5, "06", "07"),
        result("exposure.p.e", 9.0, "07", "08"),
    ]}, manifest)
    assert split == {bm.SEEDS: 0.5, bm.MODELS: 5.0, bm.SOURCE_LOAD: 2.0, bm.TESTS: 0.75,
                     bm.MODELS_WALL: 4.0}


def test_split_by_upkeep_tells_how_each_model_keeps_its_rows() -> None:
    def model(materialized: str, raw_code: str = "select 1") -> dict[str, Any]:
        return {"resource_type": "model", "raw_code": raw_code,
                "config": {"materialized": materialized}}

    manifest = {"nodes": {
        "model.p.whole": model("table"), "model.p.view": model("view"),
        "model.p.by_year": model("incremental", "{%- set years = census_partition_incremental("
                                                "{'stg': 'year_code'}) -%} select 1"),
        "model.p.by_file": model("incremental"), "seed.p.s": {"resource_type": "seed"}}}
    results = {"results": [
        {"unique_id": "model.p.whole", "execution_time": 1.0},
        {"unique_id": "model.p.view", "execution_time": 0.5},
        {"unique_id": "model.p.by_year", "execution_time": 2.0},
        {"unique_id": "model.p.by_file", "execution_time": 4.0},
        {"unique_id": "test.p.t", "execution_time": 8.0},
        {"unique_id": "seed.p.s", "execution_time": 16.0},
        {"unique_id": "operation.p.hook", "execution_time": 32.0}]}
    assert bm.split_by_upkeep(results, manifest) == {
        "models rebuilt whole": 1.5, "models incremental by year": 2.0,
        "models incremental by raw file": 4.0, "data tests": 8.0}


def test_covered_seconds_counts_overlaps_once() -> None:
    assert bm.covered_seconds([(0, 2), (1, 3), (5, 6), (5.5, 5.75)]) == 4.0
    assert bm.covered_seconds([]) == 0.0


def test_incremental_models_are_found_by_materialization() -> None:
    manifest = {"nodes": {"model.p.a": _model("a", "x", [], "incremental"),
                          "model.p.b": _model("b", "x", [])}}
    assert bm.incremental_models(manifest) == ["model.p.a"]


def test_profile_settings_and_spark_target() -> None:
    outputs = bm.profile_outputs(
        "census:\n  target: duckdb\n  outputs:\n"
        "    duckdb: {type: duckdb, threads: 2, settings: {memory_limit: 4GB}}\n"
        "    cluster: {type: spark, method: thrift}\n")
    # dbt's threads are not DuckDB's: dbt-duckdb leaves DuckDB's own at one per core
    assert bm.duckdb_settings(outputs) == {"memory_limit": "4GB"}
    assert bm.dbt_threads(outputs) == "2"
    assert bm.spark_target(outputs) == "cluster"
    assert bm.spark_target({"duckdb": {"type": "duckdb"}}) is None


def test_profile_settings_render_environment_variables_as_dbt_does() -> None:
    outputs = bm.profile_outputs(
        "census:\n  outputs:\n    duckdb:\n      type: duckdb\n"
        "      threads: \"{{ env_var('THREADS', '4') | as_number }}\"\n"
        "      settings:\n        memory_limit: \"{{ env_var('LIMIT', '4GB') }}\"\n"
        "        temp_directory: \"{{env_var('SPILL')}}\"\n")
    assert bm.duckdb_settings(outputs, {"SPILL": "/s"}) == {
        "memory_limit": "4GB", "temp_directory": "/s"}
    assert bm.dbt_threads(outputs, {}) == "4"
    assert bm.dbt_threads(outputs, {"THREADS": "8"}) == "8"
    assert bm.duckdb_settings(outputs, {"SPILL": "/s", "LIMIT": "3GB"})["memory_limit"] == "3GB"
    with pytest.raises(KeyError, match="SPILL"):
        bm.duckdb_settings(outputs, {})
    # the project's own profile renders to plain values
    project = bm.profile_outputs((PROJECT_DIR / "profiles.yml").read_text())
    assert bm.duckdb_settings(project, {})["memory_limit"] == "4GB"
    assert bm.dbt_threads(project, {}) == "2"
    assert bm.dbt_threads(project, {"CENSUS_DBT_THREADS": "4"}) == "4"


def test_parse_scales() -> None:
    assert bm.parse_scales("1, 10,100") == [1.0, 10.0, 100.0]
    with pytest.raises(ValueError):
        bm.parse_scales("1,-2")


# --- measuring --------------------------------------------------------------------------------

def test_runs_above_scale_1_can_differ() -> None:
    parser = argparse.ArgumentParser()
    bm.add_arguments(parser)
    options = bm.options_from_args(parser.parse_args(["--scales", "1,10", "--runs-above-1", "1"]))
    assert [options.runs_at(s) for s in options.scales] == [3, 1]
    same = bm.options_from_args(parser.parse_args(["--runs", "2"]))
    assert [same.runs_at(s) for s in same.scales] == [2, 2, 2]
    with pytest.raises(ValueError):
        bm.options_from_args(parser.parse_args(["--runs-above-1", "0"]))


def test_measure_reads_the_peak_memory_of_a_child(tmp_path: Path) -> None:
    hold = "b = b'x' * (200 * 1000**2); import time; time.sleep(0.6)"
    measured = bm.measure([sys.executable, "-c", hold], env={}, log=tmp_path / "log")
    assert measured.returncode == 0
    assert measured.peak_rss >= 200 * 1000**2
    assert measured.peak_tree >= 150 * 1000**2  # sampled, so a little may be missed


def test_measure_counts_memory_shared_by_a_forked_child_once(tmp_path: Path) -> None:
    # 200 MB touched, then a fork: parent and child each have it resident, but it is one copy
    share = ("import os, time; b = bytearray(200 * 1000**2); b[::4096] = b'x' * len(b[::4096]); "
             "pid = os.fork(); time.sleep(1.0); os._exit(0) if pid == 0 else os.waitpid(pid, 0)")
    measured = bm.measure([sys.executable, "-c", share], env={}, log=tmp_path / "log")
    assert measured.returncode == 0, measured.tail()
    assert 150 * 1000**2 <= measured.peak_tree < 300 * 1000**2, measured.peak_tree


def test_tree_peak_reads_pss_only_when_the_rss_sum_grows(monkeypatch: pytest.MonkeyPatch) -> None:
    rss = iter([100, 100, 150, 120, 300, 300, 310])  # the RSS sum of each sample
    pss_reads: list[int] = []
    pss = iter([80, 120, 250, 260])

    def proportional(pid: int) -> int:
        value = next(pss)
        pss_reads.append(value)
        return value

    # perf_counter at each sample, and after each PSS read
    clock = iter([0.0, 0.0, 1.0, 2.0, 2.1, 2.5, 4.0, 4.05, 4.2, 4.3])
    monkeypatch.setattr(bm, "_tree_pids", lambda root: {root})
    monkeypatch.setattr(bm, "_resident_memory", lambda pid: next(rss))
    monkeypatch.setattr(bm, "_process_memory", proportional)
    monkeypatch.setattr(time, "perf_counter", lambda: next(clock))
    tree = bm.TreePeak(spacing=9.0)
    assert tree.sample(1) == 80  # RSS 100, the first: read (in no time)
    assert tree.sample(1) == 80  # RSS 100, not above 100: no read
    assert tree.sample(1) == 120  # RSS 150 above 100: read, taking 0.1 s: none before 3.0
    assert tree.sample(1) == 120  # at 2.5, RSS 120: no growth, nothing held back
    assert pss_reads == [80, 120]
    assert tree.sample(1) == 250  # RSS 300 above 150: read, taking 0.05 s: none before 4.5
    assert tree.sample(1) == 250  # RSS 300: no growth
    assert tree.sample(1) == 250  # at 4.3, RSS 310 above 300: held back
    assert pss_reads == [80, 120, 250]


def test_measure_reads_the_peak_disk_of_a_stage_that_deletes_what_it_wrote(
        tmp_path: Path) -> None:
    # 100 MB written (not sparse), held, then deleted: none of it left, but it was there
    spill = tmp_path / "spill"
    write = (f"import os, time; f = open({str(spill)!r}, 'wb'); f.write(os.urandom(100 * 1000**2)); "
             "f.flush(); os.fsync(f.fileno()); time.sleep(1.0); f.close(); os.remove(f.name)")
    measured = bm.measure([sys.executable, "-c", write], env={}, log=tmp_path / "log")
    assert measured.returncode == 0, measured.tail()
    assert not spill.exists()
    assert measured.peak_disk >= 80 * 1000**2, measured.peak_disk  # sampled, on a shared disk


def test_measure_stops_a_stage_past_its_time_budget(tmp_path: Path) -> None:
    measured = bm.measure([sys.executable, "-c", "import time; time.sleep(30)"], env={},
                          log=tmp_path / "log", timeout=0.5)
    assert measured.stopped is not None and "time budget" in measured.stopped
    assert measured.returncode != 0 and measured.seconds < 10


# --- resuming a stopped benchmark ---------------------------------------------------------------

class _Stopped(Exception):
    """The machine going down in the middle of a stage."""


GB = 1000**3
BUILT_SIZE = 10 * GB  # the fake build's warehouse: a sparse file of this size


class _FakeStages:
    """Every stage of a run, instantly, noting which ran: the stage named ``stop_at`` stops the
    benchmark and the one named ``fail_at`` fails (each once); ``free`` bytes of disk are free, and
    the build's disk peaked at ``build_disk``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, stop_at: str | None = None,
                 fail_at: str | None = None, free: int = 1000 * GB,
                 build_disk: int | None = None, replay_grows: int = 0,
                 replay_disk: int | None = None) -> None:
        self.calls: list[str] = []
        self.params: dict[str, dict[str, Any]] = {}
        self.stop_at, self.fail_at = stop_at, fail_at
        self.built_warehouse_at_history: bool | None = None
        self.published_at_replay: bool | None = None  # serving file or Parquet still there
        fake = self

        def ran(name: str) -> Sample:
            fake.calls.append(name)
            if name == fake.stop_at:
                fake.stop_at = None
                raise _Stopped(name)
            if name == fake.fail_at:
                fake.fail_at = None
                return Sample(None, reason="failed")
            return Sample(1.0, peak_disk={bm.BUILD: build_disk,
                                          bm.RAW_DUCKDB: replay_disk}.get(name))

        def run_stage(self_: Any, name: str, stage: str, run_dir: Path,
                      **params: Any) -> tuple[Sample, dict[str, Any]]:
            sample = ran(name)
            fake.params[name] = params
            if stage == "generate":
                for year in ("202223", "202324"):
                    (Path(params["out"]) / "cla" / year).mkdir(parents=True, exist_ok=True)
                return sample, {"rows": 10}
            if stage == "publish":
                Path(params["serving"]).write_bytes(b"serving")
                Path(params["parquet"]).mkdir(exist_ok=True)
            if stage == "raw-duckdb":
                fake.published_at_replay = ((run_dir / "serving.duckdb").exists()
                                            or (run_dir / "parquet").exists())
                if params["in_place"] and replay_grows:
                    with open(params["warehouse"], "r+b") as f:
                        f.truncate(BUILT_SIZE + replay_grows)
            return sample, {"seconds": 0.5}

        def dbt(self_: Any, name: str, arguments: Any, run_dir: Path, raw: Path,
                warehouse: Path, log_name: str, extra_env: Any = None) -> Sample:
            sample = ran(name)
            if name.startswith("incremental: build without"):
                fake.built_warehouse_at_history = (
                    self_.dir / "run-1" / "warehouse.duckdb").exists()
            if name in (bm.BUILD, bm.INCREMENTAL, bm.FULL_REBUILD) or "again" in name:
                (run_dir / "target").mkdir(parents=True, exist_ok=True)
                (run_dir / "target" / "manifest.json").write_text(json.dumps({"nodes": {
                    "model.p.m": {"resource_type": "model", "raw_code": "select 1",
                                  "config": {"materialized": "incremental"}}}}))
                (run_dir / "target" / "run_results.json").write_text(json.dumps({"results": [
                    {"unique_id": "model.p.m", "execution_time": 0.25}]}))
            if name.startswith(bm.BUILD[:9]) or name.startswith("incremental: build without"):
                with open(warehouse, "wb") as f:
                    f.truncate(BUILT_SIZE)
            return sample

        def run_command(self_: Any, name: str, command: Any, env: Any,
                        log: Path) -> tuple[Sample, None]:
            fake.params[name] = {"command": list(command)}
            return ran(name), None

        monkeypatch.setattr(bm._Scale, "run_stage", run_stage)
        monkeypatch.setattr(bm._Scale, "dbt", dbt)
        monkeypatch.setattr(bm._Scale, "run_command", run_command)
        monkeypatch.setattr(bm, "free_disk", lambda path: free)


def _one_run(tmp_path: Path, resume: bool, **options: Any) -> bm._Scale:
    scale = bm._Scale(bm.Options(scales=[1.0], runs=1, work=tmp_path / "work", skip_spark=True,
                                 resume=resume, **options),
                      1.0, {}, None, "no Spark here")
    scale.result.runs.append(scale.run(1))
    return scale


def test_a_stopped_run_resumes_where_it_stopped(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    stages = _FakeStages(monkeypatch, stop_at=bm.FULL_REBUILD)
    with pytest.raises(_Stopped):
        _one_run(tmp_path, resume=False)
    assert stages.calls[:3] == [bm.GENERATE, bm.MAIN_JOB, bm.VALIDATE_RAW]
    assert stages.calls[-2:] == [bm.INCREMENTAL, bm.FULL_REBUILD]
    stages.calls.clear()
    scale = _one_run(tmp_path, resume=True)
    assert stages.calls == [bm.FULL_REBUILD, bm.EMPTY_BUILD]  # nothing measured twice
    run = scale.result.runs[0]
    for metric in (bm.GENERATE, bm.BUILD, bm.RAW_DUCKDB, bm.INCREMENTAL, bm.FULL_REBUILD,
                   bm.EMPTY_BUILD):
        assert run[metric].value is not None, metric
    assert run[bm.INCREMENTAL_RATIO].value == 1.0  # derived from both invocations' samples
    # where each build's time went, from its own run_results.json
    assert run["- new year: models incremental by raw file"].value == 0.25
    assert run["- full rebuild: models incremental by raw file"].value == 0.25
    assert run["- full rebuild: data tests"].value == 0.0
    assert scale.result.rows_generated == 10
    assert scale.result.note and "--resume" in scale.result.note
    # the record holds what was measured, not what is derived from it
    record = json.loads((tmp_path / "work" / "records" / "scale-1-run-1.json").read_text())
    assert bm.FULL_REBUILD in record["samples"]
    assert bm.INCREMENTAL_RATIO not in record["samples"]
    assert bm.SERIAL_RATIO not in record["samples"]
    # without --resume the record is not used: everything is measured again
    stages.calls.clear()
    _one_run(tmp_path, resume=False)
    assert stages.calls[0] == bm.GENERATE and bm.BUILD in stages.calls


def test_resuming_a_finished_run_measures_nothing_again(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    stages = _FakeStages(monkeypatch)
    _one_run(tmp_path, resume=False, skip_incremental=True)
    shutil.rmtree(tmp_path / "work" / "scale-1")  # as a finished benchmark leaves it
    stages.calls.clear()
    scale = _one_run(tmp_path, resume=True, skip_incremental=True)
    assert stages.calls == []  # no census, build or manifest needed for stages left out
    assert scale.result.runs[0][bm.BUILD].value == 1.0


def test_resume_builds_again_untimed_when_a_later_stage_needs_the_lost_warehouse(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stages = _FakeStages(monkeypatch, stop_at=bm.RAW_DUCKDB)
    with pytest.raises(_Stopped):
        _one_run(tmp_path, resume=False)
    (tmp_path / "work" / "scale-1" / "run-1" / "warehouse.duckdb").unlink()
    stages.calls.clear()
    scale = _one_run(tmp_path, resume=True)
    assert stages.calls[:3] == ["dbt build again for its warehouse (untimed)", bm.RAW_DUCKDB,
                                bm.MODELS_SERIAL]
    assert bm.GENERATE not in stages.calls and bm.VALIDATE_MART not in stages.calls
    assert scale.result.runs[0][bm.BUILD].value == 1.0  # the measured build's sample stays


def test_resume_does_not_build_the_lost_warehouse_again_without_room_to_rewrite_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the replay and the serial run are left, and the 10 GB warehouse is gone: building
    it again and rewriting it needs 10 GB and 10 GB (0.8 times it and the margin). With 15 GB
    free the rebuild would only be refused after it; with 20 GB it runs."""
    _FakeStages(monkeypatch, stop_at=bm.RAW_DUCKDB)
    with pytest.raises(_Stopped):
        _one_run(tmp_path, resume=False)
    (tmp_path / "work" / "scale-1" / "run-1" / "warehouse.duckdb").unlink()
    stages = _FakeStages(monkeypatch, free=15 * GB)
    run = _one_run(tmp_path, resume=True).result.runs[0]
    assert "dbt build again for its warehouse (untimed)" not in stages.calls
    for metric in (bm.RAW_DUCKDB, bm.MODELS_SERIAL):
        assert "about 20.00 GB: not built again" in (run[metric].reason or ""), run[metric]
    assert run[bm.BUILD].value == 1.0
    stages = _FakeStages(monkeypatch, free=20 * GB)
    _one_run(tmp_path, resume=True)
    assert stages.calls[:2] == ["dbt build again for its warehouse (untimed)", bm.RAW_DUCKDB]


def test_a_failed_full_rebuild_is_not_emptied_and_runs_again_on_resume(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stages = _FakeStages(monkeypatch, fail_at=bm.FULL_REBUILD)
    scale = _one_run(tmp_path, resume=False, keep=True)
    assert stages.calls[-1] == bm.FULL_REBUILD  # no --empty over the warehouse it needs
    assert "did not finish" in (scale.result.runs[0][bm.EMPTY_BUILD].reason or "")
    stages.calls.clear()
    _one_run(tmp_path, resume=True, keep=True)
    assert stages.calls == [bm.FULL_REBUILD, bm.EMPTY_BUILD]


def test_the_builds_warehouse_goes_before_the_incremental_stage_unless_kept(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stages = _FakeStages(monkeypatch)
    _one_run(tmp_path, resume=False)
    assert stages.built_warehouse_at_history is False
    _one_run(tmp_path, resume=False, keep=True)
    assert stages.built_warehouse_at_history is True
    # also when a stage on it did not run (at scale 100 the serial run, for lack of disk): the
    # incremental stage gets the room, and a resumed run builds the warehouse again for it
    stages = _FakeStages(monkeypatch, fail_at=bm.MODELS_SERIAL)
    _one_run(tmp_path, resume=False)
    assert stages.built_warehouse_at_history is False
    stages.calls.clear()
    _one_run(tmp_path, resume=True)
    assert stages.calls == ["dbt build again for its warehouse (untimed)", bm.MODELS_SERIAL]


def test_the_serving_file_and_parquet_go_after_the_docs_unless_kept(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing after the docs reads them: the replay has their room (29.7 GB at scale 100)."""
    stages = _FakeStages(monkeypatch)
    _one_run(tmp_path, resume=False, skip_incremental=True)
    assert stages.calls.index(bm.DOCS) < stages.calls.index(bm.RAW_DUCKDB)
    assert stages.published_at_replay is False
    _one_run(tmp_path, resume=False, skip_incremental=True, keep=True)
    assert stages.published_at_replay is True


def test_the_main_job_can_run_the_raw_suites_first(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    stages = _FakeStages(monkeypatch)
    _one_run(tmp_path, resume=False)
    assert "--raw-suites-first" not in stages.params[bm.MAIN_JOB]["command"]
    _one_run(tmp_path, resume=False, raw_suites_first=True)
    assert "--raw-suites-first" in stages.params[bm.MAIN_JOB]["command"]


def test_resume_refuses_a_record_of_another_commit_or_conditions(tmp_path: Path) -> None:
    path = tmp_path / "record.json"
    conditions = {"dbt threads": "1", "DuckDB memory_limit": "2.5GB"}
    record = bm.RunRecord(path, "aaaa", conditions, {bm.GENERATE: Sample(1.0),
                                                     bm.BUILD: Sample(None, reason="failed")})
    record.save()
    again = bm.RunRecord.start(path, "aaaa", conditions, resume=True)
    assert again.done(bm.GENERATE) and not again.done(bm.BUILD)  # a failed stage runs again
    assert again.samples[bm.BUILD].reason == "failed"
    with pytest.raises(ValueError, match="recorded at commit aaaa.*project is at bbbb"):
        bm.RunRecord.start(path, "bbbb", conditions, resume=True)
    with pytest.raises(ValueError, match=r"other dbt threads \(1, now 2\)"):
        bm.RunRecord.start(path, "aaaa", {**conditions, "dbt threads": "2"}, resume=True)
    assert not bm.RunRecord.start(path, "bbbb", conditions, resume=False).samples
    assert not path.exists()  # a run from the start forgets the old record


@pytest.mark.parametrize(("free", "build_disk", "replay", "incremental"), [
    (21 * GB, None, "copy", "run"),  # 1.8 times the 10 GB warehouse and 2 GB: room for a copy
    (15 * GB, None, "in place", "not run"),  # room for the growth (0.8 times and 2 GB) only
    (9 * GB, None, "not run", "not run"),  # not even that
    # the build spilled 5 GB beyond its 10 GB warehouse: each stage needs 5 GB more
    (21 * GB, 15 * GB, "in place", "not run"),
    (14 * GB, 15 * GB, "not run", "not run"),
    (26 * GB, 15 * GB, "copy", "run"),
])
def test_the_disk_decides_how_the_replay_and_the_incremental_stage_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, free: int, build_disk: int | None,
        replay: str, incremental: str) -> None:
    stages = _FakeStages(monkeypatch, free=free, build_disk=build_disk)
    scale = _one_run(tmp_path, resume=False)
    run = scale.result.runs[0]
    if replay == "not run":
        assert bm.RAW_DUCKDB not in stages.calls
        assert "free disk" in (run[bm.RAW_DUCKDB].reason or "")
    else:
        assert stages.params[bm.RAW_DUCKDB]["in_place"] is (replay == "in place")
        assert ("not a copy" in (run[bm.RAW_DUCKDB].note or "")) is (replay == "in place")
        assert stages.calls.index(bm.DOCS) < stages.calls.index(bm.RAW_DUCKDB)
    # the serial dbt run writes every table again inside the warehouse: the in-place room
    assert (bm.MODELS_SERIAL in stages.calls) is (replay != "not run")
    if replay == "not run":
        assert "free disk" in (run[bm.MODELS_SERIAL].reason or "")
    assert (bm.INCREMENTAL in stages.calls) is (incremental == "run")
    if incremental == "not run":
        assert "free disk" in (run[bm.INCREMENTAL].reason or "")
        spill = "5.00 GB for DuckDB's spill" if build_disk else "0 MB for DuckDB's spill"
        assert spill in (run[bm.INCREMENTAL].reason or "")


@pytest.mark.parametrize(("replay_grows", "replay_disk", "serial"), [
    (8 * GB, None, "run"),  # no spill known: the 2 GB margin
    (8 * GB, 18 * GB, "run"),  # the replay spilled 10 GB beyond its 8 GB growth: 12 GB needed
    (8 * GB, 22 * GB, "not run"),  # 14 GB: 16 GB needed
    # grown by less than the 1.8 times foreseen (scale 100: 1.46 times), and 11 GB of spill: the
    # file's high-water mark is reached all the same, so 13 GB, not 13 GB and 3.4 GB of growth
    (4.6 * GB, 15.6 * GB, "run"),
])
def test_the_serial_run_counts_the_room_and_the_spill_of_an_in_place_replay(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, replay_grows: float,
        replay_disk: int | None, serial: str) -> None:
    """15 GB free: the replay goes in place (10 GB needed) and grows the 10 GB file. The serial
    run's rewrite reuses the free blocks the replay left inside the file, so it needs its spill
    and the 2 GB margin, not 0.8 times the file and 2 GB (16.4 GB at 18 GB), which refused it at
    scale 100; its spill is the replay's when larger than the build's (at scale 100, about 19 GB
    against 7.86 GB)."""
    stages = _FakeStages(monkeypatch, free=15 * GB, replay_grows=int(replay_grows),
                         replay_disk=replay_disk)
    scale = _one_run(tmp_path, resume=False)
    assert stages.params[bm.RAW_DUCKDB]["in_place"] is True
    assert (bm.MODELS_SERIAL in stages.calls) is (serial == "run")
    if serial == "not run":
        reason = scale.result.runs[0][bm.MODELS_SERIAL].reason or ""
        assert "14.00 GB of it for DuckDB's spill" in reason, reason


def test_a_serial_run_after_a_replay_into_a_copy_counts_the_whole_growth(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The replay went into a copy, so the built 10 GB file did not grow: the serial run then
    needs 0.8 times it and the margin, 10 GB, which a 9 GB disk lacks."""
    monkeypatch.setattr(bm._Scale, "_replay", lambda *args: Sample(1.0))
    stages = _FakeStages(monkeypatch, free=9 * GB)
    scale = _one_run(tmp_path, resume=False)
    assert bm.MODELS_SERIAL not in stages.calls
    assert "about 10.00 GB" in (scale.result.runs[0][bm.MODELS_SERIAL].reason or "")


def test_a_replay_resumed_in_place_counts_what_its_stopped_start_grew_the_file_by(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The replay stops after growing the 10 GB file by 3 GB; resumed with 7.5 GB free, it asks
    for the 5 GB of growth left and the margin (7 GB), not 8 GB and the margin (10 GB)."""
    _FakeStages(monkeypatch, stop_at=bm.RAW_DUCKDB)
    with pytest.raises(_Stopped):
        _one_run(tmp_path, resume=False)
    with open(tmp_path / "work" / "scale-1" / "run-1" / "warehouse.duckdb", "r+b") as f:
        f.truncate(BUILT_SIZE + 3 * GB)
    stages = _FakeStages(monkeypatch, free=int(7.5 * GB))
    _one_run(tmp_path, resume=True)
    assert bm.BUILD not in stages.calls
    assert stages.params[bm.RAW_DUCKDB]["in_place"] is True


def test_rewrite_bytes_counts_what_an_earlier_rewrite_grew_the_file_by() -> None:
    assert bm.rewrite_bytes(10 * GB, 0) == 10 * GB  # 0.8 times 10 GB, and a 2 GB margin
    assert bm.rewrite_bytes(10 * GB, 0, 10 * GB) == 10 * GB  # as built: the same
    assert bm.rewrite_bytes(10 * GB, 5 * GB, 13 * GB) == 12 * GB  # 5 GB growth left, 5 GB spill
    assert bm.rewrite_bytes(10 * GB, 0, 18 * GB) == 2 * GB  # grown to 1.8 times already
    # a whole rewrite went through the file: the next stays within its high-water mark
    assert bm.rewrite_bytes(10 * GB, 5 * GB, 13 * GB, rewritten=True) == 7 * GB


def test_a_resumed_run_takes_the_builds_spill_from_its_record(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _FakeStages(monkeypatch, stop_at=bm.RAW_DUCKDB, free=21 * GB, build_disk=15 * GB)
    with pytest.raises(_Stopped):
        _one_run(tmp_path, resume=False)
    # the build is not run again, so only its record knows it spilled 5 GB
    stages = _FakeStages(monkeypatch, free=21 * GB)
    scale = _one_run(tmp_path, resume=True)
    assert bm.BUILD not in stages.calls
    assert stages.params[bm.RAW_DUCKDB]["in_place"] is True  # a copy without the spill
    assert scale.result.runs[0][bm.BUILD].peak_disk == 15 * GB


def test_spill_is_what_the_build_used_beyond_the_warehouse_it_left() -> None:
    assert bm.spill_bytes(Sample(1.0, peak_disk=15 * GB), 10 * GB) == 5 * GB
    assert bm.spill_bytes(Sample(1.0, peak_disk=8 * GB), 10 * GB) == 0  # space freed meanwhile
    assert bm.spill_bytes(Sample(1.0), 10 * GB) == 0  # not sampled
    assert bm.spill_bytes(None, 10 * GB) == 0


def test_replay_in_place_rewrites_the_warehouse(tmp_path: Path) -> None:
    database = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(database))
    con.execute("create table t as select 1 as x")
    con.close()
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"nodes": {"model.p.t": {
        "resource_type": "model", "config": {"materialized": "table"},
        "relation_name": "t", "compiled_code": "select 2 as x", "depends_on": {"nodes": []}}}}))
    params = {"warehouse": str(database), "manifest": str(manifest),
              "replay_dir": str(tmp_path / "replay"), "settings": {}}
    result = bm._stage_raw_duckdb({**params, "in_place": True})
    assert result["models"] == 1
    con = duckdb.connect(str(database))
    assert con.execute("select x from t").fetchall() == [(2,)]
    con.close()
    assert not (tmp_path / "replay").exists()
    # into a copy: a stopped replay's leftovers go first, and the copy goes even on failure
    (tmp_path / "replay").mkdir()
    (tmp_path / "replay" / "warehouse.duckdb.wal").write_bytes(b"stale")
    bm._stage_raw_duckdb({**params, "in_place": False})
    assert not (tmp_path / "replay").exists()
    manifest.write_text(manifest.read_text().replace("select 2 as x", "select nonsense"))
    with pytest.raises(duckdb.Error):
        bm._stage_raw_duckdb({**params, "in_place": False})
    assert not (tmp_path / "replay").exists()


# --- end to end -------------------------------------------------------------------------------

def test_benchmark_command_writes_a_report_with_every_stage(tmp_path: Path) -> None:
    report = tmp_path / "benchmark.md"
    result = subprocess.run(
        [str(CARECENSUS), "benchmark", "--scales", "0.05", "--runs", "1", "--skip-spark",
         "--skip-incremental", "--work", str(tmp_path / "work"), "--out", str(report)],
        capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    text = report.read_text()
    table = [line for line in text.splitlines() if line.startswith("| ")]
    not_run = (bm.INCREMENTAL, bm.FULL_REBUILD, bm.INCREMENTAL_RATIO, bm.EMPTY_BUILD,
               bm.EMPTY_RATIO, bm.SPARK, *bm.NEW_YEAR_SPLIT, *bm.FULL_REBUILD_SPLIT)
    for metric, _ in bm.METRICS:
        rows = [line for line in table if line.startswith(f"| {metric} |")]
        assert len(rows) == 1, (metric, text)
        cells = [c.strip() for c in rows[0].strip("|").split("|")]
        if metric in not_run:
            assert cells[1] == "-" and cells[7].startswith("not run: "), rows[0]
        else:
            assert cells[1] != "-" and not cells[7], rows[0]  # a median and no "not run"
    assert "not run: --skip-spark" in text and "not run: --skip-incremental" in text
    assert not (tmp_path / "work" / "scale-0.05").exists()  # scratch removed without --keep


def test_failure_line_prefers_the_error_over_traceback_carets() -> None:
    log = ["Traceback (most recent call last):", "  File \"x.py\", line 1",
           "RuntimeError: dbt docs generate failed:", "    raise x", "    ^^^^^^^", ""]
    assert bm.failure_line(log) == "RuntimeError: dbt docs generate failed:"
    assert bm.failure_line(["done", "  ^^^", ""]) == "done"
    assert bm.failure_line([]) == ""


def test_failing_nodes_tells_unbuilt_models_from_failed_tests() -> None:
    failed = bm.failing_nodes({"results": [
        {"unique_id": "model.p.a", "status": "success"},
        {"unique_id": "model.p.b", "status": "skipped"},
        {"unique_id": "seed.p.s", "status": "error"},
        {"unique_id": "test.p.t", "status": "fail"},
        {"unique_id": "test.p.u", "status": "pass"},
        {"unique_id": "unit_test.p.v", "status": "error"},
    ]})
    assert failed == {"built": ["model.p.b", "seed.p.s"], "tests": ["test.p.t", "unit_test.p.v"]}


def test_a_note_on_a_measured_value_reaches_the_row() -> None:
    row = bm.summarize_metric("x", "s", [Sample(1.0, note="2 data test(s) failed"),
                                         Sample(3.0)])
    assert row.spread == Spread(2.0, 1.0, 3.0, 2) and row.note == "2 data test(s) failed"
