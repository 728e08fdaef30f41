"""Reference data the generator shares with the warehouse: the seeds are the source of truth."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache

from carecensus.paths import SEEDS_DIR


@dataclass(frozen=True)
class LocalAuthority:
    code: int
    ons_code: str
    name: str
    cla_weight: int
    lsoas: tuple[str, ...]


@lru_cache(maxsize=1)
def local_authorities() -> tuple[LocalAuthority, ...]:
    """The 22 Welsh local authorities with their LSOAs, in Welsh Government code order."""
    lsoas: dict[int, list[str]] = {}
    with open(SEEDS_DIR / "reference" / "ref_lsoa_local_authorities.csv", newline="") as f:
        for row in csv.DictReader(f):
            lsoas.setdefault(int(row["local_authority_code"]), []).append(row["lsoa_code"])
    authorities = []
    with open(SEEDS_DIR / "reference" / "ref_local_authorities.csv", newline="") as f:
        for row in csv.DictReader(f):
            code = int(row["local_authority_code"])
            authorities.append(
                LocalAuthority(
                    code=code,
                    ons_code=row["ons_code"],
                    name=row["local_authority_name"],
                    cla_weight=int(row["cla_weight"]),
                    lsoas=tuple(lsoas[code]),
                )
            )
    return tuple(sorted(authorities, key=lambda la: la.code))


# English LSOA 2011 codes run E01000001-E01033768: a placement there is outside Wales.
ENGLISH_LSOA_COUNT = 33768
