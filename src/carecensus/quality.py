"""Data quality with Great Expectations: raw-extract suites beside the build, mart suites after.

The suites are committed JSON files in ``expectations/<kind>/<suite>.json`` (Great Expectations'
own suite layout: ``name``, ``expectations`` with ``type``/``kwargs``/``meta``, ``meta``). A run
loads them and never rewrites them; ``author_suites`` writes them from the raw-extract contract
(the column ``meta`` of the dbt sources YAML), the code-list seeds and the published figures, and
is run by hand when one of those changes (``test_quality.py`` fails while they disagree).

Each suite's ``meta.batch`` names what it validates: a ``table`` of the raw check database or a
``query`` on the warehouse. ``meta.index_columns`` are listed for every unexpected row, and
``meta.authority_column``/``meta.year_column`` say which of them name the local authority and the
reporting year, so that a failure can say where it is.

Raw suites (``kind='raw'``) run on the raw CSV files, beside ``dbt build`` in the main job: the
files are loaded as text (``all_varchar``, as staging reads them) into a throw-away in-memory
DuckDB database with a memory limit of its own (``RAW_CHECK_MEMORY_LIMIT``: a large census is
paged to a temporary folder rather than held in memory beside the build), with a few derived
columns that the expectations need (the text of an unparseable date, days before the census date,
rows per authority against the previous year). Mart suites (``kind='mart'``) run on the built
warehouse opened read-only, so validation never takes the writer lock.

Every expectation result is classified ``passed``, ``failed`` (the data broke it) or ``error``
(Great Expectations raised while computing it: a missing column, bad SQL). An error is never a pass
and never a data failure; ``Summary.exit_code`` is non-zero when any expectation errored or a
critical one failed.

DuckDB through SQLAlchemy needs one persisted connection: Great Expectations reads query results
after closing a pooled connection, which duckdb-engine has already emptied, so every metric fails
with "list index out of range" (GX issues 10738, 11579). ``_DuckDBDatasource`` is a SQL datasource
whose execution engine keeps one connection open, as GX does itself for SQLite.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import re
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import duckdb
import yaml

from carecensus import published
from carecensus.paths import PROJECT_DIR, SEEDS_DIR
from carecensus.sql import identifier, literal

__all__ = [
    "DEFAULT_OUT_DIR",
    "EXPECTATIONS_DIR",
    "ContractColumn",
    "ContractTable",
    "ExpectationOutcome",
    "Summary",
    "author_suites",
    "build_suites",
    "load_contract",
    "load_suites",
    "prepare_raw_database",
    "run_suites",
    "suite_files",
]

Kind = Literal["raw", "mart"]
Status = Literal["passed", "failed", "error"]
Severity = Literal["critical", "warning"]

EXPECTATIONS_DIR = PROJECT_DIR / "expectations"
DEFAULT_OUT_DIR = PROJECT_DIR / "data" / "quality"  # data docs and summaries (gitignored data/)
SOURCES_YAML: tuple[str, ...] = (
    "models/staging/cla/_cla__sources.yml",
    "models/staging/crcs/_crcs__sources.yml",
    "models/staging/plasc/_plasc__sources.yml",
)
LOCAL_AUTHORITIES_SEED = SEEDS_DIR / "reference" / "ref_local_authorities.csv"
CODES_DIR = SEEDS_DIR / "codes"

logger = logging.getLogger(__name__)

_YEAR_DIR = re.compile(r"^\d{6}$")
_DAYS_PER_YEAR = 366  # generous: bounds in days before the census date use leap years

# ---------------------------------------------------------------------------------------------
# The raw-extract contract, read from the dbt sources YAML (one source of truth with staging)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContractColumn:
    name: str
    format: str
    code_list: str | None
    required: bool
    since_year_code: int | None


@dataclass(frozen=True)
class ContractTable:
    dataset: str  # cla, crcs, plasc
    name: str  # child, episode, ...
    columns: tuple[ContractColumn, ...]

    @property
    def path(self) -> str:
        """``cla/episode``: the file kind, as in the raw layout and the quarantine."""
        return f"{self.dataset}/{self.name}"

    @property
    def table(self) -> str:
        """``cla_episode``: the table of the raw check database."""
        return f"{self.dataset}_{self.name}"

    def expected_columns(self, year_code: int) -> list[str]:
        """The contract columns a file of that reporting year must have."""
        return [c.name for c in self.columns if c.since_year_code is None or year_code >= c.since_year_code]


def load_contract(project_dir: Path = PROJECT_DIR) -> list[ContractTable]:
    """The raw tables and their columns (format, code list, required, since) from the sources YAML."""
    tables: list[ContractTable] = []
    for relative in SOURCES_YAML:
        document = yaml.safe_load((project_dir / relative).read_text(encoding="utf-8"))
        for source in document["sources"]:
            for table in source["tables"]:
                columns = []
                for column in table["columns"]:
                    meta: dict[str, Any] = {}
                    meta.update(column.get("meta") or {})
                    meta.update((column.get("config") or {}).get("meta") or {})
                    since = meta.get("since_year_code")
                    columns.append(ContractColumn(
                        name=str(column["name"]),
                        format=str(meta.get("format", "text")),
                        code_list=meta.get("code_list"),
                        required=bool(meta.get("required", False)),
                        since_year_code=int(since) if since is not None else None,
                    ))
                tables.append(ContractTable(str(source["name"]), str(table["name"]), tuple(columns)))
    return tables


# ---------------------------------------------------------------------------------------------
# Suite authoring: what each suite checks (written once to JSON, loaded at run time)
# ---------------------------------------------------------------------------------------------

# The key of one row within a return (a file): duplicates of it are faults.
RAW_KEYS: dict[str, tuple[str, ...]] = {
    "cla/child": ("LOCAL_AUTHORITY_CODE", "SYSTEM_ID"),
    "cla/episode": ("LOCAL_AUTHORITY_CODE", "SYSTEM_ID", "EPISODE_START_DATE"),
    "cla/adoption": ("LOCAL_AUTHORITY_CODE", "SYSTEM_ID"),
    "cla/care_leaver": ("LOCAL_AUTHORITY_CODE", "SYSTEM_ID"),
    "crcs/child": ("LOCAL_AUTHORITY_CODE", "CHILD_CODE"),
    "plasc/pupil": ("IRN",),
}

# Plausible dates, in days before the census date (31 March) of the file's reporting year:
# (earliest, latest) = (max days before, min days before); a negative minimum allows dates after it.
DATE_BOUNDS: dict[str, tuple[int, int]] = {
    # born at most 19 years before the census date (children under 18 at some time in the year)
    "WOB": (0, 19 * _DAYS_PER_YEAR),
    "DATE_CEASED_UASC": (0, 19 * _DAYS_PER_YEAR),
    # an episode of the return started by the census date; it began before the child was 18
    "EPISODE_START_DATE": (0, 19 * _DAYS_PER_YEAR),
    # an episode that ended ended within the reporting year
    "EPISODE_END_DATE": (0, 365),
    "DATE_SHOULD_BE_PLACED": (0, 19 * _DAYS_PER_YEAR),
    "DATE_MATCHED": (0, 19 * _DAYS_PER_YEAR),
    "DATE_PLACED": (0, 19 * _DAYS_PER_YEAR),
    "DATE_OF_ADOPTION": (0, 365),
    "PLAN_START_DATE": (0, 19 * _DAYS_PER_YEAR),
    "PLAN_END_DATE": (0, 365),
}

# Row counts per authority against the same authority's previous return: tables large enough for
# a ratio to mean something per authority; the small ones (adoptions, care leavers) for Wales.
VOLUME_BY_AUTHORITY: tuple[str, ...] = ("cla/child", "cla/episode", "crcs/child", "plasc/pupil")
VOLUME_TOLERANCE: tuple[float, float] = (0.6, 1.67)
# Rows counted for volumes: CRCS became an all-year collection in 202324, so count the plans open
# on the census date, which the snapshot years and the all-year years both hold.
VOLUME_ROWS: dict[str, str] = {"crcs/child": '"PLAN_END_DATE" is null'}
WALES_VOLUME_TOLERANCE: tuple[float, float] = (0.5, 2.0)

RAW_INDEX = ["source_file", "source_row_number", "LOCAL_AUTHORITY_CODE", "folder_year_code"]


def _expectation(type_: str, severity: Severity, description: str, **kwargs: Any) -> dict[str, Any]:
    return {"type": type_, "kwargs": kwargs, "meta": {"severity": severity, "description": description}}


def _suite(name: str, kind: Kind, batch: dict[str, str], description: str, expectations: list[dict[str, Any]],
           index_columns: Sequence[str] = (), authority_column: str | None = None,
           year_column: str | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "meta": {
            "kind": kind,
            "description": description,
            "batch": batch,
            "index_columns": list(index_columns),
            "authority_column": authority_column,
            "year_column": year_column,
        },
        "expectations": expectations,
    }


def _read_codes(code_list: str) -> list[str]:
    if code_list == "ref_local_authorities":
        path = LOCAL_AUTHORITIES_SEED
        key = "local_authority_code"
    else:
        path, key = CODES_DIR / f"{code_list}.csv", "code"
    with path.open(encoding="utf-8", newline="") as handle:
        return [row[key] for row in csv.DictReader(handle)]


def _code_list_of(column: ContractColumn) -> str | None:
    if column.format == "local_authority":
        return "ref_local_authorities"
    return column.code_list


def _raw_table_suite(table: ContractTable) -> dict[str, Any]:
    path = table.path
    expectations: list[dict[str, Any]] = [
        _expectation("expect_table_row_count_to_be_between", "critical",
                     f"the {path} files hold rows", min_value=1),
        _expectation("expect_column_pair_values_to_be_equal", "critical",
                     "YEAR_CODE agrees with the year folder of the file",
                     column_A="YEAR_CODE", column_B="folder_year_code"),
        _expectation("expect_compound_columns_to_be_unique", "critical",
                     f"no duplicate key ({', '.join(RAW_KEYS[path])}) within a return",
                     column_list=["folder_year_code", *RAW_KEYS[path]]),
    ]
    for column in table.columns:
        if column.required and column.since_year_code is None:
            expectations.append(_expectation(
                "expect_column_values_to_not_be_null", "critical", f"{column.name} is required",
                column=column.name))
        code_list = _code_list_of(column)
        if code_list and column.format != "code_set":
            expectations.append(_expectation(
                "expect_column_values_to_be_in_set", "critical", f"{column.name} is in {code_list}",
                column=column.name, value_set=_read_codes(code_list)))
        if column.format == "date":
            expectations.append(_expectation(
                "expect_column_values_to_be_null", "critical", f"{column.name} is an ISO date",
                column=f"{column.name}__unparseable"))
            low, high = DATE_BOUNDS[column.name]
            expectations.append(_expectation(
                "expect_column_values_to_be_between", "critical",
                f"{column.name} lies {low} to {high} days before the census date of its year",
                column=f"{column.name}__days_before_census_date", min_value=low, max_value=high))
        if column.format in ("integer", "signed_integer", "decimal"):
            expectations.append(_expectation(
                "expect_column_values_to_be_null", "critical", f"{column.name} is a number",
                column=f"{column.name}__unparseable"))
    return _suite(f"raw_{table.table}", "raw", {"table": table.table},
                  f"Rows of the {path} files against the contract", expectations,
                  RAW_INDEX, "LOCAL_AUTHORITY_CODE", "folder_year_code")


def _raw_code_set_suites(contract: Sequence[ContractTable]) -> list[dict[str, Any]]:
    suites = []
    for table in contract:
        for column in table.columns:
            if column.format == "code_set" and column.code_list:
                name = f"{table.table}__{column.name.lower()}"
                suites.append(_suite(
                    f"raw_{name}", "raw", {"table": name},
                    f"Each code of the |-separated {column.name} of {table.path}",
                    [_expectation("expect_column_values_to_be_in_set", "critical",
                                  f"every {column.name} code is in {column.code_list}",
                                  column="code", value_set=_read_codes(column.code_list))],
                    ["source_file", "source_row_number", "LOCAL_AUTHORITY_CODE", "folder_year_code"],
                    "LOCAL_AUTHORITY_CODE", "folder_year_code"))
    return suites


def _raw_file_suites() -> list[dict[str, Any]]:
    files = _suite(
        "raw_files", "raw", {"table": "raw_files"},
        "Every expected file is there, readable, with the contract's columns and well-formed rows",
        [
            _expectation("expect_column_values_to_be_in_set", "critical",
                         "every year folder has every file of the layout", column="is_present", value_set=[1]),
            _expectation("expect_column_values_to_be_in_set", "critical",
                         "the file has a header row", column="has_header", value_set=[1]),
            _expectation("expect_column_values_to_be_between", "critical",
                         "the file has every contract column of its year",
                         column="missing_contract_columns", min_value=0, max_value=0),
            _expectation("expect_column_values_to_be_between", "critical",
                         "every row has as many fields as the header",
                         column="malformed_rows", min_value=0, max_value=0),
            _expectation("expect_column_values_to_be_between", "warning",
                         "no column outside the contract", column="unknown_columns", min_value=0, max_value=0),
        ],
        ["source_file", "folder_year_code", "missing_column_names", "unknown_column_names"],
        None, "folder_year_code")
    low, high = VOLUME_TOLERANCE
    wales_low, wales_high = WALES_VOLUME_TOLERANCE
    volumes = _suite(
        "raw_volumes", "raw", {"table": "raw_volumes"},
        "Rows per authority of the large files against the same authority's previous return",
        [
            _expectation("expect_column_values_to_be_between", "warning",
                         f"rows per authority within {low:g} to {high:g} times the previous year's",
                         column="authority_change_ratio", min_value=low, max_value=high),
            _expectation("expect_column_values_to_be_between", "critical",
                         "every authority has rows in every large file",
                         column="authority_rows_if_expected", min_value=1),
        ],
        ["table_path", "local_authority_code", "year_code", "rows", "previous_year_rows"],
        "local_authority_code", "year_code")
    wales = _suite(
        "raw_volumes_wales", "raw", {"table": "raw_volumes_wales"},
        "Rows for Wales per file kind against the previous return",
        [_expectation("expect_column_values_to_be_between", "warning",
                      f"rows for Wales within {wales_low:g} to {wales_high:g} times the previous year's",
                      column="change_ratio", min_value=wales_low, max_value=wales_high)],
        ["table_path", "year_code", "rows", "previous_year_rows"], None, "year_code")
    return [files, volumes, wales]


# Mart suites: queries over the warehouse (read-only). Written for the marts that exist:
# fct_cla_looked_after_at_31_march, fct_cla_episodes, fct_crcs_care_and_support, dim_*.
_CLA_31_MARCH = "marts.fct_cla_looked_after_at_31_march"
_FOSTER = (
    "coalesce((select p.is_foster_placement from marts.dim_placement_type as p "
    "where p.code = f.placement_type_code), false)"
)


def _published_values() -> str:
    rows = ", ".join(
        f"({(year - 1) * 100 + year % 100}, {count})"
        for year, count in sorted(published.CLA_AT_31_MARCH.items())
    )
    return f"(values {rows}) as published (year_code, published_children)"


def _mart_suites() -> list[dict[str, Any]]:
    wales_query = f"""
with headline as (
    select
        f.year_code,
        count(*) as children,
        avg(case when {_FOSTER} then 1.0 else 0.0 end) as foster_share,
        avg(case when f.age_at_census_date < 1 then 1.0 else 0.0 end) as under_1_share,
        avg(case when f.age_at_census_date between 1 and 4 then 1.0 else 0.0 end) as aged_1_to_4_share,
        avg(case when f.age_at_census_date between 5 and 9 then 1.0 else 0.0 end) as aged_5_to_9_share,
        avg(case when f.age_at_census_date between 10 and 15 then 1.0 else 0.0 end) as aged_10_to_15_share,
        avg(case when f.age_at_census_date >= 16 then 1.0 else 0.0 end) as aged_16_and_over_share,
        count(distinct f.local_authority_code) as authorities_reporting
    from {_CLA_31_MARCH} as f
    where not f.is_short_break_only
    group by f.year_code
)
select
    headline.*,
    published.published_children,
    headline.children * 1.0 / published.published_children as published_ratio
from headline
left join {_published_values()} on headline.year_code = published.year_code
"""
    authority_query = f"""
with grid as (
    select a.local_authority_code, y.year_code
    from marts.dim_local_authorities as a
    cross join (select distinct year_code from {_CLA_31_MARCH}) as y
),
counted as (
    select local_authority_code, year_code, count(*) as children
    from {_CLA_31_MARCH}
    where not is_short_break_only
    group by local_authority_code, year_code
),
crcs as (
    -- children with a plan open on the census date: comparable before and after 202324
    select local_authority_code, year_code, count(*) as crcs_children
    from marts.fct_crcs_care_and_support
    where plan_end_date is null or plan_end_date >= census_date
    group by local_authority_code, year_code
),
joined as (
    select
        grid.local_authority_code,
        grid.year_code,
        coalesce(counted.children, 0) as children,
        coalesce(crcs.crcs_children, 0) as crcs_children
    from grid
    left join counted using (local_authority_code, year_code)
    left join crcs using (local_authority_code, year_code)
)
select
    *,
    children * 1.0 / nullif(lag(children) over w, 0) as change_ratio,
    crcs_children * 1.0 / nullif(lag(crcs_children) over w, 0) as crcs_change_ratio
from joined
window w as (partition by local_authority_code order by year_code)
"""
    cross_query = f"""
select
    c.local_authority_code,
    c.year_code,
    count(*) as crcs_looked_after,
    count(*) filter (where m.child_key is null) as without_open_cla_episode
from marts.fct_crcs_care_and_support as c
left join {_CLA_31_MARCH} as m
    on c.child_key = m.child_key and c.year_code = m.year_code
where c.is_looked_after
group by c.local_authority_code, c.year_code
"""
    reconcile_query = f"""
with census_dates as (
    select distinct year_code, census_date from {_CLA_31_MARCH}
),
from_episodes as (
    select d.year_code, count(distinct e.child_key) as children_with_open_episode
    from census_dates as d
    inner join marts.fct_cla_episodes as e
        on e.episode_start_date <= d.census_date
        and (e.episode_end_date is null or e.episode_end_date > d.census_date)
    group by d.year_code
),
from_fact as (
    select year_code, count(*) as children_at_31_march, count(distinct child_key) as distinct_children
    from {_CLA_31_MARCH}
    group by year_code
)
select
    from_fact.year_code,
    from_fact.children_at_31_march,
    from_fact.distinct_children,
    coalesce(from_episodes.children_with_open_episode, 0) as children_with_open_episode,
    from_fact.children_at_31_march - coalesce(from_episodes.children_with_open_episode, 0) as difference
from from_fact
left join from_episodes using (year_code)
"""
    year_index = ["year_code"]

    def batch(query: str) -> dict[str, str]:
        # GX query assets must start with SELECT: wrap the CTEs in a subquery
        return {"query": f"select * from (\n{query.strip()}\n) as checked"}

    return [
        _suite(
            "mart_cla_31_march_wales", "mart", batch(wales_query),
            "Children looked after at 31 March (excluding short breaks only), Wales, by year: "
            "distributions and the published headline count",
            [
                _expectation("expect_column_values_to_be_between", "critical",
                             "all 22 authorities report children looked after", column="authorities_reporting",
                             min_value=22, max_value=22),
                _expectation("expect_column_values_to_be_between", "warning",
                             "share in foster placements 60-80% (published 67.7-74%)", column="foster_share",
                             min_value=0.60, max_value=0.80),
                _expectation("expect_column_values_to_be_between", "warning",
                             "share aged under 1 within 1-8%", column="under_1_share",
                             min_value=0.01, max_value=0.08),
                _expectation("expect_column_values_to_be_between", "warning",
                             "share aged 1 to 4 within 8-25%", column="aged_1_to_4_share",
                             min_value=0.08, max_value=0.25),
                _expectation("expect_column_values_to_be_between", "warning",
                             "share aged 5 to 9 within 12-30%", column="aged_5_to_9_share",
                             min_value=0.12, max_value=0.30),
                _expectation("expect_column_values_to_be_between", "warning",
                             "share aged 10 to 15 within 30-50%", column="aged_10_to_15_share",
                             min_value=0.30, max_value=0.50),
                _expectation("expect_column_values_to_be_between", "warning",
                             "share aged 16 and over within 12-30%", column="aged_16_and_over_share",
                             min_value=0.12, max_value=0.30),
                _expectation("expect_column_values_to_be_between", "warning",
                             "children looked after within 5% of the published figure (domain-reference 5.1)",
                             column="published_ratio", min_value=0.95, max_value=1.05),
            ],
            year_index, None, "year_code"),
        _suite(
            "mart_volumes_by_authority", "mart", batch(authority_query),
            "Children looked after at 31 March and children with a care and support plan open on the census "
            "date, per authority and year, against the previous year",
            [
                _expectation("expect_column_values_to_be_between", "critical",
                             "every authority has children looked after in every year", column="children",
                             min_value=1),
                _expectation("expect_column_values_to_be_between", "critical",
                             "every authority has children receiving care and support in every year",
                             column="crcs_children", min_value=1),
                _expectation("expect_column_values_to_be_between", "warning",
                             "children looked after within 0.75-1.33 times the previous year's",
                             column="change_ratio", min_value=0.75, max_value=1.33),
                _expectation("expect_column_values_to_be_between", "warning",
                             "children with an open plan within 0.75-1.33 times the previous year's",
                             column="crcs_change_ratio", min_value=0.75, max_value=1.33),
            ],
            ["local_authority_code", "year_code", "children", "crcs_children"], "local_authority_code",
            "year_code"),
        _suite(
            "mart_cross_census", "mart", batch(cross_query),
            "Every child recorded as looked after in CRCS is looked after at 31 March in the CLA census",
            [
                _expectation("expect_column_values_to_be_between", "critical",
                             "no CRCS looked-after child without an open CLA episode on 31 March",
                             column="without_open_cla_episode", min_value=0, max_value=0),
            ],
            ["local_authority_code", "year_code", "crcs_looked_after"], "local_authority_code", "year_code"),
        _suite(
            "mart_cla_31_march_reconciliation", "mart", batch(reconcile_query),
            "The 31 March fact (the published headline table) reconciles with the episodes fact",
            [
                _expectation("expect_column_values_to_be_between", "critical",
                             "children at 31 March = children with an episode open on the census date",
                             column="difference", min_value=0, max_value=0),
                _expectation("expect_column_pair_values_to_be_equal", "critical",
                             "one row per child in the 31 March fact",
                             column_A="children_at_31_march", column_B="distinct_children"),
            ],
            ["year_code", "children_at_31_march", "children_with_open_episode"], None, "year_code"),
    ]


def build_suites(project_dir: Path = PROJECT_DIR) -> dict[str, list[dict[str, Any]]]:
    """Every suite, by kind, as the JSON documents ``author_suites`` writes."""
    contract = load_contract(project_dir)
    raw = [*_raw_file_suites(), *(_raw_table_suite(t) for t in contract), *_raw_code_set_suites(contract)]
    return {"raw": raw, "mart": _mart_suites()}


def _suite_text(suite: Mapping[str, Any]) -> str:
    return json.dumps(suite, indent=2, sort_keys=False) + "\n"


def author_suites(out_dir: Path = EXPECTATIONS_DIR, project_dir: Path = PROJECT_DIR) -> list[Path]:
    """Write every suite to ``out_dir/<kind>/<name>.json`` (run by hand; never during validation)."""
    written = []
    for kind, suites in build_suites(project_dir).items():
        folder = out_dir / kind
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.json"):
            if stale.stem not in {s["name"] for s in suites}:
                stale.unlink()
        for suite in suites:
            path = folder / f"{suite['name']}.json"
            path.write_text(_suite_text(suite), encoding="utf-8")
            written.append(path)
    return written


def suite_files(kind: Kind, expectations_dir: Path = EXPECTATIONS_DIR) -> list[Path]:
    return sorted((expectations_dir / kind).glob("*.json"))


def load_suites(kind: Kind, expectations_dir: Path = EXPECTATIONS_DIR) -> list[dict[str, Any]]:
    """The committed suites of a kind, as JSON documents (read only)."""
    suites = []
    for path in suite_files(kind, expectations_dir):
        document = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(document, dict) or "name" not in document or "expectations" not in document:
            raise ValueError(f"{path}: not an expectation suite")
        suites.append(document)
    if not suites:
        raise FileNotFoundError(f"no {kind} suites in {expectations_dir / kind}")
    return suites


# ---------------------------------------------------------------------------------------------
# The raw check database
# ---------------------------------------------------------------------------------------------


@dataclass
class _RawFile:
    table: ContractTable
    year_code: str
    path: Path
    relative: str
    header: list[str] = field(default_factory=list)
    rows: int = 0
    malformed_rows: int = 0
    present: bool = True


def _scan_file(raw: _RawFile) -> None:
    """Header and field counts of one file (0-byte and truncated files included)."""
    with raw.path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        raw.header = [name.strip() for name in next(reader, [])]
        width = len(raw.header)
        for row in reader:
            raw.rows += 1
            if len(row) != width:
                raw.malformed_rows += 1


def _discover(raw_dir: Path, contract: Sequence[ContractTable]) -> list[_RawFile]:
    years = sorted({p.name for d in ("cla", "crcs", "plasc") for p in (raw_dir / d).glob("*")
                    if p.is_dir() and _YEAR_DIR.match(p.name)})
    files = []
    for table in contract:
        for year in years:
            relative = f"{table.dataset}/{year}/{table.name}.csv"
            path = raw_dir / relative
            raw = _RawFile(table, year, path, relative, present=path.is_file())
            if raw.present:
                _scan_file(raw)
            files.append(raw)
    return files


def _load_table(con: _Connection, table: ContractTable, files: Sequence[_RawFile]) -> None:
    readable = [f for f in files if f.present and f.header]
    select: list[str] = []
    for column in table.columns:
        present = any(column.name in f.header for f in readable)
        value = f"nullif(trim({identifier(column.name)}), '')" if present else "cast(null as varchar)"
        select.append(f"{value} as {identifier(column.name)}")
    if readable:
        paths = ", ".join(literal(str(f.path)) for f in readable)
        source = (
            f"select *, row_number() over () as read_order from read_csv([{paths}], all_varchar = true, "
            "union_by_name = true, filename = true, header = true, null_padding = true, ignore_errors = true, "
            "delim = ',', quote = '\"', escape = '\"')"
        )
    else:
        source = "select cast(null as varchar) as filename, cast(null as bigint) as read_order where false"
    con.execute(f"""
        create table {table.table}__read as
        select
            regexp_extract(replace(filename, chr(92), '/'), '([^/]*/[^/]*/[^/]*)$', 1) as source_file,
            read_order - min(read_order) over (partition by filename) + 1 as source_row_number,
            {', '.join(select)}
        from ({source})
    """)
    derived: list[str] = []
    for column in table.columns:
        name = identifier(column.name)
        if column.format == "date":
            parsed = f"try_strptime({name}, '%Y-%m-%d')"
            derived.append(f"case when {name} is not null and {parsed} is null then {name} end "
                           f"as {identifier(column.name + '__unparseable')}")
            derived.append(f"date_diff('day', cast({parsed} as date), census_date) "
                           f"as {identifier(column.name + '__days_before_census_date')}")
        elif column.format in ("integer", "signed_integer", "decimal"):
            target = "double" if column.format == "decimal" else "bigint"
            derived.append(f"case when {name} is not null and try_cast({name} as {target}) is null "
                           f"then {name} end as {identifier(column.name + '__unparseable')}")
    con.execute(f"""
        create table {table.table} as
        with located as (
            select
                *,
                split_part(source_file, '/', 2) as folder_year_code,
                make_date(try_cast(left(split_part(source_file, '/', 2), 4) as integer) + 1, 3, 31) as census_date
            from {table.table}__read
        )
        select *{''.join(', ' + d for d in derived)} from located
    """)
    con.execute(f"drop table {table.table}__read")
    for column in table.columns:
        if column.format == "code_set":
            con.execute(f"""
                create table {table.table}__{column.name.lower()} as
                select source_file, source_row_number, "LOCAL_AUTHORITY_CODE", folder_year_code,
                    trim(unnest(string_split({identifier(column.name)}, '|'))) as code
                from {table.table}
                where {identifier(column.name)} is not null
            """)


class _Connection(Protocol):
    """What the loading needs of a DuckDB connection (the Python API or duckdb-engine's wrapper)."""

    def execute(self, query: str, parameters: object = ...) -> Any: ...

    def executemany(self, query: str, parameters: object = ...) -> Any: ...


def prepare_raw_database(raw_dir: Path, con: _Connection, project_dir: Path = PROJECT_DIR) -> None:
    """Load the raw files into a DuckDB connection as the tables the raw suites validate."""
    contract = load_contract(project_dir)
    files = _discover(Path(raw_dir), contract)
    if not any(f.present for f in files):
        raise FileNotFoundError(f"no raw census files under {raw_dir}")
    con.execute("set enable_progress_bar = false")
    con.execute("""
        create table raw_files (
            source_file varchar, table_path varchar, folder_year_code varchar, is_present integer,
            has_header integer, data_rows integer, malformed_rows integer,
            missing_contract_columns integer, missing_column_names varchar,
            unknown_columns integer, unknown_column_names varchar)
    """)
    records = []
    for f in files:
        expected = f.table.expected_columns(int(f.year_code))
        known = {c.name for c in f.table.columns}
        # an empty file is reported once, as headerless, not as missing every column
        missing = [c for c in expected if c not in f.header] if f.header else []
        unknown = [c for c in f.header if c not in known]
        records.append((f.relative, f.table.path, f.year_code, int(f.present), int(bool(f.header) or not f.present),
                        f.rows, f.malformed_rows, len(missing), "|".join(missing) or None,
                        len(unknown), "|".join(unknown) or None))
    con.executemany("insert into raw_files values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", records)
    for table in contract:
        _load_table(con, table, [f for f in files if f.table is table])
    authorities = ", ".join(f"({literal(code)})" for code in _read_codes("ref_local_authorities"))
    by_authority = ", ".join(literal(p) for p in VOLUME_BY_AUTHORITY)
    counts = " union all ".join(
        f"select {literal(t.path)} as table_path, \"LOCAL_AUTHORITY_CODE\" as local_authority_code, "
        f"folder_year_code as year_code, count(*) filter (where {VOLUME_ROWS.get(t.path, 'true')}) as rows "
        f"from {t.table} group by all"
        for t in contract
    )
    con.execute(f"""
        create table raw_volumes as
        with years as (select distinct table_path, folder_year_code as year_code from raw_files),
        authorities as (select * from (values {authorities}) as a (local_authority_code)),
        counts as ({counts}),
        by_authority as (
            select years.table_path, years.year_code, authorities.local_authority_code,
                coalesce(counts.rows, 0) as rows
            from years
            cross join authorities
            left join counts using (table_path, year_code, local_authority_code)
        ),
        compared as (
            select
                *,
                lag(rows) over (partition by table_path, local_authority_code order by year_code)
                    as previous_year_rows
            from by_authority
        )
        select
            *,
            case when table_path in ({by_authority}) then rows * 1.0 / nullif(previous_year_rows, 0) end
                as authority_change_ratio,
            case when table_path in ({by_authority}) then rows end as authority_rows_if_expected
        from compared
    """)
    con.execute("""
        create table raw_volumes_wales as
        with wales as (
            select table_path, year_code, sum(rows) as rows from raw_volumes group by table_path, year_code
        ),
        compared as (
            select *, lag(rows) over (partition by table_path order by year_code) as previous_year_rows
            from wales
        )
        select *, rows * 1.0 / nullif(previous_year_rows, 0) as change_ratio from compared
    """)


# ---------------------------------------------------------------------------------------------
# Running the suites with Great Expectations
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation of one suite, classified."""

    suite: str
    expectation: str  # the GX type, e.g. expect_column_values_to_be_in_set
    column: str | None
    description: str
    status: Status
    severity: Severity
    authorities: tuple[str, ...] = ()
    years: tuple[str, ...] = ()
    unexpected_count: int | None = None
    observed: str | None = None
    examples: tuple[str, ...] = ()  # a few unexpected rows or values, as text
    error: str | None = None  # the exception message, for status == "error"


@dataclass
class Summary:
    kind: Kind
    outcomes: list[ExpectationOutcome]
    seconds: float
    data_docs_index: Path | None = None
    summary_path: Path | None = None

    def with_status(self, status: Status) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def failed_suites(self) -> list[str]:
        return sorted({o.suite for o in self.with_status("failed")})

    @property
    def critical_failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.with_status("failed") if o.severity == "critical"]

    @property
    def exit_code(self) -> int:
        """0 when nothing errored and no critical expectation failed; 2 on errors; 1 on critical failures."""
        if self.with_status("error"):
            return 2
        return 1 if self.critical_failures else 0

    def counts(self) -> dict[str, int]:
        statuses: tuple[Status, ...] = ("passed", "failed", "error")
        return {status: len(self.with_status(status)) for status in statuses}

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "exit_code": self.exit_code,
            "seconds": round(self.seconds, 2),
            "counts": self.counts(),
            "data_docs_index": str(self.data_docs_index) if self.data_docs_index else None,
            "results": [asdict(o) for o in self.outcomes],
        }

    def describe(self) -> str:
        """A short report: counts, then every error and failure with where it is."""
        counts = self.counts()
        lines = [f"{self.kind} suites: {counts['passed']} passed, {counts['failed']} failed, "
                 f"{counts['error']} errors in {self.seconds:.1f} s"]
        for o in self.outcomes:
            if o.status == "passed":
                continue
            where = ""
            if o.authorities:
                where += f" authorities {', '.join(o.authorities[:8])}{' ...' if len(o.authorities) > 8 else ''}"
            if o.years:
                where += f" years {', '.join(o.years[:8])}"
            detail = o.error if o.status == "error" else f"{o.unexpected_count or ''} {o.observed or ''}".strip()
            lines.append(f"  {o.status.upper()} [{o.severity}] {o.suite}: {o.description} "
                         f"({o.expectation}{' ' + o.column if o.column else ''}){where} {detail}".rstrip())
        return "\n".join(lines)


def _datasource_class() -> type[Any]:
    """A SQL datasource whose execution engine keeps one DuckDB connection open (see module doc)."""
    global _DATASOURCE_CLASS
    if _DATASOURCE_CLASS is not None:
        return _DATASOURCE_CLASS
    from great_expectations.datasource.fluent.sql_datasource import SQLDatasource
    from great_expectations.execution_engine.sqlalchemy_execution_engine import SqlAlchemyExecutionEngine

    class PersistentConnectionEngine(SqlAlchemyExecutionEngine):
        @contextmanager
        def get_connection(self) -> Iterator[Any]:
            if self._connection is None:
                self._connection = self.engine.connect()
            yield self._connection

    class CarecensusDuckDBDatasource(SQLDatasource):
        type: Literal["carecensus_duckdb"] = "carecensus_duckdb"  # type: ignore[assignment]

        @property
        def execution_engine_type(self) -> Any:
            return PersistentConnectionEngine

        def get_engine(self) -> Any:
            # one engine for asset checks and validation: an in-memory database is per engine
            return self.get_execution_engine().engine

    _DATASOURCE_CLASS = CarecensusDuckDBDatasource
    return _DATASOURCE_CLASS


_DATASOURCE_CLASS: type[Any] | None = None


def _raised(exception_info: Any) -> str | None:
    """The exception message if GX raised computing the expectation, else None."""
    if not isinstance(exception_info, dict):
        return None
    if "raised_exception" in exception_info:
        if exception_info.get("raised_exception"):
            return str(exception_info.get("exception_message") or "exception raised")
        return None
    for value in exception_info.values():  # keyed by metric: {metric id: {raised_exception, ...}}
        message = _raised(value) if isinstance(value, dict) else ("exception raised" if value is True else None)
        if message:
            return message
    return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _classify(suite: Mapping[str, Any], result: Any) -> ExpectationOutcome:
    config = result.expectation_config
    meta = dict(config.meta or {})
    kwargs = dict(config.kwargs or {})
    severity: Severity = "warning" if meta.get("severity") == "warning" else "critical"
    suite_meta = suite.get("meta", {})
    column = kwargs.get("column") or kwargs.get("column_A") or (
        ",".join(kwargs["column_list"]) if "column_list" in kwargs else None)
    error = _raised(result.exception_info)
    body = dict(result.result or {})
    status: Status = "error" if error else ("passed" if result.success else "failed")
    authorities: set[str] = set()
    years: set[str] = set()
    examples: list[str] = []
    if status == "failed":
        authority_column = suite_meta.get("authority_column")
        year_column = suite_meta.get("year_column")
        for row in body.get("unexpected_index_list") or []:
            if isinstance(row, dict):
                if authority_column and row.get(authority_column) is not None:
                    authorities.add(str(row[authority_column]))
                if year_column and row.get(year_column) is not None:
                    years.add(str(row[year_column]))
                if len(examples) < 10:
                    examples.append(_text(row))
        if not examples:
            examples = [_text(v) for v in (body.get("partial_unexpected_list") or [])[:10]]
    observed = body.get("observed_value")
    return ExpectationOutcome(
        suite=str(suite["name"]),
        expectation=str(config.type),
        column=column,
        description=str(meta.get("description", "")),
        status=status,
        severity=severity,
        authorities=tuple(sorted(authorities)),
        years=tuple(sorted(years)),
        unexpected_count=body.get("unexpected_count"),
        observed=None if observed is None else _text(observed),
        examples=tuple(examples),
        error=error,
    )


def _quiet_gx() -> None:
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="great_expectations")


def _validate(kind: Kind, connection_string: str, connect_args: dict[str, Any], suites: Sequence[dict[str, Any]],
              docs_dir: Path | None, prepare: Callable[[_Connection], None] | None = None
              ) -> tuple[list[ExpectationOutcome], Path | None]:
    _quiet_gx()
    import great_expectations as gx

    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    if docs_dir is not None:
        context.add_data_docs_site(site_name="carecensus", site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        })
    datasource = context.data_sources.add_sql(datasource=_datasource_class()(
        name=f"carecensus_{kind}", connection_string=connection_string, kwargs={"connect_args": connect_args}))
    outcomes: list[ExpectationOutcome] = []
    try:
        if prepare is not None:
            # the database GX validates is the one behind its own persisted connection. The raw
            # check database is in memory: duckdb-engine keeps one connection per thread for it
            # (SingletonThreadPool), so GX's other connections in this thread see the same
            # database, and everything here must stay on this thread.
            prepared = time.perf_counter()
            with datasource.get_execution_engine().get_connection() as connection:
                prepare(connection.connection.driver_connection)
                connection.commit()
            logger.info("raw check database loaded in %.1f s", time.perf_counter() - prepared)
        # every asset first: adding one probes the table through the engine's pool (on a file,
        # a connection of its own), which must not meet the persisted connection inside a
        # validation's transaction
        definitions: list[tuple[dict[str, Any], Any]] = []
        for document in suites:
            name = str(document["name"])
            meta = dict(document.get("meta") or {})
            batch = meta.get("batch") or {}
            asset: Any
            try:
                if "table" in batch:
                    asset = datasource.add_table_asset(name=name, table_name=str(batch["table"]))
                else:
                    asset = datasource.add_query_asset(name=name, query=str(batch["query"]))
                suite = context.suites.add(gx.ExpectationSuite(
                    name=name, expectations=[dict(e) for e in document["expectations"]], meta=meta))
                definitions.append((document, context.validation_definitions.add(gx.ValidationDefinition(
                    name=name, data=asset.add_batch_definition_whole_table("all"), suite=suite))))
            except Exception as exc:  # no such table, bad query, bad suite: every expectation errors
                outcomes.extend(_suite_error(document, exc))
        for document, definition in definitions:
            meta = dict(document.get("meta") or {})
            result_format: dict[str, Any] = {"result_format": "COMPLETE", "partial_unexpected_count": 20,
                                             "return_unexpected_index_query": False}
            if meta.get("index_columns"):
                result_format["unexpected_index_column_names"] = list(meta["index_columns"])
            try:
                validation = definition.run(result_format=result_format)
            except Exception as exc:  # the whole suite could not run: every expectation is an error
                outcomes.extend(_suite_error(document, exc))
                continue
            outcomes.extend(_classify(document, r) for r in validation.results)
        index = None
        if docs_dir is not None:
            context.build_data_docs(site_names=["carecensus"])
            index = docs_dir / "index.html"
    finally:
        engine = datasource.get_execution_engine()
        if engine._connection is not None:
            engine._connection.close()
        engine.engine.dispose()
    return outcomes, index


def _suite_error(document: Mapping[str, Any], exc: Exception) -> list[ExpectationOutcome]:
    return [
        ExpectationOutcome(
            suite=str(document["name"]), expectation=str(e["type"]),
            column=e.get("kwargs", {}).get("column"), description=str(e.get("meta", {}).get("description", "")),
            status="error", severity="warning" if e.get("meta", {}).get("severity") == "warning" else "critical",
            error=f"{type(exc).__name__}: {exc}")
        for e in document["expectations"]
    ]


# DuckDB's memory limit for the raw check database: the raw suites run beside dbt build, whose
# profile has a limit of its own (profiles.yml), so the two together stay within the machine's budget
RAW_CHECK_MEMORY_LIMIT = "1GB"


def run_suites(kind: Kind, source: Path, out_dir: Path, expectations_dir: Path = EXPECTATIONS_DIR,
               project_dir: Path = PROJECT_DIR) -> Summary:
    """Validate with the committed suites of ``kind`` and write Data Docs and ``summary.json``.

    ``source`` is the raw census folder for ``kind='raw'`` and the DuckDB warehouse file for
    ``kind='mart'`` (opened read-only). ``out_dir`` receives ``data_docs/`` and ``<kind>_summary.json``.
    """
    started = time.perf_counter()
    suites = load_suites(kind, expectations_dir)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    docs_dir = out_dir / "data_docs"
    if kind == "raw":
        raw_dir = Path(source)
        # an in-memory database that pages to the temporary folder past its memory limit: a
        # database file would compress and write every table it loads (3 s more CPU at scale 1,
        # taken from the build beside it), to be thrown away minutes later
        with tempfile.TemporaryDirectory(prefix="carecensus-raw-checks-") as scratch:
            config = {"memory_limit": RAW_CHECK_MEMORY_LIMIT, "temp_directory": scratch}
            outcomes, index = _validate(kind, "duckdb:///:memory:", {"config": config}, suites,
                                        docs_dir,
                                        lambda con: prepare_raw_database(raw_dir, con, project_dir))
    elif kind == "mart":
        warehouse = Path(source)
        if not warehouse.is_file():
            raise FileNotFoundError(warehouse)
        outcomes, index = _validate(kind, f"duckdb:///{warehouse.resolve()}", {"read_only": True}, suites,
                                    docs_dir)
    else:
        raise ValueError(f"unknown suite kind {kind!r}")
    summary = Summary(kind, outcomes, time.perf_counter() - started, index)
    summary.summary_path = out_dir / f"{kind}_summary.json"
    summary.summary_path.write_text(json.dumps(summary.to_json(), indent=2) + "\n", encoding="utf-8")
    return summary


def file_digest(paths: Sequence[Path]) -> str:
    """One hash over the bytes of some files (to show a run did not touch the suites)."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()

