"""Tests of the fault injector (carecensus.faults) on a small hand-built census in the contract format."""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import io
import time
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from carecensus.faults import FAULT_CLASSES, MANIFEST_COLUMNS, Fault, inject_faults, read_manifest

YEARS = ("201718", "201819", "201920")
LAS = ("512", "514")

CLA_CHILD = (
    "YEAR_CODE", "LOCAL_AUTHORITY_CODE", "SYSTEM_ID", "ALF_PE", "GNDR_CD", "WOB", "ETHNICITY",
    "DISABILITY_CODE", "ASYLUM", "DATE_CEASED_UASC", "LSOA2011_HOME_POSTCODE", "IRN",
)
CLA_EPISODE = (
    "YEAR_CODE", "LOCAL_AUTHORITY_CODE", "SYSTEM_ID", "EPISODE_NUMBER", "EPISODE_START_DATE",
    "EPISODE_END_DATE", "REASON_EPISODE_STARTED_CODE", "LEGAL_STATUS_CODE", "CATEGORY_OF_NEED_CODE",
    "PLACEMENT_TYPE_CODE", "LSOA2011_PLACEMENT_POSTCODE", "REASON_EPISODE_FINISHED_CODE", "SHORT_BREAKS",
)
CLA_ADOPTION = (
    "YEAR_CODE", "LOCAL_AUTHORITY_CODE", "SYSTEM_ID", "DATE_SHOULD_BE_PLACED", "DATE_MATCHED", "DATE_PLACED",
    "DATE_OF_ADOPTION", "ADOPTED_BY_FOSTER_CARER", "NUMBER_OF_ADOPTERS", "SEX_OF_ADOPTERS",
    "LEGAL_STATUS_OF_ADOPTERS", "ETHNICITY_OF_ADOPTERS",
)
CLA_CARE_LEAVER = (
    "YEAR_CODE", "LOCAL_AUTHORITY_CODE", "SYSTEM_ID", "IN_TOUCH", "ACTIVITY", "ACCOMMODATION",
    "PATHWAY_PLAN", "PERSONAL_ADVISER",
)
CRCS_CHILD = (
    "YEAR_CODE", "LOCAL_AUTHORITY_CODE", "CHILD_CODE", "ALF_PE", "IRN", "GNDR_CD", "WOB", "ETHNICITY",
    "LSOA2011_CD", "PLAN_START_DATE", "CATEGORY_OF_NEED_CODE", "LOOKED_AFTER", "CHILD_PROTECTION_REGISTER",
    "DISABILITY", "DISABILITY_TYPES", "DOMESTIC_ABUSE", "PARENTAL_SUBSTANCE_MISUSE",
    "PARENTAL_MENTAL_ILL_HEALTH", "PARENTAL_LEARNING_DISABILITY", "PARENTAL_PHYSICAL_ILL_HEALTH",
    "IMMUNISATIONS_UP_TO_DATE", "DENTAL_CHECK", "MENTAL_HEALTH", "SUBSTANCE_MISUSE", "YOUTH_OFFENDING",
    "WELSH_LANGUAGE",
)
PLASC_PUPIL = (
    "YEAR_CODE", "IRN", "ALF_PE", "LOCAL_AUTHORITY_CODE", "NATIONAL_CURRICULUM_YEAR", "FSM", "SEN",
    "KS2_CSI", "KS3_CSI", "KS4_CAPPED_POINTS",
)

# Welsh code lists of domain-reference §2.7 (kept here, independent of the module under test).
ETHNICITY = {
    "A1", "A2", "A3", "B1", "B2", "B3", "B4", "C1", "C2", "C3", "C4", "D1", "D2", "D3", "E1", "E2",
    "WHTE", "MIXD", "ASAB", "BBAC", "OOTH", "NOBT", "REFU",
}
CODE_LISTS: dict[str, set[str]] = {
    "GNDR_CD": {"0", "1", "2", "9"},
    "ETHNICITY": ETHNICITY,
    "ETHNICITY_OF_ADOPTERS": ETHNICITY,
    "DISABILITY_CODE": {"0", "1", "2"},
    "REASON_EPISODE_STARTED_CODE": {"S", "L", "P", "B"},
    "LEGAL_STATUS_CODE": {"C1", "C2", "D1", "E1", "V1", "V2", "J1", "J2", "J3", "L1", "L2", "L3", "W1"},
    "CATEGORY_OF_NEED_CODE": {f"N{i}" for i in range(1, 10)},
    "PLACEMENT_TYPE_CODE": {
        "F1", "F2", "F3", "F4", "F5", "F6", "A1", "A2", "A3", "A4", "A5", "A6", "A8", "P1", "P2", "P3", "H1",
        "H2", "H21", "H22", "H3", "H4", "H5", "R1", "R2", "R3", "R4", "R5", "S1", "M1", "M2", "M3", "Z1",
    },
    "REASON_EPISODE_FINISHED_CODE": {
        "X1", "E1", "E11", "E12", "E2", "E3", "E4", "E43", "E44", "E5", "E6", "E7", "E8", "E9", "E10",
    },
    "IN_TOUCH": {"YES", "NO", "DIED", "REFU", "NREQ", "RHOM"},
    "ACTIVITY": {"F1", "P1", "F2", "P2", "F4", "P4", "F5", "P5", "G4", "G5", "G6", "0"},
    "SEX_OF_ADOPTERS": {"M1", "F1", "MM", "FF", "MF"},
    "LEGAL_STATUS_OF_ADOPTERS": {"L0", "L11", "L12", "L2", "L3", "L4"},
    "REASON_FOR_CLOSURE": {f"RC{i}" for i in range(1, 10)},
}
ID_COLUMN = {"cla": "SYSTEM_ID", "crcs": "CHILD_CODE", "plasc": "IRN"}
IN_PLACE = {"unparseable_date", "unknown_code", "overlapping_episode", "year_code_mismatch"}
APPENDED = {"conflicting_episode_rows", "duplicate_child_row"}
FILE_LEVEL = {"missing_column", "empty_file", "truncated_last_line"}


# --------------------------------------------------------------------------- fixture census


def _write_csv(path: Path, header: tuple[str, ...], rows: list[list[str]], raw_tail: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes((buffer.getvalue() + raw_tail).encode("utf-8"))


def build_census(root: Path, n_children: int = 5) -> Path:
    """A small clean census: 3 years x 2 LAs, every file of the contract, a few rows each."""
    for y, year in enumerate(YEARS):
        start_of_year = date(int(year[:4]), 4, 1)
        child: list[list[str]] = []
        episode: list[list[str]] = []
        adoption: list[list[str]] = []
        leaver: list[list[str]] = []
        crcs: list[list[str]] = []
        pupil: list[list[str]] = []
        for la in LAS:
            for k in range(n_children):
                sid = f"{la}-{k:03d}"
                wob = date(2008 + k % 8, 1, 7) + timedelta(weeks=y + k % 50)
                child.append([
                    year, la, sid, str(1000 + k) if k % 2 else "", "1" if k % 2 else "2", wob.isoformat(),
                    ["A1", "B2", "C3", "D1", "E2"][k % 5], str(k % 3), "0", "", f"W0100{k:04d}",
                    f"IRN{la}{k:03d}" if k % 3 else "",
                ])
                start = start_of_year - timedelta(days=40 * (k % 20))
                n_episodes = 2 + k % 2
                for e in range(n_episodes):
                    end = start + timedelta(days=30 + 7 * e)
                    last = e == n_episodes - 1
                    episode.append([
                        year, la, sid, str(e + 1), start.isoformat(),
                        "" if last and k % 2 else end.isoformat(),
                        "S" if e == 0 else "P", ["C2", "V2", "C1"][e], "N1",
                        ["F2", "F3", "H3"][(e + k) % 3], f"W0100{k:04d}",
                        "" if last and k % 2 else ("E4" if last else "X1"), "",
                    ])
                    start = end
                crcs.append([
                    year, la, f"{la}-{k:03d}", "", f"IRN{la}{k:03d}", "1" if k % 2 else "2", wob.isoformat(),
                    "A1", f"W0100{k:04d}", (start_of_year - timedelta(days=100 + k)).isoformat(),
                    f"N{1 + k % 8}", "1" if k < 2 else "0", "0",
                    "1" if k == 3 else "0", "MOB|LD" if k == 3 else "",
                    "0", "1", "9", "0", "0", "1", "1", "0", "", "", "0",
                ])
                pupil.append([year, f"IRN{la}{k:03d}", "", la, str(3 + k % 10), "1", "0", "", "", ""])
            adoption.append([
                year, la, f"{la}-000", (start_of_year + timedelta(days=10)).isoformat(),
                (start_of_year + timedelta(days=50)).isoformat(),
                (start_of_year + timedelta(days=80)).isoformat(),
                (start_of_year + timedelta(days=200)).isoformat(), "1", "2", "MF", "L11", "A1",
            ])
            adoption.append([
                year, la, f"{la}-002", (start_of_year + timedelta(days=20)).isoformat(), "", "", "", "0", "1",
                "F1", "L0", "B1",
            ])
            leaver.append([year, la, f"{la}-001", "YES", "F5", "U1", "1", "1"])
            leaver.append([year, la, f"{la}-004", "NO", "0", "0", "0", "1"])
        _write_csv(root / "cla" / year / "child.csv", CLA_CHILD, child)
        _write_csv(root / "cla" / year / "episode.csv", CLA_EPISODE, episode)
        _write_csv(root / "cla" / year / "adoption.csv", CLA_ADOPTION, adoption)
        _write_csv(root / "cla" / year / "care_leaver.csv", CLA_CARE_LEAVER, leaver)
        _write_csv(root / "crcs" / year / "child.csv", CRCS_CHILD, crcs)
        # A row with needless quotes: untouched rows must keep their exact bytes.
        quoted = f'"{year}","IRN999","",512,"7",0,0,"","",""\n'
        _write_csv(root / "plasc" / year / "pupil.csv", PLASC_PUPIL, pupil, raw_tail=quoted)
    (root / "README.txt").write_text("not a census file\n", encoding="utf-8")
    return root


@pytest.fixture()
def clean(tmp_path: Path) -> Path:
    return build_census(tmp_path / "clean")


# --------------------------------------------------------------------------- checks


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def lines(data: bytes) -> list[str]:
    """Header + data lines (terminators kept; the fixture has no quoted newlines)."""
    return data.decode("utf-8").splitlines(keepends=True)


def parse_line(line: str) -> list[str]:
    return next(csv.reader([line]))


def is_iso_date(value: str) -> bool:
    try:
        datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        return False
    return len(value) == 10


def read_rows(data: bytes) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    return rows[0], rows[1:]


def overlaps_another(header: list[str], rows: list[list[str]], index: int) -> bool:
    """Whether episode row ``index`` overlaps another episode of the same child in the file."""
    names = ("LOCAL_AUTHORITY_CODE", "SYSTEM_ID")
    episodes = [dict(zip(header, r)) for r in rows]

    def span(e: dict[str, str]) -> tuple[date, date]:
        end = date.fromisoformat(e["EPISODE_END_DATE"]) if e["EPISODE_END_DATE"] else date.max
        return date.fromisoformat(e["EPISODE_START_DATE"]), end

    me = episodes[index]
    start, end = span(me)
    return any(
        span(e)[0] < end and start < span(e)[1]
        for i, e in enumerate(episodes)
        if i != index and all(e[name] == me[name] for name in names)
    )


def keyed(header: list[str], row: list[str], names: tuple[str, ...]) -> tuple[str, ...]:
    record = dict(zip(header, row))
    return tuple(record[name] for name in names)


def check_fault(fault: Fault, clean_bytes: bytes, out_bytes: bytes) -> None:
    """The file/row the manifest names really shows the fault (parsing the written file)."""
    cls = fault.fault_class
    dataset, year, _name = fault.file.split("/")
    if cls == "empty_file":
        assert out_bytes == b"" and clean_bytes != b""
        assert fault.row_number is None
        return
    if cls == "truncated_last_line":
        out_lines, clean_lines = lines(out_bytes), lines(clean_bytes)
        assert not out_bytes.endswith(b"\n")
        assert fault.row_number == len(out_lines) - 1 == len(clean_lines) - 1
        assert out_lines[:-1] == clean_lines[:-1]
        header = parse_line(out_lines[0])
        assert len(parse_line(out_lines[-1])) < len(header)
        assert clean_lines[-1].startswith(out_lines[-1]) and out_lines[-1] == fault.injected_value
        return
    header, rows = read_rows(out_bytes)
    clean_header, clean_rows = read_rows(clean_bytes)
    if cls == "missing_column":
        assert fault.row_number is None
        assert fault.column in clean_header and fault.column not in header
        assert len(header) == len(clean_header) - 1 and len(rows) == len(clean_rows)
        drop = clean_header.index(fault.column)
        assert rows == [[v for i, v in enumerate(r) if i != drop] for r in clean_rows]
        return
    assert fault.row_number is not None and 1 <= fault.row_number <= len(rows)
    row = dict(zip(header, rows[fault.row_number - 1]))
    if fault.column:
        assert row[fault.column] == fault.injected_value != fault.original_value
    if cls == "unparseable_date":
        assert is_iso_date(fault.original_value) and not is_iso_date(row[fault.column])
    elif cls == "unknown_code":
        assert row[fault.column] not in CODE_LISTS[fault.column]
    elif cls == "year_code_mismatch":
        assert fault.column == "YEAR_CODE" and fault.original_value == year
        assert row["YEAR_CODE"] != year and len(row["YEAR_CODE"]) == 6
    elif cls == "overlapping_episode":
        assert fault.column == "EPISODE_START_DATE"
        assert overlaps_another(header, rows, fault.row_number - 1)
        assert not overlaps_another(clean_header, clean_rows, fault.row_number - 1)
    elif cls == "conflicting_episode_rows":
        names: tuple[str, ...] = ("LOCAL_AUTHORITY_CODE", "SYSTEM_ID", "EPISODE_START_DATE")
        episode = tuple(row[k] for k in names)
        same = [r for r in rows if keyed(header, r, names) == episode]
        assert len(same) == 2 and same[0] != same[1]
        assert [keyed(clean_header, r, names) for r in clean_rows].count(episode) == 1
        assert fault.row_number > len(clean_rows)  # an added row
    elif cls == "duplicate_child_row":
        names = ("LOCAL_AUTHORITY_CODE", ID_COLUMN[dataset])
        child = tuple(row[k] for k in names)
        assert [keyed(header, r, names) for r in rows].count(child) == 2
        assert [keyed(clean_header, r, names) for r in clean_rows].count(child) == 1
        assert fault.row_number > len(clean_rows)  # an added row
    else:  # pragma: no cover - every class is handled above
        raise AssertionError(f"unchecked fault class {cls}")


def check_faulty_tree(clean: Path, out: Path, faults: list[Fault]) -> None:
    """Manifest matches; every fault shows; every other row and file keeps its exact bytes."""
    assert read_manifest(out) == faults
    with (out / "fault_manifest.csv").open(encoding="utf-8", newline="") as handle:
        assert tuple(next(csv.reader(handle))) == MANIFEST_COLUMNS
    assert len({f.fault_id for f in faults}) == len(faults)
    clean_tree, out_tree = tree(clean), tree(out)
    assert set(out_tree) == set(clean_tree) | {"fault_manifest.csv"}

    by_file: dict[str, list[Fault]] = defaultdict(list)
    for fault in faults:
        assert "\\" not in fault.file and fault.file in clean_tree
        by_file[fault.file].append(fault)
    for name, clean_bytes in clean_tree.items():
        out_bytes = out_tree[name]
        file_faults = by_file.get(name, [])
        if not file_faults:
            assert out_bytes == clean_bytes, f"{name} changed without a fault"
            continue
        classes = {f.fault_class for f in file_faults}
        if classes & FILE_LEVEL:  # a file-level fault is alone in its file
            assert len(file_faults) == 1, f"{name}: {classes}"
        else:
            out_lines, clean_lines = lines(out_bytes), lines(clean_bytes)
            listed = {f.row_number for f in file_faults}
            in_place = {f.row_number for f in file_faults if f.fault_class in IN_PLACE}
            assert len(listed) == len(file_faults), f"{name}: two faults on one row"
            assert len(out_lines) == len(clean_lines) + sum(f.fault_class in APPENDED for f in file_faults)
            assert [x for i, x in enumerate(out_lines) if i not in listed] == [
                x for i, x in enumerate(clean_lines) if i not in in_place
            ]
            header = parse_line(clean_lines[0])
            for number in in_place:  # an in-place fault changes its one column only
                assert number is not None
                before, after = parse_line(clean_lines[number]), parse_line(out_lines[number])
                changed = [header[i] for i in range(len(header)) if before[i] != after[i]]
                assert changed == [f.column for f in file_faults if f.row_number == number]
        for fault in file_faults:
            check_fault(fault, clean_bytes, out_bytes)


# --------------------------------------------------------------------------- tests


def test_every_class_is_injected_where_the_manifest_says(clean: Path, tmp_path: Path) -> None:
    faults = inject_faults(clean, tmp_path / "faulty", seed=11)
    assert Counter(f.fault_class for f in faults) == {c: 3 for c in FAULT_CLASSES}
    assert [f.fault_class for f in faults] == sorted((f.fault_class for f in faults), key=FAULT_CLASSES.index)
    check_faulty_tree(clean, tmp_path / "faulty", faults)


@pytest.mark.parametrize("seed", [1, 2, 3, 20160401])
def test_faults_hold_for_other_seeds(clean: Path, tmp_path: Path, seed: int) -> None:
    faults = inject_faults(clean, tmp_path / "faulty", seed=seed)
    assert len(faults) == 3 * len(FAULT_CLASSES)
    check_faulty_tree(clean, tmp_path / "faulty", faults)


def test_faults_are_spread_and_attributable(clean: Path, tmp_path: Path) -> None:
    faults = inject_faults(clean, tmp_path / "faulty", seed=5)
    file_level = [f.file for f in faults if f.fault_class in FILE_LEVEL]
    row_level = {f.file for f in faults if f.fault_class not in FILE_LEVEL}
    assert len(set(file_level)) == len(file_level) and not set(file_level) & row_level
    for cls in FAULT_CLASSES:
        mine = [f for f in faults if f.fault_class == cls]
        assert len({f.file.split("/")[1] for f in mine}) == len(YEARS), cls  # one per year
        if cls not in FILE_LEVEL:
            las = set()
            for f in mine:
                header, rows = read_rows((tmp_path / "faulty" / f.file).read_bytes())
                las.add(rows[(f.row_number or 0) - 1][header.index("LOCAL_AUTHORITY_CODE")])
            assert las == set(LAS), cls
    # one child is never the victim of two row-level faults in one return
    seen: set[tuple[str, str, str, str]] = set()
    out_tree = tree(tmp_path / "faulty")
    for f in faults:
        if f.fault_class in FILE_LEVEL:
            continue
        dataset, year, _ = f.file.split("/")
        header, rows = read_rows(out_tree[f.file])
        row = dict(zip(header, rows[(f.row_number or 0) - 1]))
        key = (dataset, year, row["LOCAL_AUTHORITY_CODE"], row[ID_COLUMN[dataset]])
        assert key not in seen, f
        seen.add(key)


def test_clean_dir_is_untouched(clean: Path, tmp_path: Path) -> None:
    before = {k: hashlib.sha256(v).hexdigest() for k, v in tree(clean).items()}
    inject_faults(clean, tmp_path / "faulty", seed=3)
    assert {k: hashlib.sha256(v).hexdigest() for k, v in tree(clean).items()} == before


def test_same_seed_same_bytes_other_seed_other_faults(clean: Path, tmp_path: Path) -> None:
    first = inject_faults(clean, tmp_path / "a", seed=42)
    second = inject_faults(clean, tmp_path / "b", seed=42)
    assert first == second
    assert tree(tmp_path / "a") == tree(tmp_path / "b")
    other = inject_faults(clean, tmp_path / "c", seed=43)
    places = [(f.file, f.row_number, f.column) for f in first]
    assert [(f.file, f.row_number, f.column) for f in other] != places
    assert tree(tmp_path / "c") != tree(tmp_path / "a")


def test_subset_of_classes_and_count(clean: Path, tmp_path: Path) -> None:
    chosen = ["empty_file", "unknown_code"]
    faults = inject_faults(clean, tmp_path / "faulty", seed=9, classes=chosen, per_class=2)
    assert Counter(f.fault_class for f in faults) == {"empty_file": 2, "unknown_code": 2}
    check_faulty_tree(clean, tmp_path / "faulty", faults)
    none = inject_faults(clean, tmp_path / "none", seed=9, per_class=0)
    assert none == [] and read_manifest(tmp_path / "none") == []
    check_faulty_tree(clean, tmp_path / "none", none)


def test_rejects_bad_requests(clean: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown fault classes"):
        inject_faults(clean, tmp_path / "x", seed=1, classes=["not_a_fault"])
    with pytest.raises(ValueError, match="contain each other"):
        inject_faults(clean, clean / "faulty", seed=1)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("x", encoding="utf-8")
    with pytest.raises(FileExistsError):
        inject_faults(clean, tmp_path / "full", seed=1)
    with pytest.raises(ValueError, match="cannot place"):
        inject_faults(clean, tmp_path / "too_many", seed=1, per_class=20)


def _generator_available() -> bool:
    try:
        return importlib.util.find_spec("carecensus.generator") is not None
    except ModuleNotFoundError:
        return False


@pytest.mark.skipif(not _generator_available(), reason="carecensus.generator not written yet")
def test_on_a_generated_census(tmp_path: Path) -> None:
    from carecensus.generator import GeneratorConfig, generate

    clean_dir = tmp_path / "clean"
    # Small and recent enough to keep the suite quick; it still spans the 202324 CRCS format change.
    generate(GeneratorConfig(out_dir=clean_dir, first_year=2021, last_year=2024, seed=20160401, scale=0.1))
    started = time.perf_counter()
    faults = inject_faults(clean_dir, tmp_path / "faulty", seed=20160401)
    elapsed = time.perf_counter() - started
    assert Counter(f.fault_class for f in faults) == {c: 3 for c in FAULT_CLASSES}
    check_faulty_tree(clean_dir, tmp_path / "faulty", faults)
    assert elapsed < 60, f"fault injection took {elapsed:.1f}s"
