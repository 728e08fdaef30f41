"""The synthetic census generator: simulated lives written as the raw extract format.

``generate`` runs one simulation per local authority (``carecensus.simulation``),
gives every child the identifiers a real return would carry (case-system ids
unique within an authority, the anonymised linking field ALF_PE for about 60% of
people, a pseudonymised pupil number), and writes each reporting year's return
exactly as ``shared/census/raw-extract-format.md`` describes: an episode open
across years is repeated in every return with its end date blank until it
closes and EPISODE_NUMBER recomputed per return; newer columns appear only from
the year they were introduced; a small share of values are corrected by a later
return. Same options, byte-identical files.
"""

from __future__ import annotations

import csv
import gc
import multiprocessing
import random
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

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


@dataclass(frozen=True)
class GeneratorConfig:
    """What to generate. ``first_year`` 2016 is the reporting year 201617."""

    out_dir: Path
    first_year: int = FIRST_YEAR
    last_year: int = LAST_YEAR
    seed: int = DEFAULT_SEED
    scale: float = 1.0
    workers: int = 2

    def __post_init__(self) -> None:
        if not 2000 <= self.first_year <= self.last_year <= 2040:
            raise ValueError(f"bad year range {self.first_year}-{self.last_year}")
        if not 0 < self.scale <= 1000:
            raise ValueError(f"scale must be positive, got {self.scale}")


@dataclass
class Census:
    """The simulated population, ready to be written."""

    config: GeneratorConfig
    records: list[CaseRecord]
    pupils: list[Person] = field(default_factory=list)


def _simulate(args: tuple[int, int, float, int]) -> list[CaseRecord]:
    la_code, seed, scale, last_year = args
    las = local_authorities()
    total = sum(la.cla_weight for la in las)
    la = next(x for x in las if x.code == la_code)
    sim = AuthoritySimulation(la, las, share=la.cla_weight / total,
                              crcs_share=la.cla_weight / total, seed=seed, scale=scale,
                              last_year=last_year)
    sim.run()
    return sim.records


def simulate(config: GeneratorConfig) -> Census:
    """Run every authority's simulation (in parallel) and assign identifiers."""
    jobs = [(la.code, config.seed, config.scale, config.last_year) for la in local_authorities()]
    if config.workers > 1:
        with ProcessPoolExecutor(max_workers=config.workers) as pool:
            results = list(pool.map(_simulate, jobs))
    else:
        results = [_simulate(job) for job in jobs]
    records = [r for batch in results for r in batch]
    census = Census(config=config, records=records)
    assign_identifiers(census)
    return census


def assign_identifiers(census: Census) -> None:
    """Case-system ids per authority, linking fields and pupil numbers per person."""
    rng = random.Random(f"{census.config.seed}:identifiers")
    by_la: dict[int, list[CaseRecord]] = {}
    for record in census.records:
        by_la.setdefault(record.la, []).append(record)
    for la in local_authorities():
        records = sorted(by_la.get(la.code, []),
                         key=lambda r: (r.first_date, r.person.origin_la, r.person.seq))
        style = la.code % 3
        number = rng.randrange(10_000, 90_000)
        for record in records:
            number += rng.randrange(1, 9)
            record.system_id = (f"{number:07d}" if style == 0 else
                                f"C{number:06d}" if style == 1 else
                                f"{la.name[:3].upper()}{number:06d}")
    persons = {r.person.key: r.person for r in census.records}
    census.pupils = general_pupils(census.config)
    alfs = rng.sample(range(1_000_000_000, 9_999_999_999), len(persons) + len(census.pupils))
    irns = rng.sample(range(16**11, 16**12), len(persons) + len(census.pupils))
    everyone = [persons[k] for k in sorted(persons)] + census.pupils
    for person, alf, irn in zip(everyone, alfs, irns):
        person.alf = alf if person.has_alf else None
        person.irn = f"{irn:012X}" if person.has_upn else None


def general_pupils(config: GeneratorConfig) -> list[Person]:
    """A representative sample of all pupils: year groups of the years generated."""
    rng = random.Random(f"{config.seed}:pupils")
    las = local_authorities()
    weights = [len(la.lsoas) for la in las]
    pupils: list[Person] = []
    per_group = round(PUPILS_PER_YEAR_GROUP * config.scale)
    # academic cohorts of the children in reception to year 11 in the years generated
    for cohort in range(config.first_year - 16, config.last_year - 3):
        first_day = date(cohort, 9, 1)
        for i in range(per_group):
            birth = date.fromordinal(first_day.toordinal() + rng.randrange(365))
            la = rng.choices(las, weights)[0]
            pupils.append(Person(
                origin_la=la.code, seq=-(cohort * 100_000 + i), sex=1 + (rng.random() < 0.49),
                birth=week_of_birth(birth), ethnicity="A1", has_alf=rng.random() < 0.85,
                has_upn=True, vulnerable=False,
            ))
    return pupils


# --- writing -------------------------------------------------------------------

def fmt(value: object) -> str:
    if value is None:
        return ""
    if type(value) is str:
        return value
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


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

    def __init__(self, census: Census, year: int) -> None:
        self.census = census
        self.year = year
        self.code = year_code(year)
        self.start = year_start(year)
        self.census_day = census_date(year)

    def path(self, relative: str) -> Path:
        collection, name = relative.split("/")
        folder = self.census.config.out_dir / collection / self.code
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
        present = [c for c in columns
                   if self.year >= COLUMN_SINCE.get((relative, c), 0)]
        with open(self.path(relative), "w", newline="", encoding="utf-8") as f:
            out = RowFile(csv.writer(f, lineterminator="\n"), present)
            yield out

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


def adoption_rows(writer: ReturnWriter, records: list[CaseRecord]) -> Iterator[dict[str, object]]:
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


def final_periods(records: list[CaseRecord]) -> dict[tuple[int, int], tuple[CaseRecord, Period]]:
    """Each person's last period of care (short breaks apart), wherever it was."""
    last: dict[tuple[int, int], tuple[CaseRecord, Period]] = {}
    for record in records:
        for period in record.periods:
            if period.is_short_break:
                continue
            key = record.person.key
            if key not in last or last[key][1].start < period.start:
                last[key] = (record, period)
    return last


def care_leaver_rows(writer: ReturnWriter, finals: dict[tuple[int, int], tuple[CaseRecord, Period]]
                     ) -> Iterator[dict[str, object]]:
    """Young people who left care aged 16 or over, in the year of their 19th birthday."""
    for (record, period) in finals.values():
        person = record.person
        nineteen = birthday(person.birth, 19)
        if not writer.start <= nineteen <= writer.census_day or person.died:
            continue
        if period.rec in ("E2", "E3", "E11", "E12") or age_on(person.birth, period.end) < 16:
            continue
        rng = random.Random(f"{writer.census.config.seed}:leaver:{person.origin_la}:{person.seq}")
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


def crcs_rows(writer: ReturnWriter, records: list[CaseRecord]) -> Iterator[dict[str, object]]:
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
        rng = random.Random(f"{writer.census.config.seed}:crcs:{writer.year}:"
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


@dataclass(frozen=True, slots=True)
class PupilTraits:
    """What stays with a pupil from year to year."""

    ability: float
    fsm: bool
    sen: bool
    noise_seed: int


def pupil_traits(census: Census) -> list[tuple[Person, PupilTraits]]:
    """Every census child with a pupil number, then the sample of all pupils."""
    seen: set[tuple[int, int]] = set()
    people: list[Person] = []
    for record in census.records:
        if record.person.key not in seen and record.person.irn is not None:
            seen.add(record.person.key)
            people.append(record.person)
    people.extend(census.pupils)
    rng = random.Random(f"{census.config.seed}:pupil-traits")
    traits = []
    for person in people:
        ability = rng.gauss(-1.3 if person.vulnerable else 0.0, 1.0)
        fsm = rng.random() < (0.5 if person.vulnerable else 0.18)
        sen = rng.random() < (0.5 if person.vulnerable else 0.21)
        traits.append((person, PupilTraits(ability, fsm, sen, rng.getrandbits(40))))
    return traits


def pupil_rows(writer: ReturnWriter, traits: list[tuple[Person, PupilTraits]],
               la_of: dict[tuple[int, int], int]) -> Iterator[dict[str, object]]:
    """Pupils in reception to year 11: the sample, and every census child with a pupil number."""
    august = date(writer.year, 8, 31)
    for person, t in traits:
        ncy = age_on(person.birth, august) - 4
        if not 0 <= ncy <= 11 or person.irn is None:
            continue
        score = t.ability
        if ncy in (6, 9, 11):
            score += random.Random(t.noise_seed * 64 + ncy).gauss(0, 0.5)
        yield {
            "YEAR_CODE": writer.code, "IRN": person.irn, "ALF_PE": person.alf,
            "LOCAL_AUTHORITY_CODE": la_of.get(person.key, person.origin_la),
            "NATIONAL_CURRICULUM_YEAR": ncy, "FSM": int(t.fsm), "SEN": int(t.sen),
            "KS2_CSI": int(score > -1.3) if ncy == 6 else None,
            "KS3_CSI": int(score > -1.1) if ncy == 9 else None,
            "KS4_CAPPED_POINTS": (f"{min(580.0, max(0.0, 360 + 120 * score)):.1f}"
                                  if ncy == 11 else None),
        }


def sort_key(row: dict[str, object], *columns: str) -> tuple[str, ...]:
    return tuple(fmt(row.get(c)) for c in columns)


@dataclass
class Prepared:
    """What every year's writer shares, computed once before the years are written."""

    census: Census
    ordered: list[CaseRecord]
    finals: dict[tuple[int, int], tuple[CaseRecord, Period]]
    traits: list[tuple[Person, PupilTraits]]  # in pupil-number order, the order written


_PREPARED: Prepared | None = None  # inherited by forked year writers


def prepare(census: Census) -> Prepared:
    by_la: dict[int, list[CaseRecord]] = {}
    for record in census.records:
        by_la.setdefault(record.la, []).append(record)
    ordered = [r for la in sorted(by_la) for r in sorted(by_la[la], key=lambda r: r.system_id)]
    # pupil numbers are unique: sorting once here orders every year's pupil file
    traits = sorted(pupil_traits(census), key=lambda pt: fmt(pt[0].irn))
    return Prepared(census, ordered, final_periods(ordered), traits)


def write_year(year: int) -> dict[str, int]:
    """Write one reporting year's six files."""
    assert _PREPARED is not None
    census, ordered = _PREPARED.census, _PREPARED.ordered
    writer = ReturnWriter(census, year)
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
    leavers = sorted(care_leaver_rows(writer, _PREPARED.finals),
                     key=lambda r: sort_key(r, "LOCAL_AUTHORITY_CODE", "SYSTEM_ID"))
    counts[f"cla/{code}/care_leaver.csv"] = writer.write(
        "cla/care_leaver.csv", CLA_CARE_LEAVER_COLUMNS, leavers)
    counts[f"crcs/{code}/child.csv"] = writer.write(
        "crcs/child.csv", CRCS_CHILD_COLUMNS, crcs_rows(writer, ordered))
    la_of: dict[tuple[int, int], int] = {}
    for record in ordered:
        if record.first_date <= writer.census_day:
            la_of[record.person.key] = record.la
    counts[f"plasc/{code}/pupil.csv"] = writer.write(
        "plasc/pupil.csv", PLASC_PUPIL_COLUMNS, pupil_rows(writer, _PREPARED.traits, la_of))
    return counts


def write_census(census: Census) -> dict[str, int]:
    """Write every reporting year's files (years in parallel); returns rows per file."""
    global _PREPARED
    config = census.config
    _PREPARED = prepare(census)
    years = list(range(config.first_year, config.last_year + 1))
    counts: dict[str, int] = {}
    # The census is frozen out of the cyclic collector: a forked writer never walks it
    # (which would copy every page of it into the writer) and no writer spends time on it.
    gc.freeze()
    try:
        if config.workers > 1:
            # The parent writes every workers-th year itself while forked writers do the
            # rest: each forked writer ends up with its own copy of the census (reading an
            # object writes its reference count), so this saves one copy.
            own = years[::config.workers]
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=config.workers - 1, mp_context=context) as pool:
                forked = pool.map(write_year, [y for y in years if y not in own])
                results = [write_year(y) for y in own]
                results.extend(forked)
        else:
            results = [write_year(y) for y in years]
    finally:
        _PREPARED = None
        gc.unfreeze()
    for result in results:
        counts.update(result)
    return dict(sorted(counts.items()))


@contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """The simulated census holds no reference cycles: collecting it only costs time.

    Millions of long-lived objects make every full collection walk all of them
    (and, in a forked worker, copy them); reference counting alone frees them.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def generate(config: GeneratorConfig) -> dict[str, int]:
    """Simulate and write a census; returns rows written per file."""
    config.out_dir.mkdir(parents=True, exist_ok=True)
    with _without_cyclic_gc():
        return write_census(simulate(config))


__all__ = ["GeneratorConfig", "generate", "simulate", "write_census", "Census", "Episode"]
