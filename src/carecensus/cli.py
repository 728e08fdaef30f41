"""``carecensus``: the one command for everything around the dbt project."""

from __future__ import annotations

import argparse
import os
import shutil
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
    return 1 if any(violations.values()) else 0


def dbt(*arguments: str, env: dict[str, str] | None = None) -> None:
    """Run dbt in the project folder with the project's profiles; raise if it fails."""
    executable = Path(sys.executable).with_name("dbt")
    command = [str(executable), *arguments, "--profiles-dir", str(PROJECT_DIR),
               "--project-dir", str(PROJECT_DIR)]
    print("$ dbt " + " ".join(arguments), flush=True)
    subprocess.run(command, check=True, cwd=PROJECT_DIR, env=env)


def cmd_run(args: argparse.Namespace) -> int:
    """The main job: generate, build, report, document."""
    raw = raw_dir()
    env = dict(os.environ)
    env["CENSUS_RAW_DIR"] = str(raw)
    env["CENSUS_WAREHOUSE_PATH"] = str(warehouse_path())
    steps: list[tuple[str, float]] = []
    started = time.perf_counter()
    if args.regenerate or not (raw / "cla").exists():
        gen_args = argparse.Namespace(out=str(raw), force=True, faults=None,
                                      first_year=args.first_year, last_year=args.last_year,
                                      seed=args.seed, scale=args.scale, workers=args.workers)
        cmd_generate(gen_args)
        steps.append(("generate", time.perf_counter() - started))
    else:
        print(f"using the census already in {raw} (--regenerate to make it anew)")
    warehouse_path().parent.mkdir(parents=True, exist_ok=True)
    for name, arguments in (("dbt build", ("build",)), ("dbt docs", ("docs", "generate"))):
        t = time.perf_counter()
        dbt(*arguments, env=env)
        steps.append((name, time.perf_counter() - t))
    t = time.perf_counter()
    reports = PROJECT_DIR / "data" / "reports"
    cmd_calibrate(argparse.Namespace(raw=str(raw), out=str(reports / "calibration.md")))
    steps.append(("calibration report", time.perf_counter() - t))
    print("\nmain job finished:")
    for name, seconds in steps:
        print(f"  {name:<20} {seconds:7.1f} s")
    print(f"  warehouse: {warehouse_path()}\n  raw census: {raw}\n"
          f"  calibration: {reports / 'calibration.md'}\n"
          f"  data dictionary: {PROJECT_DIR / 'target' / 'index.html'}")
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

    rul = sub.add_parser("rules", help="check the census validation rules on raw extracts")
    rul.add_argument("--raw", help="raw extract folder (default: $CENSUS_RAW_DIR or data/raw)")
    rul.set_defaults(func=cmd_rules)

    run = sub.add_parser("run", help="the main job: generate, dbt build, report, docs")
    run.add_argument("--regenerate", action="store_true",
                     help="generate the census even if one is already there")
    _add_generator_options(run)
    run.set_defaults(func=cmd_run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
