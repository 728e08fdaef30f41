"""What makes the generator scale must not change what it writes or leave state behind."""

from __future__ import annotations

import gc
import hashlib
from pathlib import Path

from carecensus.generator import GeneratorConfig, generate



def small(out_dir: Path, workers: int, first_year: int = 2021) -> GeneratorConfig:
    """A small census, 2021 (reporting year 202122) to 2024."""
    return GeneratorConfig(out_dir=out_dir, first_year=first_year, last_year=2024, scale=0.05,
                           workers=workers)


def tree_digest(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*.csv"))}


def test_parent_and_forked_writers_split_the_years_without_changing_a_byte(
        tmp_path: Path) -> None:
    # three workers: the parent writes 2021 and 2024, two forked writers share 2022 and 2023
    generate(small(tmp_path / "one", workers=1))
    generate(small(tmp_path / "three", workers=3))
    one = tree_digest(tmp_path / "one")
    assert len(one) == 4 * 6
    assert tree_digest(tmp_path / "three") == one


def test_generate_leaves_the_garbage_collector_as_it_found_it(tmp_path: Path) -> None:
    assert gc.isenabled()
    generate(small(tmp_path / "a", workers=1, first_year=2024))
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
    gc.disable()
    try:
        generate(small(tmp_path / "b", workers=1, first_year=2024))
        assert not gc.isenabled()
    finally:
        gc.enable()
