"""The data dictionary: ``dbt docs generate --static`` and a headless look at what it shows.

``dbt docs generate`` writes ``target/index.html`` with ``manifest.json`` and ``catalog.json``
beside it (it needs a web server to load them); ``--static`` also writes
``target/static_index.html``, one self-contained file with both built in, that opens straight
from disk or a file share. :func:`render` loads a page of it in headless Chromium and returns
the DOM after the page's scripts have run, so a test sees what a reader would.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from carecensus.dbt_runner import DOCS_AFTER_BUILD, run_dbt, target_dir

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser",
                       "/usr/bin/google-chrome")
STATIC_SITE = "static_index.html"
# The salt of the pseudonymous keys (macros/keys.sql): the compiled SQL that the site shows
# carries it as a string literal. Its documented default is public; a deployment's own is not.
SALT_VARIABLE = "CENSUS_KEY_SALT"
SALT_PLACEHOLDER = "<CENSUS_KEY_SALT>"


def generate(raw: Path | None = None, warehouse: Path | None = None,
             work: Path | None = None, after_build: bool = False) -> Path:
    """Run ``dbt docs generate --static``; return the single-file site it wrote.

    Without ``work`` it writes into dbt's target path (``DBT_TARGET_PATH`` or ``target/``); the catalog is read from the
    build database ``warehouse`` (default ``CENSUS_WAREHOUSE_PATH``). ``after_build`` says that
    a ``dbt build`` of the same project just wrote ``manifest.json`` into that target path: its
    compiled SQL is then reused (``--no-compile``: dbt writes no manifest and the site embeds the
    build's) instead of compiling every model and test a second time."""
    target = (work / "target") if work is not None else target_dir()
    arguments = ["docs", "generate", "--static"]
    if after_build:
        if not (target / "manifest.json").is_file():
            raise RuntimeError(f"no manifest.json of a build in {target}: run dbt build first")
        arguments = list(DOCS_AFTER_BUILD)
    result = run_dbt(arguments, raw=raw, warehouse=warehouse, work=work,
                     capture=work is not None)
    if result.returncode != 0:
        redact_site(target)  # dbt writes the page before it reports a catalog error
        raise RuntimeError("dbt docs generate failed:\n" + (result.stdout or "")[-4000:])
    return static_site(target)


def static_site(target: Path) -> Path:
    """The single-file site that ``dbt docs generate --static`` wrote into the target folder
    ``target``, with the salt replaced (:func:`redact_site`); RuntimeError when there is none."""
    site = target / STATIC_SITE
    if not site.exists():
        raise RuntimeError(f"dbt docs generate --static wrote no {site}")
    redact_site(target)
    return site


def redact_site(target: Path, environ: Mapping[str, str] | None = None) -> None:
    """Replace a salt of the deployment's own (``CENSUS_KEY_SALT`` in ``environ``, default the
    process's environment) by a placeholder in the single-file site in ``target``, if there is
    one: the data dictionary that readers pass around. Only in the manifest the page embeds
    (``manifest.json`` beside it, whose text the page holds as it is), so that a short salt
    cannot rewrite the page's own script; in the whole page when that text is not found. The
    manifest, compiled SQL and logs in dbt's folders keep the salt, as a build needs it."""
    site = target / STATIC_SITE
    salt = (os.environ if environ is None else environ).get(SALT_VARIABLE)
    if not salt or not site.exists():
        return
    page = site.read_text(encoding="utf-8")
    manifest = target / "manifest.json"
    embedded = manifest.read_text(encoding="utf-8") if manifest.is_file() else ""
    if embedded and embedded in page:
        redacted = page.replace(embedded, without_salt(embedded, salt))
    elif embedded and without_salt(embedded, salt) in page:
        return  # redacted already
    else:
        redacted = without_salt(page, salt)
    if redacted != page:
        site.write_text(redacted, encoding="utf-8")


def without_salt(page: str, salt: str) -> str:
    """``page`` with the salt's string literals replaced by ``'<CENSUS_KEY_SALT>'``: in the
    compiled SQL of DuckDB (an apostrophe doubled) or of Spark (escaped by a backslash), as the
    site's embedded manifest encodes it in JSON (non-ASCII escaped or not)."""
    literals = ("'" + salt.replace("'", "''") + "'",
                "'" + salt.replace("\\", "\\\\").replace("'", "\\'") + "'")
    forms = {json.dumps(literal, ensure_ascii=ascii_only)[1:-1]
             for literal in literals for ascii_only in (True, False)}
    placeholder = f"'{SALT_PLACEHOLDER}'"
    for form in sorted(forms, key=len, reverse=True):
        page = page.replace(form, placeholder)
    return page


def chromium() -> Path | None:
    """The headless browser, if one is installed (``CHROMIUM`` overrides the search)."""
    override = os.environ.get("CHROMIUM")
    candidates = (override,) if override else CHROMIUM_CANDIDATES
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    found = shutil.which("chromium")
    return Path(found) if found else None


def page_url(site: Path, resource_id: str) -> str:
    """The URL of a node's page in the site, e.g. ``model.welsh_care_census.stg_cla__episodes``."""
    kind = resource_id.split(".", 1)[0]
    return f"{site.resolve().as_uri()}#!/{kind}/{resource_id}"


def render(url: str, browser: Path, budget_ms: int = 15000, timeout_s: float = 120.0) -> str:
    """The page's DOM after its scripts ran, from headless Chromium with no network or profile."""
    with tempfile.TemporaryDirectory(prefix="carecensus-chromium-") as profile:
        command = [str(browser), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                   "--no-first-run", "--disable-background-networking",
                   "--disable-component-update", "--disable-sync",
                   f"--user-data-dir={profile}", f"--virtual-time-budget={budget_ms}",
                   "--dump-dom", url]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s,
                                check=False)
    if result.returncode != 0 or not result.stdout.strip():
        raise RuntimeError(f"chromium failed ({result.returncode}): {result.stderr[-2000:]}")
    return result.stdout


def visible_text(dom: str) -> str:
    """What a reader sees: the DOM without scripts and styles (the static site carries the
    manifest as JSON in a script, which must not count), tags removed, whitespace collapsed."""
    body = re.sub(r"<(script|style)\b.*?</\1\s*>", " ", dom, flags=re.S | re.I)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def description_probe(description: str, length: int = 60) -> str:
    """The start of a description as the page shows it in the columns table: whitespace
    collapsed, cut before the first markdown mark (backtick, asterisk, link)."""
    flat = " ".join(description.split())
    return re.split(r"[`*\[]", flat, maxsplit=1)[0][:length].strip()


def missing_column_descriptions(text: str, columns: Mapping[str, str]) -> list[str]:
    """The columns (name -> description) whose name or description is not in the page text."""
    missing = []
    for name, description in columns.items():
        probe = description_probe(description)
        if not probe or f"{name} " not in text or probe not in text:
            missing.append(name)
    return missing
