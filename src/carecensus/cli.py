"""``carecensus``: the one command for everything around the dbt project."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from carecensus.paths import PROJECT_DIR, raw_dir, warehouse_path


def _add_generator_options(parser: argparse.ArgumentParser) -> None:
    from carecensus.generator import DEFAULT_SEED, FIRST_YEAR, LAST_YEAR

    parser.add_argument("--first-year", type=int, default=FIRST_YEAR,
                        help="first reporting year, as the April it starts (2016 = 201617)")
    parser.add_argument("--last-year", type=int, default=LAST_YEAR,
                        help="last reporting year (2024 = 202425)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--scale", type=float, default=1.0,
                        help="volume multiplier: 1 = Wales, 10 = ten times Wales")
    parser.add_argument("--workers", type=int, default=2, help="processes to use")


def cmd_generate(args: argparse.Namespace) -> int:
    from carecensus.generator import GeneratorConfig, generate

    out = Path(args.out) if args.out else raw_dir()
    if out.exists() and any(out.iterdir()):
        if not args.force:
            print(f"error: {out} is not empty (use --force to replace it)", file=sys.stderr)
            return 2
        shutil.rmtree(out)
    started = time.perf_counter()
    config = GeneratorConfig(out_dir=out, first_year=args.first_year, last_year=args.last_year,
                             seed=args.seed, scale=args.scale, workers=args.workers)
    counts = generate(config)
    elapsed = time.perf_counter() - started
    print(f"generated {sum(counts.values()):,} rows in {len(counts)} files into {out} "
          f"in {elapsed:.1f} s (scale {args.scale}, seed {args.seed})")
    if args.faults:
        from carecensus.faults import inject_faults

        faulty = Path(args.faults)
        if faulty.exists():
            shutil.rmtree(faulty)
        faults = inject_faults(out, faulty, seed=args.seed)
        print(f"wrote a faulty copy with {len(faults)} injected faults into {faulty} "
              f"(manifest: {faulty / 'fault_manifest.csv'})")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    from carecensus.calibration import format_report, report

    source = Path(args.raw) if args.raw else raw_dir()
    text = format_report(report(source))
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(
            "# Calibration: generated census against published figures\n\n"
            f"Raw extract folder: `{source.name}`. Published figures: "
            "`shared/census/domain-reference.md` section 5.\n\n" + text + "\n")
    return 0


def cmd_rules(args: argparse.Namespace) -> int:
    from carecensus import rules

    source = Path(args.raw) if args.raw else raw_dir()
    violations = rules.check_rules(source)
    print(rules.format_report(violations))
    errors = [r for r, rows in violations.items()
              if rows and rules.RULES_BY_ID[r].severity == "error"]
    return 1 if errors else 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Run the committed Great Expectations suites of one kind; non-zero on a critical failure."""
    from carecensus.quality import DEFAULT_OUT_DIR, run_suites

    if args.kind == "raw":
        source = Path(args.raw) if args.raw else raw_dir()
    else:
        source = Path(args.warehouse) if args.warehouse else warehouse_path()
    summary = run_suites(args.kind, source, Path(args.out) if args.out else DEFAULT_OUT_DIR)
    print(summary.describe())
    return summary.exit_code


def gate(kind: str) -> bool:
    """A validation gate of the main job: True when it passed (nothing critical failed or errored)."""
    status = cmd_validate(argparse.Namespace(kind=kind, raw=None, warehouse=None,
                                             out=os.environ.get("CENSUS_QUALITY_DIR")))
    if status != 0:
        what = "errored (an expectation raised)" if status == 2 else "failed"
        print(f"gate '{kind} suites' {what}: nothing published, the serving file is unchanged",
              file=sys.stderr)
    return status == 0


def rules_gate() -> bool:
    """The census validation rules gate: no failure at severity error in the built warehouse."""
    import duckdb

    con = duckdb.connect(str(warehouse_path()), read_only=True)
    try:
        failures = con.execute(
            "select year_code, local_authority_code, rule_id, failure_count, message "
            "from marts.fct_validation_rule_failures_by_authority where severity = 'error' "
            "order by year_code, local_authority_code, rule_id").fetchall()
    finally:
        con.close()
    for year, authority, rule, count, message in failures[:50]:
        print(f"rule {rule} failed {count} times in {authority} {year}: {message}", file=sys.stderr)
    if failures:
        print(f"gate 'census validation rules' failed ({len(failures)} rule x authority x year): "
              "nothing published, the serving file is unchanged", file=sys.stderr)
    return not failures


def cmd_publish(args: argparse.Namespace) -> int:
    from carecensus.dbt_runner import load_manifest, target_dir
    from carecensus.publish import format_report, publish, serving_path

    build_db = Path(args.build_db) if args.build_db else warehouse_path()
    manifest = Path(args.manifest) if args.manifest else target_dir() / "manifest.json"
    if not manifest.exists():
        print(f"error: no manifest at {manifest}: run dbt build (or dbt parse) first",
              file=sys.stderr)
        return 2
    serving = Path(args.serving) if args.serving else serving_path()
    published = publish(build_db, load_manifest(manifest), serving,
                        Path(args.parquet) if args.parquet else None)
    print(format_report(published, serving))
    return 0


def cmd_check_structure(args: argparse.Namespace) -> int:
    import tempfile

    from carecensus import structure
    from carecensus.dbt_runner import load_manifest, parse_project

    catalog = None
    checked: Path | str
    if args.manifest:
        manifest_path = Path(args.manifest)
        catalog_path = manifest_path.with_name("catalog.json")
        if catalog_path.exists() and not args.no_catalog:
            catalog = load_manifest(catalog_path)
        manifest = load_manifest(manifest_path)
        checked = manifest_path
    else:
        with tempfile.TemporaryDirectory(prefix="carecensus-parse-") as work:
            manifest = load_manifest(parse_project(Path(work)))
        checked = "a fresh dbt parse of the project"
    findings = structure.check(manifest, catalog)
    print(structure.format_findings(findings, checked))
    return 1 if findings else 0


def cmd_docs(args: argparse.Namespace) -> int:
    from carecensus import docs_site

    site = docs_site.generate()
    print(f"data dictionary: {site} (one file: open it in a browser)\n"
          f"  served version: {site.with_name('index.html')} (needs `dbt docs serve`)")
    return 0


def _start_build(timings: Path) -> subprocess.Popen[bytes]:
    """Start dbt build, then dbt docs generate, in one dbt process of the main job's own (one
    parse); its output on the console; the caller waits for it."""
    from carecensus.dbt_runner import DOCS_AFTER_BUILD, PRODUCTION_BUILD, start_build_then_docs

    print(f"$ dbt {' '.join(PRODUCTION_BUILD)} && dbt {' '.join(DOCS_AFTER_BUILD)}"
          "   (one dbt process, one parse)", flush=True)
    return start_build_then_docs(raw=raw_dir(), warehouse=warehouse_path(), timings=timings)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop dbt as Ctrl-C does (it cancels its queries and closes the database), then wait."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def cmd_run(args: argparse.Namespace) -> int:
    """The main job: generate, build and document, [gates], publish, report."""
    from carecensus import docs_site
    from carecensus.dbt_runner import target_dir

    raw = raw_dir()
    steps: list[tuple[str, float]] = []

    def timed(name: str, started: float) -> None:
        steps.append((name, time.perf_counter() - started))

    t = time.perf_counter()
    if args.regenerate or not (raw / "cla").exists():
        gen_args = argparse.Namespace(out=str(raw), force=True, faults=None,
                                      first_year=args.first_year, last_year=args.last_year,
                                      seed=args.seed, scale=args.scale, workers=args.workers)
        cmd_generate(gen_args)
        timed("generate", t)
    else:
        print(f"using the census already in {raw} (--regenerate to make it anew)")
    warehouse_path().parent.mkdir(parents=True, exist_ok=True)

    # The raw suites run beside dbt build: both only read the raw files, and the build writes only
    # the build database, which readers never open. Publishing waits for both gates.
    # --raw-suites-first runs them before the build instead: slower, with less memory at once.
    # The data dictionary is generated in the build's own dbt process, right after the build (its
    # catalog reads the build database, as the site always did): it describes the build whether or
    # not the mart gates then let it be published.
    from carecensus.dbt_runner import DOCS_FAILED

    target_dir().mkdir(parents=True, exist_ok=True)
    dbt_timings = target_dir() / "build_then_docs.json"
    dbt_timings.unlink(missing_ok=True)
    job_started = t = time.perf_counter()
    if args.raw_suites_first:
        if not gate("raw"):
            return 1
        timed("raw suites", t)
        t = time.perf_counter()
        build = _start_build(dbt_timings)
    else:
        build = _start_build(dbt_timings)
        try:
            raw_passed = gate("raw")
        except BaseException:
            _stop(build)
            raise
        timed("raw suites", t)
        if not raw_passed:
            _stop(build)
            print("dbt build stopped (the raw suites failed)", file=sys.stderr)
            return 1
    status = build.wait()
    if status == DOCS_FAILED:
        docs_site.redact_site(target_dir())  # the page is written before a catalog error
        print("dbt build passed, dbt docs generate failed: nothing published, the serving file is "
              "unchanged", file=sys.stderr)
        return 1
    if status != 0:
        print("dbt build failed: nothing published, the serving file is unchanged",
              file=sys.stderr)
        return 1
    docs_seconds = float(json.loads(dbt_timings.read_text(encoding="utf-8"))["docs"])
    steps.append(("dbt build", time.perf_counter() - t - docs_seconds))
    steps.append(("dbt docs (+static)", docs_seconds))
    site = docs_site.static_site(target_dir())

    t = time.perf_counter()
    if not gate("mart") or not rules_gate():
        return 1
    timed("mart suites and rules", t)

    t = time.perf_counter()
    status = cmd_publish(argparse.Namespace(build_db=None, manifest=None, serving=None,
                                            parquet=None))
    if status != 0:
        return status
    timed("publish", t)
    job_seconds = time.perf_counter() - job_started

    if args.timings:
        Path(args.timings).write_text(json.dumps(
            {"steps": dict(steps), "suites_to_publish": job_seconds}, indent=2) + "\n")

    reports = PROJECT_DIR / "data" / "reports"
    if not args.no_calibration:
        t = time.perf_counter()
        cmd_calibrate(argparse.Namespace(raw=str(raw), out=str(reports / "calibration.md")))
        timed("calibration report", t)

    from carecensus.publish import parquet_dir, serving_path

    when = ("before dbt build" if args.raw_suites_first
            else "beside dbt build, both timed from its start")
    print(f"\nmain job finished (the raw suites ran {when}):")
    for name, seconds in steps:
        print(f"  {name:<20} {seconds:7.1f} s")
    print(f"  {'suites to publish':<20} {job_seconds:7.1f} s (the main job without generate and "
          "calibration)")
    calibration = "(not made)" if args.no_calibration else reports / "calibration.md"
    print(f"  raw census:      {raw}\n  build database:  {warehouse_path()}\n"
          f"  serving file:    {serving_path()}\n  parquet:         {parquet_dir()}\n"
          f"  calibration:     {calibration}\n"
          f"  data dictionary: {site} (also {target_dir() / 'index.html'})")
    return 0


def cmd_benchmark(args: argparse.Namespace) -> int:
    from carecensus import benchmark

    report = benchmark.run_benchmark(benchmark.options_from_args(args),
                                     command="carecensus benchmark " + " ".join(sys.argv[2:]))
    print(f"benchmark report: {report}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="carecensus", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write a synthetic census in the raw extract format")
    gen.add_argument("--out", help="folder to write (default: $CENSUS_RAW_DIR or data/raw)")
    gen.add_argument("--force", action="store_true", help="replace a non-empty folder")
    gen.add_argument("--faults", metavar="DIR",
                     help="also write a copy with injected faults and a manifest into DIR")
    _add_generator_options(gen)
    gen.set_defaults(func=cmd_generate)

    cal = sub.add_parser("calibrate", help="compare a raw census with the published figures")
    cal.add_argument("--raw", help="raw extract folder (default: $CENSUS_RAW_DIR or data/raw)")
    cal.add_argument("--out", help="also write the report as markdown here")
    cal.set_defaults(func=cmd_calibrate)

    val = sub.add_parser("validate", help="run the Great Expectations suites (raw or mart)")
    val.add_argument("kind", choices=["raw", "mart"])
    val.add_argument("--raw", help="raw extract folder for 'raw' (default: $CENSUS_RAW_DIR)")
    val.add_argument("--warehouse", help="build database for 'mart' (opened read-only)")
    val.add_argument("--out", help="where Data Docs and the summary go (default: data/quality)")
    val.set_defaults(func=cmd_validate)

    rul = sub.add_parser("rules", help="check the census validation rules on raw extracts")
    rul.add_argument("--raw", help="raw extract folder (default: $CENSUS_RAW_DIR or data/raw)")
    rul.set_defaults(func=cmd_rules)

    run = sub.add_parser("run", help="the main job: generate, dbt build and docs, publish, report")
    run.add_argument("--regenerate", action="store_true",
                     help="generate the census even if one is already there")
    run.add_argument("--no-calibration", action="store_true",
                     help="leave out the calibration report (the benchmark does)")
    run.add_argument("--timings", metavar="FILE",
                     help="also write the step times as JSON (the benchmark reads them)")
    run.add_argument("--raw-suites-first", action="store_true",
                     help="run the raw suites before dbt build, not beside it: slower, but the "
                          "two never hold memory at once (for a census many times Wales)")
    _add_generator_options(run)
    run.set_defaults(func=cmd_run)

    pub = sub.add_parser("publish", help="copy the public marts to the serving database "
                                         "(atomically) and to Parquet")
    pub.add_argument("--build-db", help="build database (default: $CENSUS_WAREHOUSE_PATH or "
                                        "data/warehouse.duckdb)")
    pub.add_argument("--manifest", help="dbt manifest listing the public models (default: "
                                        "target/manifest.json)")
    pub.add_argument("--serving", help="serving database to replace (default: "
                                       "$CENSUS_SERVING_PATH or data/serving.duckdb)")
    pub.add_argument("--parquet", help="Parquet folder to replace (default: $CENSUS_PARQUET_DIR "
                                       "or data/parquet)")
    pub.set_defaults(func=cmd_publish)

    chk = sub.add_parser("check-structure",
                         help="hold the project to the dbt_project_evaluator rules")
    chk.add_argument("--manifest", help="manifest to check (default: dbt parse into a temporary "
                                        "folder); a catalog.json beside it is used too")
    chk.add_argument("--no-catalog", action="store_true",
                     help="ignore a catalog.json beside the manifest")
    chk.set_defaults(func=cmd_check_structure)

    doc = sub.add_parser("docs", help="dbt docs generate --static: the data dictionary")
    doc.set_defaults(func=cmd_docs)

    from carecensus.benchmark import add_arguments

    bench = sub.add_parser("benchmark", help="time the main job at several scales; write a "
                                             "markdown report")
    add_arguments(bench)
    bench.set_defaults(func=cmd_benchmark)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
