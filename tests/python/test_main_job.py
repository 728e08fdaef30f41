"""The main job refuses to publish a census that breaks a critical gate."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from carecensus.dbt_runner import job_environment
from carecensus.faults import inject_faults

CARECENSUS = Path(sys.executable).with_name("carecensus")


@pytest.mark.parametrize("order", ["beside the build", "--raw-suites-first"])
def test_main_job_refuses_to_publish_a_faulty_census(default_census_dir: Path, tmp_path: Path,
                                                     order: str) -> None:
    raw = tmp_path / "raw"
    inject_faults(default_census_dir, raw, seed=7)
    env = job_environment(raw, tmp_path)
    serving = Path(env["CENSUS_SERVING_PATH"])
    command = [str(CARECENSUS), "run", *([order] if order.startswith("--") else [])]
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "nothing published" in result.stderr
    assert "raw suites" in result.stderr
    if order == "beside the build":  # the build had started: the failed gate stops it
        assert "dbt build stopped (the raw suites failed)" in result.stderr
        assert "$ dbt build" in result.stdout
    else:  # the build never starts
        assert "$ dbt build" not in result.stdout
    # the failing gate names the suite, and where it can the authority and year
    assert "raw_cla_episode" in result.stdout or "raw_cla_child" in result.stdout, result.stdout[-3000:]
    assert not serving.exists()
    assert (tmp_path / "quality" / "raw_summary.json").exists()


def _niceness() -> int:
    import os
    import threading
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread niceness is Linux's")
def test_the_raw_suites_beside_the_build_run_at_lower_priority() -> None:
    """at_lower_priority runs its work in another thread, niced, and leaves the caller's alone."""
    import threading

    from carecensus.cli import BESIDE_BUILD_NICENESS, at_lower_priority

    mine = _niceness()
    seen: dict[str, object] = {}

    def work() -> bool:
        seen["thread"] = threading.current_thread() is not threading.main_thread()
        seen["niceness"] = _niceness()
        return False

    assert at_lower_priority(work) is False
    assert seen == {"thread": True, "niceness": min(19, mine + BESIDE_BUILD_NICENESS)}
    assert _niceness() == mine


def test_an_exception_in_the_lower_priority_work_reaches_the_caller() -> None:
    from carecensus.cli import at_lower_priority

    def work() -> bool:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        at_lower_priority(work)
