"""Simulated lives: children entering and leaving care in one local authority.

The simulation runs from a warm-up year well before the first reporting year, so
that the first return carries children who came into care years earlier. For
every census date it adds children starting care until the number looked after
on that day (short breaks apart) reaches the authority's share of the published
figure. Each period of care is simulated whole when it starts: its outcome, its
end date, its legal-status changes and placement moves, and what follows it (a
return to care, a transfer to another authority).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from carecensus import published
from carecensus.calendar import age_on, birthday, census_date, week_of_birth, year_start
from carecensus.reference import ENGLISH_LSOA_COUNT, LocalAuthority

SIM_START_YEAR = 1995  # warm-up: the first simulated reporting year
CRCS_SIM_START_YEAR = 2011
PLACEMENT_ORDERS_FROM = date(2005, 12, 30)  # E1 replaced D1 freeing orders (rules 445/446)

FOSTER = ("F1", "F2", "F3", "F4", "F5", "F6")
INSIDE_LA = frozenset({"F1", "F2", "F3", "H1", "H3"})
OUTSIDE_LA = frozenset({"F4", "F5", "F6", "H4"})
CARE_ORDERS = frozenset({"C1", "C2"})


@dataclass(slots=True)
class Person:
    """One human: the same across authorities, censuses and the pupil census."""

    origin_la: int
    seq: int
    sex: int
    birth: date  # always a Monday: the week of birth is the date of birth here
    ethnicity: str
    has_alf: bool
    has_upn: bool
    uasc: bool = False
    uasc_ceased: date | None = None
    disability: int = 0
    died: bool = False
    alf: int | None = None
    irn: str | None = None
    vulnerable: bool = True  # for pupil outcomes: ever in either census
    authorities: list[int] = field(default_factory=list)  # where the person has had a case

    @property
    def key(self) -> tuple[int, int]:
        return (self.origin_la, self.seq)


@dataclass(slots=True)
class Episode:
    start: date
    end: date
    rne: str
    ls: str
    cin: str
    place: str
    lsoa: str
    rec: str
    short_breaks: int = 0  # V1 only: breaks over the whole episode
    draft_lsoa: str | None = None  # an earlier return showed this, corrected later


@dataclass(slots=True)
class Adoption:
    should_be_placed: date
    matched: date
    placed: date
    adopted: date
    by_foster_carer: int
    adopters: int
    sex_of_adopters: str
    legal_status_of_adopters: str
    ethnicity_of_adopters: str


@dataclass(slots=True)
class Period:
    episodes: list[Episode]
    adoption: Adoption | None = None
    plan_start: date | None = None  # care and support plan start (often before care began)

    @property
    def start(self) -> date:
        return self.episodes[0].start

    @property
    def end(self) -> date:
        return self.episodes[-1].end

    @property
    def rec(self) -> str:
        return self.episodes[-1].rec

    @property
    def is_short_break(self) -> bool:
        return all(e.ls == "V1" for e in self.episodes)


@dataclass(slots=True)
class CrcsProfile:
    """Care and support items of a child, drawn once."""

    cin: str
    disability: int
    disability_types: tuple[str, ...]
    parenting: tuple[int, int, int, int, int]
    immunised: int
    dental: int
    mental_health: int
    substance_misuse: int
    offending: int
    welsh: int


@dataclass(slots=True)
class CaseRecord:
    """A child in one authority's case system: what one SYSTEM_ID / CHILD_CODE stands for."""

    person: Person
    la: int
    home_lsoa: str
    first_date: date
    profile: CrcsProfile
    periods: list[Period] = field(default_factory=list)
    transferred_from: int | None = None
    draft_disability_until: int | None = None  # returns before this year show code 2
    # CRCS-only children: care and support plan spells (start, end, cpr_start, cpr_end)
    plans: list[tuple[date, date, date | None, date | None, str]] = field(default_factory=list)
    system_id: str = ""


# --- distributions -----------------------------------------------------------

AGE_BUCKETS: list[tuple[int, int, float]] = [  # (min days, max days, weight) at entry
    (7, 364, 0.21), (365, 5 * 365, 0.17), (5 * 365 + 2, 10 * 365, 0.18),
    (10 * 365 + 3, 16 * 365, 0.32), (16 * 365 + 4, 18 * 365 - 60, 0.12),
]
# outcome weights by entry-age bucket: adoption, sgo, home, other, ageout, transfer, custody, died
OUTCOMES = ("adoption", "sgo", "home", "other", "ageout", "transfer", "custody", "died")
OUTCOME_WEIGHTS: list[tuple[float, ...]] = [
    (58, 15, 12, 3, 14, 3, 0, 0.5),
    (33, 19, 22, 4, 22, 3, 0, 0.2),
    (1, 16, 36, 5, 42, 3, 0, 0.2),
    (0, 5, 42, 8, 43, 3, 1.5, 0.2),
    (0, 1, 27, 9, 58, 3, 3, 0.2),
]
ETHNICITY: list[tuple[str, float]] = [
    ("A1", 84.0), ("A2", 0.3), ("A3", 2.6), ("B1", 1.6), ("B2", 0.6), ("B3", 1.2),
    ("B4", 2.4), ("C1", 0.3), ("C2", 0.5), ("C3", 0.3), ("C4", 0.6), ("D1", 0.4),
    ("D2", 1.2), ("D3", 0.6), ("E1", 0.2), ("E2", 1.6), ("WHTE", 0.8), ("MIXD", 0.4),
    ("OOTH", 0.4),
]
UASC_ETHNICITY: list[tuple[str, float]] = [("D2", 30), ("C4", 30), ("E2", 35), ("OOTH", 5)]
CIN_OTHER: list[tuple[str, float]] = [
    ("N2", 4), ("N3", 4), ("N4", 9), ("N5", 15), ("N6", 2), ("N7", 0.5), ("N8", 4),
]
# placement weights by age band at the start of the placement
PLACEMENT_WEIGHTS: list[tuple[int, dict[str, float]]] = [
    (1, {"F1": 21, "F2": 24, "F3": 11, "F4": 7, "F5": 10, "F6": 8, "P1": 16, "R3": 4}),
    (5, {"F1": 22, "F2": 21, "F3": 11, "F4": 8, "F5": 10, "F6": 8, "P1": 24, "Z1": 1}),
    (10, {"F1": 21, "F2": 18, "F3": 12, "F4": 8, "F5": 9, "F6": 9, "P1": 24, "H3": 1.5,
          "S1": 1, "Z1": 1}),
    (16, {"F1": 15, "F2": 13, "F3": 12, "F4": 6, "F5": 8, "F6": 9, "P1": 20, "H3": 6,
          "H4": 6, "S1": 2, "Z1": 1, "R1": 0.5}),
    (18, {"F1": 10, "F2": 10, "F3": 10, "F4": 5, "F5": 5, "F6": 6, "P1": 13, "H3": 6,
          "H4": 6, "H5": 7, "P2": 9, "P3": 1, "S1": 1, "R2": 0.5}),
]
RESIDENTIAL = frozenset({"H3", "H4", "H5"})


def weighted(rng: random.Random, items: list[tuple[str, float]]) -> str:
    total = sum(w for _, w in items)
    x = rng.random() * total
    for item, w in items:
        x -= w
        if x < 0:
            return item
    return items[-1][0]


def days(n: int) -> timedelta:
    return timedelta(days=n)


def residential_multiplier(year: int) -> float:
    """Children's homes grew from about 5% (2017) to 10% (2023) of placements."""
    return min(1.6, max(0.5, 0.5 + 0.11 * (year - 2014)))


def uasc_share(year: int) -> float:
    """Share of starters who are unaccompanied asylum-seeking children, rising to 2024."""
    return 0.01 if year < 2015 else min(0.10, 0.03 + 0.011 * max(0, year - 2016))


def adoption_trend(year: int) -> float:
    """Adoptions held near 310 a year to 2019, then fell (244 in 2022-23)."""
    if year <= 2015:
        return 1.25
    return max(0.6, 1.0 - 0.08 * max(0, year - 2017))


def abuse_neglect_share(year: int) -> float:
    """Starters for abuse or neglect: 64% in 2017-18, 54.4% in 2023-24."""
    return min(0.66, max(0.52, 0.655 - 0.018 * (year - 2017)))


class AuthoritySimulation:
    """Everything that happens in one authority's simulation, seeded on its own."""

    def __init__(self, la: LocalAuthority, others: tuple[LocalAuthority, ...], share: float,
                 crcs_share: float, seed: int, scale: float, last_year: int,
                 first_seq: int = 0) -> None:
        self.la = la
        self.others = tuple(o for o in others if o.code != la.code)
        self.share = share
        self.crcs_share = crcs_share
        self.scale = scale
        self.last_year = last_year
        self.rng = random.Random(f"{seed}:{la.code}")
        self.records: list[CaseRecord] = []
        self.in_care: Counter[int] = Counter()  # census year -> children looked after
        self.crcs_in: Counter[int] = Counter()  # census year -> CRCS-only children counted
        self.seq = first_seq  # people are numbered first_seq + 1, first_seq + 2, ...
        self.horizon = census_date(last_year)

    # --- people ---------------------------------------------------------------

    def new_person(self, birth: date, uasc: bool = False) -> Person:
        rng = self.rng
        self.seq += 1
        if uasc:
            sex = 1 if rng.random() < 0.93 else 2
            ethnicity = weighted(rng, UASC_ETHNICITY)
        else:
            sex = 1 if rng.random() < 0.53 else 2
            ethnicity = weighted(rng, ETHNICITY)
        roll = rng.random()
        disability = 1 if roll < 0.10 else (2 if roll < 0.16 else 0)
        return Person(
            origin_la=self.la.code, seq=self.seq, sex=sex, birth=week_of_birth(birth),
            ethnicity=ethnicity, has_alf=rng.random() < 0.6,
            has_upn=(rng.random() < 0.45) if uasc else (rng.random() < 0.96),
            uasc=uasc, disability=disability,
        )

    def profile(self, cin: str, disability: int, la_code: int) -> CrcsProfile:
        rng = self.rng

        def flag(p_yes: float, p_unknown: float = 0.04) -> int:
            r = rng.random()
            return 1 if r < p_yes else (9 if r < p_yes + p_unknown else 0)

        types: tuple[str, ...] = ()
        if disability == 1:
            pool = ["LD", "AUT", "COMM", "BEH", "MOB", "HAND", "PC", "INC", "HEAR", "VIS",
                    "CON", "DDA"]
            k = 1 + (rng.random() < 0.45) + (rng.random() < 0.2)
            types = tuple(sorted(rng.sample(pool[: 6 + rng.randrange(7)], k)))
        abuse = cin == "N1"
        welsh_rate = WELSH_FIRST_LANGUAGE.get(la_code, 0.05)
        return CrcsProfile(
            cin=cin, disability=disability, disability_types=types,
            parenting=(flag(0.45 if abuse else 0.25), flag(0.33 if abuse else 0.18),
                       flag(0.44 if abuse else 0.36), flag(0.08), flag(0.10)),
            immunised=flag(0.80, 0.06), dental=flag(0.70, 0.08),
            mental_health=flag(0.14), substance_misuse=flag(0.05, 0.02),
            offending=flag(0.05, 0.02), welsh=flag(welsh_rate, 0.02),
        )

    def home_lsoa(self) -> str:
        return self.rng.choice(self.la.lsoas)

    # --- the yearly loop ------------------------------------------------------

    def run(self) -> None:
        for year in range(SIM_START_YEAR, self.last_year + 1):
            target = round(published.cla_target(year + 1) * self.share * self.scale)
            while self.in_care[year + 1] < target:
                self.start_child(year)
            self.short_breaks(year)
        for year in range(CRCS_SIM_START_YEAR, self.last_year + 1):
            self.crcs_only_children(year)

    def random_day(self, year: int) -> date:
        return year_start(year) + days(self.rng.randrange(365))

    def start_child(self, year: int) -> None:
        rng = self.rng
        start = self.random_day(year)
        uasc = rng.random() < uasc_share(year)
        if uasc:
            age_days = rng.randrange(14 * 365 + 100, 18 * 365 - 120)
        else:
            lo, hi, _ = AGE_BUCKETS[self.bucket_index()]
            age_days = rng.randrange(lo, hi)
        person = self.new_person(start - days(age_days), uasc=uasc)
        cin = "N8" if uasc else ("N1" if rng.random() < abuse_neglect_share(year)
                                 else weighted(rng, CIN_OTHER))
        if cin == "N2":
            person.disability = 1
        record = CaseRecord(person=person, la=self.la.code, home_lsoa=self.home_lsoa(),
                            first_date=start,
                            profile=self.profile(cin, person.disability, self.la.code))
        if person.disability == 2 and rng.random() < 0.3:
            record.draft_disability_until = year + 1 + rng.randrange(2)
            person.disability = 1 if rng.random() < 0.3 else 0
            record.profile.disability = person.disability
        self.records.append(record)
        self.add_period(record, start, cin)

    def bucket_index(self) -> int:
        x = self.rng.random() * sum(b[2] for b in AGE_BUCKETS)
        for i, b in enumerate(AGE_BUCKETS):
            x -= b[2]
            if x < 0:
                return i
        return len(AGE_BUCKETS) - 1

    def count(self, period: Period) -> None:
        if period.is_short_break:
            return
        year = period.start.year if period.start.month >= 4 else period.start.year - 1
        while census_date(year) < period.end and year <= self.last_year:
            if census_date(year) >= period.start:
                self.in_care[year + 1] += 1
            year += 1

    # --- one period of care ---------------------------------------------------

    def add_period(self, record: CaseRecord, start: date, cin: str) -> None:
        """Simulate a whole period of care and what follows it."""
        rng = self.rng
        person = record.person
        age_days = (start - person.birth).days
        eighteen = birthday(person.birth, 18)
        bucket = min(4, 0 if age_days < 365 else 1 if age_days < 5 * 365 + 2
                     else 2 if age_days < 10 * 365 + 3 else 3 if age_days < 16 * 365 + 4 else 4)
        if person.uasc:
            outcome = "ageout" if rng.random() < 0.8 else ("other" if rng.random() < 0.8
                                                           else "transfer")
        else:
            weights = list(OUTCOME_WEIGHTS[bucket])
            weights[0] *= adoption_trend(start.year)
            outcome = weighted(rng, list(zip(OUTCOMES, weights)))
        if outcome == "custody" and age_on(person.birth, start) < 12:
            outcome = "other"
        if outcome == "adoption" and start < date(2002, 1, 1):
            outcome = "sgo"
        milestones: list[date] = []
        if outcome == "adoption":
            bid = start + days(rng.randrange(90, 300))
            order = bid + days(rng.randrange(20, 100))
            matched = order + days(rng.randrange(20, 180))
            placed = matched + days(rng.randrange(7, 60))
            end = placed + days(rng.randrange(120, 420))
            milestones = [bid, order, matched, placed]
            rec = "E11" if rng.random() < 0.55 else "E12"
        elif outcome == "ageout":
            if age_days < 16 * 365 and rng.random() < 0.12:
                sixteen = birthday(person.birth, 16)
                lo = max(start + days(90), sixteen)
                span = max(1, (eighteen - days(1) - lo).days)
                end = lo + days(rng.randrange(span))
                rec = "E5" if rng.random() < 0.75 else "E6"
            else:
                end = eighteen
                rec = ""  # decided by the last placement
        else:
            duration = self.duration(outcome)
            end = start + days(duration)
            rec = {"sgo": "E43" if rng.random() < 0.7 else "E44", "home": "E4", "other": "E8",
                   "transfer": "E3", "custody": "E9", "died": "E2"}[outcome]
        if end >= eighteen:
            end, rec = eighteen, ""
        if end <= start + days(1):
            end = start + days(2)
        episodes = self.episodes(record, start, end, cin, outcome, milestones)
        if not rec:
            last = episodes[-1]
            if last.place in FOSTER and rng.random() < 0.36:
                rec = "E10"
            else:
                rec = weighted(rng, [("E5", 20), ("E6", 6), ("E7", 6 if person.disability != 1
                                                                 else 18), ("E8", 26), ("E4", 8)])
        episodes[-1].rec = rec
        plan_start = start
        if rng.random() < 0.85:
            plan_start = max(person.birth + days(1), start - days(rng.randrange(30, 400)))
        period = Period(episodes=episodes, plan_start=plan_start)
        if rec in ("E11", "E12"):
            period.adoption = self.adoption(milestones, episodes)
        record.periods.append(period)
        self.count(period)
        if rec == "E2":
            person.died = True
        if person.uasc and person.uasc_ceased is None and rng.random() < 0.15:
            person.uasc_ceased = start + days(rng.randrange(max(1, min((end - start).days,
                                                                        (eighteen - start).days))))
        self.follow_up(record, period)

    def duration(self, outcome: str) -> int:
        rng = self.rng
        if outcome == "sgo":
            return rng.randrange(240, 1300)
        if outcome == "transfer":
            return rng.randrange(60, 900)
        if outcome == "custody":
            return rng.randrange(30, 500)
        if outcome == "died":
            return rng.randrange(5, 700)
        r = rng.random()
        if r < 0.12:
            return rng.randrange(3, 60)
        scale = 420 if outcome == "home" else 560
        if r < 0.68:
            return 30 + int(rng.expovariate(1 / scale))
        return rng.randrange(365, 5 * 365)

    def follow_up(self, record: CaseRecord, period: Period) -> None:
        """A return to care in the same authority, or a new period in another one."""
        rng = self.rng
        person = record.person
        if person.died or period.end >= self.horizon:
            return
        end = period.end
        eighteen = birthday(person.birth, 18)
        if period.rec == "E3":
            if record.la not in person.authorities:
                person.authorities.append(record.la)
            candidates = [o for o in self.all_las() if o.code not in person.authorities]
            if not candidates:
                return
            dest = self.rng.choice(candidates)
            person.authorities.append(dest.code)
            start = end + days(rng.randrange(0, 15))
            if start + days(30) >= eighteen:
                return
            new = CaseRecord(person=person, la=dest.code, home_lsoa=rng.choice(dest.lsoas),
                             first_date=start, profile=record.profile,
                             transferred_from=record.la)
            self.records.append(new)
            self.add_period(new, start, period.episodes[0].cin)
        elif period.rec in ("E4", "E8") and rng.random() < (0.14 if period.rec == "E4" else 0.1):
            start = end + days(rng.randrange(45, 900))
            if start + days(60) < eighteen and age_on(person.birth, start) < 17:
                cin = period.episodes[0].cin if rng.random() < 0.6 else (
                    "N1" if rng.random() < 0.5 else weighted(rng, CIN_OTHER))
                self.add_period(record, start, cin)

    def legal_status_at_start(self, outcome: str, age: int, uasc: bool) -> str:
        rng = self.rng
        if uasc:
            return "V2" if rng.random() < 0.85 else "C1"
        if outcome == "adoption":
            return "C1" if rng.random() < 0.9 else "V2"
        if outcome == "sgo":
            return weighted(rng, [("C1", 80), ("V2", 15), ("L2", 5)])
        if outcome == "custody":
            return weighted(rng, [("J1", 60), ("V2", 20), ("C1", 20)])
        if outcome == "ageout":
            return weighted(rng, [("C1", 80), ("V2", 17), ("L1", 3)])
        choices = [("V2", 50.0), ("C1", 35.0), ("L1", 7.0), ("L2", 5.0), ("L3", 1.0)]
        if age >= 12:
            choices.append(("J1", 2.0))
        return weighted(rng, choices)

    def episodes(self, record: CaseRecord, start: date, end: date, cin: str, outcome: str,
                 milestones: list[date]) -> list[Episode]:
        """Cut a period into episodes at each change of legal status and/or placement."""
        rng = self.rng
        person = record.person
        ls = self.legal_status_at_start(outcome, age_on(person.birth, start), person.uasc)
        # legal-status changes: (date, new status)
        ls_changes: list[tuple[date, str]] = []
        current, when = ls, start
        if current in ("L1", "L2", "L3"):
            when = start + days({"L1": rng.randrange(1, 4), "L2": rng.randrange(3, 16),
                                 "L3": rng.randrange(1, 8)}[current])
            current = "C1" if rng.random() < 0.65 else "V2"
            ls_changes.append((when, current))
        elif current == "J1" and outcome != "custody":
            when = start + days(rng.randrange(14, 120))
            current = "V2"
            ls_changes.append((when, current))
        if current == "V2" and (outcome in ("adoption", "sgo")
                                or (outcome == "ageout" and rng.random() < 0.75)
                                or rng.random() < 0.2):
            when = when + days(rng.randrange(20, 300))
            current = "C1"
            ls_changes.append((when, current))
        if current == "C1":
            when = when + days(rng.randrange(90, 400))
            current = "C2"
            ls_changes.append((when, current))
        placed: date | None = None
        if outcome == "adoption":
            order = milestones[1]
            placed = milestones[3]
            ls_changes = [c for c in ls_changes if c[0] < order - days(1)]
            status = "E1" if order >= PLACEMENT_ORDERS_FROM else "C2"
            if not ls_changes or ls_changes[-1][1] != status:
                ls_changes.append((order, status))
        # placement moves: a Poisson process with a child-specific rate
        rate = weighted(rng, [("0.2", 60), ("0.55", 30), ("1.4", 8), ("3.5", 2)])
        moves: list[date] = []
        t = start
        stop = placed if placed is not None else end
        while True:
            t = t + days(1 + int(rng.expovariate(float(rate) / 365)))
            if t >= stop - days(1):
                break
            moves.append(t)
        if placed is not None:
            moves.append(placed)
        # merge into change days
        changes: dict[date, list[str]] = {}
        for day, new_ls in ls_changes:
            if start < day < end:
                changes.setdefault(day, []).append("ls:" + new_ls)
                if rng.random() < 0.25:
                    changes[day].append("move")
        for day in moves:
            if start < day < end - days(1):
                changes.setdefault(day, []).append("move")
        eps: list[Episode] = []
        place, lsoa = self.placement(record, start, ls, None, placed_for_adoption=False,
                                     track=outcome)
        eps.append(Episode(start=start, end=end, rne="S", ls=ls, cin=cin, place=place,
                           lsoa=lsoa, rec="X1"))
        for day in sorted(changes):
            kinds = changes[day]
            prev = eps[-1]
            new_ls = prev.ls
            for k in kinds:
                if k.startswith("ls:"):
                    new_ls = k[3:]
            ls_changed = new_ls != prev.ls
            move = "move" in kinds or not self.allowed(prev.place, new_ls, outcome)
            is_adoption_placement = placed is not None and day == placed
            if move:
                place, lsoa = self.placement(record, day, new_ls, prev,
                                             placed_for_adoption=is_adoption_placement,
                                             track=outcome)
            else:
                place, lsoa = prev.place, prev.lsoa
            if not ls_changed and not move:
                continue
            rne = "B" if (ls_changed and move) else ("L" if ls_changed else "P")
            prev.end = day
            eps.append(Episode(start=day, end=end, rne=rne, ls=new_ls, cin=cin, place=place,
                               lsoa=lsoa, rec="X1"))
        for ep in eps:
            if ep.end > start and ep.end < self.horizon and ep.place != "P1" \
                    and ep.end > census_date(2016) and rng.random() < 0.012:
                ep.draft_lsoa = self.alternative_lsoa(record, ep.lsoa)
        return eps

    def allowed(self, place: str, ls: str, track: str) -> bool:
        if place == "P1":
            return ls in CARE_ORDERS
        if place in ("H1", "R5"):
            return ls == "J1"
        if place.startswith("A"):
            return track == "adoption"
        return True

    def placement(self, record: CaseRecord, day: date, ls: str, prev: Episode | None,
                  placed_for_adoption: bool, track: str) -> tuple[str, str]:
        rng = self.rng
        if placed_for_adoption:
            if prev is not None and prev.place in FOSTER and rng.random() < 0.11:
                # adopted by the current foster carers: same home, placement type changes
                return ("A5" if ls == "E1" else "A3"), prev.lsoa
            place = "A6" if ls == "E1" else "A4"
            return place, self.placement_lsoa(record, place, prev)
        age = age_on(record.person.birth, day)
        if ls == "J1":
            options = [("H1", 30.0), ("H21", 15.0), ("H22", 5.0), ("F2", 20.0), ("H3", 20.0)]
            if age >= 15:
                options.append(("R5", 10.0))
        else:
            table = next(w for limit, w in PLACEMENT_WEIGHTS if age < limit)
            mult = residential_multiplier(day.year)
            options = [(p, w * (mult if p in RESIDENTIAL else 1.0)) for p, w in table.items()]
            if track == "adoption" and age < 2:
                options.append(("A8", 8.0))
            if record.person.uasc:
                options = [(p, w * (3.0 if p in ("P2", "H5", "F3", "F6") else 1.0))
                           for p, w in options if p != "P1"]
        options = [(p, w) for p, w in options if self.allowed(p, ls, track)]
        for _ in range(8):
            place = weighted(rng, options)
            lsoa = self.placement_lsoa(record, place, prev)
            if prev is None or place != prev.place or lsoa != prev.lsoa:
                return place, lsoa
        return place, self.alternative_lsoa(record, lsoa)

    def placement_lsoa(self, record: CaseRecord, place: str, prev: Episode | None) -> str:
        rng = self.rng
        if place == "P1":
            return record.home_lsoa
        if place in INSIDE_LA:
            where = "own"
        elif place == "H21":
            where = "wales"
        elif place == "H22":
            where = "england"
        elif place in OUTSIDE_LA:
            where = "wales" if rng.random() < 0.8 else "england"
        else:
            r = rng.random()
            where = "own" if r < 0.6 else ("wales" if r < 0.88 else "england")
        own = self.authority(record.la)
        for _ in range(20):
            if where == "own":
                lsoa = rng.choice(own.lsoas)
            elif where == "wales":
                other = rng.choice([o for o in self.all_las() if o.code != record.la])
                lsoa = rng.choice(other.lsoas)
            else:
                lsoa = f"E01{rng.randrange(1, ENGLISH_LSOA_COUNT + 1):06d}"
            if lsoa != record.home_lsoa:
                return lsoa
        raise RuntimeError("could not find a placement area")

    def alternative_lsoa(self, record: CaseRecord, lsoa: str) -> str:
        """Another area of the same kind (same authority, or England): a keying error."""
        rng = self.rng
        if lsoa.startswith("E01"):
            return f"E01{rng.randrange(1, ENGLISH_LSOA_COUNT + 1):06d}"
        la = next(o for o in self.all_las() if lsoa in o.lsoas)
        choices = [x for x in la.lsoas if x not in (lsoa, record.home_lsoa)]
        return rng.choice(choices)

    def all_las(self) -> tuple[LocalAuthority, ...]:
        return (self.la,) + self.others

    def authority(self, code: int) -> LocalAuthority:
        return next(o for o in self.all_las() if o.code == code)

    def adoption(self, milestones: list[date], episodes: list[Episode]) -> Adoption:
        rng = self.rng
        couple = rng.random() < 0.875
        if couple:
            sex = weighted(rng, [("MF", 74), ("MM", 12), ("FF", 14)])
            if sex == "MF":
                legal = "L11" if rng.random() < 0.68 else "L3"
            else:
                legal = weighted(rng, [("L12", 40), ("L2", 30), ("L4", 30)])
        else:
            sex, legal = ("F1" if rng.random() < 0.85 else "M1"), "L0"
        return Adoption(
            should_be_placed=milestones[0], matched=milestones[2], placed=milestones[3],
            adopted=episodes[-1].end, by_foster_carer=int(episodes[-1].place in ("A3", "A5")),
            adopters=2 if couple else 1, sex_of_adopters=sex, legal_status_of_adopters=legal,
            ethnicity_of_adopters=weighted(rng, ETHNICITY[:8]),
        )

    # --- short breaks -----------------------------------------------------------

    def short_breaks(self, year: int) -> None:
        """Disabled children on an agreed series of short breaks (legal status V1)."""
        rng = self.rng
        n = self.poisson_round(300 * self.share * self.scale)
        for _ in range(n):
            start = self.random_day(year)
            age_days = rng.randrange(5 * 365, 16 * 365)
            person = self.new_person(start - days(age_days))
            person.disability = 1
            record = CaseRecord(person=person, la=self.la.code, home_lsoa=self.home_lsoa(),
                                first_date=start, profile=self.profile("N2", 1, self.la.code))
            eighteen = birthday(person.birth, 18)
            for _series in range(1 + (rng.random() < 0.5) + (rng.random() < 0.3)):
                end = start + days(rng.randrange(20, 170))
                if end >= eighteen - days(30):
                    break
                place = weighted(rng, [("H3", 55), ("F2", 25), ("F3", 12), ("R1", 8)])
                lsoa = self.placement_lsoa(record, place, None)
                record.periods.append(Period(episodes=[Episode(
                    start=start, end=end, rne="S", ls="V1", cin="N2", place=place, lsoa=lsoa,
                    rec="E8", short_breaks=rng.randrange(2, 21))]))
                start = end + days(rng.randrange(60, 330))
            if record.periods:
                self.records.append(record)

    def poisson_round(self, mean: float) -> int:
        base = math.floor(mean)
        return base + (1 if self.rng.random() < mean - base else 0)

    # --- children receiving care and support who are not looked after ------------

    def crcs_only_children(self, year: int) -> None:
        """Children with a care and support plan who are not looked after.

        Plans are added until the 31 March snapshot (plan started on or before
        1 January) holds the authority's share of the CRCS total less the
        looked-after children already in it.
        """
        rng = self.rng
        census = census_date(year)
        jan1 = date(year + 1, 1, 1)
        looked_after = sum(
            1 for r in self.records for p in r.periods
            if not p.is_short_break and (p.plan_start or p.start) <= jan1
            and p.start <= census < p.end
        )
        target = round(published.crcs_target(year + 1) * self.crcs_share * self.scale) \
            - looked_after
        while self.crcs_in[year + 1] < target:
            start = self.random_day(year)
            age_days = rng.randrange(30, 17 * 365)
            person = self.new_person(start - days(age_days))
            eighteen = birthday(person.birth, 18)
            end = start + days(int(rng.lognormvariate(math.log(430), 0.75)))
            end = min(end, eighteen - days(1))
            if end <= start + days(7):
                continue
            cin = weighted(rng, [("N1", 46), ("N2", 17), ("N3", 6), ("N4", 10), ("N5", 14),
                                 ("N6", 3), ("N7", 1), ("N8", 3)])
            if cin == "N2":
                person.disability = 1
            cpr_start: date | None = None
            cpr_end: date | None = None
            if cin in ("N1", "N5", "N3", "N4") and rng.random() < 0.76:
                cpr_start = start + days(rng.randrange(0, 60))
                cpr_end = min(end, cpr_start + days(rng.randrange(120, 500)))
            closure = weighted(rng, [("RC7", 70), ("RC3", 6), ("RC4", 4), ("RC5", 6),
                                     ("RC6", 4), ("RC8", 5), ("RC9", 5)])
            record = CaseRecord(person=person, la=self.la.code, home_lsoa=self.home_lsoa(),
                                first_date=start, profile=self.profile(cin, person.disability,
                                                                       self.la.code))
            record.plans.append((start, end, cpr_start, cpr_end, closure))
            self.records.append(record)
            y = start.year if start.month >= 4 else start.year - 1
            while y <= self.last_year and census_date(y) < end:
                if start <= date(y + 1, 1, 1):
                    self.crcs_in[y + 1] += 1
                y += 1


# Share of children whose first language is Welsh, by authority (assumption: follows the
# 2011 census share of Welsh speakers; highest in the north-west and west).
WELSH_FIRST_LANGUAGE: dict[int, float] = {
    512: 0.40, 514: 0.55, 516: 0.15, 518: 0.12, 520: 0.04, 522: 0.05, 524: 0.10,
    526: 0.35, 528: 0.08, 530: 0.25, 532: 0.03, 534: 0.05, 536: 0.02, 538: 0.02,
    540: 0.05, 542: 0.02, 544: 0.02, 545: 0.01, 546: 0.01, 548: 0.01, 550: 0.01, 552: 0.03,
}
