"""What makes the generator scale must not change what it writes or leave state behind."""

from __future__ import annotations

import gc
import hashlib
import multiprocessing
import os
import socket
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import pytest

from carecensus import generator
from carecensus.generator import GeneratorConfig, generate



def small(out_dir: Path, workers: int, first_year: int = 2021) -> GeneratorConfig:
    """A small census, 2021 (reporting year 202122) to 2024."""
    return GeneratorConfig(out_dir=out_dir, first_year=first_year, last_year=2024, scale=0.05,
                           workers=workers)


def tree_digest(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*.csv"))}


def test_worker_processes_share_the_work_without_changing_a_byte(tmp_path: Path) -> None:
    # one worker does everything in this process; three simulate, then write the shards and
    # the pupil years, in whatever order they finish
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


def test_authorities_in_chunks_keep_volumes_and_unique_identifiers(tmp_path: Path) -> None:
    # how a census many times Wales is simulated: each authority as independent chunks
    whole = replace(small(tmp_path / "whole", workers=2), scale=0.2)
    chunked = replace(whole, out_dir=tmp_path / "chunked", chunk_scale=0.07)  # three chunks
    whole_rows, chunked_rows = generate(whole), generate(chunked)
    assert tree_digest(chunked.out_dir) != tree_digest(whole.out_dir)  # other simulations
    assert chunked_rows.keys() == whole_rows.keys()
    for file in ("cla/202324/child.csv", "cla/202324/episode.csv", "crcs/202324/child.csv",
                 "plasc/202324/pupil.csv"):
        assert abs(chunked_rows[file] / whole_rows[file] - 1) < 0.1, file
    # the shards and part files went with the temporary folder beside the census
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chunked", "whole"]
    con = duckdb.connect(config={"threads": 1})  # one reader: rows come in file order
    raw = chunked.out_dir.as_posix()
    for pattern, key, order in (
            ("cla/*/child.csv", "LOCAL_AUTHORITY_CODE, SYSTEM_ID", "SYSTEM_ID"),
            ("crcs/*/child.csv", "LOCAL_AUTHORITY_CODE, CHILD_CODE", "CHILD_CODE"),
            ("plasc/*/pupil.csv", "IRN", "IRN")):
        # one row per child (pupil) and year; case files in case-system id order within each
        # authority, pupil files in pupil-number order
        same_group = "true" if order == "IRN" else "LOCAL_AUTHORITY_CODE = previous_group"
        rows, keys, out_of_order = con.execute(f"""
            with f as (
                select *, row_number() over () as line
                from read_csv('{raw}/{pattern}', all_varchar = true, union_by_name = true,
                              filename = true)
            ),
            lagged as (
                select *,
                    lag({order}) over (partition by filename order by line) as previous,
                    lag(LOCAL_AUTHORITY_CODE) over (partition by filename order by line)
                        as previous_group
                from f
            )
            select count(*), count(distinct (filename, {key})),
                count(*) filter (where {order} < previous and {same_group})
            from lagged""").fetchall()[0]
        assert rows == keys > 0, pattern
        assert out_of_order == 0, pattern
    # persons are unique across chunks: a pupil number is one child's, wherever they appear
    assert con.execute(f"""
        select count(*) from (
            select IRN from read_csv('{raw}/plasc/*/pupil.csv', all_varchar = true)
            group by IRN having count(distinct ALF_PE) > 1)""").fetchall()[0][0] == 0


def test_a_killed_generators_work_folder_is_removed_by_the_next_one(tmp_path: Path) -> None:
    # a generator killed with no chance to clean up leaves its temporary folder beside the census
    host = socket.gethostname()
    no_such_pid = 2**22 + 1  # above Linux's largest process id: no process has it
    abandoned = tmp_path / f".census-work-{host}-{no_such_pid}-x1y2"
    (abandoned / "shards").mkdir(parents=True)
    (abandoned / "shards" / "00001-W06000001.pickle").write_bytes(b"shard")
    kept = [tmp_path / f".census-work-{host}-{os.getpid()}-a3b4",  # a live process's
            tmp_path / f".census-work-elsewhere-{no_such_pid}-c5d6"]  # another machine's
    for folder in kept:
        folder.mkdir()
    generate(small(tmp_path / "census", workers=1, first_year=2024))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["census", *(k.name for k in kept)])


def test_workers_start_by_spawn_where_the_platform_cannot_fork(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert generator.start_method_here("fork") == "fork"  # Linux, where the tests run
    monkeypatch.setattr(multiprocessing, "get_all_start_methods",
                        lambda: ["spawn"])  # Windows
    assert generator.start_method_here("fork") == "spawn"
    asked: list[str] = []
    get_context = multiprocessing.get_context

    def recording_get_context(method: str) -> Any:
        asked.append(method)
        return get_context(method)

    monkeypatch.setattr(multiprocessing, "get_context", recording_get_context)
    # the same census, byte for byte, from spawned workers
    generate(small(tmp_path / "spawned", workers=2, first_year=2023))
    assert asked == ["spawn", "spawn"]  # the simulations (fork elsewhere), then the writers
    generate(small(tmp_path / "one", workers=1, first_year=2023))
    assert tree_digest(tmp_path / "spawned") == tree_digest(tmp_path / "one")


def test_on_windows_no_work_folder_is_taken_for_abandoned(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # os.kill(pid, 0) would end the process there, not test it: nothing is removed instead
    def kill(pid: int, signal: int) -> None:
        raise AssertionError("os.kill called")

    monkeypatch.setattr(os, "name", "nt")
    monkeypatch.setattr(os, "kill", kill)
    folder = tmp_path / f".census-work-{socket.gethostname()}-{2**22 + 1}-x1y2"
    folder.mkdir()
    assert generator.remove_abandoned_work(tmp_path / "census") == []
    assert folder.is_dir()
