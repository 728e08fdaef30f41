"""Each census rule on a tiny hand-made census: clean reports nothing, one break is found.

The clean census is ``census_fixtures.clean_census()``; each case below breaks it
in one place (a function of the census) and names the child (or key) the rule
must report.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from carecensus.rules import (
    RULES,
    RULES_BY_ID,
    Violation,
    check_rules,
    connect,
    format_report,
    run_rule,
)
from census_fixtures import Census, clean_census

Mutation = Callable[[Census], None]

Y1, Y2, Y3 = "202122", "202223", "202324"
A001_E1, A001_E2, A001_E3 = "2021-06-01", "2021-09-01", "2022-02-01"
A002_E1, A002_E2 = "2021-04-20", "2021-12-01"
B001_E1, B002_E1 = "2020-09-01", "2021-05-03"


def child(year: str, cid: str, **values: str) -> Mutation:
    return lambda c: c.set("child", year, cid, **values)


def all_years(cid: str, **values: str) -> Mutation:
    return lambda c: c.set_all("child", cid, **values)


def episode(year: str, cid: str, start: str, **values: str) -> Mutation:
    return lambda c: c.set("episode", year, cid, start, **values)


def adoption(**values: str) -> Mutation:
    return lambda c: c.set("adoption", Y3, "A002", **values)


def leaver(**values: str) -> Mutation:
    return lambda c: c.set("care_leaver", Y2, "B001", **values)


def crcs(year: str, cid: str, **values: str) -> Mutation:
    return lambda c: c.set("crcs", year, cid, **values)


def both(*mutations: Mutation) -> Mutation:
    def apply(c: Census) -> None:
        for mutation in mutations:
            mutation(c)

    return apply


def drop(kind: str, year: str, cid: str, start: str | None = None) -> Mutation:
    def apply(c: Census) -> None:
        c.drop(kind, year, cid, start)

    return apply


def copy_row(kind: str, year: str, cid: str, to_year: str | None = None, **values: str) -> Mutation:
    def apply(c: Census) -> None:
        row = {**c.find(kind, year, cid), **values}
        target = to_year or year
        row["YEAR_CODE"] = values.get("YEAR_CODE", target)
        c.rows(kind, target).append(row)

    return apply


def still_looked_after_leaver(c: Census) -> None:
    """A care-leaver row for A002, who is still looked after in 202223."""
    c.add("care_leaver", Y2, **{**c.find("care_leaver", Y2, "B001"), "LOCAL_AUTHORITY_CODE": "512",
                                "SYSTEM_ID": "A002"})  # fmt: skip


def move_leaver_to(year: str) -> Mutation:
    def apply(c: Census) -> None:
        row = c.drop("care_leaver", Y2, "B001")
        c.add("care_leaver", year, **{**row, "YEAR_CODE": year})

    return apply


# rule id -> (text expected in the reported child_id, how to break the clean census)
CASES: dict[str, tuple[str, Mutation]] = {
    # child file
    "101": ("A001", child(Y1, "A001", GNDR_CD="3")),
    "102": ("A001", child(Y1, "A001", WOB="2010-13-01")),
    "103": ("A001", child(Y1, "A001", ETHNICITY="WBRI")),
    "104": ("A001", child(Y1, "A001", DATE_CEASED_UASC="31/12/2020")),
    "105": ("A001", child(Y1, "A001", ASYLUM="Y")),
    "W-DISABILITY": ("A001", child(Y1, "A001", DISABILITY_CODE="3")),
    "301": ("A002", child(Y1, "A002", WOB="2022-05-02")),
    "351": ("A001", all_years("A001", WOB="1990-01-01")),
    "303": ("A001", child(Y1, "A001", DATE_CEASED_UASC="2021-01-01")),
    "304": ("A001", child(Y1, "A001", ASYLUM="1", DATE_CEASED_UASC="2029-01-01")),
    "202": ("A001", child(Y2, "A001", GNDR_CD="2")),
    "203": ("A001", child(Y2, "A001", WOB="2010-05-10")),
    "204": ("A001", child(Y2, "A001", ETHNICITY="A2")),
    "208": ("A001", child(Y2, "A001", IRN="IRN999")),
    "392c": ("A001", child(Y1, "A001", LSOA2011_HOME_POSTCODE="CF10 1AA")),
    "TRANSFER-LA": ("A001", child(Y2, "A001", TRANSFERRED_FROM_LA_CODE="512")),
    "INT03": ("A002", drop("child", Y2, "A002")),
    # episode rows, per return
    "141": ("A001", episode(Y1, "A001", A001_E1, EPISODE_START_DATE="2021-06-31")),
    "147": ("A001", episode(Y1, "A001", A001_E1, EPISODE_END_DATE="2021-09-xx")),
    "143": ("A001", episode(Y1, "A001", A001_E1, REASON_EPISODE_STARTED_CODE="T")),
    "144": ("A001", episode(Y1, "A001", A001_E1, LEGAL_STATUS_CODE="V3")),
    "145": ("A001", episode(Y1, "A001", A001_E1, CATEGORY_OF_NEED_CODE="N9")),
    "146": ("A001", episode(Y1, "A001", A001_E1, PLACEMENT_TYPE_CODE="U1")),
    "149": ("A001", episode(Y1, "A001", A001_E1, REASON_EPISODE_FINISHED_CODE="E4A")),
    "148": ("A001", episode(Y3, "A001", A001_E3, REASON_EPISODE_FINISHED_CODE="")),
    "353": ("B001", episode(Y1, "B001", B001_E1, EPISODE_START_DATE="1991-10-01")),
    "354": ("A001", episode(Y2, "A001", A001_E3, EPISODE_END_DATE="2023-10-10",
                            REASON_EPISODE_FINISHED_CODE="E4")),
    "W-INYEAR": ("B001", episode(Y1, "B001", B001_E1, EPISODE_END_DATE="2021-03-31")),
    "356": ("A001", episode(Y1, "A001", A001_E1, EPISODE_END_DATE="2021-05-01")),
    "EPNUM": ("A001", episode(Y1, "A001", A001_E1, EPISODE_NUMBER="2")),
    "302": ("A002", episode(Y1, "A002", A002_E1, EPISODE_START_DATE="2020-12-01")),
    "392d": ("A001", episode(Y1, "A001", A001_E1, LSOA2011_PLACEMENT_POSTCODE="W01000010")),
    "365": ("B002", episode(Y1, "B002", B002_E1, SHORT_BREAKS="")),
    "W-PLACE-LA": ("A001", episode(Y1, "A001", A001_E1, LSOA2011_PLACEMENT_POSTCODE="W01000050")),
    # ages
    "370": ("A001", episode(Y3, "A001", A001_E3, PLACEMENT_TYPE_CODE="P2")),
    "371": ("A001", episode(Y3, "A001", A001_E3, PLACEMENT_TYPE_CODE="H5")),
    "372": ("A002", episode(Y3, "A002", A002_E2, PLACEMENT_TYPE_CODE="R5")),
    "373": ("A002", episode(Y3, "A002", A002_E2, PLACEMENT_TYPE_CODE="S1")),
    "374": ("A001", episode(Y3, "A001", A001_E3, PLACEMENT_TYPE_CODE="P3")),
    "352": ("A001", all_years("A001", WOB="2000-01-03")),
    "358": ("A002", episode(Y3, "A002", A002_E2, LEGAL_STATUS_CODE="J1")),
    "386": ("A002", all_years("A002", WOB="2000-01-03")),
    "387": ("A001", episode(Y3, "A001", A001_E3, REASON_EPISODE_FINISHED_CODE="E5")),
    "389": ("A001", episode(Y3, "A001", A001_E3, REASON_EPISODE_FINISHED_CODE="E7")),
    "407": ("A001", both(all_years("A001", WOB="2004-01-05"),
                         episode(Y3, "A001", A001_E3, REASON_EPISODE_FINISHED_CODE="E43"))),
    "460": ("A001", episode(Y3, "A001", A001_E3, REASON_EPISODE_FINISHED_CODE="E10")),
    "359": ("B001", episode(Y1, "B001", B001_E1, EPISODE_END_DATE="2021-05-06")),
    # codes on the episode history
    "378": ("A001", episode(Y3, "A001", A001_E3, LEGAL_STATUS_CODE="V2", PLACEMENT_TYPE_CODE="P1")),
    "390": ("A002", episode(Y3, "A002", A002_E2, PLACEMENT_TYPE_CODE="F2")),
    "408": ("A002", episode(Y3, "A002", A002_E2, LEGAL_STATUS_CODE="C2")),
    "445": ("A001", episode(Y3, "A001", A001_E3, LEGAL_STATUS_CODE="D1")),
    "446": ("B001", episode(Y1, "B001", B001_E1, LEGAL_STATUS_CODE="E1", EPISODE_START_DATE="2005-06-01")),
    "361": ("A001", episode(Y1, "A001", A001_E1, LEGAL_STATUS_CODE="L1")),
    "362": ("A001", episode(Y1, "A001", A001_E1, LEGAL_STATUS_CODE="L2")),
    "363": ("A001", episode(Y1, "A001", A001_E1, LEGAL_STATUS_CODE="L3")),
    # episode chains
    "501": ("A001", episode(Y1, "A001", A001_E1, EPISODE_END_DATE="2021-09-05")),
    "142": ("A001", episode(Y1, "A001", A001_E1, EPISODE_END_DATE="", REASON_EPISODE_FINISHED_CODE="")),
    "431": ("A001", episode(Y1, "A001", A001_E2, REASON_EPISODE_STARTED_CODE="S")),
    "432": ("A001", episode(Y1, "A001", A001_E1, REASON_EPISODE_FINISHED_CODE="E4")),
    "433": ("A001", episode(Y1, "A001", A001_E1, EPISODE_END_DATE="2021-08-30")),
    "357": ("A002", episode(Y1, "A002", A002_E1, REASON_EPISODE_STARTED_CODE="P")),
    "388": ("A001", episode(Y3, "A001", A001_E3, REASON_EPISODE_FINISHED_CODE="X1")),
    "437": ("A001", episode(Y1, "A001", A001_E1, REASON_EPISODE_FINISHED_CODE="E2")),
    "434": ("A001", episode(Y1, "A001", A001_E2, PLACEMENT_TYPE_CODE="F3")),
    "435": ("A001", episode(Y3, "A001", A001_E3, LEGAL_STATUS_CODE="C1")),
    "436": ("A002", episode(Y3, "A002", A002_E2, LEGAL_STATUS_CODE="C1")),
    "504": ("A001", episode(Y1, "A001", A001_E2, CATEGORY_OF_NEED_CODE="N2")),
    "355": ("B001", episode(Y1, "B001", B001_E1, EPISODE_START_DATE="2021-05-04")),
    "502": ("A001", drop("episode", Y2, "A001", A001_E3)),
    "562": ("A001", drop("episode", Y2, "A001", A001_E3)),
    "503": ("A001", episode(Y2, "A001", A001_E3, CATEGORY_OF_NEED_CODE="N2")),
    "503-LSOA": ("A001", episode(Y2, "A001", A001_E3, LSOA2011_PLACEMENT_POSTCODE="W01000006")),
    # adoption
    "W-AD-CODES": ("A002", adoption(NUMBER_OF_ADOPTERS="3")),
    "511": ("A002", adoption(NUMBER_OF_ADOPTERS="1")),
    "514": ("A002", adoption(LEGAL_STATUS_OF_ADOPTERS="L0")),
    "517": ("A002", adoption(LEGAL_STATUS_OF_ADOPTERS="L3", SEX_OF_ADOPTERS="MM")),
    "518": ("A002", adoption(LEGAL_STATUS_OF_ADOPTERS="L4")),
    "519": ("A002", adoption(LEGAL_STATUS_OF_ADOPTERS="L2", SEX_OF_ADOPTERS="M1")),
    "520": ("A002", adoption(SEX_OF_ADOPTERS="FF")),
    "524": ("A002", adoption(LEGAL_STATUS_OF_ADOPTERS="L12")),
    "333": ("A002", adoption(DATE_SHOULD_BE_PLACED="2021-12-01")),
    "331": ("A002", adoption(DATE_MATCHED="2021-12-05")),
    "552": ("A002", adoption(DATE_PLACED="2023-07-01")),
    "184": ("A002", adoption(DATE_SHOULD_BE_PLACED="2020-12-01")),
    "334": ("A002", adoption(DATE_SHOULD_BE_PLACED="2021-03-01")),
    "582": ("A002", adoption(DATE_MATCHED="2023-06-15")),
    "335": ("A002", adoption(ADOPTED_BY_FOSTER_CARER="1")),
    "601": ("A002", drop("adoption", Y3, "A002")),
    "602": ("A002", adoption(DATE_OF_ADOPTION="2023-06-16")),
    # care leavers
    "W-CL-CODES": ("B001", leaver(ACCOMMODATION="S1")),
    "344": ("B001", leaver(IN_TOUCH="DIED")),
    "345": ("B001", leaver(ACTIVITY="0")),
    "391": ("B001", move_leaver_to(Y3)),
    "1000": ("B001", episode(Y1, "B001", B001_E1, REASON_EPISODE_FINISHED_CODE="E2")),
    "1011": ("B001", episode(Y1, "B001", B001_E1, REASON_EPISODE_FINISHED_CODE="E3")),
    "1002": ("A002", still_looked_after_leaver),
    # CRCS
    "CRCS-CODES": ("A001", crcs(Y1, "A001", WELSH_LANGUAGE="")),
    "CRCS-3MONTH": ("A001", crcs(Y1, "A001", PLAN_START_DATE="2022-01-02")),
    "CRCS-AGE": ("B002", crcs(Y2, "B002", WOB="2004-01-05")),
    "CRCS-LAC": ("B002", crcs(Y2, "B002", LOOKED_AFTER="1")),
    "CRCS-DISTYPE": ("B002", crcs(Y2, "B002", DISABILITY="0")),
    "CIN-8794": ("B002", crcs(Y2, "B002", DISABILITY_TYPES="LD|LD")),
    "CRCS-DENTAL": ("B003", crcs(Y3, "B003", DENTAL_CHECK="1")),
    "CRCS-YOUTH": ("A001", crcs(Y1, "A001", YOUTH_OFFENDING="")),
    "CRCS-CLOSURE": ("B003", crcs(Y3, "B003", REASON_FOR_CLOSURE="")),
    "CIN-1520": ("A099", copy_row("crcs", Y2, "A001", CHILD_CODE="A099", ALF_PE="", LOOKED_AFTER="0")),
    # across files
    "YEAR-FOLDER": ("A001", child(Y1, "A001", YEAR_CODE=Y2)),
    "W-LA": ("B003", crcs(Y3, "B003", LOCAL_AUTHORITY_CODE="999")),
    "INT-DUP": ("A001", copy_row("child", Y1, "A001")),
    "ALF-1": ("A001", crcs(Y1, "A001", ALF_PE="1002")),
    "ALF-2": ("1001", crcs(Y2, "B002", ALF_PE="1001")),
    "ALF-3": ("IRN001", lambda c: c.set("plasc", Y2, "IRN001", ALF_PE="1003")),
    "PLASC-CODES": ("IRN001", lambda c: c.set("plasc", Y2, "IRN001", KS2_CSI="1")),
}  # fmt: skip


@pytest.fixture(scope="module")
def clean_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Violation]]:
    raw = clean_census().write(tmp_path_factory.mktemp("clean"))
    return check_rules(raw)


def test_every_rule_has_a_case() -> None:
    assert sorted(CASES) == sorted(RULES_BY_ID)


def test_rule_ids_unique_and_well_formed() -> None:
    assert len(RULES) == len(RULES_BY_ID)
    for rule in RULES:
        assert rule.severity in ("error", "query")
        assert rule.message and rule.tables and rule.sql


@pytest.mark.parametrize("rule_id", sorted(RULES_BY_ID))
def test_clean_census_passes(rule_id: str, clean_results: dict[str, list[Violation]]) -> None:
    assert clean_results[rule_id] == [], format_report({rule_id: clean_results[rule_id]})


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_reports_the_break(rule_id: str, tmp_path: Path) -> None:
    expected_child, mutate = CASES[rule_id]
    census = clean_census()
    mutate(census)
    rows = check_rules(census.write(tmp_path), [rule_id])[rule_id]
    assert rows, f"rule {rule_id} reported nothing"
    assert any(expected_child in (row[2] or "") for row in rows), format_report({rule_id: rows})
    assert all(len(row) == 5 for row in rows)


def test_missing_files_and_columns_load_as_empty(tmp_path: Path) -> None:
    census = clean_census()
    census.tables = {key: rows for key, rows in census.tables.items() if key[0] == "child"}
    con = connect(census.write(tmp_path))
    columns = {row[0] for row in con.execute("DESCRIBE cla_child").fetchall()}
    assert {"TRANSFERRED_FROM_LA_CODE", "folder_year_code"} <= columns
    assert con.execute("SELECT count(*) FROM cla_episode").fetchall() == [(0,)]
    assert run_rule(con, RULES_BY_ID["INT03"]) == []


@pytest.mark.parametrize(
    ("wob", "on", "age"),
    [("2010-05-03", "2028-05-02", 17), ("2010-05-03", "2028-05-03", 18), ("2004-02-29", "2022-02-28", 17),
     ("2004-02-29", "2022-03-01", 18)],
)  # fmt: skip
def test_age_in_whole_years(wob: str, on: str, age: int, tmp_path: Path) -> None:
    con: duckdb.DuckDBPyConnection = connect(tmp_path)
    result = con.execute(
        "SELECT cc_age(CAST(? AS DATE), CAST(? AS DATE)), cc_age(CAST(? AS DATE), cc_birthday(CAST(? AS DATE), ?))",
        [wob, on, wob, wob, age],
    ).fetchall()
    assert result == [(age, age)]


def test_format_report_lists_failures() -> None:
    report = format_report({"101": [("202122", "512", "A001", None, "GNDR_CD=3")], "102": []})
    assert "A001" in report and "GNDR_CD=3" in report
    assert "2 rules, 1 with violations" in report
