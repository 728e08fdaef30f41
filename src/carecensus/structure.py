"""Structure check: the project held to the rules of dbt_project_evaluator, read from the manifest.

The package cannot be installed here (no dbt package hub), so this module encodes the rules of
``shared/style.md`` over ``target/manifest.json`` (optionally ``catalog.json`` for the columns
of built relations). Each rule is a function from the manifest to findings; a finding matching
an entry of :data:`EXCEPTIONS` (rule, model and parent patterns, with the reason) is not reported.

Model types follow the folder, as in dbt_project_evaluator: ``staging/**/base/`` holds ``base_``
models, the rest of ``staging/`` ``stg_``, ``intermediate/`` ``int_``, ``marts/`` ``fct_``/``dim_``.
A source table's staging is a trio in one source folder: ``base_<source>__<table>`` (the one model
that reads the source table), ``base_<source>__<table>_issues`` (its quarantine) and
``stg_<source>__<tables>`` (the clean rows). So the rules read "staging model" as base or stg.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from carecensus.dbt_runner import Manifest

Node = dict[str, Any]
CHAINED_VIEWS_THRESHOLD = 5
PRIMARY_KEY_TESTS = {"unique_combination_of_columns"}
TABLE_MATERIALIZATIONS = {"table", "incremental"}


@dataclass(frozen=True)
class Finding:
    rule: str
    node: str
    message: str
    parent: str = ""

    def __str__(self) -> str:
        return f"{self.rule}: {self.node}: {self.message}"


@dataclass(frozen=True)
class StructureException:
    """A documented departure from a rule: ``node`` and ``parent`` are fnmatch patterns over
    node names (``parent`` is the dependency a dependency rule complains about)."""

    rule: str
    node: str
    reason: str
    parent: str = "*"

    def covers(self, finding: Finding) -> bool:
        return (self.rule == finding.rule and fnmatch.fnmatchcase(finding.node, self.node)
                and fnmatch.fnmatchcase(finding.parent or "", self.parent))


EXCEPTIONS: tuple[StructureException, ...] = (
    StructureException(
        rule="staging_depends_on_other_source", node="base_*", parent="base_census_extract__files",
        reason="Every base model joins the file inventory (census_extract source) to tag each "
               "row with its file and to check the year folder; the inventory is staging of "
               "the extract folder itself, read once, not a business source."),
    StructureException(
        rule="model_naming", node="bdg_*",
        reason="Bridge tables (bdg_) in marts resolve many-to-many code lists (a child's "
               "disabilities, parenting factors) beside the fct_/dim_ tables they join."),
)


# ---------------------------------------------------------------- manifest helpers

def models(manifest: Manifest) -> dict[str, Node]:
    return {uid: node for uid, node in manifest["nodes"].items()
            if node.get("resource_type") == "model"
            and node.get("config", {}).get("enabled", True)}


def name_of(manifest: Manifest, unique_id: str) -> str:
    node = manifest["nodes"].get(unique_id) or manifest.get("sources", {}).get(unique_id)
    if node is None:
        return unique_id.split(".")[-1]
    if node.get("resource_type") == "source":
        return f"{node['source_name']}.{node['name']}"
    return str(node["name"])


def folder_parts(node: Node) -> tuple[str, ...]:
    """The model's folders below ``models/``: ``('staging', 'cla', 'base')``."""
    path = PurePosixPath(str(node.get("original_file_path") or node["path"]))
    parts = path.parts[:-1]
    return parts[1:] if parts and parts[0] == "models" else parts


def model_type(node: Node) -> str:
    """staging, base, intermediate, marts or other, from the folder (as the evaluator does)."""
    parts = folder_parts(node)
    if not parts:
        return "other"
    if parts[0] == "staging":
        return "base" if "base" in parts else "staging"
    return parts[0] if parts[0] in {"intermediate", "marts"} else "other"


def source_folder(node: Node) -> str:
    parts = folder_parts(node)
    return parts[1] if len(parts) > 1 else ""


def parents(node: Node) -> list[str]:
    return list(node.get("depends_on", {}).get("nodes", []))


# ---------------------------------------------------------------- the rules

def source_outside_staging(manifest: Manifest) -> Iterator[Finding]:
    """Only staging reads sources (evaluator: fct_direct_join_to_source)."""
    for node in models(manifest).values():
        if model_type(node) in {"base", "staging"}:
            continue
        for parent in parents(node):
            if parent.startswith("source."):
                yield Finding("source_outside_staging", node["name"],
                              f"reads source {name_of(manifest, parent)} outside staging",
                              name_of(manifest, parent))


def multiple_sources_joined(manifest: Manifest) -> Iterator[Finding]:
    """No model joins two sources (evaluator: fct_multiple_sources_joined)."""
    for node in models(manifest).values():
        sources = [p for p in parents(node) if p.startswith("source.")]
        if len(sources) > 1:
            yield Finding("multiple_sources_joined", node["name"], "reads "
                          + ", ".join(name_of(manifest, s) for s in sources))


def staging_on_staging(manifest: Manifest) -> Iterator[Finding]:
    """No stg_ model on another stg_ model (evaluator: fct_staging_dependent_on_staging), and no
    staging model on the staging of another source; a base_ parent in the same source folder is
    the staging pair, not a finding. Staging never reads intermediate or marts either."""
    nodes = manifest["nodes"]
    for node in models(manifest).values():
        kind = model_type(node)
        if kind not in {"base", "staging"}:
            continue
        for parent_id in parents(node):
            parent = nodes.get(parent_id)
            if parent is None or parent.get("resource_type") != "model":
                continue
            parent_kind = model_type(parent)
            if parent_kind == "staging":
                yield Finding("staging_on_staging", node["name"],
                              f"depends on staging model {parent['name']}", parent["name"])
            elif parent_kind == "base" and source_folder(parent) != source_folder(node):
                yield Finding("staging_depends_on_other_source", node["name"],
                              f"depends on {parent['name']}, staging of another source",
                              parent["name"])
            elif parent_kind in {"intermediate", "marts", "other"}:
                yield Finding("staging_on_downstream", node["name"],
                              f"depends on {parent_kind} model {parent['name']}", parent["name"])


def source_fanout(manifest: Manifest) -> Iterator[Finding]:
    """One staging model per source table: each source table is read by exactly one model, a
    base_ (or stg_) model (evaluator: fct_source_fanout, fct_unused_sources)."""
    nodes = manifest["nodes"]
    child_map: dict[str, list[str]] = manifest.get("child_map", {})
    for source_id in manifest.get("sources", {}):
        readers = [c for c in child_map.get(source_id, [])
                   if nodes.get(c, {}).get("resource_type") == "model"]
        label = name_of(manifest, source_id)
        if not readers:
            yield Finding("source_fanout", label, "no model reads this source table")
        elif len(readers) > 1:
            yield Finding("source_fanout", label, "read by " + ", ".join(
                sorted(name_of(manifest, r) for r in readers)) + " (one staging model only)")
        elif model_type(nodes[readers[0]]) not in {"base", "staging"}:
            yield Finding("source_fanout", label,
                          f"read by {name_of(manifest, readers[0])}, not a staging model")


NAMING: dict[str, tuple[str, ...]] = {
    "base": ("base_",), "staging": ("stg_",), "intermediate": ("int_",),
    "marts": ("fct_", "dim_"),
}


def model_naming(manifest: Manifest) -> Iterator[Finding]:
    """The prefix matches the folder (evaluator: fct_model_naming_conventions and
    fct_model_directories); models live in staging, intermediate or marts only."""
    for node in models(manifest).values():
        kind = model_type(node)
        folder = "/".join(folder_parts(node)) or "models/"
        if kind == "other":
            yield Finding("model_naming", node["name"],
                          f"lives in {folder}, not under staging/, intermediate/ or marts/")
            continue
        prefixes = NAMING[kind]
        if not str(node["name"]).startswith(prefixes):
            yield Finding("model_naming", node["name"],
                          f"is in {folder} ({kind}) but not named {' or '.join(prefixes)}*")
        elif kind == "staging" and "__" not in str(node["name"]):
            yield Finding("model_naming", node["name"], "staging is named stg_<source>__<table>")
        elif kind in {"base", "staging"}:
            source = str(node["name"]).split("_", 1)[1].split("__")[0]
            if source != source_folder(node):
                yield Finding("model_naming", node["name"],
                              f"names source {source} but lives in staging/{source_folder(node)}")


def undocumented(manifest: Manifest, catalog: Manifest | None = None) -> Iterator[Finding]:
    """Every model and source described, and every column too (evaluator:
    fct_undocumented_models, fct_undocumented_sources, plus columns): a model must list its
    columns in YAML; with a catalog, every column of the built relation must be listed."""
    catalog_nodes: dict[str, Node] = (catalog or {}).get("nodes", {})
    for uid, node in models(manifest).items():
        if not str(node.get("description") or "").strip():
            yield Finding("undocumented_model", node["name"], "has no description")
        columns: dict[str, Node] = node.get("columns", {})
        if not columns:
            yield Finding("undocumented_column", node["name"], "lists no columns in its YAML")
        for column, spec in columns.items():
            if not str(spec.get("description") or "").strip():
                yield Finding("undocumented_column", node["name"],
                              f"column {column} has no description", column)
        declared = {c.lower() for c in columns}
        for column in catalog_nodes.get(uid, {}).get("columns", {}):
            if columns and str(column).lower() not in declared:
                yield Finding("undocumented_column", node["name"],
                              f"built column {column} is not in its YAML", str(column))
    for source in manifest.get("sources", {}).values():
        label = f"{source['source_name']}.{source['name']}"
        if not str(source.get("description") or source.get("source_description") or "").strip():
            yield Finding("undocumented_source", label, "has no description")


def _tests_by_model(manifest: Manifest) -> dict[str, list[Node]]:
    tests: dict[str, list[Node]] = {}
    for node in manifest["nodes"].values():
        if node.get("resource_type") != "test":
            continue
        attached = node.get("attached_node")
        if attached:
            tests.setdefault(str(attached), []).append(node)
    return tests


def _has_primary_key_constraint(node: Node) -> bool:
    if any(c.get("type") == "primary_key" for c in node.get("constraints", [])):
        return True
    return any(c.get("type") == "primary_key" for column in node.get("columns", {}).values()
               for c in column.get("constraints", []))


def missing_primary_key_test(manifest: Manifest) -> Iterator[Finding]:
    """Every model has a tested primary key (evaluator: fct_missing_primary_key_tests): unique
    and not_null on one column, a unique_combination_of_columns test, or a primary_key
    constraint."""
    tests = _tests_by_model(manifest)
    for uid, node in models(manifest).items():
        unique: set[str] = set()
        not_null: set[str] = set()
        combination = False
        for test in tests.get(uid, []):
            name = (test.get("test_metadata") or {}).get("name")
            column = str(test.get("column_name") or "")
            if name == "unique" and column:
                unique.add(column)
            elif name == "not_null" and column:
                not_null.add(column)
            elif name in PRIMARY_KEY_TESTS:
                combination = True
        if not (unique & not_null or combination or _has_primary_key_constraint(node)):
            yield Finding("missing_primary_key_test", node["name"],
                          "no unique + not_null column, unique_combination_of_columns test or "
                          "primary_key constraint")


def public_model_without_contract(manifest: Manifest) -> Iterator[Finding]:
    """Public models have enforced contracts (evaluator: fct_public_models_without_contract)."""
    for node in models(manifest).values():
        enforced = bool(node.get("config", {}).get("contract", {}).get("enforced"))
        if node.get("access") == "public" and not enforced:
            yield Finding("public_model_without_contract", node["name"],
                          "is access: public without contract: {enforced: true}")


def exposure_parents(manifest: Manifest) -> Iterator[Finding]:
    """Exposures depend only on public, table-materialised models (evaluator:
    fct_exposure_parents_materializations, fct_exposures_dependent_on_private_models)."""
    nodes = manifest["nodes"]
    for exposure in manifest.get("exposures", {}).values():
        for parent_id in exposure.get("depends_on", {}).get("nodes", []):
            parent = nodes.get(parent_id)
            label = name_of(manifest, parent_id)
            if parent is None or parent.get("resource_type") != "model":
                yield Finding("exposure_parent", exposure["name"],
                              f"depends on {label}, not a model", label)
                continue
            materialized = parent.get("config", {}).get("materialized")
            if parent.get("access") != "public":
                yield Finding("exposure_parent", exposure["name"],
                              f"depends on {label}, which is not access: public", label)
            if materialized not in TABLE_MATERIALIZATIONS:
                yield Finding("exposure_parent", exposure["name"],
                              f"depends on {label}, materialized as {materialized}", label)


def chained_views(manifest: Manifest,
                  threshold: int = CHAINED_VIEWS_THRESHOLD) -> Iterator[Finding]:
    """No chain of ``threshold`` or more views (or ephemeral models) one on another (evaluator:
    fct_chained_views_dependencies): each query would inline the whole chain."""
    all_models = models(manifest)
    is_view = {uid for uid, node in all_models.items()
               if node.get("config", {}).get("materialized") in {"view", "ephemeral"}}
    longest: dict[str, list[str]] = {}

    def chain(uid: str) -> list[str]:
        """The longest run of views ending in ``uid`` (itself a view)."""
        if uid not in longest:
            best: list[str] = []
            for parent in parents(all_models[uid]):
                if parent in is_view:
                    candidate = chain(parent)
                    if len(candidate) > len(best):
                        best = candidate
            longest[uid] = [*best, uid]
        return longest[uid]

    for uid in sorted(is_view):
        run = chain(uid)
        # report a chain once, at its last view (no view child extends it)
        extended = any(uid in parents(all_models[c]) for c in is_view)
        if len(run) >= threshold and not extended:
            yield Finding("chained_views", all_models[uid]["name"],
                          f"ends a chain of {len(run)} views: "
                          + " -> ".join(all_models[u]["name"] for u in run))


Rule = Callable[[Manifest], Iterable[Finding]]
RULES: tuple[Rule, ...] = (
    source_outside_staging, multiple_sources_joined, staging_on_staging, source_fanout,
    model_naming, missing_primary_key_test, public_model_without_contract, exposure_parents,
    chained_views,
)


def check(manifest: Manifest, catalog: Manifest | None = None,
          exceptions: Iterable[StructureException] = EXCEPTIONS) -> list[Finding]:
    """Every finding of every rule that no documented exception covers."""
    kept = list(exceptions)
    findings = [f for rule in RULES for f in rule(manifest)]
    findings += undocumented(manifest, catalog)
    return [f for f in findings if not any(e.covers(f) for e in kept)]


def format_findings(findings: list[Finding], checked: Path | str) -> str:
    if not findings:
        return (f"structure check: no findings in {checked} ({len(EXCEPTIONS)} "
                "documented exceptions, see carecensus/structure.py)")
    lines = [f"structure check: {len(findings)} findings in {checked}"]
    lines += [f"  {finding}" for finding in sorted(findings, key=lambda f: (f.rule, f.node))]
    return "\n".join(lines)
