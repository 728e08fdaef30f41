"""The synthetic census generator: simulated lives written as the raw extract format.

``generate`` runs one simulation per local authority (``carecensus.simulation``),
gives every child the identifiers a real return would carry (case-system ids
unique within an authority, the anonymised linking field ALF_PE for about 60% of
people, a pseudonymised pupil number), and writes each reporting year's return
exactly as ``shared/census/raw-extract-format.md`` describes: an episode open
across years is repeated in every return with its end date blank until it
closes and EPISODE_NUMBER recomputed per return; newer columns appear only from
the year they were introduced; a small share of values are corrected by a later
return. Same options, byte-identical files, whatever the number of workers.

Memory is bounded by one simulation, not by the census: each simulation's case
records go to shard files on disk (one per authority the records belong to), the
parent keeps only arrays of what identifiers depend on, and each shard is written
on its own to part files that are merged into the returns. Above ``chunk_scale``
an authority runs as several independent simulations (chunks) of equal scale, so
that a census many times Wales needs no more memory per process than scale 10.
"""

from __future__ import annotations

import array
import contextlib
import csv
import gc
import glob
import heapq
import math
import multiprocessing
import os
import pickle
import random
import shutil
import socket
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import MISSING, dataclass, fields, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt

from carecensus.calendar import age_on, birthday, census_date, week_of_birth, year_code, year_start
from carecensus.reference import LocalAuthority, local_authorities
from carecensus.simulation import (
    AuthoritySimulation,
    CaseRecord,
    Episode,
    Period,
    Person,
)

if TYPE_CHECKING:
    from _csv import _writer as CsvWriter

FIRST_YEAR = 2016  # reporting year 201617
LAST_YEAR = 2024  # reporting year 202425
DEFAULT_SEED = 20160401
TRANSFERRED_FROM_SINCE = 2022  # TRANSFERRED_FROM_LA_CODE exists from 202223
ALL_YEAR_CRCS_SINCE = 2023  # CRCS all-year collection from 202324

CLA_CHILD_COLUMNS = [
    "YEAR_CODE", "LOCAL_AUTHORITY_CODE", "SYSTEM_ID", "ALF_PE", "GNDR_CD", "WOB", "ETHNICITY",
    "DISABILITY_CODE", "ASYLUM", "DATE_CEASED_UASC", "LSOA2011_HOME_POSTCODE", "IRN",
    "TRANSFERRED_FROM_LA_CODE",
]
CLA_EPISODE_COLUMNS = [
    "YEAR_CODE", "LOCAL_AUTHORITY_CODE", "SYSTEM_ID", "EPISODE_NUMBER", "EPISODE_START_DATE",
    "EPISODE_END_DATE", "REASON_EPISODE_STARTED_CODE", "LEGAL_STATUS_CODE",
    "CATEGORY_OF_NEED_CODE", "PLACEMENT_TYPE_CODE", "LSOA2011_PLACEMENT_POSTCODE",
    "REASON_EPISODE_FINISHED_CODE", "SHORT_BREAKS",
]
CLA_ADOPTION_COLUMNS = [
    "YEAR_CODE", "LOCAL_AUTHORITY_CODE", "SYSTEM_ID", "DATE_SHOULD_BE_PLACED", "DATE_MATCHED",
    "DATE_PLACED", "DATE_OF_ADOPTION", "ADOPTED_BY_FOSTER_CARER", "NUMBER_OF_ADOPTERS",
    "SEX_OF_ADOPTERS", "LEGAL_STATUS_OF_ADOPTERS", "ETHNICITY_OF_ADOPTERS",
]
CLA_CARE_LEAVER_COLUMNS = [
    "YEAR_CODE", "LOCAL_AUTHORITY_CODE", "SYSTEM_ID", "IN_TOUCH", "ACTIVITY", "ACCOMMODATION",
    "PATHWAY_PLAN", "PERSONAL_ADVISER",
]
CRCS_CHILD_COLUMNS = [
    "YEAR_CODE", "LOCAL_AUTHORITY_CODE", "CHILD_CODE", "ALF_PE", "IRN", "GNDR_CD", "WOB",
    "ETHNICITY", "LSOA2011_CD", "PLAN_START_DATE", "PLAN_END_DATE", "REASON_FOR_CLOSURE",
    "CATEGORY_OF_NEED_CODE", "LOOKED_AFTER", "CHILD_PROTECTION_REGISTER", "DISABILITY",
    "DISABILITY_TYPES", "DOMESTIC_ABUSE", "PARENTAL_SUBSTANCE_MISUSE",
    "PARENTAL_MENTAL_ILL_HEALTH", "PARENTAL_LEARNING_DISABILITY", "PARENTAL_PHYSICAL_ILL_HEALTH",
    "IMMUNISATIONS_UP_TO_DATE", "DENTAL_CHECK", "MENTAL_HEALTH", "SUBSTANCE_MISUSE",
    "YOUTH_OFFENDING", "WELSH_LANGUAGE",
]
PLASC_PUPIL_COLUMNS = [
    "YEAR_CODE", "IRN", "ALF_PE", "LOCAL_AUTHORITY_CODE", "NATIONAL_CURRICULUM_YEAR", "FSM", "SEN",
    "KS2_CSI", "KS3_CSI", "KS4_CAPPED_POINTS",
]
# Columns a file of an older year simply lacks: (file, column) -> first reporting year.
COLUMN_SINCE: dict[tuple[str, str], int] = {
    ("cla/child.csv", "TRANSFERRED_FROM_LA_CODE"): TRANSFERRED_FROM_SINCE,
    ("crcs/child.csv", "PLAN_END_DATE"): ALL_YEAR_CRCS_SINCE,
    ("crcs/child.csv", "REASON_FOR_CLOSURE"): ALL_YEAR_CRCS_SINCE,
}
CLOSURE_BY_REASON_CEASED = {
    "E11": "RC1", "E12": "RC1", "E2": "RC2", "E43": "RC4", "E44": "RC4", "E3": "RC5",
    "E7": "RC6",
}
PUPILS_PER_YEAR_GROUP = 1800  # a 5% sample of a Welsh year group, at scale 1
CHUNK_SCALE = 10.0  # the largest scale one simulation of an authority covers
CHUNK_SEED_STRIDE = 7919  # chunk k of an authority is seeded seed + k * this
SEQ_STRIDE = 1_000_000_000  # person numbers of chunk k start at k * this
SHARD_BATCH = 2000  # case records per pickle in a shard file
SAMPLE_IN_C_ABOVE = 5_000_000  # more linking fields than this are drawn by numpy (see below)

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class GeneratorConfig:
    """What to generate. ``first_year`` 2016 is the reporting year 201617."""

    out_dir: Path
    first_year: int = FIRST_YEAR
    last_year: int = LAST_YEAR
    seed: int = DEFAULT_SEED
    scale: float = 1.0
    workers: int = 2
    chunk_scale: float = CHUNK_SCALE

    def __post_init__(self) -> None:
        if not 2000 <= self.first_year <= self.last_year <= 2040:
            raise ValueError(f"bad year range {self.first_year}-{self.last_year}")
        if not 0 < self.scale <= 1000:
            raise ValueError(f"scale must be positive, got {self.scale}")
        if not self.chunk_scale > 0:
            raise ValueError(f"chunk_scale must be positive, got {self.chunk_scale}")


# --- simulating, one authority (or one chunk of it) at a time -------------------------------
#
# Memory stays bounded by one simulation, whatever the scale: each simulation's case records
# are pickled to shard files, one per authority the records belong to, and the parent keeps
# only what it needs to give identifiers, as arrays. The shards are then written, one at a
# time, to part files that are merged into each return's files.

I32, I64 = np.int32, np.int64


class SimJob(NamedTuple):
    """One simulation: an authority's whole population, or one chunk of it."""

    la: int
    chunk: int
    seed: int
    scale: float
    last_year: int
    work: str  # the folder of the shards


def simulation_jobs(config: GeneratorConfig, work: Path) -> list[SimJob]:
    """Above ``chunk_scale``, each authority runs as independent simulations of equal scale."""
    chunks = max(1, math.ceil(config.scale / config.chunk_scale))
    return [SimJob(la.code, chunk, config.seed + CHUNK_SEED_STRIDE * chunk,
                   config.scale / chunks, config.last_year, str(work))
            for la in local_authorities() for chunk in range(chunks)]


def _simulate(job: SimJob) -> list[CaseRecord]:
    las = local_authorities()
    total = sum(la.cla_weight for la in las)
    la = next(x for x in las if x.code == job.la)
    sim = AuthoritySimulation(la, las, share=la.cla_weight / total,
                              crcs_share=la.cla_weight / total, seed=job.seed, scale=job.scale,
                              last_year=job.last_year, first_seq=job.chunk * SEQ_STRIDE)
    sim.run()
    return sim.records


@dataclass
class Shard:
    """The case records one simulation gave one authority, in simulation order: a pickle file,
    and the facts of each record that identifiers and the care-leaver rows depend on."""

    job: int
    la: int
    path: str
    first_date: npt.NDArray[np.int32]  # date ordinals
    origin: npt.NDArray[np.int32]
    seq: npt.NDArray[np.int64]
    person: npt.NDArray[np.int64]  # the person's index in People (job-local until merged)
    last_start: npt.NDArray[np.int32]  # start of the record's last period (short breaks apart)
    number: npt.NDArray[np.int64] | None = None  # case-system number, given by the parent
    final: npt.NDArray[np.bool_] | None = None  # holds the person's last period of care


@dataclass
class People:
    """Census children in the order they first appear, or the sample of all pupils."""

    origin: npt.NDArray[np.int32]
    seq: npt.NDArray[np.int64]
    has_alf: npt.NDArray[np.bool_]
    has_upn: npt.NDArray[np.bool_]
    cohort: npt.NDArray[np.int32]  # the birth year, plus one if born after August
    alf: npt.NDArray[np.int64] | None = None  # -1: none
    irn: npt.NDArray[np.int64] | None = None  # -1: none

    @staticmethod
    def concat(parts: list[People]) -> People:
        return People(*(np.concatenate([getattr(p, f.name) for p in parts])
                        for f in fields(People) if f.default is MISSING))

    def __len__(self) -> int:
        return len(self.origin)


def cohort_of(birth: date) -> int:
    """The birth year, plus one if born after August: in reporting year ``y`` the pupil is in
    national curriculum year ``y - cohort - 4`` (their age on 31 August, less 4)."""
    return birth.year + (birth.month > 8)


def last_period_start(record: CaseRecord) -> int:
    """The start (ordinal) of the record's latest period of care, short breaks apart; -1."""
    starts = [p.start.toordinal() for p in record.periods if not p.is_short_break]
    return max(starts) if starts else -1


def _simulate_to_shards(indexed: tuple[int, SimJob]) -> tuple[list[Shard], People]:
    index, job = indexed
    records = _simulate(job)
    people: dict[tuple[int, int], int] = {}
    person_rows: list[Person] = []
    groups: dict[int, list[CaseRecord]] = {}
    for record in records:
        if record.person.key not in people:  # people in the order they first appear
            people[record.person.key] = len(person_rows)
            person_rows.append(record.person)
        groups.setdefault(record.la, []).append(record)
    shards = []
    for la, group in sorted(groups.items()):
        path = Path(job.work) / f"{index:05d}-{la}.pickle"
        with open(path, "wb") as f:
            # in batches: one pickle of them all would remember every object it wrote
            # (about twice the records' own memory)
            for at in range(0, len(group), SHARD_BATCH):
                pickle.dump(group[at:at + SHARD_BATCH], f, protocol=pickle.HIGHEST_PROTOCOL)
        shards.append(Shard(
            job=index, la=la, path=str(path),
            first_date=np.array([r.first_date.toordinal() for r in group], I32),
            origin=np.array([r.person.origin_la for r in group], I32),
            seq=np.array([r.person.seq for r in group], I64),
            person=np.array([people[r.person.key] for r in group], I64),
            last_start=np.array([last_period_start(r) for r in group], I32)))
    return shards, People(
        origin=np.array([p.origin_la for p in person_rows], I32),
        seq=np.array([p.seq for p in person_rows], I64),
        has_alf=np.array([p.has_alf for p in person_rows], np.bool_),
        has_upn=np.array([p.has_upn for p in person_rows], np.bool_),
        cohort=np.array([cohort_of(p.birth) for p in person_rows], I32))


def merge_simulations(results: list[tuple[list[Shard], People]]) -> tuple[list[Shard], People]:
    """Every simulation's shards, and their census children, person indexes made global."""
    shards: list[Shard] = []
    offset = 0
    for job_shards, job_people in results:
        for shard in job_shards:
            shard.person += offset
        shards.extend(job_shards)
        offset += len(job_people)
    return shards, People.concat([p for _, p in results])


def general_pupils(config: GeneratorConfig) -> People:
    """A representative sample of all pupils: year groups of the years generated."""
    rng = random.Random(f"{config.seed}:pupils")
    las = local_authorities()
    weights = [len(la.lsoas) for la in las]
    per_group = round(PUPILS_PER_YEAR_GROUP * config.scale)
    origin, seq, has_alf, cohorts = [], [], [], []
    # academic cohorts of the children in reception to year 11 in the years generated
    for cohort in range(config.first_year - 16, config.last_year - 3):
        first_day = date(cohort, 9, 1)
        for i in range(per_group):
            birth = date.fromordinal(first_day.toordinal() + rng.randrange(365))
            origin.append(rng.choices(las, weights)[0].code)
            rng.random()  # the pupil's sex: drawn, not written
            has_alf.append(rng.random() < 0.85)
            seq.append(-(cohort * 100_000 + i))
            cohorts.append(cohort_of(week_of_birth(birth)))
    return People(origin=np.array(origin, I32), seq=np.array(seq, I64),
                  has_alf=np.array(has_alf, np.bool_), has_upn=np.ones(len(seq), np.bool_),
                  cohort=np.array(cohorts, I32))


def assign_identifiers(config: GeneratorConfig, shards: list[Shard], people: People,
                       pupils: People) -> None:
    """Case-system numbers per authority, linking fields and pupil numbers per person."""
    rng = random.Random(f"{config.seed}:identifiers")
    for la in local_authorities():
        mine = sorted((s for s in shards if s.la == la.code), key=lambda s: s.job)
        number = rng.randrange(10_000, 90_000)
        if not mine:
            continue
        order = np.lexsort((np.concatenate([s.seq for s in mine]),
                            np.concatenate([s.origin for s in mine]),
                            np.concatenate([s.first_date for s in mine])))
        steps = np.fromiter((rng.randrange(1, 9) for _ in range(len(order))), I64, len(order))
        numbers = np.empty(len(order), I64)
        numbers[order] = number + np.cumsum(steps)
        at = 0
        for shard in mine:
            shard.number = numbers[at:at + len(shard.seq)]
            at += len(shard.seq)
    # linking fields and pupil numbers: the census children in key order, then the sample
    by_key = np.lexsort((people.seq, people.origin))
    for name, population in (("alf", range(1_000_000_000, 9_999_999_999)),
                             ("irn", range(16**11, 16**12))):
        drawn = distinct_sample(rng, population, len(people) + len(pupils))
        values = np.empty(len(people), I64)
        values[by_key] = drawn[:len(people)]
        has = people.has_alf if name == "alf" else people.has_upn
        setattr(people, name, np.where(has, values, -1))
        has = pupils.has_alf if name == "alf" else pupils.has_upn
        setattr(pupils, name, np.where(has, drawn[len(people):], -1))
        del drawn
    mark_final_periods(shards)


def distinct_sample(rng: random.Random, population: range, k: int) -> npt.NDArray[np.int64]:
    """``k`` distinct numbers of ``population``: ``rng.sample`` up to SAMPLE_IN_C_ABOVE (scale 10
    and below: the same census as ever); above it numpy's, seeded from ``rng``, because
    CPython's keeps each number drawn as an object in a set (about 100 bytes a number)."""
    if k <= SAMPLE_IN_C_ABOVE:
        return np.array(rng.sample(population, k), I64)
    drawn = np.random.default_rng(rng.getrandbits(128)).choice(len(population), k, replace=False,
                                                                 shuffle=True)
    return drawn.astype(I64) + population.start


def mark_final_periods(shards: list[Shard]) -> None:
    """Each person's last period of care, wherever it was: the record with the latest start,
    the lowest authority and case-system number on a tie (the order the files are written)."""
    person = np.concatenate([s.person for s in shards])
    start = np.concatenate([s.last_start for s in shards])
    la = np.concatenate([np.full(len(s.seq), s.la, I32) for s in shards])
    numbers = [s.number for s in shards]
    assert all(n is not None for n in numbers), "case-system numbers are given first"
    number = np.concatenate([n for n in numbers if n is not None])
    order = np.lexsort((number, la, -start.astype(I64), person))
    first = np.ones(len(order), np.bool_)
    first[1:] = person[order][1:] != person[order][:-1]
    final = np.zeros(len(order), np.bool_)
    final[order[first]] = True
    final &= start >= 0
    at = 0
    for shard in shards:
        shard.final = final[at:at + len(shard.seq)]
        at += len(shard.seq)


# --- writing -------------------------------------------------------------------

class RowFile:
    """Rows going into one open CSV file, counted."""

    def __init__(self, writer: CsvWriter, columns: list[str]) -> None:
        self.writer = writer
        self.columns = columns
        self.count = 0
        writer.writerow(columns)

    def write(self, row: dict[str, object]) -> None:
        self.writer.writerow([row.get(c) for c in self.columns])  # None is ""; str(date) is ISO
        self.count += 1


class ReturnWriter:
    """Writes one reporting year's files."""

    def __init__(self, config: GeneratorConfig, year: int) -> None:
        self.config = config
        self.year = year
        self.code = year_code(year)
        self.start = year_start(year)
        self.census_day = census_date(year)

    def path(self, relative: str) -> Path:
        collection, name = relative.split("/")
        folder = self.config.out_dir / collection / self.code
        folder.mkdir(parents=True, exist_ok=True)
        return folder / name

    def write(self, relative: str, columns: list[str], rows: Iterable[dict[str, object]]) -> int:
        with self.open(relative, columns) as out:
            for row in rows:
                out.write(row)
            return out.count

    @contextmanager
    def open(self, relative: str, columns: list[str]) -> Iterator[RowFile]:
        """One file of the return, open for rows; only the columns the year has."""
        with open(self.path(relative), "w", newline="", encoding="utf-8") as f:
            yield RowFile(csv.writer(f, lineterminator="\n"), self.present(relative, columns))

    def present(self, relative: str, columns: list[str]) -> list[str]:
        """The columns the year's file has."""
        return [c for c in columns if self.year >= COLUMN_SINCE.get((relative, c), 0)]

    def show_irn(self, person: Person) -> str | None:
        """The pupil number, once the child is of school age (reception, age 4 on 31 August)."""
        if person.irn is None or age_on(person.birth, date(self.year, 8, 31)) < 4:
            return None
        return person.irn


def cla_rows(writer: ReturnWriter, records: Iterable[CaseRecord]) -> Iterator[
        tuple[dict[str, object], list[dict[str, object]]]]:
    """Child and episode rows of one CLA return: each child's row with its episodes' rows."""
    start, end = writer.start, writer.census_day
    for record in records:
        eps = [e for p in record.periods for e in p.episodes if e.start <= end and e.end >= start]
        if not eps:
            continue
        person = record.person
        eps.sort(key=lambda e: e.start)
        episodes: list[dict[str, object]] = []
        for number, ep in enumerate(eps, start=1):
            closed = ep.end <= end
            breaks = ""
            if ep.ls == "V1":
                overlap = (min(ep.end, end) - max(ep.start, start)).days + 1
                breaks = str(max(1, round(ep.short_breaks * overlap
                                          / ((ep.end - ep.start).days + 1))))
            lsoa = ep.draft_lsoa if (ep.draft_lsoa and not closed) else ep.lsoa
            episodes.append({
                "YEAR_CODE": writer.code, "LOCAL_AUTHORITY_CODE": record.la,
                "SYSTEM_ID": record.system_id, "EPISODE_NUMBER": number,
                "EPISODE_START_DATE": ep.start, "EPISODE_END_DATE": ep.end if closed else None,
                "REASON_EPISODE_STARTED_CODE": ep.rne, "LEGAL_STATUS_CODE": ep.ls,
                "CATEGORY_OF_NEED_CODE": ep.cin, "PLACEMENT_TYPE_CODE": ep.place,
                "LSOA2011_PLACEMENT_POSTCODE": lsoa,
                "REASON_EPISODE_FINISHED_CODE": ep.rec if closed else None,
                "SHORT_BREAKS": breaks,
            })
        disability = person.disability
        if record.draft_disability_until is not None and writer.year < record.draft_disability_until:
            disability = 2
        ceased = person.uasc_ceased if person.uasc_ceased and person.uasc_ceased <= end else None
        yield {
            "YEAR_CODE": writer.code, "LOCAL_AUTHORITY_CODE": record.la,
            "SYSTEM_ID": record.system_id, "ALF_PE": person.alf, "GNDR_CD": person.sex,
            "WOB": person.birth, "ETHNICITY": person.ethnicity, "DISABILITY_CODE": disability,
            "ASYLUM": int(person.uasc), "DATE_CEASED_UASC": ceased,
            "LSOA2011_HOME_POSTCODE": record.home_lsoa, "IRN": writer.show_irn(person),
            "TRANSFERRED_FROM_LA_CODE": record.transferred_from,
        }, episodes


def adoption_rows(writer: ReturnWriter, records: Iterable[CaseRecord]) -> Iterator[dict[str, object]]:
    for record in records:
        for period in record.periods:
            a = period.adoption
            if a is None or not writer.start <= a.adopted <= writer.census_day:
                continue
            yield {
                "YEAR_CODE": writer.code, "LOCAL_AUTHORITY_CODE": record.la,
                "SYSTEM_ID": record.system_id, "DATE_SHOULD_BE_PLACED": a.should_be_placed,
                "DATE_MATCHED": a.matched, "DATE_PLACED": a.placed, "DATE_OF_ADOPTION": a.adopted,
                "ADOPTED_BY_FOSTER_CARER": a.by_foster_carer, "NUMBER_OF_ADOPTERS": a.adopters,
                "SEX_OF_ADOPTERS": a.sex_of_adopters,
                "LEGAL_STATUS_OF_ADOPTERS": a.legal_status_of_adopters,
                "ETHNICITY_OF_ADOPTERS": a.ethnicity_of_adopters,
            }


def care_leaver_rows(writer: ReturnWriter, finals: Iterable[tuple[CaseRecord, Period]]
                     ) -> Iterator[dict[str, object]]:
    """Young people who left care aged 16 or over, in the year of their 19th birthday: each
    person's last period of care, wherever it was."""
    for (record, period) in finals:
        person = record.person
        nineteen = birthday(person.birth, 19)
        if not writer.start <= nineteen <= writer.census_day or person.died:
            continue
        if period.rec in ("E2", "E3", "E11", "E12") or age_on(person.birth, period.end) < 16:
            continue
        rng = random.Random(f"{writer.config.seed}:leaver:{person.origin_la}:{person.seq}")
        in_touch = weighted_choice(rng, [("YES", 90), ("NO", 4), ("REFU", 2), ("NREQ", 2),
                                         ("RHOM", 1.5), ("DIED", 0.5)])
        if in_touch == "YES":
            activity = weighted_choice(rng, [("F1", 5), ("P1", 1), ("F2", 19), ("P2", 4),
                                             ("F4", 5), ("P4", 1), ("F5", 17), ("P5", 5),
                                             ("G4", 10), ("G5", 25), ("G6", 8)])
            accommodation = weighted_choice(rng, [("U1", 30), ("D1", 18), ("Z1", 12), ("B1", 10),
                                                  ("E1", 8), ("T1", 5), ("K1", 4), ("S2", 4),
                                                  ("X2", 3), ("W2", 3), ("V2", 3)])
            plan, adviser = int(rng.random() < 0.95), int(rng.random() < 0.97)
        else:
            activity, accommodation = "0", "0"
            plan, adviser = int(rng.random() < 0.3), int(rng.random() < 0.3)
        yield {
            "YEAR_CODE": writer.code, "LOCAL_AUTHORITY_CODE": record.la,
            "SYSTEM_ID": record.system_id, "IN_TOUCH": in_touch, "ACTIVITY": activity,
            "ACCOMMODATION": accommodation, "PATHWAY_PLAN": plan, "PERSONAL_ADVISER": adviser,
        }


def weighted_choice(rng: random.Random, items: list[tuple[str, float]]) -> str:
    total = sum(w for _, w in items)
    x = rng.random() * total
    for item, w in items:
        x -= w
        if x < 0:
            return item
    return items[-1][0]


def crcs_rows(writer: ReturnWriter, records: Iterable[CaseRecord]) -> Iterator[dict[str, object]]:
    """One row per child with a care and support plan in the census.

    Up to 202223 a snapshot: plan open on 31 March and started on or before
    1 January. From 202324 all-year: every plan open at any time in the year,
    with its end date and reason for closure where it closed.
    """
    all_year = writer.year >= ALL_YEAR_CRCS_SINCE
    jan1 = date(writer.year + 1, 1, 1)
    census_day = writer.census_day
    for record in records:
        plan: tuple[date, date, bool, str | None, bool] | None = None  # start, end, la, rc, cpr
        for period in record.periods:
            if period.is_short_break or period.start > census_day or period.end < writer.start:
                continue
            open_at_census = period.end > census_day
            plan_start = period.plan_start or period.start
            if not all_year and not (open_at_census and plan_start <= jan1):
                continue
            reason = None if open_at_census else CLOSURE_BY_REASON_CEASED.get(period.rec, "RC7")
            plan = (plan_start, period.end, open_at_census, reason, False)
        for start, end, cpr_start, cpr_end, closure in record.plans:
            if start > census_day or end < writer.start:
                continue
            open_at_census = end > census_day
            if not all_year and not (open_at_census and start <= jan1):
                continue
            on_cpr = (cpr_start is not None and cpr_end is not None and open_at_census
                      and cpr_start <= census_day < cpr_end)
            plan = (start, end, False, None if open_at_census else closure, on_cpr)
        if plan is None:
            continue
        start, end, looked_after, reason_closed, on_cpr = plan
        person, p = record.person, record.profile
        rng = random.Random(f"{writer.config.seed}:crcs:{writer.year}:"
                            f"{person.origin_la}:{person.seq}")
        if looked_after and rng.random() < 0.02:
            on_cpr = True
        age = age_on(person.birth, min(census_day, end))
        yield {
            "YEAR_CODE": writer.code, "LOCAL_AUTHORITY_CODE": record.la,
            "CHILD_CODE": record.system_id, "ALF_PE": person.alf, "IRN": writer.show_irn(person),
            "GNDR_CD": person.sex, "WOB": person.birth, "ETHNICITY": person.ethnicity,
            "LSOA2011_CD": record.home_lsoa, "PLAN_START_DATE": start,
            "PLAN_END_DATE": None if reason_closed is None else end,
            "REASON_FOR_CLOSURE": reason_closed,
            "CATEGORY_OF_NEED_CODE": p.cin, "LOOKED_AFTER": int(looked_after),
            "CHILD_PROTECTION_REGISTER": int(on_cpr), "DISABILITY": p.disability,
            "DISABILITY_TYPES": "|".join(p.disability_types) if p.disability == 1 else None,
            "DOMESTIC_ABUSE": p.parenting[0], "PARENTAL_SUBSTANCE_MISUSE": p.parenting[1],
            "PARENTAL_MENTAL_ILL_HEALTH": p.parenting[2],
            "PARENTAL_LEARNING_DISABILITY": p.parenting[3],
            "PARENTAL_PHYSICAL_ILL_HEALTH": p.parenting[4],
            "IMMUNISATIONS_UP_TO_DATE": p.immunised, "DENTAL_CHECK": p.dental if age >= 5 else None,
            "MENTAL_HEALTH": p.mental_health, "SUBSTANCE_MISUSE": p.substance_misuse,
            "YOUTH_OFFENDING": p.offending if age >= 10 else None, "WELSH_LANGUAGE": p.welsh,
        }


CASE_FILES = [
    ("cla/child.csv", CLA_CHILD_COLUMNS), ("cla/episode.csv", CLA_EPISODE_COLUMNS),
    ("cla/adoption.csv", CLA_ADOPTION_COLUMNS), ("cla/care_leaver.csv", CLA_CARE_LEAVER_COLUMNS),
    ("crcs/child.csv", CRCS_CHILD_COLUMNS),
]


def system_id(la: LocalAuthority, number: int) -> str:
    """The authority's case-system id: its own style, as real systems differ."""
    style = la.code % 3
    return (f"{number:07d}" if style == 0 else f"C{number:06d}" if style == 1
            else f"{la.name[:3].upper()}{number:06d}")


def final_period(record: CaseRecord) -> Period:
    """The record's latest period of care (short breaks apart), the first if two start together."""
    start = last_period_start(record)
    return next(p for p in record.periods
                if not p.is_short_break and p.start.toordinal() == start)


def write_cases(writer: ReturnWriter, ordered: list[CaseRecord],
                finals: list[tuple[CaseRecord, Period]]) -> dict[str, int]:
    """One year's case files (all but the pupil census) of records in case-system id order."""
    code = writer.code
    counts: dict[str, int] = {}
    with writer.open("cla/child.csv", CLA_CHILD_COLUMNS) as children, \
            writer.open("cla/episode.csv", CLA_EPISODE_COLUMNS) as episodes:
        for child, child_episodes in cla_rows(writer, ordered):
            children.write(child)
            for episode in child_episodes:
                episodes.write(episode)
    counts[f"cla/{code}/child.csv"] = children.count
    counts[f"cla/{code}/episode.csv"] = episodes.count
    counts[f"cla/{code}/adoption.csv"] = writer.write(
        "cla/adoption.csv", CLA_ADOPTION_COLUMNS, adoption_rows(writer, ordered))
    counts[f"cla/{code}/care_leaver.csv"] = writer.write(
        "cla/care_leaver.csv", CLA_CARE_LEAVER_COLUMNS, care_leaver_rows(writer, finals))
    counts[f"crcs/{code}/child.csv"] = writer.write(
        "crcs/child.csv", CRCS_CHILD_COLUMNS, crcs_rows(writer, ordered))
    return counts


class ShardTask(NamedTuple):
    shard: Shard
    alf: npt.NDArray[np.int64]  # per record: the person's linking field, -1 for none
    irn: npt.NDArray[np.int64]  # per record: the person's pupil number, -1 for none
    config: GeneratorConfig  # out_dir: the shard's own folder of part files


def load_shard(path: Path) -> list[CaseRecord]:
    records: list[CaseRecord] = []
    with open(path, "rb") as f:
        while True:
            try:
                records.extend(pickle.load(f))
            except EOFError:
                return records


def _write_shard(task: ShardTask) -> dict[str, int]:
    """Every year's case rows of one shard, in case-system id order, into its part files."""
    shard = task.shard
    assert shard.number is not None and shard.final is not None
    records = load_shard(Path(shard.path))
    la = next(x for x in local_authorities() if x.code == shard.la)
    for record, number, alf, irn in zip(records, shard.number.tolist(), task.alf.tolist(),
                                        task.irn.tolist()):
        record.system_id = system_id(la, number)
        record.person.alf = None if alf < 0 else alf
        record.person.irn = None if irn < 0 else f"{irn:012X}"
    finals = {id(r) for r, final in zip(records, shard.final.tolist()) if final}
    ordered = sorted(records, key=lambda r: r.system_id)
    final_rows = [(r, final_period(r)) for r in ordered if id(r) in finals]
    counts: dict[str, int] = {}
    for year in range(task.config.first_year, task.config.last_year + 1):
        counts.update(write_cases(ReturnWriter(task.config, year), ordered, final_rows))
    return counts


def merge_parts(config: GeneratorConfig, parts: dict[int, list[Path]]) -> None:
    """Each year's case files: per authority (in code order), its shards' part files merged
    by case-system id (each part is in that order; a child is in one part only)."""
    for year in range(config.first_year, config.last_year + 1):
        writer = ReturnWriter(config, year)
        for relative, columns in CASE_FILES:
            collection, name = relative.split("/")
            with open(writer.path(relative), "w", encoding="utf-8", newline="") as target:
                csv.writer(target, lineterminator="\n").writerow(writer.present(relative, columns))
                for la in sorted(parts):
                    with contextlib.ExitStack() as stack:
                        files = [stack.enter_context(open(folder / collection / writer.code / name,
                                                          encoding="utf-8", newline=""))
                                 for folder in parts[la]]
                        for f in files:
                            f.readline()  # the header
                        target.writelines(heapq.merge(*files, key=case_id))


def case_id(line: str) -> str:
    """SYSTEM_ID (CHILD_CODE in CRCS): the third column of every case file."""
    return line.split(",", 3)[2]


def pupil_traits(config: GeneratorConfig, people: People, pupils: People) -> dict[str, Any]:
    """Every census child with a pupil number (in order of appearance), then the sample of all
    pupils: what stays with a pupil from year to year, as arrays."""
    census_children = np.flatnonzero(people.has_upn)
    rng = random.Random(f"{config.seed}:pupil-traits")
    # compact arrays as they fill: a list would hold an object per value
    ability, noise = array.array("d"), array.array("q")
    fsm, sen = bytearray(), bytearray()
    for vulnerable, count in ((True, len(census_children)), (False, len(pupils))):
        for _ in range(count):
            ability.append(rng.gauss(-1.3 if vulnerable else 0.0, 1.0))
            fsm.append(rng.random() < (0.5 if vulnerable else 0.18))
            sen.append(rng.random() < (0.5 if vulnerable else 0.21))
            noise.append(rng.getrandbits(40))
    assert people.alf is not None and people.irn is not None
    assert pupils.alf is not None and pupils.irn is not None
    return {
        "person": np.concatenate([census_children, np.full(len(pupils), -1, I64)]),
        "origin": np.concatenate([people.origin[census_children], pupils.origin]),
        "cohort": np.concatenate([people.cohort[census_children], pupils.cohort]),
        "alf": np.concatenate([people.alf[census_children], pupils.alf]),
        "irn": np.concatenate([people.irn[census_children], pupils.irn]),
        "ability": np.frombuffer(ability, np.float64),
        "fsm": np.frombuffer(fsm, np.uint8).astype(np.bool_),
        "sen": np.frombuffer(sen, np.uint8).astype(np.bool_),
        "noise": np.frombuffer(noise, I64),
    }


PUPIL_TRAITS_SAVED = ("cohort", "alf", "irn", "ability", "fsm", "sen", "noise")


def save_pupils(config: GeneratorConfig, people: People, pupils: People, shards: list[Shard],
                folder: Path) -> None:
    """What each year's pupil file is written from, as .npy files that the year writers map:
    the traits in pupil-number order (the order written), and each year's authority per pupil."""
    folder.mkdir()
    traits = pupil_traits(config, people, pupils)
    by_irn = np.argsort(traits["irn"], kind="stable")
    for name in PUPIL_TRAITS_SAVED:
        np.save(folder / f"{name}.npy", traits[name][by_irn])
    person, origin = traits["person"][by_irn], traits["origin"][by_irn]
    del traits
    for year in range(config.first_year, config.last_year + 1):
        # the authority a census child's case was last in by the census date (the highest code
        # if in two), else where the child came from
        la_of = np.full(len(people), -1, I32)
        census_day = census_date(year).toordinal()
        for shard in shards:
            np.maximum.at(la_of, shard.person[shard.first_date <= census_day], shard.la)
        la = np.where(person >= 0, la_of[person], -1)
        np.save(folder / f"la-{year}.npy", np.where(la >= 0, la, origin).astype(I32))


class PupilTask(NamedTuple):
    year: int
    folder: str  # of save_pupils
    config: GeneratorConfig


def _write_pupil_year(task: PupilTask) -> dict[str, int]:
    """One year's pupil file: pupils in reception to year 11, in pupil-number order (the
    sample, and every census child with a pupil number)."""
    folder = Path(task.folder)
    traits = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in PUPIL_TRAITS_SAVED}
    la = np.load(folder / f"la-{task.year}.npy", mmap_mode="r")
    writer = ReturnWriter(task.config, task.year)
    ncy = task.year - 4 - traits["cohort"]
    rows = np.flatnonzero((ncy >= 0) & (ncy <= 11))
    return {f"plasc/{writer.code}/pupil.csv": writer.write(
        "plasc/pupil.csv", PLASC_PUPIL_COLUMNS, pupil_rows(writer, traits, rows, ncy, la))}


def pupil_rows(writer: ReturnWriter, traits: dict[str, Any], rows: npt.NDArray[np.int64],
               ncy: npt.NDArray[np.int32], la: npt.NDArray[np.int32]
               ) -> Iterator[dict[str, object]]:
    """The pupil file's rows: ``rows`` of the traits, in order (in batches of plain values)."""
    for at in range(0, len(rows), 65_536):
        batch = rows[at:at + 65_536]
        for year_group, ability, noise, alf, irn, la_code, fsm, sen in zip(
                ncy[batch].tolist(), traits["ability"][batch].tolist(),
                traits["noise"][batch].tolist(), traits["alf"][batch].tolist(),
                traits["irn"][batch].tolist(), la[batch].tolist(), traits["fsm"][batch].tolist(),
                traits["sen"][batch].tolist()):
            score = ability
            if year_group in (6, 9, 11):
                score += random.Random(noise * 64 + year_group).gauss(0, 0.5)
            yield {
                "YEAR_CODE": writer.code, "IRN": f"{irn:012X}",
                "ALF_PE": alf if alf >= 0 else None, "LOCAL_AUTHORITY_CODE": la_code,
                "NATIONAL_CURRICULUM_YEAR": year_group, "FSM": int(fsm), "SEN": int(sen),
                "KS2_CSI": int(score > -1.3) if year_group == 6 else None,
                "KS3_CSI": int(score > -1.1) if year_group == 9 else None,
                "KS4_CAPPED_POINTS": (f"{min(580.0, max(0.0, 360 + 120 * score)):.1f}"
                                      if year_group == 11 else None),
            }


class _InProcess:
    """An executor that runs each call at once, here: one worker."""

    def submit(self, fn: Callable[[T], R], arg: T) -> Future[R]:
        future: Future[R] = Future()
        future.set_result(fn(arg))
        return future


def start_method_here(wanted: str) -> str:
    """``wanted`` where this platform has it, else ``spawn``, which every platform has (Windows
    has no ``fork``): the workers then import this module afresh, which costs time, not bytes."""
    return wanted if wanted in multiprocessing.get_all_start_methods() else "spawn"


@contextmanager
def processes(workers: int, start_method: str) -> Iterator[ProcessPoolExecutor | _InProcess]:
    """``workers`` processes (started by ``start_method`` where the platform has it), or this one
    for a single worker."""
    if workers <= 1:
        yield _InProcess()
        return
    context = multiprocessing.get_context(start_method_here(start_method))
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield pool


@contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """The simulated records hold no reference cycles: collecting them only costs time.

    Millions of long-lived objects make every full collection walk all of them;
    reference counting alone frees them.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _work_prefix(out_dir: Path) -> str:
    """How the temporary folders of this machine's generators writing ``out_dir`` begin (the
    process id follows): the host's name keeps another machine's generators, writing to a shared
    folder, out of reach of :func:`remove_abandoned_work`."""
    return f".{out_dir.name}-work-{socket.gethostname()}-"


def _process_alive(pid: int) -> bool:
    if os.name == "nt":  # there os.kill ends the process whatever the signal: assume it lives
        return True
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # gone, or no process can have that number
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_abandoned_work(out_dir: Path) -> list[Path]:
    """Remove the temporary folders beside ``out_dir`` of this machine's generators that are gone
    (killed with no chance to clean up: SIGKILL, out of memory, power cut); a running
    generator's folder stays. A folder is named ``<prefix><process id>-<random>``. On Windows none
    is removed: without a safe test there that a process lives, every folder is taken for a
    running generator's, and a killed generator's folder stays for the user to delete."""
    prefix = _work_prefix(out_dir)
    removed = []
    for folder in sorted(out_dir.parent.glob(f"{glob.escape(prefix)}*")):
        pid, _, rest = folder.name.removeprefix(prefix).partition("-")
        if folder.is_dir() and not folder.is_symlink() and pid.isdigit() and rest \
                and not _process_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            if not folder.exists():
                removed.append(folder)
    return removed


def generate(config: GeneratorConfig) -> dict[str, int]:
    """Simulate and write a census; returns rows written per file.

    Shards and part files go to a temporary folder beside ``out_dir``, removed at the end (and,
    if the generator is killed, by the next generator writing there; not on Windows, see
    :func:`remove_abandoned_work`).
    """
    config.out_dir.mkdir(parents=True, exist_ok=True)
    for folder in remove_abandoned_work(config.out_dir):
        print(f"removed {folder}, left by a generator that was killed", file=sys.stderr)
    with _without_cyclic_gc(), tempfile.TemporaryDirectory(
            prefix=f"{_work_prefix(config.out_dir)}{os.getpid()}-", dir=config.out_dir.parent) as tmp:
        work = Path(tmp)
        (work / "shards").mkdir()
        # simulations in forked processes (the parent is small yet), ended before writing: a
        # finished worker would keep the memory of its largest simulation
        with processes(config.workers, "fork") as pool:
            simulated = [pool.submit(_simulate_to_shards, job)
                         for job in enumerate(simulation_jobs(config, work / "shards"))]
            shards, people = merge_simulations([f.result() for f in simulated])
        pupils = general_pupils(config)
        assign_identifiers(config, shards, people, pupils)
        save_pupils(config, people, pupils, shards, work / "pupils")
        del pupils
        assert people.alf is not None and people.irn is not None
        parts: dict[int, list[Path]] = {}
        tasks: list[PupilTask | ShardTask] = [
            PupilTask(year, str(work / "pupils"), config)
            for year in range(config.first_year, config.last_year + 1)]
        for shard in sorted(shards, key=lambda s: (s.la, s.job)):
            folder = work / "parts" / f"{shard.job:05d}-{shard.la}"
            parts.setdefault(shard.la, []).append(folder)
            tasks.append(ShardTask(shard, people.alf[shard.person], people.irn[shard.person],
                                   replace(config, out_dir=folder)))
        del shards, people
        counts: dict[str, int] = {}
        # writers spawned, not forked: a fork would map the parent's arrays into each
        with processes(config.workers, "spawn") as pool:
            written = [pool.submit(_write_pupil_year, task) if isinstance(task, PupilTask)
                       else pool.submit(_write_shard, task) for task in tasks]
            for future in written:
                for file, rows in future.result().items():
                    counts[file] = counts.get(file, 0) + rows
        merge_parts(config, parts)
    return dict(sorted(counts.items()))


__all__ = ["GeneratorConfig", "generate", "Episode"]
