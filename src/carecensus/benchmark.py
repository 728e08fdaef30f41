"""``carecensus benchmark``: time the main job at several census scales and write a markdown report.

For each scale and run it generates the census and times the main job end to end, as a user runs
it (``carecensus run --no-calibration``: the raw suites beside ``dbt build``, or before it with
``--raw-suites-first``, and the docs, which run in the build's dbt process, then the gates and
publish; its step times come from
``--timings``). Then it measures every stage again in a
subprocess of its own, one after the other, for the breakdown and each stage's memory: the raw
suites, ``dbt parse``, ``dbt build`` (split from ``run_results.json`` into seeds, source load,
models and tests), the mart suites and census rules, publish and docs. It then replays the
compiled SQL of every model straight into DuckDB, without dbt, in dependency order on a copy of
the built warehouse: the limit for this stack. The same models run through dbt one at a time
(``dbt run --threads 1``) give the other side of the target's ratio.

Peak memory of a stage comes from two places: the kernel's high-water mark of the largest single
process (``wait4`` rusage of the stage's process, which includes its waited-for children) and the
largest sum of memory over the whole process tree, sampled from ``/proc`` (workers of the
generator run side by side, so their memory adds up): each process's PSS, in which a page shared
between processes (a forked worker's copy of its parent) is split among them, not counted twice.

A stage that cannot run (no incremental model, no Spark target, a budget spent, an earlier stage
failed) is reported as ``not run: <reason>``, never left out and never estimated.

Each run's measurements are saved after every stage (``<work>/records``). A stopped benchmark,
run again with ``--resume`` at the same commit, measures only what its record lacks (a scale-100
run takes longer than one sitting); the report's note on the scale says so. The serving file and
Parquet go after the docs, the built warehouse before the incremental stage (a resumed run builds
it again, untimed, for a stage on it still to run); the replay, the serial run and the
incremental stage are not run when their files would not fit on the disk (the replay goes into
the built warehouse itself when only its copy would not).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from carecensus.dbt_runner import (PRODUCTION_BUILD, Manifest, dbt_command, dbt_environment,
                                   job_environment, load_manifest)
from carecensus.paths import PROJECT_DIR
from carecensus.sql import literal

# ----------------------------------------------------------------------------------------------
# Stages and metrics, in report order

GENERATE = "generate"
VALIDATE_RAW = "validation: raw suites"
PARSE = "dbt parse"
BUILD = "dbt build (wall)"
SEEDS = "- seeds"
SOURCE_LOAD = "- source load (models reading raw files)"
MODELS = "- models (all, incl. source load)"
MODELS_WALL = "- models, wall (time any model was running)"
TESTS = "- data tests"
VALIDATE_MART = "validation: mart suites + rules"
PUBLISH = "publish"
DOCS = "docs"
MAIN_JOB = "main job (generate excluded)"
JOB_RAW = "- in the main job: raw suites (beside the build)"
JOB_BUILD = "- in the main job: dbt build (with its parse)"
JOB_MART = "- in the main job: mart suites + rules"
JOB_PUBLISH = "- in the main job: publish"
JOB_DOCS = "- in the main job: docs"
MAIN_JOB_SUM = "stages above one by one, summed"
RAW_DUCKDB = "raw DuckDB: same model SQL, no dbt"
MODELS_SERIAL = "dbt models one at a time (dbt run --threads 1)"
SERIAL_RATIO = "ratio dbt models one at a time / raw DuckDB"
MODEL_RATIO = "ratio dbt models / raw DuckDB"
MODEL_WALL_RATIO = "ratio dbt models wall / raw DuckDB"
ROWS_PER_S_BUILD = "rows/s over dbt build"
ROWS_PER_S_JOB = "rows/s over main job"
INCREMENTAL = "incremental: one new year"
FULL_REBUILD = "full rebuild (--full-refresh)"
INCREMENTAL_RATIO = "ratio incremental / full rebuild"
EMPTY_BUILD = "dbt build of no rows (--empty): dbt's own cost per node"
# where the time of the new year's build and of the full rebuild goes: summed node time by how a
# node keeps its rows between builds (split_by_upkeep)
UPKEEP_KINDS = ("models rebuilt whole", "models incremental by year",
                "models incremental by raw file", "data tests")
NEW_YEAR_SPLIT = tuple(f"- new year: {kind}" for kind in UPKEEP_KINDS)
FULL_REBUILD_SPLIT = tuple(f"- full rebuild: {kind}" for kind in UPKEEP_KINDS)
EMPTY_RATIO = "ratio build of no rows / full rebuild (a floor for the incremental ratio)"
SPARK = "Spark: dbt build (scale 1 only)"

METRICS: tuple[tuple[str, str], ...] = (
    (GENERATE, "s"), (VALIDATE_RAW, "s"), (PARSE, "s"), (BUILD, "s"), (SEEDS, "s"),
    (SOURCE_LOAD, "s"), (MODELS, "s"), (MODELS_WALL, "s"), (TESTS, "s"), (VALIDATE_MART, "s"),
    (PUBLISH, "s"), (DOCS, "s"), (MAIN_JOB_SUM, "s"), (MAIN_JOB, "s"), (JOB_RAW, "s"),
    (JOB_BUILD, "s"), (JOB_MART, "s"), (JOB_PUBLISH, "s"), (JOB_DOCS, "s"), (RAW_DUCKDB, "s"),
    (MODELS_SERIAL, "s"), (SERIAL_RATIO, "x"), (MODEL_RATIO, "x"),
    (MODEL_WALL_RATIO, "x"), (ROWS_PER_S_BUILD, "rows/s"), (ROWS_PER_S_JOB, "rows/s"),
    (INCREMENTAL, "s"), *((m, "s") for m in NEW_YEAR_SPLIT), (FULL_REBUILD, "s"),
    *((m, "s") for m in FULL_REBUILD_SPLIT), (INCREMENTAL_RATIO, "x"),
    (EMPTY_BUILD, "s"), (EMPTY_RATIO, "x"), (SPARK, "s"),
)
MAIN_JOB_STAGES = (VALIDATE_RAW, PARSE, BUILD, VALIDATE_MART, PUBLISH, DOCS)
# the step names `carecensus run --timings` writes, and the rows they fill
JOB_STEPS = {"raw suites": JOB_RAW, "dbt build": JOB_BUILD, "mart suites and rules": JOB_MART,
             "publish": JOB_PUBLISH, "dbt docs (+static)": JOB_DOCS}

# targets of the issue
MAIN_JOB_LIMIT_S = 60.0
MODEL_RATIO_LIMIT = 1.5
MEMORY_LIMIT_BYTES = 4 * 1000**3  # "4GB" as DuckDB reads it (decimal), profiles.yml's default
INCREMENTAL_RATIO_LIMIT = 0.30

DEFAULT_REPORT = PROJECT_DIR / "data" / "reports" / "benchmark.md"
DEFAULT_WORK = PROJECT_DIR / "data" / "benchmark"


# ----------------------------------------------------------------------------------------------
# Samples and summaries (pure)

@dataclass(frozen=True)
class Sample:
    """One run's value of one metric, or the reason there is none."""

    value: float | None
    peak_rss: int | None = None  # bytes: largest single process (kernel high-water mark)
    peak_tree: int | None = None  # bytes: largest sampled sum over the process tree
    reason: str | None = None  # why there is no value
    note: str | None = None  # something to know about the value
    # bytes: the most disk in use beyond what was in use when the stage started (free disk at its
    # start less the lowest free disk sampled during it): the files it keeps, and its transient
    # files (DuckDB's spill, a copy) at their largest
    peak_disk: int | None = None

    @staticmethod
    def missing(reason: str) -> Sample:
        return Sample(None, reason=reason)


@dataclass(frozen=True)
class Spread:
    median: float
    low: float
    high: float
    runs: int


def summarize(values: Sequence[float]) -> Spread:
    """Median, minimum and maximum of some runs; an empty list is an error."""
    if not values:
        raise ValueError("no values to summarize")
    return Spread(statistics.median(values), min(values), max(values), len(values))


@dataclass(frozen=True)
class Row:
    """A metric over the runs of one scale."""

    metric: str
    unit: str
    spread: Spread | None
    peak_rss: int | None
    peak_tree: int | None
    note: str | None  # why it was not run, or how many runs were missing
    peak_disk: int | None = None


def summarize_metric(metric: str, unit: str, samples: Sequence[Sample]) -> Row:
    values = [s.value for s in samples if s.value is not None]
    rss = [s.peak_rss for s in samples if s.peak_rss is not None]
    tree = [s.peak_tree for s in samples if s.peak_tree is not None]
    disk = [s.peak_disk for s in samples if s.peak_disk is not None]
    reasons = sorted({s.reason for s in samples if s.value is None and s.reason})
    remarks = sorted({s.note for s in samples if s.value is not None and s.note})
    if not samples:
        reasons = ["not measured"]
    note: str | None = None
    if not values:
        note = "not run: " + "; ".join(reasons or ["no value"])
    elif len(values) < len(samples):
        note = f"{len(samples) - len(values)} of {len(samples)} runs not run: " + "; ".join(reasons)
    if values and remarks:
        note = "; ".join([*([note] if note else []), *remarks])
    return Row(metric, unit, summarize(values) if values else None,
               max(rss) if rss else None, max(tree) if tree else None, note,
               max(disk) if disk else None)


@dataclass
class ScaleResult:
    scale: float
    runs: list[dict[str, Sample]] = field(default_factory=list)
    rows_generated: int | None = None
    note: str | None = None

    def rows(self) -> list[Row]:
        return [summarize_metric(m, unit, [run.get(m, Sample.missing("not measured"))
                                           for run in self.runs])
                for m, unit in METRICS]

    def row(self, metric: str) -> Row:
        unit = dict(METRICS)[metric]
        return summarize_metric(metric, unit, [run.get(metric, Sample.missing("not measured"))
                                               for run in self.runs])

    def completed(self) -> bool:
        """Every main-job stage has a value in every run."""
        return bool(self.runs) and all(run.get(s, Sample(None)).value is not None
                                       for run in self.runs for s in (GENERATE, *MAIN_JOB_STAGES))

    def peak_memory(self) -> int | None:
        peaks = [max(s.peak_rss or 0, s.peak_tree or 0) for run in self.runs for s in run.values()]
        return max(peaks) if peaks and max(peaks) > 0 else None


def derive(run: dict[str, Sample], rows_generated: int | None) -> None:
    """Add the metrics computed from measured ones: main job, ratios, rows per second."""
    def value(metric: str) -> float | None:
        return run[metric].value if metric in run else None

    missing = [s for s in MAIN_JOB_STAGES if value(s) is None]
    if missing:
        run[MAIN_JOB_SUM] = Sample.missing("stage missing: " + ", ".join(missing))
    else:
        run[MAIN_JOB_SUM] = Sample(sum(value(s) or 0.0 for s in MAIN_JOB_STAGES))
    run[SERIAL_RATIO] = ratio(value(MODELS_SERIAL), value(RAW_DUCKDB), MODELS_SERIAL, RAW_DUCKDB)
    run[MODEL_RATIO] = ratio(value(MODELS), value(RAW_DUCKDB), MODELS, RAW_DUCKDB)
    run[MODEL_WALL_RATIO] = ratio(value(MODELS_WALL), value(RAW_DUCKDB), MODELS_WALL, RAW_DUCKDB)
    run[INCREMENTAL_RATIO] = ratio(value(INCREMENTAL), value(FULL_REBUILD), INCREMENTAL,
                                   FULL_REBUILD)
    run[EMPTY_RATIO] = ratio(value(EMPTY_BUILD), value(FULL_REBUILD), EMPTY_BUILD, FULL_REBUILD)
    for metric, over in ((ROWS_PER_S_BUILD, BUILD), (ROWS_PER_S_JOB, MAIN_JOB)):
        seconds = value(over)
        if rows_generated is None:
            run[metric] = Sample.missing("no row count from the generator")
        elif not seconds:
            run[metric] = Sample.missing(f"no time for {over}")
        else:
            run[metric] = Sample(rows_generated / seconds)


def ratio(numerator: float | None, denominator: float | None, top: str, bottom: str) -> Sample:
    if numerator is None or denominator is None:
        gone = [name for name, v in ((top, numerator), (bottom, denominator)) if v is None]
        return Sample.missing("no value for " + " and ".join(gone))
    if denominator <= 0:
        return Sample.missing(f"{bottom} took no time")
    return Sample(numerator / denominator)


# ----------------------------------------------------------------------------------------------
# Targets (pure)

@dataclass(frozen=True)
class TargetResult:
    target: str
    measured: str
    passed: bool | None  # None: could not be evaluated
    margin: str


def judge(measured: float, limit: float, unit: str) -> tuple[bool, str]:
    """Lower is better: pass when ``measured < limit``; the margin says by how much."""
    gap = limit - measured
    share = abs(gap) / limit * 100 if limit else float("inf")
    word = "under" if gap > 0 else "over"
    return gap > 0, f"{_number(abs(gap), unit)} {word} the limit ({share:.0f}%)"


def _by_scale(results: Sequence[ScaleResult], scale: float) -> ScaleResult | None:
    return next((r for r in results if r.scale == scale), None)


def evaluate_targets(results: Sequence[ScaleResult]) -> list[TargetResult]:
    out: list[TargetResult] = []
    one = _by_scale(results, 1.0)
    name = f"scale 1: main job (generate excluded) under {MAIN_JOB_LIMIT_S:g} s"
    row = one.row(MAIN_JOB) if one else None
    if row is None or row.spread is None:
        out.append(TargetResult(name, "-", None, "not evaluated: " + (
            "scale 1 not in --scales" if row is None else (row.note or "no value"))))
    else:
        passed, margin = judge(row.spread.median, MAIN_JOB_LIMIT_S, "s")
        out.append(TargetResult(name, f"median {_number(row.spread.median, 's')}", passed, margin))

    for result in results:
        for metric, limit, title in (
                (SERIAL_RATIO, MODEL_RATIO_LIMIT,
                 f"scale {result.scale:g}: dbt model execution within "
                 f"{MODEL_RATIO_LIMIT:g}x raw DuckDB"),
                (INCREMENTAL_RATIO, INCREMENTAL_RATIO_LIMIT,
                 f"scale {result.scale:g}: one new year's incremental load under "
                 f"{INCREMENTAL_RATIO_LIMIT:.0%} of a full rebuild")):
            row = result.row(metric)
            if row.spread is None:
                out.append(TargetResult(title, "-", None, "not evaluated: " + (row.note or "")))
            else:
                passed, margin = judge(row.spread.median, limit, "x")
                out.append(TargetResult(title, f"median {_number(row.spread.median, 'x')}", passed,
                                        margin))

    hundred = _by_scale(results, 100.0)
    name = "scale 100: completes with peak memory under 4 GB"
    if hundred is None:
        out.append(TargetResult(name, "-", None, "not evaluated: scale 100 not in --scales"))
    elif not hundred.completed():
        out.append(TargetResult(name, "did not complete", False,
                                "a main-job stage did not finish in every run"
                                + (f" ({hundred.note})" if hundred.note else "")))
    else:
        peak = hundred.peak_memory()
        if peak is None:
            out.append(TargetResult(name, "completed", None, "not evaluated: no memory measured"))
        else:
            passed, margin = judge(float(peak), float(MEMORY_LIMIT_BYTES), "bytes")
            out.append(TargetResult(name, f"completed, peak {_number(float(peak), 'bytes')}",
                                    passed, margin))
    return out


# ----------------------------------------------------------------------------------------------
# Report (pure)

@dataclass(frozen=True)
class MachineFacts:
    started: str
    finished: str
    command: str
    cores: int
    memory_bytes: int | None
    load_start: tuple[float, float, float]
    load_end: tuple[float, float, float]
    versions: Mapping[str, str]
    duckdb_settings: Mapping[str, str]
    runs: int
    project: str = "unknown"
    dbt_threads: str = "unknown"


def _number(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value:.1f} s" if value >= 10 else f"{value:.2f} s"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "rows/s":
        return f"{value:,.0f}"
    if unit == "bytes":
        return f"{value / 1000**3:.2f} GB" if value >= 1000**3 else f"{value / 1000**2:.0f} MB"
    return f"{value:g}"


def _memory(value: int | None) -> str:
    return "-" if value is None else _number(float(value), "bytes")


def _load(load: tuple[float, float, float]) -> str:
    return " / ".join(f"{x:.2f}" for x in load)


def format_scale(result: ScaleResult) -> str:
    lines = [f"### Scale {result.scale:g}", ""]
    rows = "-" if result.rows_generated is None else f"{result.rows_generated:,}"
    lines.append(f"Raw rows generated: {rows}. Runs: {len(result.runs)}.")
    if result.note:
        lines.append(f"Note: {result.note}")
    lines += ["", "| stage | median | min | max | peak RSS, largest process | "
              "peak PSS, process tree | peak disk | note |",
              "|---|---:|---:|---:|---:|---:|---:|---|"]
    for row in result.rows():
        if row.spread is None:
            cells = ["-", "-", "-"]
        else:
            cells = [_number(v, row.unit) for v in (row.spread.median, row.spread.low,
                                                    row.spread.high)]
        cells += [_memory(row.peak_rss), _memory(row.peak_tree), _memory(row.peak_disk),
                  row.note or ""]
        lines.append(f"| {row.metric} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def format_targets(targets: Sequence[TargetResult]) -> str:
    lines = ["| target | measured | result | margin |", "|---|---|---|---|"]
    for t in targets:
        verdict = "not evaluated" if t.passed is None else ("pass" if t.passed else "MISS")
        lines.append(f"| {t.target} | {t.measured} | {verdict} | {t.margin} |")
    return "\n".join(lines)


def format_report(facts: MachineFacts, results: Sequence[ScaleResult],
                  targets: Sequence[TargetResult]) -> str:
    memory = _memory(facts.memory_bytes)
    versions = ", ".join(f"{k} {v}" for k, v in facts.versions.items())
    settings = ", ".join(f"{k}={v}" for k, v in facts.duckdb_settings.items()) or "none"
    parts = [
        "# Benchmark: the main job at several census scales", "",
        f"Started {facts.started}, finished {facts.finished}. Command: `{facts.command}`.", "",
        "## Machine", "",
        f"- cores: {facts.cores}; memory: {memory}",
        f"- load average (1 / 5 / 15 min) at start: {_load(facts.load_start)}; "
        f"at end: {_load(facts.load_end)} (other work on the machine shows here as noise)",
        f"- versions: {versions}",
        f"- project: {facts.project}",
        f"- dbt threads (nodes at once) from profiles.yml: {facts.dbt_threads}; DuckDB settings "
        f"from profiles.yml (also used for the raw DuckDB replay): {settings}",
        "",
        "## Method", "",
        f"Up to {facts.runs} run(s) per scale (each scale gives its number of runs); each cell is "
        "the median, minimum and maximum over the runs. "
        "Every stage runs in a subprocess of its own. *Peak RSS, largest process* is the kernel's "
        "high-water mark of the biggest single process of the stage (`wait4`); *peak PSS, "
        "process tree* is the largest sum of the proportional set size of the stage's processes "
        "(resident memory, a page shared between processes split among them, so that nothing is "
        "counted twice; a process's RSS where the kernel gives no PSS), sampled every 0.2 s. "
        "Reports written before 2026-11-28 summed resident memory (RSS) in this column, which "
        "counts a shared page once per process. *Peak disk* is the most disk the stage had in use "
        "beyond what was in use when it started (free disk at its start less the lowest free disk "
        "sampled with the memory, on the file system of the work folder): the files it kept and "
        "its transient ones, such as DuckDB's spill files, at their largest. It counts whatever "
        "else writes to that disk meanwhile. The replay and the incremental stage run only with "
        "room for the build's spill (its peak disk less the warehouse it left) beside their "
        "warehouse's growth.",
        "",
        "- *dbt parse* is a full parse into an empty target folder; *dbt build* then reuses it "
        "(partial parsing), so parse + build is what one `dbt build` costs in the main job.",
        "- The build split comes from `run_results.json`: the sum of `execution_time` per node "
        "kind (seeds; models; data tests). The builds leave unit tests out, as the main job "
        "does (`--exclude-resource-type unit_test`: fixed inputs; `make test` runs them). With "
        "more than one dbt thread these sums can exceed the wall time; *models, wall* is the time during which at least one model was "
        "running (tests and seeds may run beside it). *Source load* is the models that read "
        "the raw files (part of *models*).",
        "- *Validation* is the Great Expectations suites (raw beside the build; mart after it, "
        "with the census rules gate).",
        "- *Main job* is `carecensus run --no-calibration` on the generated census, timed end "
        "to end in a fresh target folder (so with a full parse) and a new warehouse, as a user "
        "runs it: the raw suites beside `dbt build` (before it with `--raw-suites-first`, as "
        "its row's note then says) and `dbt docs generate` (one dbt process, one parse), then "
        "the mart suites and rules, and publish. Its *in the main job* rows are the job's own "
        "step times (beside the build, the raw suites and the build both from the build's "
        "start, sharing the two cores; docs as the dbt process timed them). The stage rows "
        "above it measure each stage again alone, in a process of its own (so each pays its own "
        "interpreter start and imports), and *stages above one by one, summed* adds them up: "
        "raw suites + parse + build + mart suites and rules + publish + docs.",
        "- *Raw DuckDB* replays each model's compiled SQL (`create or replace table|view "
        "<relation> as ...`) in dependency order, on one connection, into a copy of the built "
        "warehouse (seeds and raw files as dbt saw them; when the disk has no room for a copy, "
        "into the built warehouse itself, after the docs, and the row's note says so). *dbt "
        "models one at a time* runs the "
        "same models through dbt in the same conditions: `dbt run --threads 1 --full-refresh` over "
        "the built warehouse, summed model `execution_time`. The target's ratio is that sum over "
        "the replay's total: the same SQL, one model at a time, with and without dbt. The two "
        "ratios from the build (its summed model time, and the time any model was running, over "
        "the replay) are shown beside it: in the build, models share the cores with each other "
        "and with tests, so their summed time also counts that contention.",
        "- *Rows/s* is the raw rows the generator wrote, over the dbt build wall time and over "
        "the main job.",
        "- *Incremental*: the census without its last reporting year is built with its tests "
        "(untimed); the last year's files are added and `dbt build` is timed; then `dbt build "
        "--full-refresh` of the same files is timed as the full rebuild. Both start from a "
        "parsed project. Their *new year* and *full rebuild* rows say where the time went: the "
        "summed node time (`run_results.json`) of the models rebuilt whole (tables, views), of "
        "those incremental by reporting year (partition-incremental: in the new year, only the "
        "years whose input rows changed), of those incremental by raw file (in the new year, only "
        "new or changed files), and of the data tests; seeds and hooks are left out; a full "
        "rebuild rebuilds every model whole, so its rows split the same work by kind. Last, "
        "`dbt build --empty` runs the same nodes over no rows: what dbt itself costs for them, "
        "which no incremental model can save, so its ratio to the full rebuild is a floor for "
        "the incremental ratio.",
        "",
        "## Targets", "",
        format_targets(targets), "",
        "## Results by scale", "",
    ]
    for result in results:
        parts += [format_scale(result), ""]
    return "\n".join(parts).rstrip() + "\n"


# ----------------------------------------------------------------------------------------------
# Manifest (pure)

def topological_order(dependencies: Mapping[str, Iterable[str]]) -> list[str]:
    """Nodes so that each comes after the nodes it depends on (dependencies outside the mapping
    are ignored); ties in alphabetical order. A cycle raises :class:`ValueError`."""
    pending = {node: {d for d in deps if d in dependencies and d != node}
               for node, deps in dependencies.items()}
    selfish = sorted(n for n, deps in dependencies.items() if n in set(deps))
    if selfish:
        raise ValueError(f"dependency cycle: {selfish[0]} depends on itself")
    dependants: dict[str, list[str]] = {node: [] for node in pending}
    for node, deps in pending.items():
        for d in deps:
            dependants[d].append(node)
    ready = sorted(n for n, deps in pending.items() if not deps)
    order: list[str] = []
    while ready:
        node = ready.pop(0)
        order.append(node)
        for after in dependants[node]:
            pending[after].discard(node)
            if not pending[after]:
                ready.append(after)
        ready.sort()
    if len(order) < len(pending):
        stuck = sorted(n for n in pending if n not in set(order))
        raise ValueError("dependency cycle among: " + ", ".join(stuck))
    return order


def model_nodes(manifest: Manifest) -> dict[str, dict[str, Any]]:
    """The enabled models of the manifest, ephemeral ones left out (they are inlined)."""
    return {uid: node for uid, node in manifest.get("nodes", {}).items()
            if node.get("resource_type") == "model"
            and node.get("config", {}).get("materialized") != "ephemeral"}


def incremental_models(manifest: Manifest) -> list[str]:
    return sorted(uid for uid, node in model_nodes(manifest).items()
                  if node.get("config", {}).get("materialized") == "incremental")


# The base models' hook (macros/census_raw.sql): they number raw rows in the order the reader
# returns them, so their statement keeps insertion order whatever the profile says.
KEEP_READ_ORDER_HOOK = "census_keep_read_order(true)"


def keeps_read_order(node: Mapping[str, Any]) -> bool:
    """Whether a model's pre-hooks keep insertion order for its own statement."""
    hooks = node.get("config", {}).get("pre-hook") or []
    return any(KEEP_READ_ORDER_HOOK in str(hook.get("sql", "")) for hook in hooks)


def replay_statements(manifest: Manifest) -> list[tuple[str, str]]:
    """``(unique_id, create statement)`` for every model, in dependency order (a model that keeps
    read order does so for its own statement, as its hooks do in dbt)."""
    models = model_nodes(manifest)
    order = topological_order({uid: node.get("depends_on", {}).get("nodes", [])
                                for uid, node in models.items()})
    statements = []
    for uid in order:
        node = models[uid]
        code = (node.get("compiled_code") or "").strip().rstrip(";").strip()
        if not code:
            raise ValueError(f"{uid} has no compiled SQL in the manifest (run dbt build first)")
        kind = "view" if node.get("config", {}).get("materialized") == "view" else "table"
        relation = node["relation_name"]
        statement = f"create or replace {kind} {relation} as (\n{code}\n)"
        if keeps_read_order(node):
            statement = (f"set session preserve_insertion_order = true;\n{statement};\n"
                         "reset session preserve_insertion_order")
        statements.append((uid, statement))
    return statements


def split_run_results(run_results: Mapping[str, Any], manifest: Manifest) -> dict[str, float]:
    """Summed ``execution_time`` of seeds, models, source-reading models and tests."""
    reads_sources = {uid for uid, node in model_nodes(manifest).items()
                     if any(d.startswith("source.")
                            for d in node.get("depends_on", {}).get("nodes", []))}
    sums = {SEEDS: 0.0, MODELS: 0.0, SOURCE_LOAD: 0.0, TESTS: 0.0}
    model_spans: list[tuple[float, float]] = []
    for result in run_results.get("results", []):
        uid = str(result["unique_id"])
        seconds = float(result.get("execution_time") or 0.0)
        kind = uid.split(".", 1)[0]
        if kind == "seed":
            sums[SEEDS] += seconds
        elif kind == "model":
            sums[MODELS] += seconds
            model_spans += _spans(result)
            if uid in reads_sources:
                sums[SOURCE_LOAD] += seconds
        elif kind in ("test", "unit_test"):
            sums[TESTS] += seconds
    sums[MODELS_WALL] = covered_seconds(model_spans)
    return sums


# how a model says it is incremental by reporting year (macros/census_partition_incremental.sql)
PARTITION_INCREMENTAL_CALL = "census_partition_incremental("


def split_by_upkeep(run_results: Mapping[str, Any], manifest: Manifest) -> dict[str, float]:
    """Summed ``execution_time`` of a build's models by how they keep their rows between builds
    (rebuilt whole: tables and views; incremental by year: the models whose own SQL calls
    census_partition_incremental, all by ``year_code`` today; incremental by raw file: the other
    incremental models, the staging models, whose macros take it by raw file) and of its data
    tests, in the order of ``UPKEEP_KINDS``. Seeds and hooks are left out."""
    models = model_nodes(manifest)
    sums = dict.fromkeys(UPKEEP_KINDS, 0.0)
    for result in run_results.get("results", []):
        uid = str(result["unique_id"])
        seconds = float(result.get("execution_time") or 0.0)
        if uid.split(".", 1)[0] in ("test", "unit_test"):
            sums["data tests"] += seconds
        elif uid in models:
            node = models[uid]
            if node.get("config", {}).get("materialized") != "incremental":
                sums["models rebuilt whole"] += seconds
            elif PARTITION_INCREMENTAL_CALL in str(node.get("raw_code", "")):
                sums["models incremental by year"] += seconds
            else:
                sums["models incremental by raw file"] += seconds
    return sums


def failing_nodes(run_results: Mapping[str, Any]) -> dict[str, list[str]]:
    """Seeds, models and snapshots that did not build; tests that failed or errored."""
    out: dict[str, list[str]] = {"built": [], "tests": []}
    for result in run_results.get("results", []):
        uid, status = str(result["unique_id"]), str(result.get("status"))
        kind = uid.split(".", 1)[0]
        if kind in ("seed", "model", "snapshot") and status != "success":
            out["built"].append(uid)
        elif kind in ("test", "unit_test") and status in ("fail", "error"):
            out["tests"].append(uid)
    return out


def _spans(result: Mapping[str, Any]) -> list[tuple[float, float]]:
    """The (start, end) of a node's compile and execute steps, as POSIX seconds."""
    spans = []
    for step in result.get("timing") or []:
        if step.get("started_at") and step.get("completed_at"):
            spans.append((_instant(step["started_at"]), _instant(step["completed_at"])))
    return spans


def _instant(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def covered_seconds(spans: Iterable[tuple[float, float]]) -> float:
    """Length of the union of some time intervals (overlaps counted once)."""
    total, end = 0.0, float("-inf")
    for start, stop in sorted(spans):
        if stop <= end:
            continue
        total += stop - max(start, end)
        end = stop
    return total


def profile_outputs(profiles_text: str) -> dict[str, dict[str, Any]]:
    """The outputs (targets) of the project's profile in ``profiles.yml``."""
    import yaml

    data = yaml.safe_load(profiles_text) or {}
    outputs: dict[str, dict[str, Any]] = {}
    for profile in data.values():
        if isinstance(profile, dict):
            outputs.update(profile.get("outputs", {}) or {})
    return outputs


ENV_VAR_CALL = re.compile(
    r"""\{\{\s*env_var\(\s*['"]([^'"]+)['"]\s*(?:,\s*['"]([^'"]*)['"]\s*)?\)"""
    r"""\s*(?:\|\s*as_number\s*)?\}\}""")


def render_env_vars(text: str, environ: Mapping[str, str] | None = None) -> str:
    """``{{ env_var('NAME', 'default') }}`` in a profile value, as dbt renders it."""
    env = os.environ if environ is None else environ

    def value(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env:
            return env[name]
        if default is None:
            raise KeyError(f"profiles.yml needs the environment variable {name}")
        return default

    return ENV_VAR_CALL.sub(value, text)


def _duckdb_output(outputs: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Any]:
    return next((o for o in outputs.values() if o.get("type") == "duckdb"), {})


def duckdb_settings(outputs: Mapping[str, Mapping[str, Any]],
                    environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The DuckDB target's ``settings``, as SET statements would take them (environment variables
    rendered as dbt renders them). Not dbt's ``threads``: that is how many nodes dbt runs at once;
    dbt-duckdb leaves DuckDB's own ``threads`` at its default (one per core), and so does the
    replay."""
    return {str(k): render_env_vars(str(v), environ)
            for k, v in (_duckdb_output(outputs).get("settings") or {}).items()}


def dbt_threads(outputs: Mapping[str, Mapping[str, Any]],
                environ: Mapping[str, str] | None = None) -> str:
    """The DuckDB target's dbt ``threads`` (nodes run at once), rendered; '1' when unset."""
    return render_env_vars(str(_duckdb_output(outputs).get("threads", 1)), environ)


def spark_target(outputs: Mapping[str, Mapping[str, Any]]) -> str | None:
    return next((name for name, o in outputs.items() if o.get("type") == "spark"), None)


def parse_scales(text: str) -> list[float]:
    scales = [float(part) for part in text.split(",") if part.strip()]
    if not scales or any(s <= 0 for s in scales):
        raise ValueError(f"scales must be positive numbers, got {text!r}")
    return scales


# ----------------------------------------------------------------------------------------------
# Measuring a subprocess

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def _tree_pids(root: int) -> set[int]:
    """``root`` and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        parents[int(entry.name)] = int(fields[1])
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    return tree


def _resident_memory(pid: int) -> int:
    """A process's resident size in bytes (RSS, from statm: cheap); 0 once it has gone."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


def _process_memory(pid: int) -> int:
    """A process's proportional set size in bytes (PSS: its resident pages, each page shared with
    other processes split among them, so that a sum over processes counts nothing twice); its
    resident size where the kernel gives no PSS; 0 once it has gone."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return _resident_memory(pid)


class TreePeak:
    """The peak of a process tree's summed PSS, kept cheap to sample.

    Reading a process's PSS (smaps_rollup) walks its page tables: some 50 ms for a process of
    2.7 GB, while holding its memory-map lock, and a benchmark samples five times a second. So each
    sample sums the processes' RSS (statm, microseconds), and reads their PSS only when that sum
    passes the largest RSS sum at any PSS read so far: memory has grown since. After a PSS read
    that took d seconds, none again for ``spacing`` times d (a twentieth of one core at most, by
    default); a rise seen meanwhile is read at the next chance. So a rise shorter than that
    hold-back (about a second for a process of 2.7 GB), or a PSS that grows while the RSS
    sum does not (shared pages coming unshared), can be missed; the largest single process's
    peak (the kernel's high-water mark) is exact all the same."""

    def __init__(self, spacing: float = 19.0) -> None:
        self.peak = 0
        self.spacing = spacing
        self._rss_read = -1  # the largest RSS sum at a PSS read
        self._not_before = 0.0
        self._pending = False

    def sample(self, root: int) -> int:
        pids = _tree_pids(root)
        resident = sum(_resident_memory(pid) for pid in pids)
        if resident > self._rss_read:
            self._pending = True
        now = time.perf_counter()
        if self._pending and now >= self._not_before:
            self.peak = max(self.peak, sum(_process_memory(pid) for pid in pids))
            self._rss_read = max(self._rss_read, resident)
            took = time.perf_counter() - now
            self._not_before = now + took * (1 + self.spacing)
            self._pending = False
        return self.peak


@dataclass
class Measured:
    seconds: float
    returncode: int
    peak_rss: int
    peak_tree: int
    stopped: str | None  # the budget that stopped it, if one did
    log: Path
    peak_disk: int = 0  # bytes: free disk at the start less the lowest sampled (Sample.peak_disk)

    def tail(self) -> str:
        """The line of the log that most likely says what went wrong."""
        try:
            text = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return failure_line(text)


def failure_line(lines: Sequence[str]) -> str:
    """The last line naming an error, else the last line with words (not traceback carets)."""
    worded = [line.strip() for line in lines if any(c.isalnum() for c in line)]
    errors = [line for line in worded if "error" in line.lower() or "exception" in line.lower()]
    return ((errors or worded or [""])[-1])[:200]


def measure(command: Sequence[str], *, env: Mapping[str, str], log: Path,
            timeout: float | None = None, memory_limit: int | None = None,
            interval: float = 0.2) -> Measured:
    """Run ``command``; its wall time, exit code, peak memory and peak disk (stops it past a
    budget)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    # a statvfs call: microseconds, so at every sample
    free_at_start = lowest_free = free_disk(log.parent)
    with open(log, "wb") as out:
        started = time.perf_counter()
        process = subprocess.Popen(list(command), cwd=PROJECT_DIR, env=dict(env), stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        peak_tree = 0
        tree = TreePeak()
        stopped: list[str] = []
        done = threading.Event()

        def watch() -> None:
            nonlocal peak_tree, lowest_free
            while not done.wait(interval):
                try:
                    peak_tree = tree.sample(process.pid)
                except OSError:
                    pass
                try:
                    lowest_free = min(lowest_free, free_disk(log.parent))
                except OSError:
                    pass
                if timeout is not None and time.perf_counter() - started > timeout:
                    stopped.append(f"time budget ({timeout / 60:.1f} min left for the scale)")
                elif memory_limit is not None and peak_tree > memory_limit:
                    stopped.append(f"memory budget ({_memory(memory_limit)})")
                if stopped:
                    try:
                        os.killpg(process.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    return

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        done.set()
        watcher.join()
        lowest_free = min(lowest_free, free_disk(log.parent))
        process.returncode = os.waitstatus_to_exitcode(status)
    return Measured(seconds, process.returncode, usage.ru_maxrss * 1024, peak_tree,
                    stopped[0] if stopped else None, log, max(0, free_at_start - lowest_free))


def _stage_command(stage: str, result: Path, **params: Any) -> list[str]:
    return [sys.executable, "-m", "carecensus.benchmark", "--stage", stage,
            "--params", json.dumps(params, default=str), "--result", str(result)]


# ----------------------------------------------------------------------------------------------
# Stages run inside the subprocess (python -m carecensus.benchmark --stage ...)

def _stage_generate(params: Mapping[str, Any]) -> dict[str, Any]:
    from carecensus.generator import GeneratorConfig, generate

    out = Path(params["out"])
    if out.exists():
        shutil.rmtree(out)
    counts = generate(GeneratorConfig(out_dir=out, scale=float(params["scale"]),
                                      workers=int(params["workers"])))
    return {"rows": sum(counts.values()), "files": len(counts)}


def _stage_validate_raw(params: Mapping[str, Any]) -> dict[str, Any]:
    from carecensus.quality import run_suites

    summary = run_suites("raw", Path(params["raw"]), Path(params["out"]))
    return {"exit_code": summary.exit_code}


def _stage_validate_mart(params: Mapping[str, Any]) -> dict[str, Any]:
    from carecensus.cli import rules_gate
    from carecensus.quality import run_suites

    summary = run_suites("mart", Path(params["warehouse"]), Path(params["out"]))
    os.environ["CENSUS_WAREHOUSE_PATH"] = str(params["warehouse"])
    rules_ok = rules_gate()
    return {"exit_code": summary.exit_code or (0 if rules_ok else 1)}


def _stage_publish(params: Mapping[str, Any]) -> dict[str, Any]:
    from carecensus.publish import publish

    published = publish(Path(params["warehouse"]), load_manifest(Path(params["manifest"])),
                        Path(params["serving"]), Path(params["parquet"]))
    return {"exit_code": 0, "tables": len(published)}


def _stage_docs(params: Mapping[str, Any]) -> dict[str, Any]:
    from carecensus import docs_site

    docs_site.generate(raw=Path(params["raw"]), warehouse=Path(params["warehouse"]),
                       work=Path(params["work"]), after_build=True)
    return {"exit_code": 0}


def replay(database: Path, manifest: Manifest, settings: Mapping[str, str]) -> tuple[float, int]:
    """Run every model's compiled SQL on ``database`` in dependency order; seconds and models."""
    import duckdb

    statements = replay_statements(manifest)
    con = duckdb.connect(str(database))
    try:
        for key, value in settings.items():
            con.execute(f"set {key} = {literal(str(value))}")
        started = time.perf_counter()
        for _, statement in statements:
            con.execute(statement)
        seconds = time.perf_counter() - started
    finally:
        con.close()
    return seconds, len(statements)


def _stage_raw_duckdb(params: Mapping[str, Any]) -> dict[str, Any]:
    source = Path(params["warehouse"])
    manifest, settings = load_manifest(Path(params["manifest"])), dict(params["settings"])
    if params.get("in_place"):
        seconds, models = replay(source, manifest, settings)
        return {"exit_code": 0, "seconds": seconds, "models": models}
    replay_dir = Path(params["replay_dir"])
    shutil.rmtree(replay_dir, ignore_errors=True)  # a stopped replay's copy (and its .wal)
    replay_dir.mkdir(parents=True)
    copy = replay_dir / source.name  # same file name: same catalog name as dbt's
    try:
        shutil.copyfile(source, copy)
        seconds, models = replay(copy, manifest, settings)
    finally:
        shutil.rmtree(replay_dir, ignore_errors=True)
    return {"exit_code": 0, "seconds": seconds, "models": models}


STAGE_FUNCTIONS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "generate": _stage_generate, "validate-raw": _stage_validate_raw,
    "validate-mart": _stage_validate_mart, "publish": _stage_publish, "docs": _stage_docs,
    "raw-duckdb": _stage_raw_duckdb,
}


def stage_main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m carecensus.benchmark")
    parser.add_argument("--stage", choices=sorted(STAGE_FUNCTIONS), required=True)
    parser.add_argument("--params", required=True, help="JSON object")
    parser.add_argument("--result", required=True, help="JSON file to write")
    args = parser.parse_args(argv)
    result = STAGE_FUNCTIONS[args.stage](json.loads(args.params))
    Path(args.result).write_text(json.dumps(result))
    return int(result.get("exit_code", 0))


# ----------------------------------------------------------------------------------------------
# The benchmark

@dataclass(frozen=True)
class Options:
    scales: list[float]
    runs: int = 3
    out: Path = DEFAULT_REPORT
    work: Path = DEFAULT_WORK
    keep: bool = False
    skip_spark: bool = False
    skip_incremental: bool = False
    max_minutes_per_scale: float | None = None
    max_memory_gb: float | None = None
    workers: int = 2
    runs_above_1: int | None = None  # runs at scales above 1 (None: `runs`)
    spark_runs: int | None = None  # the Spark build in the first N runs only (None: every run)
    resume: bool = False  # go on from the stages an earlier, stopped invocation recorded
    raw_suites_first: bool = False  # the main job runs the raw suites before the build

    def runs_at(self, scale: float) -> int:
        return self.runs if scale <= 1 or self.runs_above_1 is None else self.runs_above_1


# Free disk a stage needs beyond what it writes, and the growth of a warehouse whose tables are
# written again (a full rebuild over it at scale 100, 5dc2c22: 32 GB grew to 47.7 GB by node 510
# of 573; the replay writes every table again too). Beside these, a stage that writes every table
# needs room for DuckDB's spill files, as large as the build's (spill_bytes).
DISK_MARGIN_BYTES = 2 * 1000**3
FULL_REBUILD_GROWTH = 1.8


def spill_bytes(build: Sample | None, warehouse_bytes: int) -> int:
    """An estimate of DuckDB's spill files at their largest in a build (with a memory limit,
    tens of GB at scale 100), which a stage that writes every table again needs room for too:
    the build's peak disk beyond the warehouse it left. Low when the spill peaked while the
    warehouse was still small; it counts the build's logs and whatever else wrote to the disk.
    0 when the build's disk was not sampled."""
    if build is None or build.peak_disk is None:
        return 0
    return max(0, build.peak_disk - warehouse_bytes)


def rewrite_bytes(warehouse_bytes: int, spill: int, file_bytes: int | None = None, *,
                  rewritten: bool = False) -> int:
    """Free disk a stage needs to write every table of a warehouse (``warehouse_bytes`` as built)
    again inside it: the file's growth (the new copies beside the old until their space is
    reused), the spill, a margin. DuckDB reuses the free blocks inside its file: at scale 1 three
    replays in a row left a 378 MB warehouse at 487, 445 and 486 MB. So the growth is less what an
    earlier, stopped rewrite grew the file by already (``file_bytes``, its size now), and none
    once a whole rewrite has gone through the file (``rewritten``): the next one stays within that
    one's high-water mark."""
    grown = 0 if file_bytes is None else max(0, file_bytes - warehouse_bytes)
    growth = 0 if rewritten else max(0, int(warehouse_bytes * (FULL_REBUILD_GROWTH - 1)) - grown)
    return growth + spill + DISK_MARGIN_BYTES


def free_disk(path: Path) -> int:
    """Bytes free on the file system of ``path`` (or of its nearest existing parent)."""
    while not path.exists():
        path = path.parent
    return shutil.disk_usage(path).free


def _git(*arguments: str) -> str | None:
    result = subprocess.run(["git", *arguments], cwd=PROJECT_DIR, capture_output=True,
                            text=True, check=False)
    return result.stdout if result.returncode == 0 else None


def head_commit() -> str:
    """The full commit the project is at (or that it is not a git checkout)."""
    return (_git("rev-parse", "HEAD") or "not a git checkout").strip()


def uncommitted_changes() -> str:
    """'none', or a digest of the working tree's changes against the commit (edited, added and
    untracked files), so that a resumed run can tell edits made since it stopped."""
    status, diff = _git("status", "--porcelain"), _git("diff", "HEAD")
    if status is None or diff is None:
        return "unknown (not a git checkout)"
    if not status.strip():
        return "none"
    return hashlib.sha256((status + diff).encode()).hexdigest()[:16]


@dataclass
class RunRecord:
    """What one run of one scale has measured so far, saved after every stage, so that a stopped
    benchmark can go on (``--resume``) without measuring again what it has: a scale-100 run takes
    longer than one sitting. Only a record of the same commit, measured in the same conditions
    (dbt threads, DuckDB settings, the options that change what a stage does), is taken up."""

    path: Path
    commit: str
    conditions: dict[str, str] = field(default_factory=dict)
    samples: dict[str, Sample] = field(default_factory=dict)
    facts: dict[str, int] = field(default_factory=dict)  # rows_generated, warehouse_bytes
    resumed: list[str] = field(default_factory=list)  # metrics an earlier invocation measured

    @classmethod
    def start(cls, path: Path, commit: str, conditions: Mapping[str, str],
              resume: bool) -> RunRecord:
        if not (resume and path.exists()):
            path.unlink(missing_ok=True)
            return cls(path, commit, dict(conditions))
        data = json.loads(path.read_text())
        if data.get("commit") != commit:
            raise ValueError(f"{path} was recorded at commit {data.get('commit')}, and the "
                             f"project is at {commit}: run the benchmark without --resume")
        recorded = data.get("conditions", {})
        changed = sorted(k for k in {*recorded, *conditions}
                         if recorded.get(k) != conditions.get(k))
        if changed:
            raise ValueError(f"{path} was measured with other " + ", ".join(
                f"{k} ({recorded.get(k)}, now {conditions.get(k)})" for k in changed)
                + ": run the benchmark as then, or without --resume")
        samples = {metric: Sample(**fields) for metric, fields in data["samples"].items()}
        return cls(path, commit, dict(conditions), samples,
                   {k: int(v) for k, v in data["facts"].items()},
                   [m for m, s in samples.items() if s.value is not None])

    def done(self, *metrics: str) -> bool:
        """Whether every metric has a value (a failed or skipped stage runs again)."""
        return all(self.samples.get(m, Sample(None)).value is not None for m in metrics)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"commit": self.commit, "conditions": self.conditions, "facts": self.facts,
                "samples": {m: asdict(s) for m, s in self.samples.items()}}
        temporary = self.path.with_suffix(".partial")
        temporary.write_text(json.dumps(data, indent=1))
        temporary.replace(self.path)


class _Scale:
    """Runs the stages of one scale, keeping to its budgets."""

    def __init__(self, options: Options, scale: float, settings: Mapping[str, str],
                 spark: str | None, spark_reason: str, threads: str = "1") -> None:
        self.options = options
        self.scale = scale
        self.settings = dict(settings)
        # what a resumed run must be measured with, as its record was (RunRecord)
        self.conditions = {**{f"DuckDB {k}": str(v) for k, v in settings.items()},
                           "dbt threads": threads, "generator workers": str(options.workers),
                           "raw suites first": str(options.raw_suites_first),
                           "uncommitted changes": uncommitted_changes(),
                           **{f"version of {k}": v for k, v in _versions().items()}}
        self.spark = spark
        self.spark_reason = spark_reason
        self.dir = options.work / f"scale-{scale:g}"
        self.deadline = (time.perf_counter() + options.max_minutes_per_scale * 60
                         if options.max_minutes_per_scale else None)
        self.memory_limit = (int(options.max_memory_gb * 1000**3)
                             if options.max_memory_gb else None)
        self.result = ScaleResult(scale)
        self.commit = head_commit()

    def _timeout(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.perf_counter()

    def run_command(self, name: str, command: Sequence[str], env: Mapping[str, str],
                    log: Path) -> tuple[Sample, Measured | None]:
        timeout = self._timeout()
        if timeout is not None and timeout <= 0:
            return Sample.missing(f"time budget of {self.options.max_minutes_per_scale:g} min "
                                  "per scale spent"), None
        print(f"  scale {self.scale:g}: {name} ...", flush=True)
        m = measure(command, env=env, log=log, timeout=timeout, memory_limit=self.memory_limit)
        print(f"  scale {self.scale:g}: {name}: {m.seconds:.1f} s, exit {m.returncode}, "
              f"peak {_memory(m.peak_rss)} / tree {_memory(m.peak_tree)}", flush=True)
        if m.stopped or m.returncode != 0:
            # the run folder goes at the end of the run: keep the log of what went wrong
            kept = self.options.work / "failed-logs" / "-".join(
                log.relative_to(self.options.work).parts)
            kept.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(log, kept)
            where = f"log {kept.name} in {kept.parent}"
            if m.stopped:
                return Sample(None, m.peak_rss, m.peak_tree,
                              f"stopped at the {m.stopped}; {where}", peak_disk=m.peak_disk), m
            return Sample(None, m.peak_rss, m.peak_tree,
                          f"failed (exit {m.returncode}): {m.tail()}; {where}",
                          peak_disk=m.peak_disk), m
        return Sample(m.seconds, m.peak_rss, m.peak_tree, peak_disk=m.peak_disk), m

    def run_stage(self, name: str, stage: str, run_dir: Path,
                  **params: Any) -> tuple[Sample, dict[str, Any]]:
        result_file = run_dir / f"{stage}.json"
        result_file.unlink(missing_ok=True)
        sample, _ = self.run_command(name, _stage_command(stage, result_file, **params),
                                     dict(os.environ), run_dir / "logs" / f"{stage}.log")
        data: dict[str, Any] = {}
        if result_file.exists():
            data = json.loads(result_file.read_text())
        return sample, data

    def dbt(self, name: str, arguments: Sequence[str], run_dir: Path, raw: Path,
            warehouse: Path, log_name: str, extra_env: Mapping[str, str] | None = None) -> Sample:
        """A dbt command; a build whose seeds and models all built counts even when data
        tests failed (it is timed all the same), with a note of how many failed."""
        results = run_dir / "target" / "run_results.json"
        results.unlink(missing_ok=True)
        sample, measured = self.run_command(name, dbt_command(arguments, run_dir),
                                            {**dbt_environment(raw, warehouse), **(extra_env or {})},
                                            run_dir / "logs" / f"{log_name}.log")
        if (sample.value is None and measured is not None and not measured.stopped
                and measured.returncode == 1 and results.exists()):
            failed = failing_nodes(json.loads(results.read_text()))
            if not failed["built"]:
                count = len(failed["tests"])
                return Sample(measured.seconds, measured.peak_rss, measured.peak_tree,
                              note=f"{count} data test(s) failed in some run(s)",
                              peak_disk=measured.peak_disk)
        return sample

    def run(self, index: int) -> dict[str, Sample]:
        run_dir = self.dir / f"run-{index}"
        record = RunRecord.start(
            self.options.work / "records" / f"scale-{self.scale:g}-run-{index}.json",
            self.commit, self.conditions, self.options.resume)
        if record.resumed:
            print(f"  scale {self.scale:g}: run {index} goes on from its record: "
                  f"{len(record.resumed)} metric(s) measured earlier", flush=True)
            self._note(f"run {index} went on from an earlier invocation of the same commit "
                       f"(--resume), which measured {len(record.resumed)} of its metrics (the "
                       "start time and load averages above are this invocation's)")
        else:
            shutil.rmtree(run_dir, ignore_errors=True)
        run_dir.mkdir(parents=True, exist_ok=True)
        raw = self.dir / "raw"
        warehouse = run_dir / "warehouse.duckdb"
        manifest = run_dir / "build_manifest.json"
        samples = record.samples
        if "rows_generated" in record.facts:
            self.result.rows_generated = record.facts["rows_generated"]

        # the stages these options run (one they leave out needs no census, warehouse or manifest)
        incremental = (() if self.options.skip_incremental
                       else (INCREMENTAL, FULL_REBUILD, EMPTY_BUILD))
        reading_raw = (MAIN_JOB, VALIDATE_RAW, PARSE, BUILD, DOCS, MODELS_SERIAL, *incremental,
                       *((SPARK,) if self._spark_due(index) else ()))
        if not record.done(GENERATE) or (not raw.is_dir() and not record.done(*reading_raw)):
            samples[GENERATE], data = self.run_stage(GENERATE, "generate", run_dir, out=raw,
                                                     scale=self.scale,
                                                     workers=self.options.workers)
            if "rows" in data:
                record.facts["rows_generated"] = self.result.rows_generated = int(data["rows"])
            record.save()
            if samples[GENERATE].value is None:
                return self._rest(samples, f"{GENERATE} did not finish")

        if not record.done(MAIN_JOB):
            self._main_job(samples, run_dir / "main-job", raw)
            record.save()
        if not record.done(VALIDATE_RAW):
            samples[VALIDATE_RAW], _ = self.run_stage(VALIDATE_RAW, "validate-raw", run_dir,
                                                      raw=raw, out=run_dir / "quality")
            record.save()
        if not record.done(PARSE):
            shutil.rmtree(run_dir / "target", ignore_errors=True)  # a full parse
            samples[PARSE] = self.dbt(PARSE, ("parse",), run_dir, raw, warehouse, "dbt-parse")
            record.save()

        self._drop_published(run_dir, record)  # before the disk is judged (a --keep run's)
        on_warehouse = (VALIDATE_MART, PUBLISH, DOCS, RAW_DUCKDB, MODELS_SERIAL)
        wants_warehouse = not record.done(*on_warehouse)
        rebuild = record.done(BUILD) and wants_warehouse and not warehouse.exists()
        refused = self._no_room_to_rebuild(run_dir, record) if rebuild else None
        wants_manifest = (wants_warehouse and refused is None) or not record.done(*incremental)
        if not record.done(BUILD) or (rebuild and refused is None):
            # timed; or, when a stage still to measure needs the warehouse that a measured
            # build left and that is gone, built again untimed (the build's sample stays)
            timed = not record.done(BUILD)
            for stale in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
                stale.unlink(missing_ok=True)  # a new warehouse, as in a run from the start
            build = self.dbt(BUILD if timed else "dbt build again for its warehouse (untimed)",
                             PRODUCTION_BUILD, run_dir, raw, warehouse, "dbt-build")
            results = run_dir / "target" / "run_results.json"
            if timed:
                samples[BUILD] = build
            if build.value is None or not results.exists():
                record.save()
                return self._rest(samples, f"{BUILD} did not finish")
            shutil.copyfile(run_dir / "target" / "manifest.json", manifest)
            if timed:
                split = split_run_results(json.loads(results.read_text()),
                                          load_manifest(manifest))
                samples.update({k: Sample(v) for k, v in split.items()})
            record.facts["warehouse_bytes"] = warehouse.stat().st_size
            record.save()
        elif wants_manifest and not manifest.exists():
            # the stages left need the project's manifest, not a build
            self.dbt("dbt parse again for its manifest (untimed)", ("parse",), run_dir, raw,
                     warehouse, "dbt-parse-again")
            shutil.copyfile(run_dir / "target" / "manifest.json", manifest)

        if not record.done(VALIDATE_MART):
            samples[VALIDATE_MART], _ = self.run_stage(VALIDATE_MART, "validate-mart", run_dir,
                                                       warehouse=warehouse,
                                                       out=run_dir / "quality")
            record.save()
        if not record.done(PUBLISH):
            samples[PUBLISH], _ = self.run_stage(PUBLISH, "publish", run_dir, warehouse=warehouse,
                                                 manifest=manifest,
                                                 serving=run_dir / "serving.duckdb",
                                                 parquet=run_dir / "parquet")
            record.save()
        if not record.done(DOCS):
            # as in the main job: into the build's target folder, reusing its manifest; before
            # the replay, which may rewrite the warehouse's tables (below)
            samples[DOCS], _ = self.run_stage(DOCS, "docs", run_dir, raw=raw,
                                              warehouse=warehouse, work=run_dir)
            record.save()
        self._drop_published(run_dir, record)
        built = record.facts.get("warehouse_bytes", 0)  # the warehouse's size as built
        spill = spill_bytes(samples.get(BUILD), built)
        if not record.done(RAW_DUCKDB):
            samples[RAW_DUCKDB] = (Sample.missing(refused) if refused else
                                   self._replay(run_dir, warehouse, manifest, spill, built))
            record.save()
        if not record.done(MODELS_SERIAL):
            samples[MODELS_SERIAL] = (Sample.missing(refused) if refused else
                                      self._models_serial(run_dir, raw, warehouse, built, spill,
                                                          samples.get(RAW_DUCKDB)))
            record.save()
        if not self.options.keep:
            # room for the incremental stage's warehouse (tens of GB at scale 100), even when a
            # stage on this one did not run: --resume builds it again (untimed) for that stage
            warehouse.unlink(missing_ok=True)

        self._incremental(record, run_dir, raw, manifest)
        if not record.done(SPARK):
            self._spark(samples, run_dir, raw, index)
            record.save()
        derive(samples, self.result.rows_generated)
        if not self.options.keep:
            shutil.rmtree(run_dir, ignore_errors=True)
        return samples

    def _drop_published(self, run_dir: Path, record: RunRecord) -> None:
        """Nothing after the docs reads the serving file or Parquet: once both are measured,
        their room (29.7 GB at scale 100) goes to the replay's and the serial run's rewrite of
        the warehouse (unless --keep)."""
        if not self.options.keep and record.done(PUBLISH, DOCS):
            (run_dir / "serving.duckdb").unlink(missing_ok=True)
            shutil.rmtree(run_dir / "parquet", ignore_errors=True)

    @staticmethod
    def _no_room_to_rebuild(run_dir: Path, record: RunRecord) -> str | None:
        """Why the lost warehouse is not built again (untimed) for the stages still to measure
        on it, or None. When only the replay and the serial run are left, both write every table
        of it again inside it, so the disk must hold the rebuilt file and that rewrite: checked
        before a rebuild that would be refused after it (1,921 s at scale 100)."""
        built = record.facts.get("warehouse_bytes", 0)
        if not built or not record.done(VALIDATE_MART, PUBLISH, DOCS):
            return None  # a stage that only reads the warehouse is left, or its size is unknown
        needed = built + rewrite_bytes(built, spill_bytes(record.samples.get(BUILD), built))
        free = free_disk(run_dir)
        if free >= needed:
            return None
        return (f"{_memory(free)} free disk; the warehouse is gone, and building it again "
                f"({_memory(built)}) then writing every table of it again needs about "
                f"{_memory(needed)}: not built again")

    def _note(self, text: str) -> None:
        self.result.note = f"{self.result.note}; {text}" if self.result.note else text

    def _replay(self, run_dir: Path, warehouse: Path, manifest: Path, spill: int,
                built: int) -> Sample:
        """The model SQL straight into DuckDB: into a copy of the built warehouse, or into the
        warehouse itself when the disk has no room for a copy. The replay writes every table
        again from the same SQL, so a stage after it (the serial run, which rebuilds every model;
        or one that --resume runs again) reads the same rows. In place, it needs less what a
        replay stopped earlier grew the file by (``built``: its size as built)."""
        shutil.rmtree(run_dir / "replay", ignore_errors=True)  # not to count a stopped copy
        size, free = warehouse.stat().st_size, free_disk(run_dir)
        # into the file: its growth while each table is written again beside the old one, spill
        growth = rewrite_bytes(built or size, spill, size)
        needed = size + growth  # a copy of the file as it is now, and the same growth in it
        if free < growth:
            return Sample.missing(f"{_memory(free)} free disk; the replay needs about "
                                  f"{_memory(growth)} even into the built warehouse (with "
                                  f"{_memory(spill)} for DuckDB's spill, as the build's)")
        in_place = free < needed
        sample, data = self.run_stage(RAW_DUCKDB, "raw-duckdb", run_dir, warehouse=warehouse,
                                      manifest=manifest, replay_dir=run_dir / "replay",
                                      settings=self.settings, in_place=in_place)
        if sample.value is None:
            return sample
        note = (f"into the built warehouse, not a copy: {_memory(free)} free disk, a copy of "
                f"its {_memory(size)} needs about {_memory(needed)}" if in_place else None)
        # the replay's own clock: the SQL only, not the interpreter start or the file copy
        return Sample(float(data["seconds"]), sample.peak_rss, sample.peak_tree, note=note,
                      peak_disk=sample.peak_disk)

    def _models_serial(self, run_dir: Path, raw: Path, warehouse: Path, built: int,
                       spill: int, replayed: Sample | None) -> Sample:
        """The models again, one at a time, over the built warehouse: what the replay does, but
        through dbt (``--full-refresh``: incremental models rebuilt whole, as replayed). It
        writes every table again inside the warehouse, so it needs the room an in-place replay
        needs; after an in-place replay went through (the file grew beyond ``built``, its size as
        built), no growth: the file's high-water mark is reached. Its spill is that replay's own
        (its peak disk beyond the growth; about 19 GB at scale 100, against the build's 7.86 GB)
        when larger than ``spill``."""
        size, free = warehouse.stat().st_size, free_disk(run_dir)
        built = built or size
        # a replay that went through and grew the file wrote into it, not into a copy
        rewritten = replayed is not None and replayed.value is not None and size > built
        if size > built:
            spill = max(spill, spill_bytes(replayed, size - built))
        needed = rewrite_bytes(built, spill, size, rewritten=rewritten)
        if free < needed:
            return Sample.missing(f"{_memory(free)} free disk; it writes every table of the "
                                  f"built warehouse again and needs about {_memory(needed)} "
                                  f"({_memory(spill)} of it for DuckDB's spill, as the build's)")
        command = self.dbt(MODELS_SERIAL, ("run", "--threads", "1", "--full-refresh"), run_dir,
                           raw, warehouse, "dbt-run-serial")
        results = run_dir / "target" / "run_results.json"
        if command.value is None or not results.exists():
            return command
        seconds = split_run_results(json.loads(results.read_text()), {})[MODELS]
        return Sample(seconds, command.peak_rss, command.peak_tree, note=command.note,
                      peak_disk=command.peak_disk)

    def _main_job(self, samples: dict[str, Sample], job_dir: Path, raw: Path) -> None:
        """``carecensus run`` end to end, in folders of its own; the step times from --timings."""
        timings = job_dir / "timings.json"
        env = job_environment(raw, job_dir)
        command = [sys.executable, "-m", "carecensus.cli", "run", "--no-calibration",
                   "--timings", str(timings),
                   *(("--raw-suites-first",) if self.options.raw_suites_first else ())]
        shutil.rmtree(job_dir, ignore_errors=True)  # a new warehouse (a stopped job left one)
        job_dir.mkdir(parents=True)
        samples[MAIN_JOB], _ = self.run_command(MAIN_JOB, command, env, job_dir / "main-job.log")
        steps: dict[str, float] = {}
        if samples[MAIN_JOB].value is not None and timings.exists():
            steps = json.loads(timings.read_text())["steps"]
        for step, metric in JOB_STEPS.items():
            samples[metric] = (Sample(float(steps[step])) if step in steps
                               else Sample.missing(f"{MAIN_JOB}: no time for its step {step!r}"))
        if self.options.raw_suites_first and samples[JOB_RAW].value is not None:
            samples[JOB_RAW] = replace(samples[JOB_RAW],
                                       note="before the build, not beside it (--raw-suites-first)")
        if not self.options.keep:
            shutil.rmtree(job_dir, ignore_errors=True)  # its warehouse and serving file are large

    def _rest(self, samples: dict[str, Sample], reason: str) -> dict[str, Sample]:
        for metric, _ in METRICS:
            samples.setdefault(metric, Sample.missing(reason))
        derive(samples, self.result.rows_generated)
        return samples

    def _incremental(self, record: RunRecord, run_dir: Path, raw: Path, manifest: Path) -> None:
        stages = (INCREMENTAL, FULL_REBUILD, EMPTY_BUILD)
        samples = record.samples

        def not_run(reason: str) -> None:
            for metric in (*stages, *NEW_YEAR_SPLIT, *FULL_REBUILD_SPLIT):
                if not record.done(metric):
                    samples[metric] = Sample.missing(reason)
            record.save()

        if record.done(*stages):
            return
        if self.options.skip_incremental:
            not_run("--skip-incremental")
            return
        if not incremental_models(load_manifest(manifest)):
            not_run("no incremental model in the project (no materialized='incremental')")
            return
        years = sorted({p.name for p in raw.glob("*/*") if p.is_dir() and p.name.isdigit()})
        if len(years) < 2:
            not_run("the census has fewer than two reporting years")
            return
        # the census without its last year, built in full; then the last year arrives
        partial = run_dir / "raw-incremental"
        work = run_dir / "incremental"
        incremental_db = work / "warehouse.duckdb"
        if not record.done(INCREMENTAL) or not incremental_db.exists():
            # from the start (a stopped new-year build leaves a warehouse half a year ahead)
            shutil.rmtree(partial, ignore_errors=True)
            shutil.rmtree(work, ignore_errors=True)
            size = record.facts.get("warehouse_bytes", 0)
            spill = spill_bytes(samples.get(BUILD), size)
            needed = size + rewrite_bytes(size, spill)
            free = free_disk(run_dir)
            if free < needed:
                not_run(f"{_memory(free)} free disk; its warehouse needs about "
                        f"{_memory(needed)}: {FULL_REBUILD_GROWTH:g} times the build's, which a "
                        f"full rebuild over it reaches; {_memory(spill)} for DuckDB's spill, as "
                        f"much as the build's; and a {_memory(DISK_MARGIN_BYTES)} margin")
                return
            for folder in sorted(p for p in raw.glob("*/*") if p.is_dir()):
                if folder.name != years[-1]:
                    _link_tree(folder, partial / folder.parent.name / folder.name)
            work.mkdir(parents=True)
            # with its data tests, as last year's build was: a test of a partition-incremental
            # model then checks only what changed since it passed. Until the last year corrects
            # them, the earlier years break some rules: those tests warn (census_expect_faults).
            without_last = json.dumps({"census_last_year_code": int(years[-2]),
                                       "census_expect_faults": True})
            before = self.dbt("incremental: build without the last year",
                              (*PRODUCTION_BUILD, "--vars", without_last),
                              work, partial, incremental_db, "dbt-build-without-last-year")
            if before.value is None:
                not_run(f"build without the last year did not finish: {before.reason}")
                return
            for folder in sorted(p for p in raw.glob(f"*/{years[-1]}") if p.is_dir()):
                _link_tree(folder, partial / folder.parent.name / folder.name)
            # untimed: the vars changed, so parse again now, or the first timed build pays
            self.dbt("incremental: parse (untimed)", ("parse",), work, partial, incremental_db,
                     "dbt-parse-incremental")
            samples[INCREMENTAL] = self.dbt(INCREMENTAL, PRODUCTION_BUILD, work, partial,
                                            incremental_db, "dbt-build-incremental")
            self._upkeep(samples, INCREMENTAL, NEW_YEAR_SPLIT, work)
            record.save()
        if not record.done(FULL_REBUILD):
            samples[FULL_REBUILD] = self.dbt(FULL_REBUILD, (*PRODUCTION_BUILD, "--full-refresh"),
                                             work, partial, incremental_db,
                                             "dbt-build-full-refresh")
            self._upkeep(samples, FULL_REBUILD, FULL_REBUILD_SPLIT, work)
            record.save()
        if not record.done(FULL_REBUILD):
            # not yet: --empty would empty the warehouse that the full rebuild, run again by
            # --resume, is to rebuild (a full rebuild stopped midway left the same rows)
            samples[EMPTY_BUILD] = Sample.missing(f"{FULL_REBUILD} did not finish")
            record.save()
        elif not record.done(EMPTY_BUILD):
            # last, as it leaves every table empty: the same nodes over no rows (dbt's --empty
            # reads every ref and source as an empty relation; the tests that want rows check
            # nothing then, census_rows_expected, so it passes).
            samples[EMPTY_BUILD] = self.dbt(EMPTY_BUILD, (*PRODUCTION_BUILD, "--empty"), work,
                                            partial, incremental_db, "dbt-build-empty")
            record.save()

    @staticmethod
    def _upkeep(samples: dict[str, Sample], build: str, metrics: Sequence[str],
                work: Path) -> None:
        """The rows of ``split_by_upkeep`` for the build just timed in ``work``."""
        results, manifest = work / "target" / "run_results.json", work / "target" / "manifest.json"
        if samples[build].value is None or not results.exists() or not manifest.exists():
            for metric in metrics:
                reason = samples[build].reason or "no run_results.json"
                samples[metric] = Sample.missing(f"{build}: {reason}")
            return
        split = split_by_upkeep(json.loads(results.read_text()), load_manifest(manifest))
        for metric, kind in zip(metrics, UPKEEP_KINDS):
            samples[metric] = Sample(split[kind])

    def _spark_due(self, index: int) -> bool:
        return self._spark_not_run(index) is None

    def _spark_not_run(self, index: int) -> str | None:
        """Why this run has no Spark build, or None when it has one."""
        if self.options.skip_spark:
            return "--skip-spark"
        if self.scale != 1.0:
            return "Spark is measured at scale 1 only"
        if self.options.spark_runs is not None and index > self.options.spark_runs:
            return f"--spark-runs {self.options.spark_runs}"
        return self.spark_reason if self.spark is None else None

    def _spark(self, samples: dict[str, Sample], run_dir: Path, raw: Path, index: int) -> None:
        reason = self._spark_not_run(index)
        if reason is not None or self.spark is None:
            samples[SPARK] = Sample.missing(reason or self.spark_reason)
            return
        # its metastore and table files in the run's folder (a stopped build's go first);
        # Spark binds to the loopback
        shutil.rmtree(run_dir / "spark", ignore_errors=True)
        spark_env = {"CENSUS_SPARK_DIR": str(run_dir / "spark" / "data"),
                     "SPARK_LOCAL_IP": "127.0.0.1"}
        samples[SPARK] = self.dbt(SPARK, ("build", "--target", self.spark), run_dir / "spark",
                                  raw, run_dir / "spark" / "unused.duckdb", "dbt-build-spark",
                                  spark_env)

    def run_all(self) -> ScaleResult:
        runs = self.options.runs_at(self.scale)
        for index in range(1, runs + 1):
            timeout = self._timeout()
            if timeout is not None and timeout <= 0:
                budget = self.options.max_minutes_per_scale
                self.result.note = (f"{runs - index + 1} of {runs} runs "
                                    f"not run: time budget of {budget:g} min per scale spent")
                break
            print(f"scale {self.scale:g}, run {index} of {runs}", flush=True)
            self.result.runs.append(self.run(index))
        if not self.options.keep:
            shutil.rmtree(self.dir, ignore_errors=True)
        return self.result


def _link_tree(source: Path, target: Path) -> None:
    """A copy of a folder of raw files made of hard links (a plain copy across file systems)."""
    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source, target, copy_function=link)


def _versions() -> dict[str, str]:
    versions = {"python": sys.version.split()[0]}
    for package in ("dbt-core", "dbt-duckdb", "duckdb", "great-expectations"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def project_state() -> str:
    """The commit the project was at, and whether files were changed (results then mix versions
    if the tree changed during the benchmark)."""
    commit = (_git("rev-parse", "--short", "HEAD") or "").strip()
    if not commit:
        return "not a git checkout"
    changed = [line for line in (_git("status", "--porcelain") or "").splitlines()
               if line.strip()]
    return f"commit {commit}" + (f", {len(changed)} uncommitted file(s)" if changed
                                 else ", clean working tree")


def _memory_total() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def run_benchmark(options: Options, command: str = "carecensus benchmark") -> Path:
    """Run every scale and write the report; returns its path."""
    outputs = profile_outputs((PROJECT_DIR / "profiles.yml").read_text())
    settings = duckdb_settings(outputs)
    spark = spark_target(outputs)
    spark_reason = ("profiles.yml has no Spark target (targets: "
                    + ", ".join(sorted(outputs)) + ")")
    if spark is not None and importlib.util.find_spec("dbt.adapters.spark") is None:
        spark, spark_reason = None, (f"profiles.yml has the Spark target '{spark}' but the "
                                     "dbt-spark adapter is not installed beside this dbt")
    started, load_start, project = _now(), os.getloadavg(), project_state()
    options.work.mkdir(parents=True, exist_ok=True)
    results = []
    for scale in options.scales:
        results.append(_Scale(options, scale, settings, spark, spark_reason,
                              dbt_threads(outputs)).run_all())
    facts = MachineFacts(started=started, finished=_now(), command=command,
                         cores=os.cpu_count() or 0, memory_bytes=_memory_total(),
                         load_start=load_start, load_end=os.getloadavg(), versions=_versions(),
                         duckdb_settings=settings, dbt_threads=dbt_threads(outputs),
                         runs=max(options.runs_at(s) for s in options.scales),
                         project=f"{project} at start; {project_state()} at end")
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(format_report(facts, results, evaluate_targets(results)))
    return options.out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scales", default="1,10,100",
                        help="comma-separated census scales (default 1,10,100)")
    parser.add_argument("--runs", type=int, default=3, help="runs per scale (default 3)")
    parser.add_argument("--out", default=str(DEFAULT_REPORT.relative_to(PROJECT_DIR)),
                        help="markdown report to write (default data/reports/benchmark.md)")
    parser.add_argument("--work", default=str(DEFAULT_WORK.relative_to(PROJECT_DIR)),
                        help="scratch folder (default data/benchmark)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument("--skip-spark", action="store_true")
    parser.add_argument("--skip-incremental", action="store_true")
    parser.add_argument("--max-minutes-per-scale", type=float, default=None,
                        help="stop a scale's remaining stages and runs after this long")
    parser.add_argument("--max-memory-gb", type=float, default=None,
                        help="stop a stage whose process tree holds more than this (GB)")
    parser.add_argument("--workers", type=int, default=2, help="generator processes")
    parser.add_argument("--runs-above-1", type=int, default=None,
                        help="runs per scale for scales above 1 (default: --runs)")
    parser.add_argument("--spark-runs", type=int, default=None,
                        help="build on Spark in the first N runs only (default: every run)")
    parser.add_argument("--raw-suites-first", action="store_true",
                        help="the main job runs the raw suites before dbt build, not beside it "
                             "(carecensus run --raw-suites-first: less memory at once)")
    parser.add_argument("--resume", action="store_true",
                        help="go on from the stages that a stopped benchmark of the same commit "
                             "recorded in --work, instead of measuring them again")


def options_from_args(args: argparse.Namespace) -> Options:
    def path(text: str) -> Path:
        p = Path(text)
        return p if p.is_absolute() else PROJECT_DIR / p

    if args.runs < 1 or (args.runs_above_1 is not None and args.runs_above_1 < 1):
        raise ValueError("--runs and --runs-above-1 must be at least 1")
    return Options(scales=parse_scales(args.scales), runs=args.runs, out=path(args.out),
                   work=path(args.work), keep=args.keep, skip_spark=args.skip_spark,
                   skip_incremental=args.skip_incremental,
                   max_minutes_per_scale=args.max_minutes_per_scale,
                   max_memory_gb=args.max_memory_gb, workers=args.workers,
                   runs_above_1=args.runs_above_1, spark_runs=args.spark_runs,
                   resume=args.resume, raw_suites_first=args.raw_suites_first)


if __name__ == "__main__":
    sys.exit(stage_main(sys.argv[1:]))
