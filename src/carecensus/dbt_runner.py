"""Running dbt in the project: one place that knows the command line and the environment.

The CLI's main job starts its build and docs with :func:`start_build_then_docs` (it runs the
raw suites meanwhile); everything else, the tests that build a warehouse of their own included,
goes through :func:`run_dbt`; a test passes ``work`` so its target and logs stay out of the
project.
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from carecensus.paths import PROJECT_DIR

DBT = Path(sys.executable).with_name("dbt")


def dbt_environment(raw: Path | None = None, warehouse: Path | None = None) -> dict[str, str]:
    """The current environment, with the raw folder and build database set when given."""
    env = dict(os.environ)
    if raw is not None:
        env["CENSUS_RAW_DIR"] = str(raw)
    if warehouse is not None:
        env["CENSUS_WAREHOUSE_PATH"] = str(warehouse)
    return env


def job_environment(raw: Path, folder: Path) -> dict[str, str]:
    """The environment of a main job (``carecensus run``) that reads ``raw`` and writes every
    output under ``folder``: build database, dbt's target and logs, serving file, Parquet and
    quality reports. The benchmark and the tests run the job this way, beside the project's own."""
    return {**dbt_environment(raw, folder / "warehouse.duckdb"),
            "DBT_TARGET_PATH": str(folder / "target"), "DBT_LOG_PATH": str(folder / "logs"),
            "CENSUS_SERVING_PATH": str(folder / "serving.duckdb"),
            "CENSUS_PARQUET_DIR": str(folder / "parquet"),
            "CENSUS_QUALITY_DIR": str(folder / "quality")}


# Every dbt command of ours runs on this project with its own profiles.yml, wherever it starts.
PROJECT_OPTIONS = ("--profiles-dir", str(PROJECT_DIR), "--project-dir", str(PROJECT_DIR))


def dbt_command(arguments: Sequence[str], work: Path | None = None) -> list[str]:
    """The dbt command line for the project; ``work`` moves target/ and logs/ under it."""
    command = [str(DBT), *arguments, *PROJECT_OPTIONS]
    if work is not None:
        command += ["--target-path", str(work / "target"), "--log-path", str(work / "logs")]
    return command


# What the production builds (the main job, and the benchmark's builds that stand for it) leave out:
# unit tests. Their inputs are fixed rows in YAML, so they say nothing new about a census; dbt
# recommends running them in development and CI only. Every warehouse build of `make test` runs
# them (a failing one fails it), and in the main job they held up the chain of CLA models they test.
PRODUCTION_BUILD = ("build", "--exclude-resource-type", "unit_test")
# dbt docs generate after a build in the same process: the single-file site, the build's compiled SQL
DOCS_AFTER_BUILD = ("docs", "generate", "--static", "--no-compile")
# build_then_docs's exit code when the build passed and the docs did not (dbt itself uses 0, 1, 2)
DOCS_FAILED = 3


def build_then_docs(build_arguments: Sequence[str] = PRODUCTION_BUILD,
                    timings: Path | None = None) -> int:
    """In this process: ``dbt parse``, ``dbt build`` and ``dbt docs generate`` (DOCS_AFTER_BUILD)
    on the one parsed manifest. The main job runs this in a process of its own (``python -m
    carecensus.dbt_runner``): a separate ``dbt docs generate`` process paid its interpreter start,
    its imports and a partial parse (about 3 to 4 s at scale 1) for a catalog query of 0.3 s.

    Returns dbt's exit code for a failed parse or build (1 failures, 2 an error), DOCS_FAILED
    when only the docs failed, else 0. ``timings`` receives the seconds of each step (JSON)."""
    from dbt.cli.main import dbtRunner

    seconds: dict[str, float] = {}

    def invoke(runner: Any, step: str, arguments: Sequence[str]) -> Any:
        started = time.perf_counter()
        result = runner.invoke([*arguments, *PROJECT_OPTIONS])
        seconds[step] = time.perf_counter() - started
        if timings is not None:
            timings.write_text(json.dumps(seconds, indent=2) + "\n", encoding="utf-8")
        if result.exception is not None:
            print(f"dbt {step}: {type(result.exception).__name__}: {result.exception}",
                  file=sys.stderr)
        return result

    # The build writes manifest.json (and the stamp below puts its own invocation id in it): the
    # parse writes only what partial parsing needs next time.
    parsed = invoke(dbtRunner(), "parse", ["parse", "--no-write-json"])
    if not parsed.success:
        return 2
    manifest = parsed.result

    def stamp(event: Any) -> None:
        # dbt sets a manifest's invocation id only when it parses; one passed in keeps the parse's,
        # and the build writes it to manifest.json, which publish records as the build's run.
        # Each event carries the id of the command firing it: the manifest takes the build's.
        manifest.metadata.invocation_id = event.info.invocation_id

    runner = dbtRunner(manifest=manifest, callbacks=[stamp])
    built = invoke(runner, "build", build_arguments)
    if not built.success:
        return 2 if built.exception is not None else 1
    return 0 if invoke(runner, "docs", DOCS_AFTER_BUILD).success else DOCS_FAILED


def start_build_then_docs(build_arguments: Sequence[str] = PRODUCTION_BUILD, *,
                          raw: Path | None = None, warehouse: Path | None = None,
                          timings: Path | None = None) -> subprocess.Popen[bytes]:
    """Start :func:`build_then_docs` in a process of its own without waiting, its output on the
    console."""
    command = [sys.executable, "-m", "carecensus.dbt_runner"]
    if timings is not None:
        command += ["--timings", str(timings)]
    return subprocess.Popen([*command, *build_arguments], cwd=PROJECT_DIR,
                            env=dbt_environment(raw, warehouse))


def run_dbt(arguments: Sequence[str], *, raw: Path | None = None, warehouse: Path | None = None,
            work: Path | None = None, capture: bool = False,
            check: bool = False) -> subprocess.CompletedProcess[str]:
    """Run dbt in the project folder. ``capture`` keeps the output (tests); ``check`` raises
    :class:`subprocess.CalledProcessError` when dbt fails."""
    return subprocess.run(dbt_command(arguments, work), cwd=PROJECT_DIR,
                          env=dbt_environment(raw, warehouse), capture_output=capture,
                          text=True, check=check)


def dbt_build(raw: Path, warehouse: Path, work: Path,
              *extra: str) -> subprocess.CompletedProcess[str]:
    """``dbt build`` of ``raw`` into ``warehouse`` with target/ and logs/ under ``work``."""
    return run_dbt(("build", *extra), raw=raw, warehouse=warehouse, work=work, capture=True)


class BuildFailed(AssertionError):
    """A build that did not finish with every seed and model built."""


def build_warehouse(raw: Path, work: Path, *extra: str,
                    data_tests_may_fail: bool = False) -> tuple[Path, list[str]]:
    """Build ``raw`` into ``work/warehouse.duckdb``; returns the file and the failing data tests.

    The build must finish with every seed and model built. On a faulty census the data
    tests may fail (that is what they are for: a lost episode file leaves episodes open
    for ever, and the age tests say so), but no seed or model may error.
    """
    work.mkdir(parents=True, exist_ok=True)
    warehouse = work / "warehouse.duckdb"
    result = dbt_build(raw, warehouse, work, *extra)
    output = result.stdout[-6000:] + result.stderr[-2000:]
    if result.returncode == 0:
        return warehouse, []
    if not data_tests_may_fail:
        raise BuildFailed(output)
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    built_nodes = ("model.", "seed.", "snapshot.")
    errors = [f'{r["unique_id"]}: {r["status"]}' for r in results
              if r["unique_id"].startswith(built_nodes) and r["status"] not in ("success", "skipped")]
    if errors:
        raise BuildFailed(f"{errors}\n{output}")
    return warehouse, [r["unique_id"] for r in results
                       if r["unique_id"].startswith("test.") and r["status"] in ("fail", "error")]


Manifest = dict[str, Any]


def load_manifest(path: Path) -> Manifest:
    """``target/manifest.json`` (or a file of the same shape) as a dictionary."""
    manifest: Manifest = json.loads(path.read_text(encoding="utf-8"))
    return manifest


def parse_project(work: Path) -> Path:
    """``dbt parse`` into ``work/target``: the manifest without touching a database."""
    result = run_dbt(("parse",), work=work, capture=True)
    if result.returncode != 0:
        raise RuntimeError("dbt parse failed:\n" + result.stdout[-4000:] + result.stderr[-2000:])
    return work / "target" / "manifest.json"


def target_dir() -> Path:
    """Where dbt writes its artifacts: ``DBT_TARGET_PATH`` (dbt's own variable) or ``target/``."""
    configured = os.environ.get("DBT_TARGET_PATH")
    if not configured:
        return PROJECT_DIR / "target"
    path = Path(configured)
    return path if path.is_absolute() else PROJECT_DIR / path


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m carecensus.dbt_runner [--timings FILE] build [dbt build options]``:
    build_then_docs."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m carecensus.dbt_runner", allow_abbrev=False,
                                     add_help=False, description=build_then_docs.__doc__)
    parser.add_argument("--timings", type=Path, help="write each step's seconds here (JSON)")
    args, build_arguments = parser.parse_known_args(argv)
    return build_then_docs(build_arguments, args.timings)


def exit_now(code: int) -> NoReturn:
    """End this process with ``code`` once dbt is done: the exit handlers run (dbt-duckdb closes
    its database in one, logging flushes and closes its files in another), but not the
    interpreter's teardown of the parsed project, about 0.6 s of freeing objects at scale 1 that
    the main job would wait for."""
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    exit_now(main())
