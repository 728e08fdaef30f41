"""The data dictionary as a reader sees it: the single-file static site from
``dbt docs generate --static``, opened in headless Chromium, shows a model's columns with their
descriptions and the project overview. The page text is read from the rendered DOM with the
site's embedded JSON removed, so the test checks what the page shows, not what it carries."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from carecensus import docs_site
from carecensus.dbt_runner import load_manifest, run_dbt

MODEL = "model.welsh_care_census.stg_cla__episodes"
OTHER_MODEL = "model.welsh_care_census.stg_crcs__children"
# a salt of a deployment's own: an apostrophe and a letter beyond ASCII, as a real one may have
SALT = "docs-test salt of o'Neill, \u0175"


@pytest.fixture(scope="module")
def browser() -> Path:
    found = docs_site.chromium()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI: `make setup` runs "
                        "scripts/install-system-deps.sh, which should have installed it")
        pytest.skip("headless Chromium not installed (/usr/bin/chromium); "
                    "run scripts/install-system-deps.sh")
    return found


@pytest.fixture(scope="module")
def site(default_census_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The static site over a warehouse holding the staging models of the two pages we open
    (built for real, so the catalog has their columns and types), keyed with a salt of its own."""
    work = tmp_path_factory.mktemp("docs_site")
    warehouse = work / "warehouse.duckdb"
    with pytest.MonkeyPatch.context() as env:
        env.setenv(docs_site.SALT_VARIABLE, SALT)
        built = run_dbt(("build", "--select", f"+{MODEL.split('.')[-1]}",
                         f"+{OTHER_MODEL.split('.')[-1]}", "--exclude-resource-type", "test"),
                        raw=default_census_dir, warehouse=warehouse, work=work, capture=True)
        assert built.returncode == 0, built.stdout[-4000:]
        # as the main job does it: the build's manifest (with its compiled SQL) is reused
        return docs_site.generate(raw=default_census_dir, warehouse=warehouse, work=work,
                                  after_build=True)


@pytest.fixture(scope="module")
def lone_site(site: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The static page copied alone into an empty folder, as a reader would get it (mailed,
    on a file share): no manifest.json or catalog.json beside it to fetch."""
    copy = tmp_path_factory.mktemp("docs_site_alone") / "data-dictionary.html"
    shutil.copyfile(site, copy)
    return copy


def _page_text(site: Path, browser: Path, resource_id: str) -> str:
    return docs_site.visible_text(docs_site.render(docs_site.page_url(site, resource_id),
                                                   browser))


def _columns(site: Path, resource_id: str) -> dict[str, str]:
    node = load_manifest(site.with_name("manifest.json"))["nodes"][resource_id]
    return {name: str(column["description"]) for name, column in node["columns"].items()}


def test_model_page_shows_every_column_with_its_description(
        site: Path, lone_site: Path, browser: Path) -> None:
    columns = _columns(site, MODEL)
    assert len(columns) > 10
    assert [p.name for p in lone_site.parent.iterdir()] == [lone_site.name]
    text = _page_text(lone_site, browser, MODEL)
    assert "stg_cla__episodes" in text and "Columns" in text
    assert docs_site.missing_column_descriptions(text, columns) == []


def test_model_page_shows_only_its_own_columns(site: Path, lone_site: Path,
                                              browser: Path) -> None:
    """The page of another model does not show this model's episode columns: the check reads
    the rendered page, not data the site carries for every model."""
    text = _page_text(lone_site, browser, OTHER_MODEL)
    assert "stg_crcs__children" in text
    episode_only = {name: d for name, d in _columns(site, MODEL).items()
                    if name not in _columns(site, OTHER_MODEL)}
    assert len(episode_only) > 5
    assert set(docs_site.missing_column_descriptions(text, episode_only)) == set(episode_only)


def test_overview_page_explains_the_censuses_and_definitions(lone_site: Path,
                                                            browser: Path) -> None:
    url = f"{lone_site.resolve().as_uri()}#!/overview"
    text = docs_site.visible_text(docs_site.render(url, browser))
    for heading in ("The censuses", "Layers", "Definitions", "Disclosure control"):
        assert heading in text
    assert "Period of care" in text and "Looked after at 31 March" in text


def test_visible_text_ignores_scripts() -> None:
    dom = ('<html><script>var n = {"col": "Hidden description"}</script>'
           '<td>col</td> <td>Shown &amp; described</td></html>')
    text = docs_site.visible_text(dom)
    assert "Hidden" not in text
    assert docs_site.missing_column_descriptions(text, {"col": "Shown & described"}) == []
    assert docs_site.missing_column_descriptions(text, {"col": "Hidden description"}) == ["col"]


def test_site_after_build_shows_the_build_compiled_sql(site: Path) -> None:
    """The site reuses the build's manifest: the built model carries its compiled SQL."""
    build_manifest = site.with_name("manifest.json")
    assert load_manifest(build_manifest)["nodes"][MODEL].get("compiled_code")
    embedded = docs_site.without_salt(build_manifest.read_text(encoding="utf-8"), SALT)
    assert embedded in site.read_text(encoding="utf-8")


def _duckdb_literal(text: str) -> str:
    """``text`` as a string literal of DuckDB's SQL (an apostrophe doubled)."""
    return "'" + text.replace("'", "''") + "'"


def test_the_site_shows_no_salt_of_the_deployments_own(site: Path) -> None:
    """The data dictionary is passed around; the salt would let a reader who knows a child's
    case-system id find the child's key in the marts. The build's compiled SQL has it."""
    compiled = load_manifest(site.with_name("manifest.json"))["nodes"][MODEL]["compiled_code"]
    assert _duckdb_literal(SALT) in compiled
    page = site.read_text(encoding="utf-8")
    assert "docs-test salt" not in page  # the salt's start, in any of its forms
    assert f"'{docs_site.SALT_PLACEHOLDER}'" in page


def test_without_salt_replaces_only_the_salts_literals() -> None:
    salt = "s'\\\u0175"  # an apostrophe, a backslash, a letter beyond ASCII
    duckdb_sql = "cast('s''\\\u0175' as TEXT) || 's'"
    spark_sql = "cast('s\\'\\\\\u0175' as STRING)"
    page = "var salt = 's'; " + json.dumps({"a": duckdb_sql, "b": spark_sql}) + " " + json.dumps(
        {"a": duckdb_sql}, ensure_ascii=False)
    redacted = docs_site.without_salt(page, salt)
    assert redacted == "var salt = 's'; " + json.dumps({
        "a": "cast('<CENSUS_KEY_SALT>' as TEXT) || 's'",
        "b": "cast('<CENSUS_KEY_SALT>' as STRING)"}) + " " + json.dumps(
        {"a": "cast('<CENSUS_KEY_SALT>' as TEXT) || 's'"})
    assert docs_site.without_salt(page, "absent") == page


def test_after_build_needs_the_build_manifest(tmp_path: Path) -> None:
    """Without a build in the target folder there is no compiled SQL to reuse: a clear error,
    not a site without its manifest."""
    with pytest.raises(RuntimeError, match="no manifest.json of a build"):
        docs_site.generate(work=tmp_path, after_build=True)


def _write_site(target: Path, salt: str) -> str:
    """A page as dbt writes it: its own script (which quotes 'auto'), then the manifest's text
    as it is, with compiled SQL that carries ``salt``. Returns the script."""
    target.mkdir(parents=True, exist_ok=True)
    literal = _duckdb_literal(salt)
    manifest = json.dumps({"nodes": {"m": {"compiled_code": f"select {literal} as k"}}})
    (target / "manifest.json").write_text(manifest, encoding="utf-8")
    script = "var mode = 'auto'; "
    (target / docs_site.STATIC_SITE).write_text(script + manifest, encoding="utf-8")
    return script


def test_the_salt_is_replaced_in_the_embedded_manifest_only(tmp_path: Path) -> None:
    """A short salt that the page's own script also quotes ('auto') is left in the script."""
    script = _write_site(tmp_path, "auto")
    docs_site.redact_site(tmp_path, {docs_site.SALT_VARIABLE: "auto"})
    page = (tmp_path / docs_site.STATIC_SITE).read_text(encoding="utf-8")
    assert page == script + json.dumps(
        {"nodes": {"m": {"compiled_code": "select '<CENSUS_KEY_SALT>' as k"}}})
    docs_site.redact_site(tmp_path, {docs_site.SALT_VARIABLE: "auto"})  # again: the same page
    assert (tmp_path / docs_site.STATIC_SITE).read_text(encoding="utf-8") == page
    # the default salt (no CENSUS_KEY_SALT) is public: nothing changes
    _write_site(tmp_path, "auto")
    before = (tmp_path / docs_site.STATIC_SITE).read_text(encoding="utf-8")
    docs_site.redact_site(tmp_path, {})
    assert (tmp_path / docs_site.STATIC_SITE).read_text(encoding="utf-8") == before


def test_a_failed_docs_run_leaves_no_salt_in_the_page_it_wrote(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """dbt writes the page before it reports a catalog error, and the command then fails."""
    def failing_docs(*args: object, **kwargs: object) -> SimpleNamespace:
        _write_site(tmp_path / "target", SALT)
        return SimpleNamespace(returncode=1, stdout="Encountered an error")

    monkeypatch.setattr(docs_site, "run_dbt", failing_docs)
    monkeypatch.setenv(docs_site.SALT_VARIABLE, SALT)
    with pytest.raises(RuntimeError, match="dbt docs generate failed"):
        docs_site.generate(work=tmp_path)
    page = (tmp_path / "target" / docs_site.STATIC_SITE).read_text(encoding="utf-8")
    assert "docs-test salt" not in page and "<CENSUS_KEY_SALT>" in page
