"""Where things live: the project root and the environment-driven locations."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
SEEDS_DIR = PROJECT_DIR / "seeds"


def raw_dir() -> Path:
    """The raw extract folder: ``CENSUS_RAW_DIR`` or ``data/raw`` in the project."""
    return Path(os.environ.get("CENSUS_RAW_DIR", PROJECT_DIR / "data" / "raw"))


def warehouse_path() -> Path:
    """The DuckDB build database: ``CENSUS_WAREHOUSE_PATH`` or ``data/warehouse.duckdb``."""
    return Path(os.environ.get("CENSUS_WAREHOUSE_PATH", PROJECT_DIR / "data" / "warehouse.duckdb"))
