"""Calibration report: the generated census beside the published Welsh figures.

Everything is measured from the raw files as written (not from the simulation),
so the report checks what the warehouse will actually read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from carecensus import published
from carecensus.calendar import year_code
from carecensus.reference import local_authorities
from carecensus.sql import literal


@dataclass
class Line:
    section: str
    measure: str
    generated: float
    published: float | None
    note: str = ""

    @property
    def difference(self) -> float | None:
        if self.published in (None, 0):
            return None
        assert self.published is not None
        return (self.generated - self.published) / self.published


def connect(raw_dir: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for view, pattern in {
        "episode": "cla/*/episode.csv", "child": "cla/*/child.csv",
        "adoption": "cla/*/adoption.csv", "leaver": "cla/*/care_leaver.csv",
        "crcs": "crcs/*/child.csv",
    }.items():
        glob = literal((raw_dir / pattern).as_posix())
        con.execute(f"create view {view} as select * from read_csv({glob}, "
                    "all_varchar = true, union_by_name = true, header = true, filename = true)")
    con.execute("""
        create view ep as select
            cast(YEAR_CODE as integer) // 100 as year,
            LOCAL_AUTHORITY_CODE as la, SYSTEM_ID as child,
            cast(EPISODE_START_DATE as date) as start_date,
            cast(EPISODE_END_DATE as date) as end_date,
            REASON_EPISODE_STARTED_CODE as rne, LEGAL_STATUS_CODE as ls,
            PLACEMENT_TYPE_CODE as place, LSOA2011_PLACEMENT_POSTCODE as lsoa,
            REASON_EPISODE_FINISHED_CODE as rec, CATEGORY_OF_NEED_CODE as cin
        from episode""")
    con.execute("""
        create view at_census as select e.*, make_date(e.year + 1, 3, 31) as census
        from ep e
        where ls <> 'V1' and start_date <= make_date(e.year + 1, 3, 31)
          and (end_date is null or end_date > make_date(e.year + 1, 3, 31))""")
    return con


def scalar(con: duckdb.DuckDBPyConnection, sql: str, *params: object) -> float:
    row = con.execute(sql, list(params)).fetchall()
    return float(row[0][0] or 0) if row else 0.0


def report(raw_dir: Path) -> list[Line]:
    con = connect(raw_dir)
    lines: list[Line] = []
    years = [int(r[0]) for r in con.execute("select distinct year from ep order by 1").fetchall()]
    for y in years:
        n = scalar(con, "select count(distinct la || child) from at_census where year = ?", y)
        lines.append(Line("1. Looked after at 31 March", f"31 March {y + 1}", n,
                          published.CLA_AT_31_MARCH.get(y + 1)))
    for y in years:
        starts = scalar(con, "select count(*) from ep where year = ? and rne = 'S' and ls <> 'V1' "
                        "and start_date >= make_date(?, 4, 1)", y, y)
        ceases = scalar(con, "select count(*) from ep where year = ? and rec is not null "
                        "and rec <> 'X1' and ls <> 'V1'", y)
        adoptions = scalar(con, "select count(*) from adoption where YEAR_CODE = ?", year_code(y))
        lines.append(Line("2. Flows", f"{year_code(y)} started", starts,
                          published.CLA_STARTS.get(y + 1), "published: about 2,000 a year"))
        lines.append(Line("2. Flows", f"{year_code(y)} ceased", ceases,
                          published.CLA_CEASES.get(y + 1), "published: 1,700-2,000 a year"))
        lines.append(Line("2. Flows", f"{year_code(y)} adopted", adoptions,
                          published.ADOPTIONS.get(y)))
    # reasons ceased, all years pooled, as shares of care-leaving episodes
    total_pub = sum(published.CEASE_REASON_COUNTS.values())
    rows = con.execute("select rec, count(*) from ep where rec is not null and rec <> 'X1' "
                       "and ls <> 'V1' group by rec").fetchall()
    total = sum(r[1] for r in rows)
    by_group: dict[str, int] = {}
    for rec, count in rows:
        group = published.CEASE_REASON_GROUP.get(rec, "other")
        by_group[group] = by_group.get(group, 0) + count
    for group, count in published.CEASE_REASON_COUNTS.items():
        lines.append(Line("3. Reasons ceased (share)", group, by_group.get(group, 0) / total,
                          count / total_pub))
    lines.extend(composition(con, 2022))
    lines.extend(crcs(con))
    lines.extend(authorities(con))
    return lines


def composition(con: duckdb.DuckDBPyConnection, y: int) -> list[Line]:
    """Who is looked after at 31 March 2023 (reporting year 202223)."""
    lines = []
    total = scalar(con, "select count(*) from at_census where year = ?", y)
    groups = {
        "care_orders": "ls in ('C1', 'C2')", "single_period_of_accommodation": "ls = 'V2'",
        "other_legal_status": "ls in ('E1', 'D1', 'L1', 'L2', 'L3', 'W1')",
        "remand_detained": "ls in ('J1', 'J2', 'J3')",
    }
    for name, cond in groups.items():
        n = scalar(con, f"select count(*) from at_census where year = ? and {cond}", y)
        lines.append(Line("4. Legal status 31 March 2023 (share)", name, n / total,
                          published.LEGAL_STATUS_2023[name]))
    placements = {
        "foster": "place like 'F%'", "parents": "place = 'P1'",
        "residential": "place in ('H1', 'H2', 'H21', 'H22', 'H3', 'H4', 'H5')",
        "placed_for_adoption": "place like 'A%'",
        "other": "not (place like 'F%' or place = 'P1' or place like 'H%' or place like 'A%')",
    }
    for name, cond in placements.items():
        n = scalar(con, f"select count(*) from at_census where year = ? and {cond}", y)
        lines.append(Line("5. Placement 31 March 2023 (share)", name, n / total,
                          published.PLACEMENT_2023[name]))
    foster = scalar(con, "select count(*) from at_census where year = ? and place like 'F%'", y)
    kin = scalar(con, "select count(*) from at_census where year = ? and place in ('F1','F4')", y)
    lines.append(Line("5. Placement 31 March 2023 (share)", "kinship share of foster",
                      kin / foster, published.KINSHIP_SHARE_OF_FOSTER_2023))
    lsoa_la = ", ".join(f"('{ls}', '{la.code}')" for la in local_authorities() for ls in la.lsoas)
    con.execute(f"create or replace temp table lsoa_la(lsoa, la) as values {lsoa_la}")
    where = """select
        count(*) filter (where l.la = a.la) as own,
        count(*) filter (where l.la is not null and l.la <> a.la) as wales,
        count(*) filter (where a.lsoa like 'E01%') as england
        from at_census a left join lsoa_la l on l.lsoa = a.lsoa where a.year = ?"""
    own, wales, england = con.execute(where, [y]).fetchall()[0]
    lines.append(Line("6. Location 31 March 2023 (share)", "placed in own authority",
                      own / total, published.IN_OWN_LA_2023))
    lines.append(Line("6. Location 31 March 2023 (share)", "elsewhere in Wales (CH/047)",
                      wales / total, published.ELSEWHERE_IN_WALES_SHARE))
    lines.append(Line("6. Location 31 March 2023 (share)", "outside Wales (CH/048)",
                      england / total, published.OUTSIDE_WALES_SHARE))
    three = scalar(con, """
        with placements as (
            select e.la, e.child, count(*) filter (
                where e.rne in ('S', 'P', 'B') and e.start_date >= make_date(e.year, 4, 1)
            ) + 1 as n_placements,
            bool_or(e.start_date < make_date(e.year, 4, 1)) as ongoing
            from ep e where e.year = ? and e.ls <> 'V1' group by 1, 2)
        select count(*) from at_census a join placements p using (la, child)
        where a.year = ? and p.n_placements - case when p.ongoing then 0 else 1 end >= 3
        """, y, y)
    lines.append(Line("7. Stability 202223 (share)", "3+ placements in the year",
                      three / total, published.THREE_PLUS_PLACEMENTS_SHARE))
    uasc = scalar(con, """select count(*) from at_census a join child c
        on c.YEAR_CODE = cast(a.year * 100 + (a.year + 1) % 100 as varchar)
        and c.LOCAL_AUTHORITY_CODE = a.la and c.SYSTEM_ID = a.child
        where a.year = 2023 and c.ASYLUM = '1'""")
    total24 = scalar(con, "select count(*) from at_census where year = 2023")
    lines.append(Line("8. UASC 31 March 2024 (share)", "unaccompanied asylum-seeking",
                      uasc / total24 if total24 else 0, published.UASC_SHARE_2024))
    return lines


def crcs(con: duckdb.DuckDBPyConnection) -> list[Line]:
    lines = []
    rows = con.execute("""
        select cast(YEAR_CODE as integer) // 100 as year, count(*) as n,
            count(*) filter (where LOOKED_AFTER = '1') as la,
            count(*) filter (where LOOKED_AFTER = '0' and CHILD_PROTECTION_REGISTER = '1') as cpr,
            count(*) filter (where LOOKED_AFTER = '0' and CHILD_PROTECTION_REGISTER = '0') as neither,
            avg(case when CATEGORY_OF_NEED_CODE = 'N1' then 1 else 0 end) as n1,
            avg(case when PARENTAL_MENTAL_ILL_HEALTH = '1' then 1 else 0 end) as pmh,
            count(*) filter (where PLAN_END_DATE is null) as open_at_census
        from crcs group by 1 order by 1""").fetchall()
    for year, n, la, cpr, neither, n1, pmh, open_n in rows:
        note = "all-year collection: all plans in the year" if year >= 2023 else ""
        lines.append(Line("9. CRCS children", f"{year_code(year)} in census", n,
                          published.CRCS_TOTAL.get(year + 1), note))
        if year >= 2023:
            lines.append(Line("9. CRCS children", f"{year_code(year)} plan open on 31 March",
                              open_n, None))
        if year == 2020:
            for name, value in (("looked_after", la), ("child_protection_not_looked_after", cpr),
                                ("neither", neither)):
                lines.append(Line("9. CRCS children", f"202021 {name}", value,
                                  published.CRCS_SPLIT_2021[name]))
            lines.append(Line("9. CRCS 202021 (share)", "abuse or neglect", n1,
                              published.CRCS_ABUSE_NEGLECT_SHARE_2021))
            lines.append(Line("9. CRCS 202021 (share)", "parental mental ill health",
                              pmh, published.CRCS_PARENTAL_MENTAL_ILL_HEALTH_2021))
    return lines


def authorities(con: duckdb.DuckDBPyConnection) -> list[Line]:
    """Authority sizes at 31 March 2024 against section 6."""
    counts = dict(con.execute("select la, count(*) from at_census where year = 2023 group by 1")
                  .fetchall())
    return [Line("10. Authorities, 31 March 2024", la.name, float(counts.get(str(la.code), 0)),
                 la.cla_weight) for la in local_authorities()]


def format_report(lines: list[Line]) -> str:
    out = ["| section | measure | generated | published | difference | note |",
           "|---|---|---:|---:|---:|---|"]
    for line in lines:
        share = "share" in line.section
        gen = f"{line.generated:.1%}" if share else f"{line.generated:,.0f}"
        pub = ("" if line.published is None else
               f"{line.published:.1%}" if share else f"{line.published:,.0f}")
        diff = line.difference
        out.append(f"| {line.section} | {line.measure} | {gen} | {pub} | "
                   f"{'' if diff is None else f'{diff:+.1%}'} | {line.note} |")
    return "\n".join(out)
