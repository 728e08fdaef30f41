"""Census validation rules over the raw extract files.

Each rule of domain-reference.md section 4 that applies to the Welsh returns
(W column ``Y`` or ``A``) and that the raw format can express is a :class:`Rule`:
an id (the England 903 / CIN rule number, or a ``W-``/``CRCS-`` id for the
Wales-specific checks listed under section 4), a message, a severity and one SQL
query returning one row per violation with five text columns::

    year_code, local_authority_code, child_id, episode_start_date, detail

The queries run in DuckDB over views of the raw CSV files (all year folders at
once, every column as text, newer columns NULL in older files), see
:func:`load_raw_views`. Episode chain rules (overlaps, X1 continuations, RNE
consistency, category of need within a period of care) run on a deduplicated
episode history (``v_ep_hist``): an episode repeated in several returns is one
episode (same LA, SYSTEM_ID and EPISODE_START_DATE) and the latest YEAR_CODE
wins. Per-return rules (DEC within the year, EPISODE_NUMBER order, ...) run on
``v_episode``, one row per episode per return.

Conventions: age is in whole years from WOB (the week of birth is taken as the
date of birth); the n-th birthday is the first day on which that age is
reached. A child ceases to be looked after the day before the 18th birthday at
the latest; a cease date on the 18th birthday itself is accepted.

Usage::

    python -m carecensus.rules RAW_DIR [RULE_ID ...]
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb

from carecensus.paths import SEEDS_DIR
from carecensus.sql import literal

Severity = Literal["error", "query"]
Violation = tuple[str | None, ...]

# ---------------------------------------------------------------------------
# Code lists (domain-reference.md section 2.7 and section 6, Welsh sets)
# ---------------------------------------------------------------------------

LA_CODES: tuple[str, ...] = (
    "512", "514", "516", "518", "520", "522", "524", "526", "528", "530", "532",
    "534", "536", "538", "540", "542", "544", "545", "546", "548", "550", "552",
)  # fmt: skip
SEX_CODES = ("1", "2")
ETHNICITY_CODES: tuple[str, ...] = (
    "A1", "A2", "A3", "B1", "B2", "B3", "B4", "C1", "C2", "C3", "C4", "D1", "D2",
    "D3", "E1", "E2", "WHTE", "MIXD", "ASAB", "BBAC", "OOTH", "NOBT", "REFU",
)  # fmt: skip
RNE_CODES = ("S", "L", "P", "B")
LEGAL_STATUS_CODES: tuple[str, ...] = (
    "C1", "C2", "D1", "E1", "V1", "V2", "J1", "J2", "J3", "L1", "L2", "L3", "W1",
)  # fmt: skip
NEED_CODES = ("N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8")
PLACEMENT_CODES: tuple[str, ...] = (
    "F1", "F2", "F3", "F4", "F5", "F6", "A1", "A2", "A3", "A4", "A5", "A6", "A8",
    "P1", "P2", "P3", "H1", "H2", "H21", "H22", "H3", "H4", "H5", "R1", "R2", "R3",
    "R4", "R5", "S1", "M1", "M2", "M3", "Z1",
)  # fmt: skip
FOSTER_PLACEMENTS = ("F1", "F2", "F3", "F4", "F5", "F6")
INSIDE_LA_PLACEMENTS = ("F1", "F2", "F3", "H1", "H3")
OUTSIDE_LA_PLACEMENTS = ("F4", "F5", "F6", "H21", "H22", "H4")
REC_CODES: tuple[str, ...] = (
    "X1", "E1", "E11", "E12", "E2", "E3", "E4", "E43", "E44", "E5", "E6", "E7",
    "E8", "E9", "E10",
)  # fmt: skip
ADOPTED_RECS = ("E1", "E11", "E12")
ADOPTION_PLACEMENTS = ("A1", "A2", "A3", "A4", "A5", "A6", "A8")
ADOPTER_SEX_CODES = ("M1", "F1", "MM", "FF", "MF")
ADOPTER_LS_CODES = ("L0", "L11", "L12", "L2", "L3", "L4")
IN_TOUCH_CODES = ("YES", "NO", "DIED", "REFU", "NREQ", "RHOM")
ACTIVITY_CODES = ("F1", "P1", "F2", "P2", "F4", "P4", "F5", "P5", "G4", "G5", "G6", "0")
ACCOMMODATION_CODES: tuple[str, ...] = tuple(
    f"{letter}{suitable}"
    for letter in "BCDEGHKRSTUVWXYZ"
    for suitable in "12"
    if f"{letter}{suitable}" not in ("S1", "X1")  # homeless / custody never suitable (903 rule 133)
) + ("0",)
DISABILITY_TYPE_CODES: tuple[str, ...] = (
    "MOB", "HAND", "PC", "INC", "COMM", "LD", "HEAR", "VIS", "BEH", "CON", "AUT", "DDA",
)  # fmt: skip
CLOSURE_CODES = tuple(f"RC{n}" for n in range(1, 10))
YES_NO = ("0", "1")
YES_NO_UNKNOWN = ("0", "1", "9")

# ---------------------------------------------------------------------------
# Raw tables (the input contract, raw-extract-format.md)
# ---------------------------------------------------------------------------

RAW_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "cla_child": (
        "cla/*/child.csv",
        (
            "YEAR_CODE", "LOCAL_AUTHORITY_CODE", "SYSTEM_ID", "ALF_PE", "GNDR_CD", "WOB",
            "ETHNICITY", "DISABILITY_CODE", "ASYLUM", "DATE_CEASED_UASC",
            "LSOA2011_HOME_POSTCODE", "IRN", "TRANSFERRED_FROM_LA_CODE",
        ),
    ),
    "cla_episode": (
        "cla/*/episode.csv",
        (
            "YEAR_CODE", "LOCAL_AUTHORITY_CODE", "SYSTEM_ID", "EPISODE_NUMBER",
            "EPISODE_START_DATE", "EPISODE_END_DATE", "REASON_EPISODE_STARTED_CODE",
            "LEGAL_STATUS_CODE", "CATEGORY_OF_NEED_CODE", "PLACEMENT_TYPE_CODE",
            "LSOA2011_PLACEMENT_POSTCODE", "REASON_EPISODE_FINISHED_CODE", "SHORT_BREAKS",
        ),
    ),
    "cla_adoption": (
        "cla/*/adoption.csv",
        (
            "YEAR_CODE", "LOCAL_AUTHORITY_CODE", "SYSTEM_ID", "DATE_SHOULD_BE_PLACED",
            "DATE_MATCHED", "DATE_PLACED", "DATE_OF_ADOPTION", "ADOPTED_BY_FOSTER_CARER",
            "NUMBER_OF_ADOPTERS", "SEX_OF_ADOPTERS", "LEGAL_STATUS_OF_ADOPTERS",
            "ETHNICITY_OF_ADOPTERS",
        ),
    ),
    "cla_care_leaver": (
        "cla/*/care_leaver.csv",
        (
            "YEAR_CODE", "LOCAL_AUTHORITY_CODE", "SYSTEM_ID", "IN_TOUCH", "ACTIVITY",
            "ACCOMMODATION", "PATHWAY_PLAN", "PERSONAL_ADVISER",
        ),
    ),
    "crcs_child": (
        "crcs/*/child.csv",
        (
            "YEAR_CODE", "LOCAL_AUTHORITY_CODE", "CHILD_CODE", "ALF_PE", "IRN", "GNDR_CD",
            "WOB", "ETHNICITY", "LSOA2011_CD", "PLAN_START_DATE", "PLAN_END_DATE",
            "REASON_FOR_CLOSURE", "CATEGORY_OF_NEED_CODE", "LOOKED_AFTER",
            "CHILD_PROTECTION_REGISTER", "DISABILITY", "DISABILITY_TYPES", "DOMESTIC_ABUSE",
            "PARENTAL_SUBSTANCE_MISUSE", "PARENTAL_MENTAL_ILL_HEALTH",
            "PARENTAL_LEARNING_DISABILITY", "PARENTAL_PHYSICAL_ILL_HEALTH",
            "IMMUNISATIONS_UP_TO_DATE", "DENTAL_CHECK", "MENTAL_HEALTH", "SUBSTANCE_MISUSE",
            "YOUTH_OFFENDING", "WELSH_LANGUAGE",
        ),
    ),
    "plasc_pupil": (
        "plasc/*/pupil.csv",
        (
            "YEAR_CODE", "IRN", "ALF_PE", "LOCAL_AUTHORITY_CODE", "NATIONAL_CURRICULUM_YEAR",
            "FSM", "SEN", "KS2_CSI", "KS3_CSI", "KS4_CAPPED_POINTS",
        ),
    ),
}  # fmt: skip

_CHILD_COL: dict[str, str] = {
    "cla_child": "SYSTEM_ID", "cla_episode": "SYSTEM_ID", "cla_adoption": "SYSTEM_ID",
    "cla_care_leaver": "SYSTEM_ID", "crcs_child": "CHILD_CODE", "plasc_pupil": "IRN",
}  # fmt: skip

# ---------------------------------------------------------------------------
# Rule type and SQL building helpers
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One validation rule: its query returns one row per violation.

    The query's columns are ``year_code, local_authority_code, child_id,
    episode_start_date, detail`` (all text; ``episode_start_date`` NULL where the
    rule is not about one episode). ``note`` records how the rule was read or
    adapted to the Welsh format where that needed a decision.
    """

    rule_id: str
    message: str
    severity: Severity
    tables: tuple[str, ...]
    sql: str
    note: str = ""


def _quote(values: Iterable[str]) -> str:
    return ", ".join(literal(value) for value in values)


def _in(column: str, values: Iterable[str]) -> str:
    return f"{column} IN ({_quote(values)})"


def _not_in(column: str, values: Iterable[str]) -> str:
    """True also for a blank value (NULL is never a valid code)."""
    return f"COALESCE({column}, '') NOT IN ({_quote(values)})"


def _show(*columns: str) -> str:
    """Text detail ``COL=value; COL=value`` (blank shown as ``<blank>``)."""
    parts = [f"'{col}=' || COALESCE(CAST({col} AS VARCHAR), '<blank>')" for col in columns]
    return " || '; ' || ".join(parts)


def _select(view: str, where: str, detail: str, episode: bool = False, alias: str = "") -> str:
    """One violation row per row of ``view`` (which has yc, la, cid) matching ``where``.

    ``alias`` qualifies the key columns when ``view`` joins several relations.
    """
    p = f"{alias}." if alias else ""
    start = f"{p}EPISODE_START_DATE" if episode else "CAST(NULL AS VARCHAR)"
    return (
        f"SELECT {p}yc AS year_code, {p}la AS local_authority_code, {p}cid AS child_id, "
        f"{start} AS episode_start_date, {detail} AS detail FROM {view} WHERE {where}"
    )


@dataclass(frozen=True)
class _Field:
    """A field checked for a valid code (``codes``) or a valid date (``codes`` None)."""

    column: str
    codes: tuple[str, ...] | None
    required: bool = True


def _field_problem(field: _Field) -> str:
    col = field.column
    if field.codes is None:
        bad = f"({col} IS NOT NULL AND TRY_CAST({col} AS DATE) IS NULL)"
    else:
        bad = f"({col} IS NOT NULL AND {col} NOT IN ({_quote(field.codes)}))"
    if field.required:
        bad = f"({col} IS NULL OR {bad})"
    return f"CASE WHEN {bad} THEN '{col}=' || COALESCE({col}, '<blank>') END"


def _codes_rule_sql(view: str, fields: Sequence[_Field]) -> str:
    """Rows of ``view`` with any invalid field; detail lists the invalid fields."""
    detail = "concat_ws('; ', " + ", ".join(_field_problem(f) for f in fields) + ")"
    return (
        f"SELECT year_code, local_authority_code, child_id, episode_start_date, detail FROM ("
        f"{_select(view, 'TRUE', detail)}) WHERE detail <> ''"
    )


def _age_rule(view: str, where: str, at: str, compare: str, detail_cols: Sequence[str]) -> str:
    """Episode rows matching ``where`` where the age at date ``at`` satisfies ``compare``."""
    detail = f"{_show(*detail_cols)} || '; age=' || CAST(cc_age(wob_date, {at}) AS VARCHAR)"
    return _select(view, f"{where} AND cc_age(wob_date, {at}) {compare}", detail, episode=True)


def _stable_rule(view: str, column: str, expression: str | None = None) -> str:
    """Children (LA + id) whose ``column`` differs between returns (blanks ignored)."""
    value = expression or column
    return (
        f"SELECT max(yc) AS year_code, la AS local_authority_code, cid AS child_id, "
        f"CAST(NULL AS VARCHAR) AS episode_start_date, "
        f"'{column} differs between returns: ' || string_agg(DISTINCT yc || '=' || {value}, ', ' "
        f"ORDER BY yc || '=' || {value}) AS detail "
        f"FROM {view} WHERE {value} IS NOT NULL GROUP BY la, cid HAVING count(DISTINCT {value}) > 1"
    )


def _duration_rule(legal_status: str, max_days: int) -> str:
    days = "date_diff('day', start_date, COALESCE(end_date, ye))"
    return _select(
        "v_ep_hist",
        f"LEGAL_STATUS_CODE = '{legal_status}' AND {days} > {max_days}",
        f"{_show('LEGAL_STATUS_CODE', 'EPISODE_END_DATE')} || '; days=' || CAST({days} AS VARCHAR)",
        episode=True,
    )


def _adopter_sex_rule(legal_status: str, sexes: tuple[str, ...]) -> str:
    return _select(
        "v_adoption",
        f"LEGAL_STATUS_OF_ADOPTERS = '{legal_status}' AND {_not_in('SEX_OF_ADOPTERS', sexes)}",
        _show("LEGAL_STATUS_OF_ADOPTERS", "SEX_OF_ADOPTERS"),
    )


def _adoption_order_rule(earlier: str, later: str) -> str:
    return _select(
        "v_adoption",
        f"cc_date({earlier}) > cc_date({later})",
        _show(earlier, later),
    )


# CRCS reference date for age: 31 March, or the plan end where the plan closed in the year
_CRCS_AGE_DATE = "LEAST(COALESCE(plan_end, ye), ye)"


def _health_item_rule(column: str, from_age: int) -> str:
    """CRCS item that applies from ``from_age``: blank below, recorded from (age on _CRCS_AGE_DATE)."""
    age = f"cc_age(wob_date, {_CRCS_AGE_DATE})"
    return _select(
        "v_crcs",
        f"(({age} < {from_age} AND {column} IS NOT NULL) OR ({age} >= {from_age} AND {column} IS NULL))",
        f"{_show(column, 'PLAN_END_DATE')} || '; age=' || CAST({age} AS VARCHAR)",
    )


def _raw_union(select: str, tables: Iterable[str]) -> str:
    """``select`` (with {table} and {child} placeholders) over each raw table."""
    return " UNION ALL ".join(select.format(table=table, child=_CHILD_COL[table]) for table in tables)


# ---------------------------------------------------------------------------
# Views: raw files, typed helpers, deduplicated episode history
# ---------------------------------------------------------------------------

_MACROS = (
    # whole years between a week of birth and a date
    "CREATE OR REPLACE MACRO cc_age(wob, d) AS (year(d) - year(wob) - CASE WHEN "
    "month(d) * 100 + day(d) < month(wob) * 100 + day(wob) THEN 1 ELSE 0 END)",
    # first day on which cc_age(wob, day) = n (29 February -> 1 March in common years)
    "CREATE OR REPLACE MACRO cc_birthday(wob, n) AS "
    "(make_date(CAST(year(wob) + n AS INTEGER), month(wob), 1) + CAST(day(wob) - 1 AS INTEGER))",
    "CREATE OR REPLACE MACRO cc_date(s) AS TRY_CAST(s AS DATE)",
    "CREATE OR REPLACE MACRO cc_year_start(yc) AS "
    "make_date(TRY_CAST(substr(yc, 1, 4) AS INTEGER), 4, 1)",
    "CREATE OR REPLACE MACRO cc_year_end(yc) AS "
    "make_date(TRY_CAST(substr(yc, 1, 4) AS INTEGER) + 1, 3, 31)",
)

_KEYS = (
    "YEAR_CODE AS yc, LOCAL_AUTHORITY_CODE AS la, {child} AS cid, "
    "cc_year_start(YEAR_CODE) AS ys, cc_year_end(YEAR_CODE) AS ye"
)

_HELPER_VIEWS: tuple[tuple[str, str], ...] = (
    ("v_cla_child", f"SELECT c.*, {_KEYS.format(child='SYSTEM_ID')}, cc_date(WOB) AS wob_date FROM cla_child c"),
    (
        "v_person",  # one row per LA child: attributes from the latest CLA child return
        "SELECT la, cid, arg_max(wob_date, yc) AS wob_date, arg_max(LSOA2011_HOME_POSTCODE, yc) AS home_lsoa "
        "FROM v_cla_child GROUP BY la, cid",
    ),
    (
        "v_episode",
        f"SELECT e.*, {_KEYS.format(child='e.SYSTEM_ID')}, cc_date(EPISODE_START_DATE) AS start_date, "
        "cc_date(EPISODE_END_DATE) AS end_date, TRY_CAST(EPISODE_NUMBER AS INTEGER) AS ep_no, p.wob_date "
        "FROM cla_episode e LEFT JOIN v_person p "
        "ON p.la = e.LOCAL_AUTHORITY_CODE AND p.cid = e.SYSTEM_ID",
    ),
    ("v_la_year", "SELECT DISTINCT la, yc, ys, ye FROM v_episode WHERE ys IS NOT NULL"),
    ("v_la_first", "SELECT la, min(ys) AS first_ys FROM v_la_year GROUP BY la"),
    (
        "v_ep_hist",  # one row per episode: latest return wins; neighbours and period of care
        """
        WITH ranked AS (
            SELECT *, row_number() OVER (PARTITION BY la, cid, start_date ORDER BY yc DESC) AS rn
            FROM v_episode WHERE start_date IS NOT NULL
        ),
        neighbours AS (
            SELECT r.*, f.first_ys,
                lag(start_date) OVER w AS prev_start,
                lag(end_date) OVER w AS prev_end,
                lag(REASON_EPISODE_FINISHED_CODE) OVER w AS prev_rec,
                lag(LEGAL_STATUS_CODE) OVER w AS prev_ls,
                lag(PLACEMENT_TYPE_CODE) OVER w AS prev_place,
                lag(LSOA2011_PLACEMENT_POSTCODE) OVER w AS prev_pl_lsoa,
                lead(start_date) OVER w AS next_start,
                lead(REASON_EPISODE_STARTED_CODE) OVER w AS next_rne
            FROM ranked r LEFT JOIN v_la_first f USING (la)
            WHERE rn = 1
            WINDOW w AS (PARTITION BY la, cid ORDER BY start_date)
        ),
        periods AS (
            SELECT *, sum(CASE WHEN prev_start IS NULL OR REASON_EPISODE_STARTED_CODE = 'S'
                               OR prev_rec IS DISTINCT FROM 'X1' THEN 1 ELSE 0 END)
                      OVER (PARTITION BY la, cid ORDER BY start_date ROWS UNBOUNDED PRECEDING) AS period_no
            FROM neighbours
        )
        SELECT *,
            min(start_date) OVER p AS period_start,
            first_value(REASON_EPISODE_STARTED_CODE) OVER p AS period_rne,
            first_value(CATEGORY_OF_NEED_CODE) OVER p AS period_cin,
            lead(period_no) OVER (PARTITION BY la, cid ORDER BY start_date) IS DISTINCT FROM period_no
                AS is_period_end
        FROM periods
        WINDOW p AS (PARTITION BY la, cid, period_no ORDER BY start_date
                     ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
        """,
    ),
    (
        "v_last_episode",  # the child's latest episode in an LA
        "SELECT * FROM v_ep_hist WHERE next_start IS NULL",
    ),
    ("v_adoption", f"SELECT a.*, {_KEYS.format(child='SYSTEM_ID')} FROM cla_adoption a"),
    (
        "v_care_leaver",
        f"SELECT l.*, {_KEYS.format(child='l.SYSTEM_ID')}, p.wob_date FROM cla_care_leaver l "
        "LEFT JOIN v_person p ON p.la = l.LOCAL_AUTHORITY_CODE AND p.cid = l.SYSTEM_ID",
    ),
    (
        "v_crcs",
        f"SELECT c.*, {_KEYS.format(child='CHILD_CODE')}, cc_date(WOB) AS wob_date, "
        "cc_date(PLAN_START_DATE) AS plan_start, cc_date(PLAN_END_DATE) AS plan_end FROM crcs_child c",
    ),
    (
        "v_plasc",
        f"SELECT p.*, {_KEYS.format(child='IRN')} FROM plasc_pupil p",
    ),
    (
        "v_people",  # every (source, LA child id, ALF_PE, IRN, WOB, sex) row of CLA, CRCS and PLASC
        "SELECT 'cla' AS src, yc, la, cid, ALF_PE AS alf, IRN AS irn, WOB AS wob, GNDR_CD AS sex FROM v_cla_child "
        "UNION ALL SELECT 'crcs', yc, la, cid, ALF_PE, IRN, WOB, GNDR_CD FROM v_crcs "
        "UNION ALL SELECT 'plasc', yc, la, NULL, ALF_PE, IRN, NULL, NULL FROM v_plasc",
    ),
)


def _raw_source(raw_dir: Path, name: str) -> str:
    pattern, columns = RAW_TABLES[name]
    if not any(raw_dir.glob(pattern)):
        cols = ", ".join(f"CAST(NULL AS VARCHAR) AS {col}" for col in columns)
        return f"SELECT {cols}, CAST(NULL AS VARCHAR) AS filename WHERE FALSE"
    path = literal((raw_dir / pattern).as_posix())
    return (
        f"SELECT * FROM read_csv({path}, union_by_name = true, all_varchar = true, "
        "filename = true, header = true)"
    )


def load_raw_views(
    con: duckdb.DuckDBPyConnection, raw_dir: Path, *, materialize: bool = False
) -> None:
    """Create the raw views (cla_child, cla_episode, cla_adoption, cla_care_leaver,
    crcs_child, plasc_pupil) over every year folder of ``raw_dir``, plus the typed
    helper views the rules read.

    Every contract column exists in each view (NULL where no file has it); each view
    also has ``filename`` and ``folder_year_code`` (the year folder name). With
    ``materialize`` the raw files are read once into tables (faster for many rules)
    and the episode history is a table too.
    """
    raw_dir = Path(raw_dir)
    for macro in _MACROS:
        con.execute(macro)
    kind = "TABLE" if materialize else "VIEW"
    for name, (_, columns) in RAW_TABLES.items():
        source = _raw_source(raw_dir, name)
        present = {row[0].upper() for row in con.execute(f"DESCRIBE {source}").fetchall()}
        missing = "".join(
            f", CAST(NULL AS VARCHAR) AS {col}" for col in columns if col.upper() not in present
        )
        folder = r"regexp_extract(replace(filename, '\', '/'), '([0-9]{6})/[^/]+$', 1)"
        con.execute(
            f"CREATE OR REPLACE {kind} {name} AS SELECT *{missing}, {folder} AS folder_year_code FROM ({source})"
        )
    for name, sql in _HELPER_VIEWS:
        helper_kind = "TABLE" if materialize and name == "v_ep_hist" else "VIEW"
        con.execute(f"CREATE OR REPLACE {helper_kind} {name} AS {sql}")
    _load_lsoa_lookup(con)


def _load_lsoa_lookup(con: duckdb.DuckDBPyConnection) -> None:
    """``ref_lsoa_la`` (lsoa_code, local_authority_code) from the project seed."""
    seed = SEEDS_DIR / "reference" / "ref_lsoa_local_authorities.csv"
    if seed.exists():
        path = literal(seed.as_posix())
        con.execute(
            "CREATE OR REPLACE TABLE ref_lsoa_la AS SELECT lsoa_code, local_authority_code "
            f"FROM read_csv({path}, all_varchar = true, header = true)"
        )
    else:
        con.execute("CREATE OR REPLACE TABLE ref_lsoa_la (lsoa_code VARCHAR, local_authority_code VARCHAR)")


def connect(raw_dir: Path, *, materialize: bool = False) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the raw views loaded."""
    con = duckdb.connect()
    load_raw_views(con, raw_dir, materialize=materialize)
    return con


# ---------------------------------------------------------------------------
# The rules
# ---------------------------------------------------------------------------

_EP = ("cla_episode",)
_EP_CHILD = ("cla_episode", "cla_child")


def _child_rules() -> list[Rule]:
    child = ("cla_child",)
    return [
        Rule("101", "Sex (GNDR_CD) must be 1 or 2", "error", child,
             _select("v_cla_child", _not_in("GNDR_CD", SEX_CODES), _show("GNDR_CD"))),
        Rule("102", "Week of birth (WOB) must be a valid date", "error", child,
             _select("v_cla_child", "wob_date IS NULL", _show("WOB"))),
        Rule("103", "Ethnicity must be present and a Welsh code", "error", child,
             _select("v_cla_child", _not_in("ETHNICITY", ETHNICITY_CODES), _show("ETHNICITY")),
             "Valid: A1-E2, the five grouped codes (WHTE, MIXD, ASAB, BBAC, OOTH), NOBT, REFU."),
        Rule("104", "DATE_CEASED_UASC must be a valid date when present", "error", child,
             _select("v_cla_child", "DATE_CEASED_UASC IS NOT NULL AND cc_date(DATE_CEASED_UASC) IS NULL",
                     _show("DATE_CEASED_UASC"))),
        Rule("105", "ASYLUM (UASC) must be 0 or 1", "error", child,
             _select("v_cla_child", _not_in("ASYLUM", YES_NO), _show("ASYLUM"))),
        Rule("W-DISABILITY", "DISABILITY_CODE must be 0, 1 or 2", "error", child,
             _select("v_cla_child", _not_in("DISABILITY_CODE", ("0", "1", "2")), _show("DISABILITY_CODE"))),
        Rule("301", "Week of birth after the end of the collection year", "error", child,
             _select("v_cla_child", "wob_date > ye", _show("WOB"))),
        Rule("351", "Child was over 25 at the start of the collection year", "error", child,
             _select("v_cla_child", "cc_birthday(wob_date, 25) < ys", _show("WOB"))),
        Rule("303", "DATE_CEASED_UASC present but ASYLUM is not 1", "error", child,
             _select("v_cla_child", "DATE_CEASED_UASC IS NOT NULL AND ASYLUM IS DISTINCT FROM '1'",
                     _show("DATE_CEASED_UASC", "ASYLUM"))),
        Rule("304", "DATE_CEASED_UASC must be on or before the 18th birthday", "error", child,
             _select("v_cla_child", "cc_date(DATE_CEASED_UASC) > cc_birthday(wob_date, 18)",
                     _show("DATE_CEASED_UASC", "WOB"))),
        Rule("202", "Sex differs from that recorded in another return", "error", child,
             _stable_rule("v_cla_child", "GNDR_CD")),
        Rule("203", "Week of birth differs from that recorded in another return", "error", child,
             _stable_rule("v_cla_child", "WOB")),
        Rule("204", "Ethnicity differs from that recorded in another return", "error", child,
             _stable_rule("v_cla_child", "ETHNICITY")),
        Rule("208", "IRN (UPN) differs from that recorded in another return", "error", child,
             _stable_rule("v_cla_child", "IRN"),
             "A blank IRN (child not yet at school) is not a change."),
        Rule("392c", "Home or placement LSOA is not an LSOA code (W01/E01 + 6 digits)", "error", _EP_CHILD,
             _select("v_cla_child",
                     "LSOA2011_HOME_POSTCODE IS NOT NULL AND NOT regexp_full_match(LSOA2011_HOME_POSTCODE, "
                     "'[WE]01[0-9]{6}')", _show("LSOA2011_HOME_POSTCODE"))
             + " UNION ALL "
             + _select("v_episode",
                       "LSOA2011_PLACEMENT_POSTCODE IS NOT NULL AND NOT regexp_full_match("
                       "LSOA2011_PLACEMENT_POSTCODE, '[WE]01[0-9]{6}')",
                       _show("LSOA2011_PLACEMENT_POSTCODE"), episode=True),
             "Blank postcodes are allowed (e.g. not known)."),
        Rule("TRANSFER-LA", "TRANSFERRED_FROM_LA_CODE only from 202223, a valid other LA", "error", child,
             _select("v_cla_child",
                     f"TRANSFERRED_FROM_LA_CODE IS NOT NULL AND (yc < '202223' OR "
                     f"{_not_in('TRANSFERRED_FROM_LA_CODE', LA_CODES)} OR TRANSFERRED_FROM_LA_CODE = la)",
                     _show("TRANSFERRED_FROM_LA_CODE"))),
        Rule("INT03", "Child in the episode file is not in the child file of the same return", "error",
             _EP_CHILD,
             _select("v_episode e", "NOT EXISTS (SELECT 1 FROM v_cla_child c WHERE c.yc = e.yc "
                     "AND c.la = e.la AND c.cid = e.cid)", "'no child row'", episode=True)),
    ]  # fmt: skip


def _episode_return_rules() -> list[Rule]:
    """Rules on one return's episode rows (v_episode)."""
    ep = "v_episode"
    row_no = "row_number() OVER (PARTITION BY yc, la, cid ORDER BY start_date, ep_no)"
    return [
        Rule("141", "Episode start date must be a valid date", "error", _EP,
             _select(ep, "start_date IS NULL", _show("EPISODE_START_DATE"), episode=True)),
        Rule("147", "Episode end date must be a valid date when present", "error", _EP,
             _select(ep, "EPISODE_END_DATE IS NOT NULL AND end_date IS NULL", _show("EPISODE_END_DATE"),
                     episode=True)),
        Rule("143", "Reason for new episode must be S, L, P or B", "error", _EP,
             _select(ep, _not_in("REASON_EPISODE_STARTED_CODE", RNE_CODES),
                     _show("REASON_EPISODE_STARTED_CODE"), episode=True)),
        Rule("144", "Legal status must be a Welsh code", "error", _EP,
             _select(ep, _not_in("LEGAL_STATUS_CODE", LEGAL_STATUS_CODES), _show("LEGAL_STATUS_CODE"),
                     episode=True)),
        Rule("145", "Category of need must be N1-N8", "error", _EP,
             _select(ep, _not_in("CATEGORY_OF_NEED_CODE", NEED_CODES), _show("CATEGORY_OF_NEED_CODE"),
                     episode=True)),
        Rule("146", "Placement type must be a Welsh code", "error", _EP,
             _select(ep, _not_in("PLACEMENT_TYPE_CODE", PLACEMENT_CODES), _show("PLACEMENT_TYPE_CODE"),
                     episode=True)),
        Rule("149", "Reason episode finished must be a Welsh code when present", "error", _EP,
             _select(ep, "REASON_EPISODE_FINISHED_CODE IS NOT NULL AND "
                     + _not_in("REASON_EPISODE_FINISHED_CODE", REC_CODES),
                     _show("REASON_EPISODE_FINISHED_CODE"), episode=True)),
        Rule("148", "End date and reason finished must both be present or both blank", "error", _EP,
             _select(ep, "(EPISODE_END_DATE IS NULL) <> (REASON_EPISODE_FINISHED_CODE IS NULL)",
                     _show("EPISODE_END_DATE", "REASON_EPISODE_FINISHED_CODE"), episode=True)),
        Rule("353", "No episode may start before 14 October 1991", "error", _EP,
             _select(ep, "start_date < DATE '1991-10-14'", _show("EPISODE_START_DATE"), episode=True)),
        Rule("354", "Episode end date must be on or before the end of the collection year", "error", _EP,
             _select(ep, "end_date > ye", _show("EPISODE_END_DATE"), episode=True),
             "So an episode open on 31 March has a blank end date in that return."),
        Rule("W-INYEAR", "Episode in a return must be open at some time in that year", "error", _EP,
             _select(ep, "start_date > ye OR end_date < ys", _show("EPISODE_END_DATE"), episode=True)),
        Rule("356", "Episode end date is before its start date", "error", _EP,
             _select(ep, "end_date < start_date", _show("EPISODE_END_DATE"), episode=True)),
        Rule("EPNUM", "EPISODE_NUMBER must be 1..n in start-date order within the return", "error", _EP,
             _select(f"(SELECT *, {row_no} AS expected, count(*) OVER (PARTITION BY yc, la, cid, start_date) "
                     "AS same_start FROM v_episode) numbered", "ep_no IS DISTINCT FROM expected OR same_start > 1",
                     _show("EPISODE_NUMBER") + " || '; expected=' || CAST(expected AS VARCHAR)", episode=True),
             "Two episodes of a child with the same start date in one return also fail."),
        Rule("302", "Episode starts before the child's week of birth", "error", _EP_CHILD,
             _select(ep, "start_date < wob_date", _show("EPISODE_START_DATE", "wob_date"), episode=True),
             "WOB is the Monday of the birth week, so a start before WOB is before birth."),
        Rule("392d", "Home and placement LSOA identical unless placed with parents (P1)", "query",
             _EP_CHILD,
             _select(ep + " e", "PLACEMENT_TYPE_CODE IS DISTINCT FROM 'P1' AND EXISTS (SELECT 1 FROM "
                     "v_cla_child c WHERE c.yc = e.yc AND c.la = e.la AND c.cid = e.cid AND "
                     "c.LSOA2011_HOME_POSTCODE = e.LSOA2011_PLACEMENT_POSTCODE)",
                     _show("PLACEMENT_TYPE_CODE", "LSOA2011_PLACEMENT_POSTCODE"), episode=True),
             "A query, not an error: LSOAs are areas, so two addresses can share one."),
        Rule("365", "SHORT_BREAKS: a whole number for V1 agreements, blank or 0 otherwise", "error", _EP,
             _select(ep, "(LEGAL_STATUS_CODE = 'V1' AND COALESCE(TRY_CAST(SHORT_BREAKS AS INTEGER), -1) < 0)"
                     " OR (LEGAL_STATUS_CODE IS DISTINCT FROM 'V1' AND COALESCE(SHORT_BREAKS, '0') <> '0')",
                     _show("LEGAL_STATUS_CODE", "SHORT_BREAKS"), episode=True),
             "Adapted: Wales records a V1 agreement (series of breaks) as one episode with a count of "
             "breaks, so the 17-day limit on an individual break cannot be checked; this checks the count."),
        Rule("W-PLACE-LA", "Inside/outside-LA placement code disagrees with the placement LSOA's LA",
             "error", _EP,
             _select(ep + " e LEFT JOIN ref_lsoa_la r ON r.lsoa_code = e.LSOA2011_PLACEMENT_POSTCODE",
                     f"LSOA2011_PLACEMENT_POSTCODE IS NOT NULL AND ("
                     f"({_in('PLACEMENT_TYPE_CODE', INSIDE_LA_PLACEMENTS)} AND "
                     f"r.local_authority_code IS DISTINCT FROM e.la) OR "
                     f"({_in('PLACEMENT_TYPE_CODE', OUTSIDE_LA_PLACEMENTS)} AND "
                     f"r.local_authority_code IS NOT DISTINCT FROM e.la) OR "
                     f"(PLACEMENT_TYPE_CODE = 'H22' AND LSOA2011_PLACEMENT_POSTCODE NOT LIKE 'E01%') OR "
                     f"(PLACEMENT_TYPE_CODE = 'H21' AND LSOA2011_PLACEMENT_POSTCODE NOT LIKE 'W01%'))",
                     _show("PLACEMENT_TYPE_CODE", "LSOA2011_PLACEMENT_POSTCODE")
                     + " || '; LSOA LA=' || COALESCE(r.local_authority_code, '<none>')", episode=True),
             "F1-F3/H1/H3 inside the LA, F4-F6/H21/H22/H4 outside (S4c); LSOA to LA from the seed "
             "ref_lsoa_local_authorities (E01 codes are England, i.e. outside); H22 must be in England."),
    ]  # fmt: skip


def _episode_age_rules() -> list[Rule]:
    h = "v_ep_hist"
    place = ("PLACEMENT_TYPE_CODE", "EPISODE_START_DATE")
    rec = ("REASON_EPISODE_FINISHED_CODE", "EPISODE_END_DATE")
    min_age = (("370", "P2", 16, "Independent living (P2)"), ("371", "H5", 16, "Hostel / supported (H5)"),
               ("372", "R5", 10, "Young offender institution or prison (R5)"),
               ("373", "S1", 4, "Residential school (S1)"), ("374", "P3", 14, "Residential employment (P3)"))
    rules = [
        Rule(rule_id, f"{label}: child must be at least {age} at the episode start", "error", _EP_CHILD,
             _age_rule(h, f"PLACEMENT_TYPE_CODE = '{code}'", "start_date", f"< {age}", place))
        for rule_id, code, age, label in min_age
    ]
    return rules + [
        Rule("352", "Child who started to be looked after (RNE S) was aged 18 or over", "error", _EP_CHILD,
             _age_rule(h, "REASON_EPISODE_STARTED_CODE = 'S'", "start_date", ">= 18",
                       ("REASON_EPISODE_STARTED_CODE",))),
        Rule("358", "Youth justice legal status (J1-J3) for a child under 10", "error", _EP_CHILD,
             _age_rule(h, _in("LEGAL_STATUS_CODE", ("J1", "J2", "J3")), "start_date", "< 10",
                       ("LEGAL_STATUS_CODE",))),
        Rule("386", "Adopted (E1/E11/E12) but child aged 18 or over", "error", _EP_CHILD,
             _age_rule(h, _in("REASON_EPISODE_FINISHED_CODE", ADOPTED_RECS), "end_date", ">= 18", rec)),
        Rule("387", "Moved to independent living (E5/E6) but child under 14", "error", _EP_CHILD,
             _age_rule(h, _in("REASON_EPISODE_FINISHED_CODE", ("E5", "E6")), "end_date", "< 14", rec)),
        Rule("389", "Transferred to adult social services (E7) but child under 16", "error", _EP_CHILD,
             _age_rule(h, "REASON_EPISODE_FINISHED_CODE = 'E7'", "end_date", "< 16", rec)),
        Rule("407", "Special guardianship order (E43/E44) but child aged 18 or over", "error", _EP_CHILD,
             _age_rule(h, _in("REASON_EPISODE_FINISHED_CODE", ("E43", "E44")), "end_date", ">= 18", rec)),
        Rule("460", "When I Am Ready (E10): child must be 18 at cease and last placement foster", "error",
             _EP_CHILD,
             _select(h, f"REASON_EPISODE_FINISHED_CODE = 'E10' AND (end_date + 1 < cc_birthday(wob_date, 18)"
                     f" OR {_not_in('PLACEMENT_TYPE_CODE', FOSTER_PLACEMENTS)})",
                     _show("EPISODE_END_DATE", "PLACEMENT_TYPE_CODE", "wob_date"), episode=True),
             "Ceasing on the day before the 18th birthday counts as aged 18 (a child ceases to be "
             "looked after the day before the 18th birthday)."),
        Rule("359", "Child looked after after the 18th birthday", "error", _EP_CHILD,
             _select(h, "COALESCE(end_date, ye + 1) > cc_birthday(wob_date, 18) AND NOT "
                     "(LEGAL_STATUS_CODE = 'V2' AND PLACEMENT_TYPE_CODE IN ('H3', 'H4'))",
                     _show("EPISODE_END_DATE", "wob_date"), episode=True),
             "Cease date on the 18th birthday is accepted; an episode open at a year end after the "
             "18th birthday fails. Exception (903 rule 359 adapted): V2 in a children's home (H3/H4)."),
    ]  # fmt: skip


def _episode_code_rules() -> list[Rule]:
    h = "v_ep_hist"
    return [
        Rule("378", "Placed with parents (P1) cannot be a single period of accommodation (V2)", "error",
             _EP, _select(h, "PLACEMENT_TYPE_CODE = 'P1' AND LEGAL_STATUS_CODE = 'V2'",
                          _show("PLACEMENT_TYPE_CODE", "LEGAL_STATUS_CODE"), episode=True)),
        Rule("390", "Adopted (E1/E11/E12) but last placement is not placed for adoption", "error", _EP,
             _select(h, f"{_in('REASON_EPISODE_FINISHED_CODE', ADOPTED_RECS)} AND "
                     f"{_not_in('PLACEMENT_TYPE_CODE', ADOPTION_PLACEMENTS)}",
                     _show("REASON_EPISODE_FINISHED_CODE", "PLACEMENT_TYPE_CODE"), episode=True),
             "Wales: placed-for-adoption codes A1-A6 and A8 are accepted (A8 unverified)."),
        Rule("408", "Placed for adoption under a placement order (A5/A6) without LS E1/D1", "error", _EP,
             _select(h, "PLACEMENT_TYPE_CODE IN ('A5', 'A6') AND "
                     + _not_in("LEGAL_STATUS_CODE", ("E1", "D1")),
                     _show("PLACEMENT_TYPE_CODE", "LEGAL_STATUS_CODE"), episode=True)),
        Rule("445", "D1 (freeing order) invalid for episodes starting after 30 December 2005", "error", _EP,
             _select(h, "LEGAL_STATUS_CODE = 'D1' AND start_date > DATE '2005-12-30'",
                     _show("LEGAL_STATUS_CODE"), episode=True)),
        Rule("446", "E1 (placement order) invalid for episodes starting before 30 December 2005", "error",
             _EP, _select(h, "LEGAL_STATUS_CODE = 'E1' AND start_date < DATE '2005-12-30'",
                          _show("LEGAL_STATUS_CODE"), episode=True)),
        Rule("361", "Police protection (L1) lasted more than 72 hours", "error", _EP, _duration_rule("L1", 3),
             "Days between start and end (or the year end while open) > 3."),
        Rule("362", "Emergency protection order (L2) lasted more than 21 days", "error", _EP,
             _duration_rule("L2", 21)),
        Rule("363", "Child assessment order (L3) lasted more than 7 days", "error", _EP,
             _duration_rule("L3", 7)),
    ]  # fmt: skip


def _episode_chain_rules() -> list[Rule]:
    """Rules across a child's deduplicated episode history (v_ep_hist)."""
    h = "v_ep_hist"
    rne = "REASON_EPISODE_STARTED_CODE"
    cont = "prev_end = start_date"
    same_place = ("PLACEMENT_TYPE_CODE = prev_place AND "
                  "LSOA2011_PLACEMENT_POSTCODE IS NOT DISTINCT FROM prev_pl_lsoa")
    changes = (f"{_show(rne, 'LEGAL_STATUS_CODE', 'PLACEMENT_TYPE_CODE', 'LSOA2011_PLACEMENT_POSTCODE')}"
               " || '; previous LS=' || COALESCE(prev_ls, '') || ' place=' || COALESCE(prev_place, '')"
               " || ' LSOA=' || COALESCE(prev_pl_lsoa, '')")
    prev = "' previous end=' || COALESCE(CAST(prev_end AS VARCHAR), '<open>')"
    return [
        Rule("501", "Episode starts before the previous episode's end date (overlap)", "error", _EP,
             _select(h, "start_date < prev_end", prev, episode=True)),
        Rule("142", "A new episode started but the previous episode has not ended", "error", _EP,
             _select(h, "prev_start IS NOT NULL AND prev_end IS NULL",
                     "'previous episode started ' || CAST(prev_start AS VARCHAR) || ' is open'", episode=True)),
        Rule("431", "RNE S but the previous episode ended the same day", "error", _EP,
             _select(h, f"{rne} = 'S' AND {cont}", prev, episode=True)),
        Rule("432", "Previous episode ended care (REC not X1) but RNE is not S", "error", _EP,
             _select(h, f"prev_rec IS NOT NULL AND prev_rec <> 'X1' AND {rne} IS DISTINCT FROM 'S'",
                     f"{_show(rne)} || '; previous REC=' || prev_rec", episode=True)),
        Rule("433", "Continuation RNE (L, P, B) but the start date is not the previous end date", "error",
             _EP,
             _select(h, f"{_in(rne, ('L', 'P', 'B'))} AND ((prev_start IS NULL AND start_date >= first_ys)"
                     f" OR (prev_start IS NOT NULL AND prev_end IS DISTINCT FROM start_date))",
                     f"{_show(rne)} || ';' || {prev}", episode=True),
             "A first episode starting before the LA's first return in the data is not checked "
             "(its predecessor is outside the data)."),
        Rule("357", "The first ever episode must have RNE S", "error", _EP,
             _select(h, f"prev_start IS NULL AND start_date >= first_ys AND {rne} IS DISTINCT FROM 'S'",
                     _show(rne), episode=True),
             "Only for first episodes starting within the returns in the data."),
        Rule("388", "REC X1 but no continuation episode starting the same day", "error", _EP,
             _select(h, f"REASON_EPISODE_FINISHED_CODE = 'X1' AND (next_start IS DISTINCT FROM end_date "
                     f"OR next_rne = 'S')",
                     "'end=' || COALESCE(EPISODE_END_DATE, '') || '; next start=' || "
                     "COALESCE(CAST(next_start AS VARCHAR), '<none>') || ' RNE=' || COALESCE(next_rne, '')",
                     episode=True),
             "The continuation must start on the X1 end date (same day) with RNE L, P or B."),
        Rule("437", "REC died (E2) but later episodes exist", "error", _EP,
             _select(h, "REASON_EPISODE_FINISHED_CODE = 'E2' AND next_start IS NOT NULL",
                     "'next start=' || CAST(next_start AS VARCHAR)", episode=True)),
        Rule("434", "RNE L: legal status must change and the placement must not", "error", _EP,
             _select(h, f"{rne} = 'L' AND {cont} AND (LEGAL_STATUS_CODE = prev_ls OR NOT ({same_place}))",
                     changes, episode=True),
             "Placement = placement type and placement LSOA."),
        Rule("435", "RNE P: placement must change and the legal status must not", "error", _EP,
             _select(h, f"{rne} = 'P' AND {cont} AND (LEGAL_STATUS_CODE <> prev_ls OR ({same_place}))",
                     changes, episode=True),
             "Placement unchanged = same placement type and same placement LSOA."),
        Rule("436", "RNE B: both legal status and placement must change", "error", _EP,
             _select(h, f"{rne} = 'B' AND {cont} AND (LEGAL_STATUS_CODE = prev_ls OR ({same_place}))",
                     changes, episode=True)),
        Rule("504", "Category of need changes within a period of care", "error", _EP,
             _select(h, "CATEGORY_OF_NEED_CODE IS DISTINCT FROM period_cin",
                     f"{_show('CATEGORY_OF_NEED_CODE')} || '; at period start=' || COALESCE(period_cin, '')",
                     episode=True)),
        Rule("355", "Period of care lasted less than 24 hours", "error", _EP,
             _select(h, "is_period_end AND end_date = period_start AND "
                     "REASON_EPISODE_FINISHED_CODE IS DISTINCT FROM 'X1'",
                     "'period start=' || CAST(period_start AS VARCHAR) || '; end=' || EPISODE_END_DATE",
                     episode=True),
             "Read as: a period of care (not a single X1 episode) that starts and ends on the same day."),
        Rule("502", "Episode open at the end of a return is missing from the next return", "error", _EP,
             _select("v_episode e JOIN v_la_year n ON n.la = e.la AND n.ys = e.ye + 1",
                     "e.EPISODE_END_DATE IS NULL AND e.start_date IS NOT NULL AND NOT EXISTS (SELECT 1 "
                     "FROM v_episode x WHERE x.yc = n.yc AND x.la = e.la AND x.cid = e.cid AND "
                     "x.start_date = e.start_date)", "'missing from ' || n.yc", episode=True, alias="e")),
        Rule("562", "Episode started before the year but is not in the previous return", "error", _EP,
             _select("v_episode e JOIN v_la_year p ON p.la = e.la AND p.ye = e.ys - 1",
                     "e.start_date < e.ys AND NOT EXISTS (SELECT 1 FROM v_episode x WHERE x.yc = p.yc AND "
                     "x.la = e.la AND x.cid = e.cid AND x.start_date = e.start_date)",
                     "'missing from ' || p.yc", episode=True, alias="e")),
        Rule("503", "The same episode disagrees between returns (codes or closure)", "error", _EP,
             _select("v_episode e JOIN v_episode o ON o.la = e.la AND o.cid = e.cid AND "
                     "o.start_date = e.start_date AND o.yc < e.yc",
                     " OR ".join(f"o.{c} IS DISTINCT FROM e.{c}" for c in (
                         "REASON_EPISODE_STARTED_CODE", "LEGAL_STATUS_CODE", "CATEGORY_OF_NEED_CODE",
                         "PLACEMENT_TYPE_CODE"))
                     + " OR (o.EPISODE_END_DATE IS NOT NULL AND (o.EPISODE_END_DATE IS DISTINCT FROM "
                     "e.EPISODE_END_DATE OR o.REASON_EPISODE_FINISHED_CODE IS DISTINCT FROM "
                     "e.REASON_EPISODE_FINISHED_CODE))",
                     "'differs from ' || o.yc || ': ' || concat_ws(' ', o.REASON_EPISODE_STARTED_CODE, "
                     "o.LEGAL_STATUS_CODE, o.CATEGORY_OF_NEED_CODE, o.PLACEMENT_TYPE_CODE, "
                     "o.LSOA2011_PLACEMENT_POSTCODE, o.EPISODE_END_DATE, o.REASON_EPISODE_FINISHED_CODE) "
                     "|| ' -> ' || concat_ws(' ', e.REASON_EPISODE_STARTED_CODE, e.LEGAL_STATUS_CODE, "
                     "e.CATEGORY_OF_NEED_CODE, e.PLACEMENT_TYPE_CODE, e.LSOA2011_PLACEMENT_POSTCODE, "
                     "e.EPISODE_END_DATE, e.REASON_EPISODE_FINISHED_CODE)", episode=True, alias="e"),
             "The latest return wins; an earlier return may leave the end blank (episode still open) "
             "but a changed RNE, legal status, need, placement type or closure is reported (503A-J)."),
        Rule("503-LSOA", "A later return corrects the placement LSOA of an episode", "query", _EP,
             _select("v_episode e JOIN v_episode o ON o.la = e.la AND o.cid = e.cid AND "
                     "o.start_date = e.start_date AND o.yc < e.yc",
                     "o.LSOA2011_PLACEMENT_POSTCODE IS DISTINCT FROM e.LSOA2011_PLACEMENT_POSTCODE",
                     "'LSOA in ' || o.yc || '=' || COALESCE(o.LSOA2011_PLACEMENT_POSTCODE, '<blank>') || "
                     "'; in ' || e.yc || '=' || COALESCE(e.LSOA2011_PLACEMENT_POSTCODE, '<blank>')",
                     episode=True, alias="e"),
             "Allowed (the latest return wins) but listed so that corrections are visible."),
    ]  # fmt: skip


def _adoption_rules() -> list[Rule]:
    ad = ("cla_adoption",)
    ad_ep = ("cla_adoption", "cla_episode")
    adoption_episode = (
        "v_episode e WHERE e.yc = a.yc AND e.la = a.la AND e.cid = a.cid AND "
        f"{_in('e.REASON_EPISODE_FINISHED_CODE', ADOPTED_RECS)}"
    )
    fields = [
        _Field("DATE_SHOULD_BE_PLACED", None), _Field("DATE_MATCHED", None), _Field("DATE_PLACED", None),
        _Field("DATE_OF_ADOPTION", None), _Field("ADOPTED_BY_FOSTER_CARER", YES_NO),
        _Field("NUMBER_OF_ADOPTERS", ("1", "2")), _Field("SEX_OF_ADOPTERS", ADOPTER_SEX_CODES),
        _Field("LEGAL_STATUS_OF_ADOPTERS", ADOPTER_LS_CODES),
        _Field("ETHNICITY_OF_ADOPTERS", ETHNICITY_CODES),
    ]
    couple = ("MM", "FF", "MF")
    return [
        Rule("W-AD-CODES", "Adoption items must be present and valid", "error", ad,
             _codes_rule_sql("v_adoption", fields), "Covers 903 rules 112-114, 151, 175-177."),
        Rule("511", "Number of adopters disagrees with sex of adopters", "error", ad,
             _select("v_adoption", "(NUMBER_OF_ADOPTERS = '2' AND " + _not_in("SEX_OF_ADOPTERS", couple)
                     + ") OR (NUMBER_OF_ADOPTERS = '1' AND " + _not_in("SEX_OF_ADOPTERS", ("M1", "F1")) + ")",
                     _show("NUMBER_OF_ADOPTERS", "SEX_OF_ADOPTERS"))),
        Rule("514", "Single adopter legal status (L0) if and only if one adopter", "error", ad,
             _select("v_adoption", "(LEGAL_STATUS_OF_ADOPTERS = 'L0') <> (NUMBER_OF_ADOPTERS = '1')",
                     _show("LEGAL_STATUS_OF_ADOPTERS", "NUMBER_OF_ADOPTERS"))),
        Rule("517", "Unmarried different-sex couple (L3) must be MF", "error", ad, _adopter_sex_rule("L3", ("MF",))),
        Rule("518", "Unmarried same-sex couple (L4) must be MM or FF", "error", ad,
             _adopter_sex_rule("L4", ("MM", "FF"))),
        Rule("519", "Civil partnership (L2) must be a couple", "error", ad, _adopter_sex_rule("L2", couple)),
        Rule("520", "Married different-sex couple (L11) must be MF", "error", ad,
             _adopter_sex_rule("L11", ("MF",))),
        Rule("524", "Married same-sex couple (L12) must be MM or FF", "error", ad,
             _adopter_sex_rule("L12", ("MM", "FF"))),
        Rule("333", "Date should be placed must be on or before the date matched", "error", ad,
             _adoption_order_rule("DATE_SHOULD_BE_PLACED", "DATE_MATCHED")),
        Rule("331", "Date matched must be on or before the date placed for adoption", "error", ad,
             _adoption_order_rule("DATE_MATCHED", "DATE_PLACED")),
        Rule("552", "Date placed for adoption must be on or before the date of adoption", "error", ad,
             _adoption_order_rule("DATE_PLACED", "DATE_OF_ADOPTION"),
             "Adapted: the last link of the chain DATE_INT <= DATE_MATCH <= placed <= adopted."),
        Rule("184", "Date should be placed is before the child's week of birth", "error",
             ("cla_adoption", "cla_child"),
             _select("v_adoption a JOIN v_person p USING (la, cid)", "cc_date(DATE_SHOULD_BE_PLACED) < "
                     "p.wob_date", _show("DATE_SHOULD_BE_PLACED", "p.wob_date"))),
        Rule("334", "Start of the period of care must be on or before the date should be placed", "error",
             ad_ep,
             _select("v_adoption a JOIN v_ep_hist h ON h.la = a.la AND h.cid = a.cid AND h.is_period_end "
                     "AND h.end_date = cc_date(a.DATE_OF_ADOPTION)",
                     "h.period_rne = 'S' AND h.period_start > cc_date(a.DATE_SHOULD_BE_PLACED)",
                     "'period start=' || CAST(h.period_start AS VARCHAR) || '; ' || "
                     + _show("DATE_SHOULD_BE_PLACED"), alias="a"),
             "Only where the period's first episode (RNE S) is in the data."),
        Rule("582", "Date matched is the same as the date of adoption", "query", ad,
             _select("v_adoption", "cc_date(DATE_MATCHED) = cc_date(DATE_OF_ADOPTION)",
                     _show("DATE_MATCHED", "DATE_OF_ADOPTION"))),
        Rule("335", "Adopted by former foster carer disagrees with the last placement", "error", ad_ep,
             _select("v_adoption a JOIN v_episode e ON e.yc = a.yc AND e.la = a.la AND e.cid = a.cid AND "
                     f"{_in('e.REASON_EPISODE_FINISHED_CODE', ADOPTED_RECS)}",
                     "(a.ADOPTED_BY_FOSTER_CARER = '0' AND e.PLACEMENT_TYPE_CODE IN ('A2', 'A3', 'A5')) OR "
                     "(a.ADOPTED_BY_FOSTER_CARER = '1' AND e.PLACEMENT_TYPE_CODE IN ('A1', 'A4', 'A6'))",
                     _show("ADOPTED_BY_FOSTER_CARER", "e.PLACEMENT_TYPE_CODE"), alias="a"),
             "A2/A3/A5 = with current foster carer; A1/A4/A6 = not; A8 not checked."),
        Rule("601", "Adopted in the year (REC E1/E11/E12) but no adoption row", "error", ad_ep,
             _select("v_episode e", f"{_in('REASON_EPISODE_FINISHED_CODE', ADOPTED_RECS)} AND NOT EXISTS "
                     "(SELECT 1 FROM v_adoption a WHERE a.yc = e.yc AND a.la = e.la AND a.cid = e.cid)",
                     _show("REASON_EPISODE_FINISHED_CODE", "EPISODE_END_DATE"), episode=True)),
        Rule("602", "Adoption row but no episode ending in adoption on DATE_OF_ADOPTION that year", "error",
             ad_ep,
             _select("v_adoption a", f"NOT EXISTS (SELECT 1 FROM {adoption_episode} AND "
                     "e.end_date = cc_date(a.DATE_OF_ADOPTION))", _show("DATE_OF_ADOPTION"))),
    ]  # fmt: skip


def _care_leaver_rules() -> list[Rule]:
    cl = ("cla_care_leaver",)
    cl_ep = ("cla_care_leaver", "cla_episode", "cla_child")
    fields = [
        _Field("IN_TOUCH", IN_TOUCH_CODES), _Field("ACTIVITY", ACTIVITY_CODES),
        _Field("ACCOMMODATION", ACCOMMODATION_CODES), _Field("PATHWAY_PLAN", YES_NO),
        _Field("PERSONAL_ADVISER", YES_NO),
    ]
    last = ("v_care_leaver l LEFT JOIN v_last_episode h ON h.la = l.la AND h.cid = l.cid "
            "LEFT JOIN v_la_first f ON f.la = l.la")
    # the child ceased care at 16+ (after ys - 3 years): is that inside the LA's returns?
    observed = "f.first_ys <= l.ys - INTERVAL 3 YEAR"

    return [
        Rule("W-CL-CODES", "Care leaver items must be present and valid", "error", cl,
             _codes_rule_sql("v_care_leaver", fields),
             "Covers 903 rules 131-133; accommodation S1/X1 (homeless/custody 'suitable') are invalid."),
        Rule("344", "Died or returned home (DIED/RHOM) but activity/accommodation not 0", "error", cl,
             _select("v_care_leaver", "IN_TOUCH IN ('DIED', 'RHOM') AND (ACTIVITY IS DISTINCT FROM '0' OR "
                     "ACCOMMODATION IS DISTINCT FROM '0')", _show("IN_TOUCH", "ACTIVITY", "ACCOMMODATION"))),
        Rule("345", "In touch (YES) but activity or accommodation is 0", "error", cl,
             _select("v_care_leaver", "IN_TOUCH = 'YES' AND (ACTIVITY = '0' OR ACCOMMODATION = '0')",
                     _show("IN_TOUCH", "ACTIVITY", "ACCOMMODATION"))),
        Rule("391", "Care leaver's 19th birthday is not in the collection year", "error",
             ("cla_care_leaver", "cla_child"),
             _select("v_care_leaver l LEFT JOIN v_la_first f ON f.la = l.la",
                     f"(wob_date IS NULL AND {observed}) OR cc_birthday(wob_date, 19) NOT BETWEEN ys AND ye",
                     "'WOB=' || COALESCE(CAST(wob_date AS VARCHAR), '<no CLA child row>')", alias="l"),
             "Adapted: Wales returns care leavers whose 19th birthday falls in the year. A child "
             "with no CLA child row is reported only where the LA's returns start 3+ years earlier."),
        Rule("1000", "Care leaver died in care (last REC E2)", "error", cl_ep,
             _select(last, "h.REASON_EPISODE_FINISHED_CODE = 'E2'", "'last REC=E2'", alias="l")),
        Rule("1011", "Care leaver's care was taken over by another LA (last REC E3)", "error", cl_ep,
             _select(last, "h.REASON_EPISODE_FINISHED_CODE = 'E3'", "'last REC=E3'", alias="l")),
        Rule("1002", "Care leaver did not cease care aged 16-18 (or has no care history / is still looked "
             "after)", "error", cl_ep,
             _select(last, f"(h.cid IS NULL AND {observed}) OR (h.cid IS NOT NULL AND (h.end_date IS NULL "
                         "OR h.REASON_EPISODE_FINISHED_CODE = 'X1' "
                         "OR cc_age(h.wob_date, h.end_date) NOT BETWEEN 16 AND 18))",
                         "CASE WHEN h.cid IS NULL THEN 'no episodes in this LA' WHEN h.end_date IS NULL THEN "
                         "'still looked after' ELSE 'ceased ' || CAST(h.end_date AS VARCHAR) || ' aged ' || "
                         "CAST(cc_age(h.wob_date, h.end_date) AS VARCHAR) END", alias="l"),
             "Adapted 1001/1002/1007: the child's last episode in the LA must be closed (not X1) when "
             "aged 16, 17 or 18. No episodes at all is reported only where the LA's returns start 3+ "
             "years before the care-leaver year (else the care may predate the data)."),
    ]  # fmt: skip


def _crcs_rules() -> list[Rule]:
    crcs = ("crcs_child",)
    crcs_cla = ("crcs_child", "cla_episode")
    yes_no_unknown = ("DOMESTIC_ABUSE", "PARENTAL_SUBSTANCE_MISUSE", "PARENTAL_MENTAL_ILL_HEALTH",
                      "PARENTAL_LEARNING_DISABILITY", "PARENTAL_PHYSICAL_ILL_HEALTH",
                      "IMMUNISATIONS_UP_TO_DATE", "MENTAL_HEALTH", "SUBSTANCE_MISUSE", "WELSH_LANGUAGE")
    fields = [
        _Field("GNDR_CD", SEX_CODES), _Field("WOB", None), _Field("ETHNICITY", ETHNICITY_CODES),
        _Field("PLAN_START_DATE", None), _Field("PLAN_END_DATE", None, required=False),
        _Field("REASON_FOR_CLOSURE", CLOSURE_CODES, required=False),
        _Field("CATEGORY_OF_NEED_CODE", NEED_CODES), _Field("LOOKED_AFTER", YES_NO),
        _Field("CHILD_PROTECTION_REGISTER", YES_NO), _Field("DISABILITY", ("0", "1", "2")),
        *(_Field(col, YES_NO_UNKNOWN) for col in yes_no_unknown),
        _Field("DENTAL_CHECK", YES_NO_UNKNOWN, required=False),
        _Field("YOUTH_OFFENDING", YES_NO_UNKNOWN, required=False),
    ]
    open_cla = ("EXISTS (SELECT 1 FROM v_episode e WHERE e.yc = c.yc AND e.la = c.la AND e.cid = c.cid "
                "AND e.start_date <= e.ye AND (e.end_date IS NULL OR e.end_date > e.ye) "
                "AND e.LEGAL_STATUS_CODE IS DISTINCT FROM 'V1')")
    types = ("SELECT yc, la, cid, DISABILITY, unnest(string_split(DISABILITY_TYPES, '|')) AS code "
             "FROM v_crcs WHERE DISABILITY_TYPES IS NOT NULL")
    return [
        Rule("CRCS-CODES", "CRCS items must be present and valid", "error", crcs,
             _codes_rule_sql("v_crcs", fields),
             "Dental check and youth offending may be blank (see CRCS-DENTAL / CRCS-YOUTH)."),
        Rule("CRCS-3MONTH", "Plan must start by 1 January (to 202223) / within the year (from 202324)",
             "error", crcs,
             _select("v_crcs", "(yc < '202324' AND plan_start > make_date(year(ye), 1, 1)) OR "
                     "(yc >= '202324' AND plan_start > ye)", _show("PLAN_START_DATE")),
             "Up to 202223 the census counts plans open on 31 March that started on or before 1 January."),
        Rule("CRCS-AGE", "CRCS child must be born by and under 18 on the census date", "error", crcs,
             _select("v_crcs", "wob_date > ye OR (plan_end IS NULL AND cc_age(wob_date, ye) >= 18) OR "
                     "plan_end > cc_birthday(wob_date, 18)", _show("WOB", "PLAN_END_DATE")),
             "A plan closed in the year (202324 on) may close on the 18th birthday at the latest."),
        Rule("CRCS-LAC", "LOOKED_AFTER must agree with an open non-V1 CLA episode on 31 March", "error",
             crcs_cla,
             _select("v_crcs c", f"(LOOKED_AFTER = '1' AND NOT {open_cla}) OR "
                     f"(LOOKED_AFTER = '0' AND {open_cla})", _show("LOOKED_AFTER")),
             "Same LA, CHILD_CODE = SYSTEM_ID, CLA return of the same YEAR_CODE; open on 31 March = "
             "end date blank; V1 short breaks do not count as looked after."),
        Rule("CRCS-DISTYPE", "DISABILITY_TYPES only when DISABILITY = 1, with valid codes", "error", crcs,
             _select("v_crcs", "DISABILITY_TYPES IS NOT NULL AND DISABILITY IS DISTINCT FROM '1'",
                     _show("DISABILITY", "DISABILITY_TYPES"))
             + " UNION ALL "
             + _select(f"({types}) AS t", _not_in("code", DISABILITY_TYPE_CODES),
                       "'invalid disability type ' || COALESCE(code, '<blank>')")),
        Rule("CIN-8794", "Duplicate code in DISABILITY_TYPES", "error", crcs,
             f"SELECT yc, la, cid, CAST(NULL AS VARCHAR), 'duplicate disability type ' || code FROM ({types}) "
             "GROUP BY yc, la, cid, code HAVING count(*) > 1"),
        Rule("CRCS-DENTAL", "Dental check blank under 5 and recorded from 5", "error",
             crcs, _health_item_rule("DENTAL_CHECK", 5),
             "Age on 31 March, or on the plan end date where the plan closed in the year (202324 on)."),
        Rule("CRCS-YOUTH", "Youth offending blank under 10 and recorded from 10", "error",
             crcs, _health_item_rule("YOUTH_OFFENDING", 10),
             "Age on 31 March, or on the plan end date where the plan closed in the year (202324 on)."),
        Rule("CRCS-CLOSURE", "PLAN_END_DATE/REASON_FOR_CLOSURE only from 202324, together, within the "
             "year and after the plan start", "error", crcs,
             _select("v_crcs", "(yc < '202324' AND (PLAN_END_DATE IS NOT NULL OR REASON_FOR_CLOSURE IS NOT "
                     "NULL)) OR (yc >= '202324' AND ((PLAN_END_DATE IS NULL) <> (REASON_FOR_CLOSURE IS NULL) "
                     "OR plan_end < plan_start OR plan_end NOT BETWEEN ys AND ye))",
                     _show("PLAN_START_DATE", "PLAN_END_DATE", "REASON_FOR_CLOSURE"))),
        Rule("CIN-1520", "The same IRN (UPN) on two CRCS children of one LA in one return", "query", crcs,
             "SELECT yc, la, string_agg(cid, ', ' ORDER BY cid), NULL, 'IRN=' || IRN FROM v_crcs "
             "WHERE IRN IS NOT NULL GROUP BY yc, la, IRN HAVING count(DISTINCT cid) > 1"),
    ]  # fmt: skip


def _cross_rules() -> list[Rule]:
    all_tables = tuple(RAW_TABLES)
    keyed = {
        "cla_child": "YEAR_CODE, LOCAL_AUTHORITY_CODE, SYSTEM_ID",
        "cla_episode": "YEAR_CODE, LOCAL_AUTHORITY_CODE, SYSTEM_ID, EPISODE_START_DATE",
        "cla_adoption": "YEAR_CODE, LOCAL_AUTHORITY_CODE, SYSTEM_ID",
        "cla_care_leaver": "YEAR_CODE, LOCAL_AUTHORITY_CODE, SYSTEM_ID",
        "crcs_child": "YEAR_CODE, LOCAL_AUTHORITY_CODE, CHILD_CODE",
        "plasc_pupil": "YEAR_CODE, IRN",
    }
    duplicates = " UNION ALL ".join(
        f"SELECT YEAR_CODE, {'NULL' if t == 'plasc_pupil' else 'LOCAL_AUTHORITY_CODE'}, {_CHILD_COL[t]}, "
        f"{'EPISODE_START_DATE' if t == 'cla_episode' else 'NULL'}, "
        f"'{t}: ' || CAST(count(*) AS VARCHAR) || ' rows' FROM {t} "
        f"{'WHERE IRN IS NOT NULL ' if t == 'plasc_pupil' else ''}GROUP BY {keyed[t]} HAVING count(*) > 1"
        for t in all_tables
    )
    plasc_fields = [
        _Field("NATIONAL_CURRICULUM_YEAR", tuple(str(n) for n in range(-2, 15))), _Field("FSM", YES_NO),
        _Field("SEN", YES_NO), _Field("KS2_CSI", YES_NO, required=False),
        _Field("KS3_CSI", YES_NO, required=False),
    ]
    return [
        Rule("YEAR-FOLDER", "YEAR_CODE column disagrees with the year folder name", "error", all_tables,
             _raw_union("SELECT YEAR_CODE, LOCAL_AUTHORITY_CODE, {child}, NULL, '{table} in folder ' || "
                        "COALESCE(folder_year_code, '?') || ': YEAR_CODE=' || COALESCE(YEAR_CODE, '<blank>') "
                        "FROM {table} WHERE YEAR_CODE IS DISTINCT FROM folder_year_code", all_tables)),
        Rule("W-LA", "LOCAL_AUTHORITY_CODE must be one of the 22 Welsh LA codes", "error", all_tables,
             _raw_union("SELECT YEAR_CODE, LOCAL_AUTHORITY_CODE, {child}, NULL, '{table}: "
                        "LOCAL_AUTHORITY_CODE=' || COALESCE(LOCAL_AUTHORITY_CODE, '<blank>') FROM {table} WHERE "
                        + _not_in("LOCAL_AUTHORITY_CODE", LA_CODES), all_tables)),
        Rule("INT-DUP", "Duplicate key in a file (child per return, episode per child and start, ...)",
             "error", all_tables, duplicates,
             "Covers INT31-INT36 and CIN-8510; PLASC is keyed by YEAR_CODE and IRN."),
        Rule("ALF-1", "One LA child id (CLA SYSTEM_ID / CRCS CHILD_CODE) has several ALF_PE", "error",
             ("cla_child", "crcs_child"),
             "SELECT max(yc), la, cid, NULL, 'ALF_PE=' || string_agg(DISTINCT alf, ', ' ORDER BY alf) "
             "FROM v_people WHERE src <> 'plasc' AND alf IS NOT NULL GROUP BY la, cid "
             "HAVING count(DISTINCT alf) > 1"),
        Rule("ALF-2", "One ALF_PE has several weeks of birth, sexes or IRNs", "error",
             ("cla_child", "crcs_child", "plasc_pupil"),
             "SELECT max(yc), NULL, 'ALF_PE ' || alf, NULL, 'WOB=' || COALESCE(string_agg(DISTINCT wob, ', ' "
             "ORDER BY wob), '') || '; sex=' || COALESCE(string_agg(DISTINCT sex, ', ' ORDER BY sex), '') || "
             "'; IRN=' || COALESCE(string_agg(DISTINCT irn, ', ' ORDER BY irn), '') FROM v_people "
             "WHERE alf IS NOT NULL GROUP BY alf HAVING count(DISTINCT wob) > 1 OR count(DISTINCT sex) > 1 "
             "OR count(DISTINCT irn) > 1",
             "ALF_PE links the same person across LAs and across CLA, CRCS and PLASC."),
        Rule("ALF-3", "One IRN (UPN) has several ALF_PE", "error", ("cla_child", "crcs_child", "plasc_pupil"),
             "SELECT max(yc), NULL, 'IRN ' || irn, NULL, 'ALF_PE=' || string_agg(DISTINCT alf, ', ' "
             "ORDER BY alf) FROM v_people WHERE irn IS NOT NULL AND alf IS NOT NULL GROUP BY irn "
             "HAVING count(DISTINCT alf) > 1"),
        Rule("PLASC-CODES", "PLASC items valid; key stage results only in their year group", "error",
             ("plasc_pupil",),
             _codes_rule_sql("v_plasc", plasc_fields) + " UNION ALL "
             + _select("v_plasc", "(KS2_CSI IS NOT NULL AND NATIONAL_CURRICULUM_YEAR <> '6') OR "
                       "(KS3_CSI IS NOT NULL AND NATIONAL_CURRICULUM_YEAR <> '9') OR "
                       "(KS4_CAPPED_POINTS IS NOT NULL AND (NATIONAL_CURRICULUM_YEAR <> '11' OR "
                       "TRY_CAST(KS4_CAPPED_POINTS AS DOUBLE) IS NULL))",
                       _show("NATIONAL_CURRICULUM_YEAR", "KS2_CSI", "KS3_CSI", "KS4_CAPPED_POINTS")),
             "KS2 at the end of year 6, KS3 at the end of year 9, KS4 in year 11."),
    ]  # fmt: skip


RULES: tuple[Rule, ...] = tuple(
    _child_rules()
    + _episode_return_rules()
    + _episode_age_rules()
    + _episode_code_rules()
    + _episode_chain_rules()
    + _adoption_rules()
    + _care_leaver_rules()
    + _crcs_rules()
    + _cross_rules()
)
RULES_BY_ID: dict[str, Rule] = {rule.rule_id: rule for rule in RULES}


# ---------------------------------------------------------------------------
# Running and reporting
# ---------------------------------------------------------------------------


def run_rule(con: duckdb.DuckDBPyConnection, rule: Rule) -> list[Violation]:
    """The rule's violations as text tuples, sorted, on a connection with the views loaded."""
    sql = (
        "SELECT CAST(year_code AS VARCHAR), CAST(local_authority_code AS VARCHAR), "
        "CAST(child_id AS VARCHAR), CAST(episode_start_date AS VARCHAR), CAST(detail AS VARCHAR) "
        f"FROM ({rule.sql}) AS violations(year_code, local_authority_code, child_id, "
        "episode_start_date, detail) ORDER BY ALL"
    )
    return [tuple(row) for row in con.execute(sql).fetchall()]


def select_rules(rule_ids: Iterable[str] | None = None) -> list[Rule]:
    """The rules with these ids (all rules when None); unknown ids raise KeyError."""
    if rule_ids is None:
        return list(RULES)
    return [RULES_BY_ID[rule_id] for rule_id in rule_ids]


def check_rules(raw_dir: Path, rule_ids: Iterable[str] | None = None) -> dict[str, list[Violation]]:
    """Run the rules over the raw extract in ``raw_dir``: violations per rule id."""
    rules = select_rules(rule_ids)
    con = connect(Path(raw_dir), materialize=len(rules) > 5)
    try:
        return {rule.rule_id: run_rule(con, rule) for rule in rules}
    finally:
        con.close()


def format_report(results: dict[str, list[Violation]], max_rows: int = 5) -> str:
    """Human-readable summary: one line per rule, the first violations of failing rules."""
    lines = []
    failing = 0
    for rule_id, rows in results.items():
        rule = RULES_BY_ID[rule_id]
        status = "ok" if not rows else f"{len(rows)} {'error' if rule.severity == 'error' else 'query'}(s)"
        lines.append(f"{rule_id:<13} {status:<14} {rule.message}")
        if rows:
            failing += 1
            for row in rows[:max_rows]:
                year, la, child, start, detail = (value or "" for value in row)
                where = f"{year} LA {la} child {child}" + (f" episode {start}" if start else "")
                lines.append(f"{'':<13}   {where}: {detail}")
            if len(rows) > max_rows:
                lines.append(f"{'':<13}   ... and {len(rows) - max_rows} more")
    lines.append(f"{len(results)} rules, {failing} with violations")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m carecensus.rules RAW_DIR [RULE_ID ...]``: exit 1 on any error-level violation."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print(main.__doc__, file=sys.stderr)
        return 2
    results = check_rules(Path(args[0]), args[1:] or None)
    print(format_report(results))
    errors = any(rows and RULES_BY_ID[rule_id].severity == "error" for rule_id, rows in results.items())
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
