"""The vendors' provenance tables (`tests/contracts/<vendor>.json`) and the checks the contract tests make
with them: a payload's keys and types against the table, and the keys an adapter module reads."""

from __future__ import annotations

import ast
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

CONTRACTS = Path(__file__).resolve().parent / "contracts"
ROOT = Path(__file__).resolve().parent.parent
LA_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


@cache
def table(vendor: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((CONTRACTS / f"{vendor}.json").read_text())
    return loaded


def keys_of(vendor: str, obj: str) -> dict[str, str]:
    """key → declared type of one object; a key given as {"type": …} is unwrapped."""
    keys = table(vendor)["objects"][obj]["keys"]
    return {name: spec["type"] if isinstance(spec, dict) else spec for name, spec in keys.items()}


def _type_ok(kind: str, value: Any) -> bool:
    if kind in ("string", "code"):
        return isinstance(value, str)
    if kind == "timestamp":
        return isinstance(value, str) and bool(LA_TIME.match(value))
    if kind == "unix":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "object" or kind.startswith("object<"):
        return isinstance(value, dict)
    if kind == "array" or kind.startswith("array<"):
        return isinstance(value, list)
    raise ValueError(f"unknown type {kind!r} in a contract table")


def problems(vendor: str, obj: str, payload: dict[str, Any], where: str = "") -> list[str]:
    """What is wrong with `payload` as an `obj` of `vendor`: keys the table does not list, values of
    another type (null is always allowed: every key is optional), codes the table does not list, and
    nested objects (`array<x>`, `object<x>`) checked the same way."""
    where = where or obj
    declared = keys_of(vendor, obj)
    codes = table(vendor).get("codes", {})
    found: list[str] = []
    for key, value in payload.items():
        if key not in declared:
            found.append(f"{where}: key {key!r} is not in the {vendor} contract table")
            continue
        kind = declared[key]
        if value is None:
            continue
        if not _type_ok(kind, value):
            found.append(f"{where}.{key}: {value!r} is not of type {kind}")
            continue
        if kind == "code":
            allowed = codes.get(f"{obj}.{key}", {}).get("values")
            if allowed is None:
                found.append(f"{where}.{key}: no code list for {obj}.{key} in the table")
            elif value not in allowed:
                found.append(f"{where}.{key}: code {value!r} is not in the table")
        inner = re.fullmatch(r"(?:array|object)<(\w+)>", kind)
        if inner and inner.group(1) in table(vendor)["objects"]:
            for n, item in enumerate(value if isinstance(value, list) else [value]):
                found += problems(vendor, inner.group(1), item, f"{where}.{key}[{n}]")
    return found


def keys_read_by(module: str, *, receivers: tuple[str, ...] | None = None) -> set[str]:
    """Every string literal a module reads as a key: `x.get("k")`, `x["k"]` — the vendor keys its
    mappings read (the module's own constant tables are dicts looked up with variables, not literals).
    `receivers` keeps only reads from those variable names (e.g. HubSpot's `properties`)."""
    tree = ast.parse((ROOT / module).read_text())
    found: set[str] = set()

    def receiver_name(node: ast.AST) -> str | None:
        while isinstance(node, ast.BoolOp | ast.Call | ast.Attribute):
            if isinstance(node, ast.BoolOp):
                node = node.values[0]
            elif isinstance(node, ast.Call):
                node = node.func
            else:
                return node.attr
        return node.id if isinstance(node, ast.Name) else None

    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            if receivers is None or receiver_name(node.func.value) in receivers:
                found.add(node.args[0].value)
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Load)
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, str)
        ) and (receivers is None or receiver_name(node.value) in receivers):
            found.add(node.slice.value)
    return found


def all_keys(vendor: str) -> set[str]:
    return {key for obj in table(vendor)["objects"] for key in keys_of(vendor, obj)}
