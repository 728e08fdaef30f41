"""Shared fixtures: one generated census per scale and session.

Generating the default census takes about a minute, so every test module that
needs one asks for ``default_census_dir`` and they share it. Set
``CENSUS_TEST_DEFAULT_DIR`` to a folder generated with the default options to
reuse it across sessions while developing (CI always generates afresh).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from carecensus.dbt_runner import build_warehouse
from carecensus.generator import GeneratorConfig, generate


def _generate(tmp_path_factory: pytest.TempPathFactory, scale: float) -> Path:
    out = tmp_path_factory.mktemp(f"census_scale{scale:g}")
    started = time.perf_counter()
    generate(GeneratorConfig(out_dir=out, scale=scale))
    print(f"\ngenerated the scale {scale:g} census in {time.perf_counter() - started:.1f} s")
    return out


@pytest.fixture(scope="session")
def default_census_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    reuse = os.environ.get("CENSUS_TEST_DEFAULT_DIR")
    if reuse and not os.environ.get("CI"):
        return Path(reuse)
    return _generate(tmp_path_factory, 1.0)


@pytest.fixture(scope="session")
def scale10_census_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _generate(tmp_path_factory, 10.0)


@pytest.fixture(scope="session")
def clean_warehouse(default_census_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``dbt build`` of the default census, once per session (tests open it read-only)."""
    warehouse, _ = build_warehouse(default_census_dir, tmp_path_factory.mktemp("clean_build"))
    return warehouse
