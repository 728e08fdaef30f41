"""Fault injector: write a faulty copy of a clean census for the warehouse reliability tests.

``inject_faults`` copies a clean raw census (the layout of
``raw-extract-format.md``: ``<dir>/<cla|crcs|plasc>/<YEAR_CODE>/<name>.csv``) to a new
folder, injects a chosen number of faults of each named class at seed-chosen places, and
writes ``fault_manifest.csv`` beside the data, one row per fault, so that a test can prove
each fault is caught by quarantine, a rule or a suite.

Fault classes (``FAULT_CLASSES``) and how they are injected:

Row-level (one row changed in place, or one row appended at the end of the file):

- ``unparseable_date``: a non-blank date cell (``WOB`` or a column whose name contains
  ``DATE``) replaced by a value that is not an ISO date: ``YYYY-02-30``, ``DD/MM/YYYY``,
  ``YYYYMMDD`` or ``YYYY-13-DD``, built from the original date.
- ``unknown_code``: a non-blank coded cell (code lists of domain-reference §2.7) replaced by a
  plausible-looking code that is in no Welsh or English list.
- ``overlapping_episode``: in ``cla/episode.csv``, the start date of a child's episode moved
  back to the middle of the child's previous episode of the same return.
- ``conflicting_episode_rows``: in ``cla/episode.csv``, a copy of an episode row (same child,
  same start date, same episode number) appended with a different, valid legal status or
  placement type. The manifest names the appended row.
- ``year_code_mismatch``: the ``YEAR_CODE`` of one row set to the previous or next reporting
  year, so that it disagrees with its folder (the rest of the file stays right).
- ``duplicate_child_row``: in ``cla/child.csv`` or ``crcs/child.csv``, a copy of a child's row
  appended: an exact copy for the 1st, 3rd, ... fault, a copy that disagrees on ``GNDR_CD``
  for the 2nd, 4th, ... The manifest names the appended row.

File-level (the whole file; never a file that also carries a row-level fault, and never two
file-level faults in one file, so that every fault stays attributable):

- ``missing_column``: the file rewritten without one required contract column (never a column
  that the contract adds in a later year, which older files legitimately lack).
- ``empty_file``: the file truncated to 0 bytes (no header, no rows). We chose 0 bytes over
  "header only" because a header-only file is a legitimate (if unlikely) empty return.
- ``truncated_last_line``: the file's last line cut in the middle of a row, outside quotes,
  so that it has too few fields, and without a trailing newline.

Places are chosen deterministically from ``seed``: a class's faults are spread over years,
then file kinds and local authorities; a child (LA + id) is used by at most one row-level
fault per return; untouched rows keep their exact bytes. Same inputs give a byte-identical
output tree and manifest.
"""

from __future__ import annotations

import csv
import io
import random
import re
import shutil
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import date, timedelta
from pathlib import Path

__all__ = [
    "FAULT_CLASSES",
    "FILE_LEVEL_CLASSES",
    "MANIFEST_COLUMNS",
    "MANIFEST_NAME",
    "ROW_LEVEL_CLASSES",
    "Fault",
    "inject_faults",
    "read_manifest",
]

FAULT_CLASSES: tuple[str, ...] = (
    "unparseable_date",
    "unknown_code",
    "overlapping_episode",
    "conflicting_episode_rows",
    "missing_column",
    "year_code_mismatch",
    "empty_file",
    "duplicate_child_row",
    "truncated_last_line",
)
FILE_LEVEL_CLASSES: frozenset[str] = frozenset({"missing_column", "empty_file", "truncated_last_line"})
ROW_LEVEL_CLASSES: frozenset[str] = frozenset(FAULT_CLASSES) - FILE_LEVEL_CLASSES

MANIFEST_NAME = "fault_manifest.csv"
MANIFEST_COLUMNS: tuple[str, ...] = (
    "fault_id",
    "fault_class",
    "file",
    "row_number",
    "column",
    "original_value",
    "injected_value",
    "detail",
)

# Order in which classes pick their places: the most constrained first, so that they still
# find free children and files; file-level classes last, from the files nobody touched.
_PICK_ORDER: tuple[str, ...] = (
    "overlapping_episode",
    "conflicting_episode_rows",
    "duplicate_child_row",
    "unparseable_date",
    "unknown_code",
    "year_code_mismatch",
    "missing_column",
    "empty_file",
    "truncated_last_line",
)

_YEAR_DIR = re.compile(r"^\d{6}$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# Contract columns per file kind (raw-extract-format.md); the ones a later year adds are optional.
_CONTRACT_COLUMNS: dict[str, tuple[str, ...]] = {
    "cla/child": (
        "YEAR_CODE", "LOCAL_AUTHORITY_CODE", "SYSTEM_ID", "ALF_PE", "GNDR_CD", "WOB", "ETHNICITY",
        "DISABILITY_CODE", "ASYLUM", "DATE_CEASED_UASC", "LSOA2011_HOME_POSTCODE", "IRN",
        "TRANSFERRED_FROM_LA_CODE",
    ),
    "cla/episode": (
        "YEAR_CODE", "LOCAL_AUTHORITY_CODE", "SYSTEM_ID", "EPISODE_NUMBER", "EPISODE_START_DATE",
        "EPISODE_END_DATE", "REASON_EPISODE_STARTED_CODE", "LEGAL_STATUS_CODE",
        "CATEGORY_OF_NEED_CODE", "PLACEMENT_TYPE_CODE", "LSOA2011_PLACEMENT_POSTCODE",
        "REASON_EPISODE_FINISHED_CODE", "SHORT_BREAKS",
    ),
    "cla/adoption": (
        "YEAR_CODE", "LOCAL_AUTHORITY_CODE", "SYSTEM_ID", "DATE_SHOULD_BE_PLACED", "DATE_MATCHED",
        "DATE_PLACED", "DATE_OF_ADOPTION", "ADOPTED_BY_FOSTER_CARER", "NUMBER_OF_ADOPTERS",
        "SEX_OF_ADOPTERS", "LEGAL_STATUS_OF_ADOPTERS", "ETHNICITY_OF_ADOPTERS",
    ),
    "cla/care_leaver": (
        "YEAR_CODE", "LOCAL_AUTHORITY_CODE", "SYSTEM_ID", "IN_TOUCH", "ACTIVITY", "ACCOMMODATION",
        "PATHWAY_PLAN", "PERSONAL_ADVISER",
    ),
    "crcs/child": (
        "YEAR_CODE", "LOCAL_AUTHORITY_CODE", "CHILD_CODE", "ALF_PE", "IRN", "GNDR_CD", "WOB",
        "ETHNICITY", "LSOA2011_CD", "PLAN_START_DATE", "PLAN_END_DATE", "REASON_FOR_CLOSURE",
        "CATEGORY_OF_NEED_CODE", "LOOKED_AFTER", "CHILD_PROTECTION_REGISTER", "DISABILITY",
        "DISABILITY_TYPES", "DOMESTIC_ABUSE", "PARENTAL_SUBSTANCE_MISUSE",
        "PARENTAL_MENTAL_ILL_HEALTH", "PARENTAL_LEARNING_DISABILITY",
        "PARENTAL_PHYSICAL_ILL_HEALTH", "IMMUNISATIONS_UP_TO_DATE", "DENTAL_CHECK",
        "MENTAL_HEALTH", "SUBSTANCE_MISUSE", "YOUTH_OFFENDING", "WELSH_LANGUAGE",
    ),
    "plasc/pupil": (
        "YEAR_CODE", "IRN", "ALF_PE", "LOCAL_AUTHORITY_CODE", "NATIONAL_CURRICULUM_YEAR", "FSM",
        "SEN", "KS2_CSI", "KS3_CSI", "KS4_CAPPED_POINTS",
    ),
}
_OPTIONAL_COLUMNS: frozenset[str] = frozenset(
    {"TRANSFERRED_FROM_LA_CODE", "PLAN_END_DATE", "REASON_FOR_CLOSURE"}
)

# The child (or pupil) identifier of each dataset; with LOCAL_AUTHORITY_CODE it names one child.
_ID_COLUMN: dict[str, str] = {"cla": "SYSTEM_ID", "crcs": "CHILD_CODE", "plasc": "IRN"}

_ETHNICITY = frozenset({
    "A1", "A2", "A3", "B1", "B2", "B3", "B4", "C1", "C2", "C3", "C4", "D1", "D2", "D3", "E1", "E2",
    "WHTE", "MIXD", "ASAB", "BBAC", "OOTH", "NOBT", "REFU",
    "WBRI", "WIRI", "WOTH", "WIRT", "WROM", "MWBC", "MWBA", "MWAS", "MOTH", "AIND", "APKN", "ABAN",
    "AOTH", "BCRB", "BAFR", "BOTH", "CHNE",
})
_LEGAL_STATUS = frozenset({
    "C1", "C2", "D1", "E1", "V1", "V2", "V3", "V4", "J1", "J2", "J3", "L1", "L2", "L3", "W1",
})
_PLACEMENT = frozenset({
    "F1", "F2", "F3", "F4", "F5", "F6", "A1", "A2", "A3", "A4", "A5", "A6", "A8", "P1", "P2", "P3",
    "H1", "H2", "H21", "H22", "H3", "H4", "H5", "R1", "R2", "R3", "R4", "R5", "S1", "M1", "M2", "M3",
    "Z1", "K1", "K2", "K3", "T0", "T1", "T2", "T3", "T4", "U1", "U2", "U3", "U4", "U5", "U6",
    "Z11", "Z12", "Z13", "Z14", "Q1", "Q2",
})
_REASON_FINISHED = frozenset({
    "X1", "E1", "E11", "E12", "E13", "E14", "E15", "E16", "E17", "E2", "E3", "E4", "E4A", "E4B",
    "E41", "E43", "E44", "E45", "E46", "E47", "E48", "E5", "E6", "E7", "E8", "E9", "E10",
})

# Valid codes (Welsh and English lists of domain-reference §2.7, so an injected code is
# unknown whichever list a reader applies) and the unknown codes we inject for each column.
_CODE_LISTS: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {
    "GNDR_CD": (frozenset({"0", "1", "2", "9"}), ("3", "7")),
    "ETHNICITY": (_ETHNICITY, ("F1", "A9", "WXYZ")),
    "ETHNICITY_OF_ADOPTERS": (_ETHNICITY, ("F2", "D9")),
    "REASON_EPISODE_STARTED_CODE": (frozenset({"S", "L", "P", "B", "T", "U"}), ("Q", "Z")),
    "LEGAL_STATUS_CODE": (_LEGAL_STATUS, ("C4", "K9", "V7")),
    "CATEGORY_OF_NEED_CODE": (frozenset({f"N{i}" for i in range(10)}), ("N11", "NX")),
    "PLACEMENT_TYPE_CODE": (_PLACEMENT, ("F9", "H9", "Q5")),
    "REASON_EPISODE_FINISHED_CODE": (_REASON_FINISHED, ("E19", "X2", "E0")),
    "IN_TOUCH": (frozenset({"YES", "NO", "DIED", "REFU", "NREQ", "RHOM"}), ("MAYBE", "UNKN")),
    "ACTIVITY": (
        frozenset({"F1", "P1", "F2", "P2", "F3", "P3", "F4", "P4", "F5", "P5", "G4", "G5", "G6", "0"}),
        ("G9", "F7"),
    ),
    "SEX_OF_ADOPTERS": (frozenset({"M1", "F1", "MM", "FF", "MF"}), ("M2", "FX")),
    "LEGAL_STATUS_OF_ADOPTERS": (frozenset({"L0", "L11", "L12", "L2", "L3", "L4"}), ("L5", "L9")),
    "REASON_FOR_CLOSURE": (frozenset({f"RC{i}" for i in range(1, 10)}), ("RC0", "RC12")),
    "DISABILITY_CODE": (frozenset({"0", "1", "2"}), ("3", "8")),
}

# Valid alternatives used to make a conflicting copy of an episode row.
_CONFLICT_ALTERNATIVES: dict[str, tuple[str, ...]] = {
    "LEGAL_STATUS_CODE": ("C1", "C2", "E1", "V2"),
    "PLACEMENT_TYPE_CODE": ("F1", "F2", "F3", "F5", "F6", "H3", "H4", "P1"),
}


@dataclass(frozen=True)
class Fault:
    """One injected fault: a row of ``fault_manifest.csv``.

    ``file`` is relative to the faulty tree with forward slashes; ``row_number`` is the 1-based
    data row (the header is row 0), ``None`` for a fault on the whole file; ``column`` is empty
    where no single column is concerned.
    """

    fault_id: str
    fault_class: str
    file: str
    row_number: int | None
    column: str
    original_value: str
    injected_value: str
    detail: str

    def as_row(self) -> list[str]:
        """The manifest row, in ``MANIFEST_COLUMNS`` order."""
        values = asdict(self)
        return ["" if values[name] is None else str(values[name]) for name in MANIFEST_COLUMNS]


assert tuple(f.name for f in fields(Fault)) == MANIFEST_COLUMNS


@dataclass
class _Table:
    """One raw CSV file of the copied tree, parsed lazily, with its pending edits."""

    path: Path
    rel: str
    dataset: str
    kind: str  # "cla/episode", ...
    year: str
    header: list[str]
    has_rows: bool
    _records: list[str] | None = None  # raw data records, terminators included
    _rows: list[list[str]] | None = None
    _header_raw: str = ""
    _newline: str = "\n"
    replaced: dict[int, list[str]] = field(default_factory=dict)
    appended: list[list[str]] = field(default_factory=list)
    _by_child: dict[tuple[str, str], list[int]] | None = None
    _keys: list[tuple[str, str]] | None = None
    _by_la: dict[str, list[int]] | None = None

    def load(self) -> None:
        if self._records is not None:
            return
        with self.path.open(encoding="utf-8", newline="") as handle:
            text = handle.read()
        records = _split_records(text)
        self._header_raw = records[0] if records else ""
        self._newline = "\r\n" if self._header_raw.endswith("\r\n") else "\n"
        self._records = records[1:]
        rows = list(csv.reader(io.StringIO("".join(self._records), newline="")))
        if len(rows) != len(self._records):
            raise ValueError(f"{self.rel}: cannot split the file into CSV records")
        self._rows = rows

    @property
    def records(self) -> list[str]:
        self.load()
        assert self._records is not None
        return self._records

    @property
    def rows(self) -> list[list[str]]:
        self.load()
        assert self._rows is not None
        return self._rows

    def col(self, name: str) -> int:
        return self.header.index(name)

    def value(self, index: int, name: str) -> str:
        row = self.rows[index]
        position = self.col(name)
        return row[position] if position < len(row) else ""

    def _index_children(self) -> None:
        """Cache each row's child key and the rows of each LA (edits never change ``rows``)."""
        la_at = self.header.index("LOCAL_AUTHORITY_CODE") if "LOCAL_AUTHORITY_CODE" in self.header else -1
        id_column = _ID_COLUMN.get(self.dataset, "")
        id_at = self.header.index(id_column) if id_column in self.header else -1
        keys: list[tuple[str, str]] = []
        by_la: dict[str, list[int]] = defaultdict(list)
        for index, row in enumerate(self.rows):
            la = row[la_at] if 0 <= la_at < len(row) else ""
            child = row[id_at] if 0 <= id_at < len(row) else ""
            keys.append((la, child) if child else ("#row", f"{self.rel}:{index}"))
            by_la[la].append(index)
        self._keys, self._by_la = keys, dict(by_la)

    @property
    def keys(self) -> list[tuple[str, str]]:
        """The child (LA, id) of each row; a row without an id counts as its own child."""
        if self._keys is None:
            self._index_children()
        assert self._keys is not None
        return self._keys

    @property
    def rows_by_la(self) -> dict[str, list[int]]:
        if self._by_la is None:
            self._index_children()
        assert self._by_la is not None
        return self._by_la

    def child_key(self, index: int) -> tuple[str, str]:
        return self.keys[index]

    def la(self, index: int) -> str:
        la = self.keys[index][0]
        return la if la != "#row" else self.value(index, "LOCAL_AUTHORITY_CODE")

    def _format(self, row: Sequence[str]) -> str:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator=self._newline).writerow(row)
        return buffer.getvalue()

    def render(self) -> str:
        """The file text with the row-level edits applied; untouched records keep their bytes."""
        self.load()
        records = list(self.records)
        for index, row in self.replaced.items():
            records[index] = self._format(row)
        if self.appended and records and not records[-1].endswith("\n"):
            records[-1] += self._newline
        records.extend(self._format(row) for row in self.appended)
        return self._header_raw + "".join(records)

    def render_without(self, column: str) -> str:
        self.load()
        position = self.col(column)
        bom = "\ufeff" if self._header_raw.startswith("\ufeff") else ""
        kept = [name for i, name in enumerate(self.header) if i != position]
        parts = [bom + self._format(kept)]
        parts.extend(self._format([v for i, v in enumerate(row) if i != position]) for row in self.rows)
        return "".join(parts)


def _split_records(text: str) -> list[str]:
    """Split CSV text into records (terminators kept), honouring quoted newlines."""
    pieces = text.split("\n")
    tail = pieces.pop()  # text after the last newline ("" when the file ends with one)
    lines = [piece + "\n" for piece in pieces]
    if tail:
        lines.append(tail)
    if '"' not in text:
        return lines
    records: list[str] = []
    pending = ""
    for line in lines:
        pending += line
        if pending.count('"') % 2 == 0:
            records.append(pending)
            pending = ""
    if pending:
        records.append(pending)
    return records


def _read_header(path: Path) -> tuple[list[str], bool]:
    """The header of a CSV file and whether it has at least one data line (cheap)."""
    with path.open(encoding="utf-8", newline="") as handle:
        first = handle.readline()
        second = handle.readline()
    if not first:
        return [], False
    header = next(csv.reader([first.lstrip("\ufeff")]), [])
    return header, bool(second.strip("\r\n"))


def _discover(root: Path) -> list[_Table]:
    tables: list[_Table] = []
    for path in sorted(root.glob("*/*/*.csv")):
        dataset, year = path.parent.parent.name, path.parent.name
        if dataset not in _ID_COLUMN or not _YEAR_DIR.match(year):
            continue
        header, has_rows = _read_header(path)
        tables.append(
            _Table(
                path=path,
                rel=path.relative_to(root).as_posix(),
                dataset=dataset,
                kind=f"{dataset}/{path.stem}",
                year=year,
                header=header,
                has_rows=has_rows,
            )
        )
    return tables


def _parse_iso(value: str) -> date | None:
    if not _ISO_DATE.match(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _is_date_column(name: str) -> bool:
    return name == "WOB" or "DATE" in name


def _shift_year_code(year_code: str, step: int) -> str:
    start = int(year_code[:4]) + step
    return f"{start}{(start + 1) % 100:02d}"


@dataclass(frozen=True)
class _Edit:
    """A row-level fault chosen in one table, before it is given an id."""

    row_index: int  # 0-based index in the clean records; the appended row is numbered later
    column: str
    original_value: str
    injected_value: str
    detail: str
    new_row: list[str]
    append: bool


_RowRule = Callable[[_Table, int, random.Random, int], "_Edit | None"]


def _date_rule(table: _Table, index: int, rng: random.Random, n: int) -> _Edit | None:
    columns = [c for c in table.header if _is_date_column(c) and _parse_iso(table.value(index, c))]
    if not columns:
        return None
    column = rng.choice(columns)
    original = table.value(index, column)
    parsed = _parse_iso(original)
    assert parsed is not None
    variants = {
        "impossible day of month": f"{parsed.year:04d}-02-30",
        "day/month/year format": f"{parsed.day:02d}/{parsed.month:02d}/{parsed.year:04d}",
        "no separators": f"{parsed.year:04d}{parsed.month:02d}{parsed.day:02d}",
        "month 13": f"{parsed.year:04d}-13-{parsed.day:02d}",
    }
    label = sorted(variants)[n % len(variants)]  # every variant shows up among a class's faults
    return _in_place(table, index, column, variants[label], f"{column} not an ISO date: {label}")


def _code_rule(table: _Table, index: int, rng: random.Random, _n: int) -> _Edit | None:
    columns = [c for c in table.header if c in _CODE_LISTS and table.value(index, c) in _CODE_LISTS[c][0]]
    if not columns:
        return None
    column = rng.choice(columns)
    injected = rng.choice(_CODE_LISTS[column][1])
    return _in_place(table, index, column, injected, f"{column} code {injected!r} is in no code list (§2.7)")


def _year_rule(table: _Table, index: int, rng: random.Random, _n: int) -> _Edit | None:
    if "YEAR_CODE" not in table.header or table.value(index, "YEAR_CODE") != table.year:
        return None
    injected = _shift_year_code(table.year, rng.choice((-1, 1)))
    return _in_place(table, index, "YEAR_CODE", injected, f"YEAR_CODE {injected} in folder {table.year}")


def _in_place(table: _Table, index: int, column: str, injected: str, detail: str) -> _Edit:
    row = list(table.rows[index])
    original = row[table.col(column)]
    row[table.col(column)] = injected
    return _Edit(index, column, original, injected, detail, row, append=False)


def _episodes_by_child(table: _Table) -> dict[tuple[str, str], list[int]]:
    """Row indices of each child in the clean file (cached: edits never change ``rows``)."""
    if table._by_child is None:
        by_child: dict[tuple[str, str], list[int]] = defaultdict(list)
        for index, key in enumerate(table.keys):
            by_child[key].append(index)
        table._by_child = dict(by_child)
    return table._by_child


def _overlap_rule(table: _Table, index: int, _rng: random.Random, _n: int) -> _Edit | None:
    start = _parse_iso(table.value(index, "EPISODE_START_DATE"))
    if start is None:
        return None
    previous: tuple[date, date] | None = None
    for other in _episodes_by_child(table)[table.child_key(index)]:
        other_start = _parse_iso(table.value(other, "EPISODE_START_DATE"))
        other_end = _parse_iso(table.value(other, "EPISODE_END_DATE"))
        if other == index or other_start is None or other_start >= start:
            continue
        if other_end is None or other_end > start:
            return None  # the clean episodes already overlap: leave this child alone
        if previous is None or other_start > previous[0]:
            previous = (other_start, other_end)
    if previous is None or (previous[1] - previous[0]).days < 2:
        return None
    new_start = previous[0] + timedelta(days=(previous[1] - previous[0]).days // 2)
    detail = f"start moved back into the child's episode {previous[0]}..{previous[1]}"
    return _in_place(table, index, "EPISODE_START_DATE", new_start.isoformat(), detail)


def _conflict_rule(table: _Table, index: int, rng: random.Random, _n: int) -> _Edit | None:
    columns = [c for c in sorted(_CONFLICT_ALTERNATIVES) if c in table.header and table.value(index, c)]
    if not columns or "EPISODE_START_DATE" not in table.header:
        return None
    key = (table.child_key(index), table.value(index, "EPISODE_START_DATE"))
    siblings = _episodes_by_child(table)[key[0]]
    if sum(1 for i in siblings if table.value(i, "EPISODE_START_DATE") == key[1]) != 1:
        return None
    column = rng.choice(columns)
    original = table.value(index, column)
    injected = rng.choice([code for code in _CONFLICT_ALTERNATIVES[column] if code != original])
    row = list(table.rows[index])
    row[table.col(column)] = injected
    detail = f"second row for the episode of data row {index + 1} with a different {column}"
    return _Edit(index, column, original, injected, detail, row, append=True)


def _duplicate_rule(table: _Table, index: int, _rng: random.Random, n: int) -> _Edit | None:
    id_column = _ID_COLUMN[table.dataset]
    if id_column not in table.header or not table.value(index, id_column):
        return None
    row = list(table.rows[index])
    if n % 2 == 1 and table.value(index, "GNDR_CD") in {"1", "2"}:
        original = table.value(index, "GNDR_CD")
        injected = "2" if original == "1" else "1"
        row[table.col("GNDR_CD")] = injected
        detail = f"second row for the child of data row {index + 1} with a different GNDR_CD"
        return _Edit(index, "GNDR_CD", original, injected, detail, row, append=True)
    detail = f"exact copy of data row {index + 1} ({id_column} {table.value(index, id_column)})"
    return _Edit(index, "", "", "", detail, row, append=True)


_ROW_RULES: dict[str, tuple[Callable[[_Table], bool], _RowRule]] = {
    "unparseable_date": (lambda t: any(_is_date_column(c) for c in t.header), _date_rule),
    "unknown_code": (lambda t: any(c in _CODE_LISTS for c in t.header), _code_rule),
    "overlapping_episode": (
        lambda t: t.kind == "cla/episode" and {"EPISODE_START_DATE", "EPISODE_END_DATE"} <= set(t.header),
        _overlap_rule,
    ),
    "conflicting_episode_rows": (lambda t: t.kind == "cla/episode", _conflict_rule),
    "year_code_mismatch": (lambda t: "YEAR_CODE" in t.header, _year_rule),
    "duplicate_child_row": (lambda t: t.kind in {"cla/child", "crcs/child"}, _duplicate_rule),
}


def _droppable(table: _Table) -> list[str]:
    contract = _CONTRACT_COLUMNS.get(table.kind, tuple(table.header))
    return [c for c in table.header if c in contract and c not in _OPTIONAL_COLUMNS]


_FILE_ELIGIBLE: dict[str, Callable[[_Table], bool]] = {
    "missing_column": lambda t: len(t.header) > 1 and bool(_droppable(t)),
    "empty_file": lambda t: bool(t.header),
    "truncated_last_line": lambda t: len(t.header) > 1 and t.has_rows,
}


class _Spread:
    """Counts of how often a class already used a year, file kind, file and LA."""

    def __init__(self) -> None:
        self.years: Counter[str] = Counter()
        self.kinds: Counter[str] = Counter()
        self.files: Counter[str] = Counter()
        self.las: Counter[str] = Counter()

    def file_score(self, table: _Table) -> tuple[int, int, int]:
        return (self.years[table.year], self.kinds[table.kind], self.files[table.rel])

    def add(self, table: _Table, la: str = "") -> None:
        self.years[table.year] += 1
        self.kinds[table.kind] += 1
        self.files[table.rel] += 1
        self.las[la] += 1


class _Injector:
    def __init__(self, tables: list[_Table], seed: int, per_class: int, n_file_level: int) -> None:
        self.tables = tables
        self.seed = seed
        self.per_class = per_class
        # Row-level faults may spread over at most this many files, so that enough untouched
        # files stay for the file-level ones.
        self.row_file_budget = len(tables) - n_file_level
        self.row_files: set[str] = set()
        self.file_level: dict[str, tuple[str, _Table]] = {}
        self.used_children: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
        self.edits: dict[str, list[tuple[_Table, _Edit]]] = {}

    def rng(self, fault_class: str) -> random.Random:
        return random.Random(f"{self.seed}:{fault_class}")

    def pick_rows(self, fault_class: str) -> None:
        eligible, rule = _ROW_RULES[fault_class]
        rng = self.rng(fault_class)
        spread = _Spread()
        exhausted: set[str] = set()
        chosen: list[tuple[_Table, _Edit]] = []
        while len(chosen) < self.per_class:
            candidates = [t for t in self.tables if t.has_rows and t.rel not in exhausted and eligible(t)]
            if len(self.row_files) >= self.row_file_budget:
                candidates = [t for t in candidates if t.rel in self.row_files] or candidates
            if not candidates:
                raise ValueError(
                    f"cannot place {self.per_class} {fault_class} faults: only {len(chosen)} places found"
                )
            order = {t.rel: rng.random() for t in candidates}
            table = min(candidates, key=lambda t: (*spread.file_score(t), order[t.rel]))
            edit = self._pick_row(table, rule, rng, spread, len(chosen))
            if edit is None:
                exhausted.add(table.rel)
                continue
            chosen.append((table, edit))
            self.row_files.add(table.rel)
            self.used_children[(table.dataset, table.year)].add(table.child_key(edit.row_index))
            spread.add(table, table.la(edit.row_index))
            if edit.append:
                table.appended.append(edit.new_row)
            else:
                table.replaced[edit.row_index] = edit.new_row
        self.edits[fault_class] = chosen

    def _pick_row(
        self, table: _Table, rule: _RowRule, rng: random.Random, spread: _Spread, n: int
    ) -> _Edit | None:
        """A row of ``table`` the rule can fault: least-used LA first, from a random row on."""
        used = self.used_children[(table.dataset, table.year)]
        groups = table.rows_by_la
        tiebreak = {la: rng.random() for la in groups}
        for la in sorted(groups, key=lambda la: (spread.las[la], tiebreak[la])):
            indices = groups[la]
            start = rng.randrange(len(indices))
            for step in range(len(indices)):
                index = indices[(start + step) % len(indices)]
                if table.keys[index] in used:
                    continue
                edit = rule(table, index, rng, n)
                if edit is not None:
                    return edit
        return None

    def pick_files(self, fault_class: str) -> list[_Table]:
        rng = self.rng(fault_class)
        spread = _Spread()
        chosen: list[_Table] = []
        while len(chosen) < self.per_class:
            candidates = [
                t
                for t in self.tables
                if t.rel not in self.row_files
                and t.rel not in self.file_level
                and _FILE_ELIGIBLE[fault_class](t)
            ]
            if not candidates:
                raise ValueError(
                    f"cannot place {self.per_class} {fault_class} faults: only {len(chosen)} free files found"
                )
            order = {t.rel: rng.random() for t in candidates}
            table = min(candidates, key=lambda t: (*spread.file_score(t), order[t.rel]))
            chosen.append(table)
            spread.add(table)
            self.file_level[table.rel] = (fault_class, table)
        return chosen


def _file_fault(fault_class: str, table: _Table, rng: random.Random, fault_id: str) -> Fault:
    """Apply a file-level fault to the copied file and describe it."""
    table.load()
    n_rows = len(table.rows)
    if fault_class == "missing_column":
        column = rng.choice(_droppable(table))
        table.path.write_text(table.render_without(column), encoding="utf-8", newline="")
        detail = f"required column {column} removed from the header and all {n_rows} data rows"
        return Fault(fault_id, fault_class, table.rel, None, column, "", "", detail)
    if fault_class == "empty_file":
        table.path.write_bytes(b"")
        detail = f"file truncated to 0 bytes: no header, no rows (was {n_rows} data rows)"
        return Fault(fault_id, fault_class, table.rel, None, "", "", "", detail)
    assert fault_class == "truncated_last_line"
    last = table.records[-1].rstrip("\r\n")
    # Cut outside quotes, and early enough that at least one field is lost.
    cuts = [
        p
        for p in range(1, len(last))
        if last[:p].count('"') % 2 == 0 and _n_fields(last[:p]) < len(table.header)
    ]
    if not cuts:
        raise ValueError(f"{table.rel}: last line too short to truncate")
    middle = [p for p in cuts if len(last) // 4 <= p <= 3 * len(last) // 4]
    cut = rng.choice(middle or cuts)
    truncated = last[:cut]
    text = table._header_raw + "".join(table.records[:-1]) + truncated
    table.path.write_text(text, encoding="utf-8", newline="")
    n_fields = _n_fields(truncated)
    detail = (
        f"last line cut after {cut} of {len(last)} characters: "
        f"{n_fields} of {len(table.header)} fields, no newline"
    )
    return Fault(fault_id, fault_class, table.rel, n_rows, "", last, truncated, detail)


def _n_fields(line: str) -> int:
    return len(next(csv.reader([line]), []))


def inject_faults(
    clean_dir: Path,
    out_dir: Path,
    seed: int,
    classes: Sequence[str] = FAULT_CLASSES,
    per_class: int = 3,
) -> list[Fault]:
    """Copy ``clean_dir`` to ``out_dir``, inject ``per_class`` faults of each class, write the manifest.

    ``out_dir`` must not exist or be empty, and the two folders must not contain each other.
    Returns the faults in manifest order (``FAULT_CLASSES`` order, then placement order).
    Raises ``ValueError`` for an unknown class or when the census is too small to place
    every fault on its own row or file.
    """
    clean_dir, out_dir = Path(clean_dir).resolve(), Path(out_dir).resolve()
    unknown = [c for c in classes if c not in FAULT_CLASSES]
    if unknown:
        raise ValueError(f"unknown fault classes {unknown}; known: {list(FAULT_CLASSES)}")
    if per_class < 0:
        raise ValueError("per_class must be >= 0")
    if not clean_dir.is_dir():
        raise FileNotFoundError(clean_dir)
    if out_dir == clean_dir or out_dir.is_relative_to(clean_dir) or clean_dir.is_relative_to(out_dir):
        raise ValueError("clean_dir and out_dir must not contain each other")
    if out_dir.exists() and any(out_dir.iterdir()):
        raise FileExistsError(f"{out_dir} exists and is not empty")

    wanted = set(classes)
    shutil.copytree(clean_dir, out_dir, copy_function=shutil.copyfile, dirs_exist_ok=True)
    (out_dir / MANIFEST_NAME).unlink(missing_ok=True)
    tables = _discover(out_dir)
    n_file_level = per_class * len(wanted & FILE_LEVEL_CLASSES)
    injector = _Injector(tables, seed, per_class, n_file_level)

    file_picks: dict[str, list[_Table]] = {}
    for fault_class in _PICK_ORDER:
        if fault_class not in wanted:
            continue
        if fault_class in FILE_LEVEL_CLASSES:
            file_picks[fault_class] = injector.pick_files(fault_class)
        else:
            injector.pick_rows(fault_class)

    for table in tables:
        if table.replaced or table.appended:
            table.path.write_text(table.render(), encoding="utf-8", newline="")

    faults: list[Fault] = []
    for fault_class in FAULT_CLASSES:
        if fault_class not in wanted:
            continue
        if fault_class in FILE_LEVEL_CLASSES:
            rng = injector.rng(f"{fault_class}:apply")
            for n, table in enumerate(file_picks[fault_class], start=1):
                faults.append(_file_fault(fault_class, table, rng, f"{fault_class}_{n:02d}"))
            continue
        for n, (table, edit) in enumerate(injector.edits[fault_class], start=1):
            if edit.append:
                row_number = len(table.records) + 1 + _index_of(table.appended, edit.new_row)
            else:
                row_number = edit.row_index + 1
            faults.append(
                Fault(
                    f"{fault_class}_{n:02d}",
                    fault_class,
                    table.rel,
                    row_number,
                    edit.column,
                    edit.original_value,
                    edit.injected_value,
                    edit.detail,
                )
            )

    with (out_dir / MANIFEST_NAME).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(MANIFEST_COLUMNS)
        writer.writerows(fault.as_row() for fault in faults)
    return faults


def _index_of(rows: list[list[str]], row: list[str]) -> int:
    """Position of this very row object among the appended rows (equal copies are distinct)."""
    return next(i for i, candidate in enumerate(rows) if candidate is row)


def read_manifest(path: Path) -> list[Fault]:
    """Read a ``fault_manifest.csv`` (or the folder holding it) back into ``Fault`` objects."""
    path = Path(path)
    if path.is_dir():
        path = path / MANIFEST_NAME
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != MANIFEST_COLUMNS:
            raise ValueError(f"{path}: columns {reader.fieldnames} are not {list(MANIFEST_COLUMNS)}")
        return [
            Fault(
                fault_id=r["fault_id"],
                fault_class=r["fault_class"],
                file=r["file"],
                row_number=int(r["row_number"]) if r["row_number"] else None,
                column=r["column"],
                original_value=r["original_value"],
                injected_value=r["injected_value"],
                detail=r["detail"],
            )
            for r in reader
        ]
