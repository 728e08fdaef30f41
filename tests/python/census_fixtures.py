"""A tiny hand-made raw census in the contract layout, clean under every rule.

Three returns (202122, 202223, 202324), two local authorities:

- 512 / A001: born 2010, three episodes (S, L, P) from June 2021, returned home
  (E4) in October 2023; in CRCS 202122-202324 and in PLASC.
- 512 / A002: born 2021, foster then placed for adoption (B, E1, A6), adopted
  (E11) June 2023; adoption row in 202324.
- 514 / B001: born 2003, left care the day before the 18th birthday (E10) in May
  2021; care-leaver row in 202223 (19th birthday 5 May 2022).
- 514 / B002: born 2012, V1 short-break agreement open in all three returns; in
  CRCS 202223 (not looked after, disabled).
- 514 / B003: CRCS only, 202324, plan closed in the year.
- 514 / B004: looked after since before the first return (first episode seen has
  RNE P), open throughout.

Tests copy :func:`clean_census`, break one thing and write it with
:meth:`Census.write`.
"""

from __future__ import annotations

import copy
import csv
from dataclasses import dataclass, field
from pathlib import Path

from carecensus.rules import RAW_TABLES

YEARS = ("202122", "202223", "202324")
FILES = {
    "child": "cla_child",
    "episode": "cla_episode",
    "adoption": "cla_adoption",
    "care_leaver": "cla_care_leaver",
    "crcs": "crcs_child",
    "plasc": "plasc_pupil",
}
PATHS = {
    "child": "cla/{year}/child.csv",
    "episode": "cla/{year}/episode.csv",
    "adoption": "cla/{year}/adoption.csv",
    "care_leaver": "cla/{year}/care_leaver.csv",
    "crcs": "crcs/{year}/child.csv",
    "plasc": "plasc/{year}/pupil.csv",
}
# columns that older files do not have (raw-extract-format.md "since")
SINCE = {"TRANSFERRED_FROM_LA_CODE": "202223", "PLAN_END_DATE": "202324", "REASON_FOR_CLOSURE": "202324"}

Row = dict[str, str]


@dataclass
class Census:
    """Rows per (file kind, year); kinds are the keys of ``FILES``."""

    tables: dict[tuple[str, str], list[Row]] = field(default_factory=dict)

    def rows(self, kind: str, year: str) -> list[Row]:
        return self.tables.setdefault((kind, year), [])

    def add(self, kind: str, year: str, **values: str) -> Row:
        row = {"YEAR_CODE": year, **values}
        self.rows(kind, year).append(row)
        return row

    def find(self, kind: str, year: str, child: str, start: str | None = None) -> Row:
        """The one row of a child (and episode start) in a file."""
        key = "CHILD_CODE" if kind == "crcs" else "IRN" if kind == "plasc" else "SYSTEM_ID"
        found = [
            row
            for row in self.rows(kind, year)
            if row.get(key) == child and (start is None or row.get("EPISODE_START_DATE") == start)
        ]
        assert len(found) == 1, f"{kind} {year} {child} {start}: {len(found)} rows"
        return found[0]

    def set(self, kind: str, year: str, child: str, start: str | None = None, **values: str) -> None:
        self.find(kind, year, child, start).update(values)

    def set_all(self, kind: str, child: str, **values: str) -> None:
        """Set values on the child's rows of this kind in every year."""
        for year in YEARS:
            for row in self.rows(kind, year):
                if row.get("SYSTEM_ID", row.get("CHILD_CODE")) == child:
                    row.update(values)

    def drop(self, kind: str, year: str, child: str, start: str | None = None) -> Row:
        row = self.find(kind, year, child, start)
        self.rows(kind, year).remove(row)
        return row

    def copy(self) -> Census:
        return copy.deepcopy(self)

    def write(self, raw_dir: Path) -> Path:
        """Write the contract layout; a year file has the columns of its year
        (plus any extra column given a value) and blanks for missing values."""
        for (kind, year), rows in self.tables.items():
            if not rows:
                continue
            columns = [c for c in RAW_TABLES[FILES[kind]][1] if SINCE.get(c, year) <= year]
            columns += sorted({c for row in rows for c, v in row.items() if v and c not in columns})
            path = raw_dir / PATHS[kind].format(year=year)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore", restval="")
                writer.writeheader()
                writer.writerows(rows)
        return raw_dir


def _episode(
    census: Census, year: str, la: str, child: str, number: int, start: str, end: str,
    rne: str, ls: str, cin: str, place: str, lsoa: str, rec: str, breaks: str = "",
) -> None:  # fmt: skip
    census.add(
        "episode", year, LOCAL_AUTHORITY_CODE=la, SYSTEM_ID=child, EPISODE_NUMBER=str(number),
        EPISODE_START_DATE=start, EPISODE_END_DATE=end, REASON_EPISODE_STARTED_CODE=rne,
        LEGAL_STATUS_CODE=ls, CATEGORY_OF_NEED_CODE=cin, PLACEMENT_TYPE_CODE=place,
        LSOA2011_PLACEMENT_POSTCODE=lsoa, REASON_EPISODE_FINISHED_CODE=rec, SHORT_BREAKS=breaks,
    )  # fmt: skip


def _child(census: Census, years: tuple[str, ...], la: str, child: str, **values: str) -> None:
    base = {"ALF_PE": "", "GNDR_CD": "1", "ETHNICITY": "A1", "DISABILITY_CODE": "0", "ASYLUM": "0",
            "DATE_CEASED_UASC": "", "IRN": "", "TRANSFERRED_FROM_LA_CODE": ""}  # fmt: skip
    for year in years:
        census.add("child", year, LOCAL_AUTHORITY_CODE=la, SYSTEM_ID=child, **{**base, **values})


def _crcs(census: Census, year: str, la: str, child: str, **values: str) -> None:
    base = {
        "ALF_PE": "", "IRN": "", "GNDR_CD": "1", "ETHNICITY": "A1", "LSOA2011_CD": "W01000010",
        "CATEGORY_OF_NEED_CODE": "N1", "LOOKED_AFTER": "0", "CHILD_PROTECTION_REGISTER": "0",
        "DISABILITY": "0", "DISABILITY_TYPES": "", "DOMESTIC_ABUSE": "1", "PARENTAL_SUBSTANCE_MISUSE": "0",
        "PARENTAL_MENTAL_ILL_HEALTH": "1", "PARENTAL_LEARNING_DISABILITY": "0",
        "PARENTAL_PHYSICAL_ILL_HEALTH": "9", "IMMUNISATIONS_UP_TO_DATE": "1", "DENTAL_CHECK": "1",
        "MENTAL_HEALTH": "0", "SUBSTANCE_MISUSE": "0", "YOUTH_OFFENDING": "0", "WELSH_LANGUAGE": "0",
    }  # fmt: skip
    census.add("crcs", year, LOCAL_AUTHORITY_CODE=la, CHILD_CODE=child, **{**base, **values})


def clean_census() -> Census:
    """The clean fixture census (a fresh copy each call)."""
    c = Census()
    # 512 / A001: S -> L -> P, returned home October 2023
    _child(c, YEARS, "512", "A001", ALF_PE="1001", WOB="2010-05-03", IRN="IRN001",
           LSOA2011_HOME_POSTCODE="W01000010")  # fmt: skip
    _episode(c, "202122", "512", "A001", 1, "2021-06-01", "2021-09-01", "S", "C1", "N1", "F2", "W01000002", "X1")
    _episode(c, "202122", "512", "A001", 2, "2021-09-01", "2022-02-01", "L", "C2", "N1", "F2", "W01000002", "X1")
    _episode(c, "202122", "512", "A001", 3, "2022-02-01", "", "P", "C2", "N1", "F3", "W01000003", "")
    _episode(c, "202223", "512", "A001", 1, "2022-02-01", "", "P", "C2", "N1", "F3", "W01000003", "")
    _episode(c, "202324", "512", "A001", 1, "2022-02-01", "2023-10-10", "P", "C2", "N1", "F3", "W01000003", "E4")
    for year, looked_after in (("202122", "1"), ("202223", "1"), ("202324", "0")):
        _crcs(c, year, "512", "A001", ALF_PE="1001", IRN="IRN001", WOB="2010-05-03",
              PLAN_START_DATE="2021-06-01", LOOKED_AFTER=looked_after)  # fmt: skip
    c.add("plasc", "202122", IRN="IRN001", ALF_PE="1001", LOCAL_AUTHORITY_CODE="512",
          NATIONAL_CURRICULUM_YEAR="6", FSM="1", SEN="0", KS2_CSI="1")  # fmt: skip
    c.add("plasc", "202223", IRN="IRN001", ALF_PE="1001", LOCAL_AUTHORITY_CODE="512",
          NATIONAL_CURRICULUM_YEAR="7", FSM="1", SEN="1")  # fmt: skip

    # 512 / A002: placed for adoption under a placement order, adopted June 2023
    _child(c, YEARS, "512", "A002", GNDR_CD="2", ETHNICITY="B1", WOB="2021-01-04",
           LSOA2011_HOME_POSTCODE="W01000011")  # fmt: skip
    _episode(c, "202122", "512", "A002", 1, "2021-04-20", "2021-12-01", "S", "C1", "N1", "F2", "W01000004", "X1")
    _episode(c, "202122", "512", "A002", 2, "2021-12-01", "", "B", "E1", "N1", "A6", "W01000005", "")
    _episode(c, "202223", "512", "A002", 1, "2021-12-01", "", "B", "E1", "N1", "A6", "W01000005", "")
    _episode(c, "202324", "512", "A002", 1, "2021-12-01", "2023-06-15", "B", "E1", "N1", "A6", "W01000005", "E11")
    c.add("adoption", "202324", LOCAL_AUTHORITY_CODE="512", SYSTEM_ID="A002",
          DATE_SHOULD_BE_PLACED="2021-09-01", DATE_MATCHED="2021-11-10", DATE_PLACED="2021-12-01",
          DATE_OF_ADOPTION="2023-06-15", ADOPTED_BY_FOSTER_CARER="0", NUMBER_OF_ADOPTERS="2",
          SEX_OF_ADOPTERS="MF", LEGAL_STATUS_OF_ADOPTERS="L11", ETHNICITY_OF_ADOPTERS="A1")  # fmt: skip

    # 514 / B001: left care at 18 into When I Am Ready; care leaver at 19 in 202223
    _child(c, ("202122",), "514", "B001", ALF_PE="2001", WOB="2003-05-05", IRN="IRN002",
           LSOA2011_HOME_POSTCODE="W01000050")  # fmt: skip
    _episode(c, "202122", "514", "B001", 1, "2020-09-01", "2021-05-04", "S", "V2", "N4", "F5", "W01000010", "E10")
    c.add("care_leaver", "202223", LOCAL_AUTHORITY_CODE="514", SYSTEM_ID="B001", IN_TOUCH="YES",
          ACTIVITY="F2", ACCOMMODATION="Z1", PATHWAY_PLAN="1", PERSONAL_ADVISER="1")  # fmt: skip

    # 514 / B002: V1 short-break agreement, open throughout
    _child(c, YEARS, "514", "B002", GNDR_CD="2", ETHNICITY="A3", DISABILITY_CODE="1", WOB="2012-03-05",
           IRN="IRN003", LSOA2011_HOME_POSTCODE="W01000051")  # fmt: skip
    for year, breaks in (("202122", "6"), ("202223", "8"), ("202324", "5")):
        _episode(c, year, "514", "B002", 1, "2021-05-03", "", "S", "V1", "N2", "F2", "W01000046", "", breaks)
    _crcs(c, "202223", "514", "B002", GNDR_CD="2", ETHNICITY="A3", IRN="IRN003", WOB="2012-03-05",
          PLAN_START_DATE="2021-05-03", CATEGORY_OF_NEED_CODE="N2", DISABILITY="1",
          DISABILITY_TYPES="LD|AUT")  # fmt: skip

    # 514 / B004: in care since before the first return; first episode seen is a continuation (P)
    _child(c, YEARS, "514", "B004", WOB="2015-06-01", LSOA2011_HOME_POSTCODE="W01000053")
    for year in YEARS:
        _episode(c, year, "514", "B004", 1, "2020-11-02", "", "P", "C2", "N5", "F2", "W01000047", "")

    # 514 / B003: CRCS only, all-year collection, plan closed in the year
    _crcs(c, "202324", "514", "B003", WOB="2020-06-01", PLAN_START_DATE="2023-05-10",
          PLAN_END_DATE="2023-11-30", REASON_FOR_CLOSURE="RC7", DENTAL_CHECK="",
          YOUTH_OFFENDING="", LSOA2011_CD="W01000052")  # fmt: skip
    return c
