"""The structure check: zero findings on the real project, and each rule able to fail on a
small synthetic manifest that breaks only that rule."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from carecensus import structure
from carecensus.cli import main
from carecensus.dbt_runner import Manifest, load_manifest, parse_project

PROJECT = "demo"


# ---------------------------------------------------------------- the real project

@pytest.fixture(scope="module")
def real_manifest_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return parse_project(tmp_path_factory.mktemp("structure_parse"))


def test_real_project_has_no_structure_findings(real_manifest_path: Path) -> None:
    manifest = load_manifest(real_manifest_path)
    assert len(structure.models(manifest)) > 20
    findings = structure.check(manifest)
    assert not findings, structure.format_findings(findings, real_manifest_path)


def test_check_structure_command_passes_on_the_real_manifest(
        real_manifest_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["check-structure", "--manifest", str(real_manifest_path)])
    output = capsys.readouterr().out
    assert status == 0, output
    assert "no findings" in output


def test_every_documented_exception_is_still_needed(real_manifest_path: Path) -> None:
    """An exception that covers nothing is stale: drop it from structure.EXCEPTIONS."""
    manifest = load_manifest(real_manifest_path)
    raw = structure.check(manifest, exceptions=())
    unused = [e for e in structure.EXCEPTIONS if not any(e.covers(f) for f in raw)]
    assert not unused, unused


# ---------------------------------------------------------------- synthetic manifests

def _model(name: str, folder: str, parents: list[str], *, materialized: str = "table",
           access: str = "protected", enforced: bool = False) -> dict[str, Any]:
    return {
        "resource_type": "model", "name": name, "unique_id": f"model.{PROJECT}.{name}",
        "original_file_path": f"models/{folder}/{name}.sql", "path": f"{folder}/{name}.sql",
        "description": f"What {name} holds.", "access": access,
        "config": {"enabled": True, "materialized": materialized,
                   "contract": {"enforced": enforced}},
        "columns": {"id": {"name": "id", "description": "The key."},
                    "value": {"name": "value", "description": "A value."}},
        "depends_on": {"nodes": parents}, "constraints": [],
    }


def _tests_on(model_id: str) -> dict[str, dict[str, Any]]:
    name = model_id.split(".")[-1]
    return {f"test.{PROJECT}.{kind}_{name}_id": {
        "resource_type": "test", "name": f"{kind}_{name}_id", "attached_node": model_id,
        "column_name": "id", "test_metadata": {"name": kind, "kwargs": {"column_name": "id"}},
        "config": {"enabled": True}, "depends_on": {"nodes": [model_id]},
    } for kind in ("unique", "not_null")}


def _source(source: str, table: str) -> tuple[str, dict[str, Any]]:
    uid = f"source.{PROJECT}.{source}.{table}"
    return uid, {"resource_type": "source", "unique_id": uid, "source_name": source,
                 "name": table, "description": f"The raw {table} file.", "columns": {}}


def _finish(manifest: Manifest) -> Manifest:
    """Recompute the child map and the primary-key tests from the nodes."""
    nodes = manifest["nodes"]
    for uid in [u for u, n in nodes.items() if n["resource_type"] == "model"]:
        if not nodes[uid].get("skip_tests"):
            nodes.update(_tests_on(uid))
    child_map: dict[str, list[str]] = {uid: [] for uid in [*nodes, *manifest["sources"]]}
    for uid, node in nodes.items():
        if node["resource_type"] == "model":
            for parent in node["depends_on"]["nodes"]:
                child_map.setdefault(parent, []).append(uid)
    manifest["child_map"] = child_map
    return manifest


def mid(name: str) -> str:
    return f"model.{PROJECT}.{name}"


def good_manifest() -> Manifest:
    """A tiny project that follows every rule: a source, its staging trio, an intermediate
    view, a public contracted mart and an exposure on it."""
    orders_id, orders = _source("shop", "orders")
    models = [
        _model("base_shop__orders", "staging/shop/base", [orders_id]),
        _model("base_shop__orders_issues", "staging/shop/base", [mid("base_shop__orders")]),
        _model("stg_shop__orders", "staging/shop", [mid("base_shop__orders"),
                                                      mid("base_shop__orders_issues")],
               materialized="view"),
        _model("int_orders_priced", "intermediate/sales", [mid("stg_shop__orders")],
               materialized="view"),
        _model("fct_orders", "marts/sales", [mid("int_orders_priced")], access="public",
               enforced=True),
        _model("dim_customers", "marts/sales", [mid("stg_shop__orders")]),
    ]
    exposure = {"name": "sales_dashboard", "resource_type": "exposure",
                "depends_on": {"nodes": [mid("fct_orders")]}}
    return {"nodes": {m["unique_id"]: m for m in models}, "sources": {orders_id: orders},
            "exposures": {f"exposure.{PROJECT}.sales_dashboard": exposure}}


def _add(manifest: Manifest, node: dict[str, Any]) -> None:
    manifest["nodes"][node["unique_id"]] = node


def _read_second_source(m: Manifest) -> None:
    uid, node = _source("shop", "customers")
    m["sources"][uid] = node
    m["nodes"][mid("base_shop__orders")]["depends_on"]["nodes"].append(uid)


def _intermediate_reads_source(m: Manifest) -> None:
    m["nodes"][mid("int_orders_priced")]["depends_on"]["nodes"].append(
        f"source.{PROJECT}.shop.orders")


def _staging_on_staging(m: Manifest) -> None:
    _add(m, _model("stg_shop__orders_enriched", "staging/shop", [mid("stg_shop__orders")],
                   materialized="view"))


def _staging_on_other_source(m: Manifest) -> None:
    uid, node = _source("crm", "contacts")
    m["sources"][uid] = node
    _add(m, _model("base_crm__contacts", "staging/crm/base", [uid, mid("base_shop__orders")]))


def _second_reader_of_source(m: Manifest) -> None:
    _add(m, _model("base_shop__orders_again", "staging/shop/base",
                   [f"source.{PROJECT}.shop.orders"]))


def _unused_source(m: Manifest) -> None:
    uid, node = _source("shop", "refunds")
    m["sources"][uid] = node


def _mart_in_intermediate(m: Manifest) -> None:
    _add(m, _model("fct_refunds", "intermediate/sales", [mid("stg_shop__orders")]))


def _staging_folder_mismatch(m: Manifest) -> None:
    _add(m, _model("stg_crm__orders", "staging/shop", [mid("base_shop__orders")],
                   materialized="view"))


def _model_description_removed(m: Manifest) -> None:
    m["nodes"][mid("dim_customers")]["description"] = "  "


def _column_description_removed(m: Manifest) -> None:
    m["nodes"][mid("dim_customers")]["columns"]["value"]["description"] = ""


def _no_columns_listed(m: Manifest) -> None:
    m["nodes"][mid("dim_customers")]["columns"] = {}


def _source_description_removed(m: Manifest) -> None:
    m["sources"][f"source.{PROJECT}.shop.orders"]["description"] = ""


def _primary_key_untested(m: Manifest) -> None:
    m["nodes"][mid("dim_customers")]["skip_tests"] = True


def _only_unique_tested(m: Manifest) -> None:
    m["nodes"][mid("dim_customers")]["skip_tests"] = True
    test = _tests_on(mid("dim_customers"))
    _add_test = {k: v for k, v in test.items() if ".unique_" in k}
    m["nodes"].update(_add_test)


def _public_without_contract(m: Manifest) -> None:
    m["nodes"][mid("dim_customers")]["access"] = "public"


def _exposure_on_private_view(m: Manifest) -> None:
    m["exposures"][f"exposure.{PROJECT}.sales_dashboard"]["depends_on"]["nodes"].append(
        mid("int_orders_priced"))


def _five_chained_views(m: Manifest) -> None:
    parent = mid("stg_shop__orders")  # a view: with int_orders_priced and 3 more, 5 views
    for step in ("a", "b", "c"):
        node = _model(f"int_orders_step_{step}", "intermediate/sales",
                      [mid("int_orders_priced") if step == "a" else parent], materialized="view")
        _add(m, node)
        parent = node["unique_id"]


BREAKS: dict[str, tuple[str, Callable[[Manifest], None]]] = {
    "source outside staging": ("source_outside_staging", _intermediate_reads_source),
    "two sources joined": ("multiple_sources_joined", _read_second_source),
    "staging on staging": ("staging_on_staging", _staging_on_staging),
    "staging on another source's base": ("staging_depends_on_other_source",
                                         _staging_on_other_source),
    "source read twice": ("source_fanout", _second_reader_of_source),
    "source never read": ("source_fanout", _unused_source),
    "fct_ in intermediate": ("model_naming", _mart_in_intermediate),
    "stg_ names another source": ("model_naming", _staging_folder_mismatch),
    "model undescribed": ("undocumented_model", _model_description_removed),
    "column undescribed": ("undocumented_column", _column_description_removed),
    "no columns listed": ("undocumented_column", _no_columns_listed),
    "source undescribed": ("undocumented_source", _source_description_removed),
    "primary key untested": ("missing_primary_key_test", _primary_key_untested),
    "only unique tested": ("missing_primary_key_test", _only_unique_tested),
    "public without contract": ("public_model_without_contract", _public_without_contract),
    "exposure on a private view": ("exposure_parent", _exposure_on_private_view),
    "five views chained": ("chained_views", _five_chained_views),
}


def test_the_synthetic_project_follows_every_rule() -> None:
    manifest = _finish(good_manifest())
    assert structure.check(manifest, exceptions=()) == []


@pytest.mark.parametrize("case", sorted(BREAKS))
def test_each_rule_fails_on_a_manifest_that_breaks_it(case: str) -> None:
    rule, breaks = BREAKS[case]
    manifest = good_manifest()
    breaks(manifest)
    findings = structure.check(_finish(manifest), exceptions=())
    assert rule in {f.rule for f in findings}, findings


def test_four_chained_views_are_allowed() -> None:
    manifest = good_manifest()
    _five_chained_views(manifest)
    del manifest["nodes"][mid("int_orders_step_c")]
    assert structure.check(_finish(manifest), exceptions=()) == []


def test_a_catalog_column_missing_from_yaml_is_a_finding() -> None:
    manifest = _finish(good_manifest())
    catalog: dict[str, Any] = {
        "nodes": {mid("fct_orders"): {"columns": {"ID": {}, "VALUE": {}, "extra": {}}}}}
    findings = structure.check(manifest, catalog, exceptions=())
    assert [(f.rule, f.node, f.parent) for f in findings] == [
        ("undocumented_column", "fct_orders", "extra")]


def test_a_documented_exception_silences_only_what_it_names() -> None:
    manifest = good_manifest()
    _staging_on_other_source(manifest)
    _finish(manifest)
    exception = structure.StructureException(
        rule="staging_depends_on_other_source", node="base_crm__*",
        parent="base_shop__orders", reason="test")
    assert structure.check(copy.deepcopy(manifest), exceptions=[exception]) == []
    other = structure.StructureException(
        rule="staging_depends_on_other_source", node="base_crm__*", parent="base_other",
        reason="test")
    assert structure.check(manifest, exceptions=[other]) != []
