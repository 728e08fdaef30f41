"""The main job's dbt process: one parse, then build, then docs on the same manifest."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from carecensus import dbt_runner
from carecensus.dbt_runner import DOCS_AFTER_BUILD, DOCS_FAILED, PRODUCTION_BUILD, build_then_docs
from carecensus.paths import PROJECT_DIR


@dataclass
class FakeResult:
    success: bool
    result: Any = None
    exception: BaseException | None = None


class FakeManifest:
    def __init__(self) -> None:
        self.metadata = SimpleNamespace(invocation_id="the parse's id")


class FakeRunner:
    """dbtRunner's interface; records each invocation with the manifest it was given, and fires
    one event of the command (its own invocation id) at the runner's callbacks."""

    calls: list[tuple[list[str], Any]] = []
    outcomes: dict[str, FakeResult] = {}
    manifest_at_build_end: str | None = None

    def __init__(self, manifest: Any = None, callbacks: list[Any] | None = None) -> None:
        self.manifest = manifest
        self.callbacks = callbacks or []

    def invoke(self, args: list[str]) -> FakeResult:
        FakeRunner.calls.append((args, self.manifest))
        for callback in self.callbacks:
            callback(SimpleNamespace(info=SimpleNamespace(invocation_id=f"the {args[0]}'s id")))
        if args[0] == "build" and self.manifest is not None:
            FakeRunner.manifest_at_build_end = self.manifest.metadata.invocation_id
        return FakeRunner.outcomes.get(args[0], FakeResult(True))


THE_MANIFEST = FakeManifest()


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> type[FakeRunner]:
    import dbt.cli.main

    FakeRunner.calls = []
    FakeRunner.manifest_at_build_end = None
    FakeRunner.outcomes = {"parse": FakeResult(True, result=THE_MANIFEST)}
    monkeypatch.setattr(dbt.cli.main, "dbtRunner", FakeRunner)
    return FakeRunner


def commands(runner: type[FakeRunner]) -> list[str]:
    return [" ".join(args[:3]) for args, _ in runner.calls]


def test_build_then_docs_on_one_parsed_manifest(runner: type[FakeRunner], tmp_path: Path) -> None:
    timings = tmp_path / "timings.json"
    assert build_then_docs(["build", "--select", "x"], timings) == 0
    # the parse leaves manifest.json to the build, which writes it with the build's id
    assert commands(runner) == ["parse --no-write-json --profiles-dir",
                                "build --select x", " ".join(DOCS_AFTER_BUILD[:3])]
    # the parse runs without a manifest; build and docs reuse the one it returned
    assert [manifest for _, manifest in runner.calls] == [None, THE_MANIFEST, THE_MANIFEST]
    # and the manifest the build writes out carries the build's invocation id, not the parse's
    assert runner.manifest_at_build_end == "the build's id"
    assert all("--project-dir" in args for args, _ in runner.calls)
    parse = runner.calls[0][0]
    assert parse[parse.index("--profiles-dir") + 1] == str(PROJECT_DIR)
    assert set(json.loads(timings.read_text())) == {"parse", "build", "docs"}


@pytest.mark.parametrize("step, outcome, code, invoked", [
    ("parse", FakeResult(False, exception=RuntimeError("bad yaml")), 2, ["parse"]),
    ("build", FakeResult(False), 1, ["parse", "build"]),
    ("build", FakeResult(False, exception=KeyboardInterrupt()), 2, ["parse", "build"]),
    ("docs", FakeResult(False), DOCS_FAILED, ["parse", "build", "docs"]),
])
def test_a_failed_step_stops_the_rest_with_its_exit_code(
        runner: type[FakeRunner], step: str, outcome: FakeResult, code: int,
        invoked: list[str]) -> None:
    runner.outcomes[step] = outcome
    assert build_then_docs() == code
    assert [args[0] for args, _ in runner.calls] == invoked


def test_the_module_runs_the_production_build(runner: type[FakeRunner], tmp_path: Path) -> None:
    """``python -m carecensus.dbt_runner --timings F build ...`` as the main job starts it."""
    assert dbt_runner.main(["--timings", str(tmp_path / "t.json"), *PRODUCTION_BUILD]) == 0
    build = runner.calls[1][0]
    assert build[:3] == ["build", "--exclude-resource-type", "unit_test"]
    assert (tmp_path / "t.json").exists()


def test_exit_now_runs_the_exit_handlers_and_keeps_the_code(tmp_path: Path) -> None:
    """The dbt process ends with exit_now: dbt-duckdb closes its database in an exit handler,
    so the handlers must run; the exit code must be the build's."""
    flag = tmp_path / "closed"
    script = ("import atexit, pathlib\n"
              "from carecensus.dbt_runner import exit_now\n"
              f"atexit.register(pathlib.Path({str(flag)!r}).write_text, 'yes')\n"
              "print('before', flush=False)\n"
              "exit_now(3)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 3
    assert flag.read_text() == "yes"
    assert done.stdout == "before\n"  # buffered output is flushed, not lost
