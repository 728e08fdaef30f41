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
