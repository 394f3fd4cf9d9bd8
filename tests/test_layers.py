"""Layers only point down: a module never imports one from a higher layer.

The order, lowest first (DESIGN.md's rooms; one room per line, modules of a room may import each
other):

    timeutil, home, progress,     plain helpers; whole-file writes and locks; DuckDB connections
      fileio, duck                and SQL quoting
    catalog                       the service catalog
    tables                        the raw tables: the contract adapters write and ingestion checks
    sources                       one adapter per export format
    contract_sql, ingest, lake    the raw contract, ingestion, Parquet storage and the models
    quality                       data contracts and their suites
    reporting, query              the weekly review, read-only SQL
    defs, generate, build         Dagster wiring; synthetic exports
    cli                           the command line

Imports inside ``if TYPE_CHECKING:`` are for annotations only and do not count.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "ops_warehouse"

LAYERS: list[set[str]] = [
    {"timeutil", "home", "progress", "fileio", "duck", "__init__"},
    {"catalog"},
    {"tables"},
    {"sources"},
    {"contract_sql", "ingest", "lake"},
    {"quality"},
    {"reporting", "query"},
    {"defs", "generate", "build"},
    {"cli"},
]

# Upward imports still to remove, as (room, room); an entry fails the test once it is gone, so it
# is taken out when the code moves. None left.
KNOWN: set[tuple[str, str]] = set()


def _room(module: str) -> str:
    """``ops_warehouse.lake.models`` -> ``lake``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _level(room: str) -> int:
    for i, rooms in enumerate(LAYERS):
        if room in rooms:
            return i
    raise AssertionError(f"ops_warehouse.{room} is in no layer: add it to LAYERS in {__file__}")


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            skip.update(id(n) for child in node.body for n in ast.walk(child))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            found.update(n for n in names[:1] if n.startswith("ops_warehouse"))
            if node.module == "ops_warehouse":
                found.update(f"ops_warehouse.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("ops_warehouse."))
    return found


def _upward_imports() -> set[tuple[str, str]]:
    out = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        module = "ops_warehouse." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        room = _room(module)
        for imported in _imports(path):
            if _level(_room(imported)) > _level(room):
                out.add((module, imported))
    return out


def test_no_layer_imports_a_higher_one() -> None:
    upward = _upward_imports()
    rooms = {(_room(a), _room(b)) for a, b in upward}
    unexpected = sorted((a, b) for a, b in upward if (_room(a), _room(b)) not in KNOWN)
    assert not unexpected, "imports that point up a layer:\n" + "\n".join(f"  {a} -> {b}" for a, b in unexpected)
    gone = KNOWN - rooms
    assert not gone, f"fixed cycles still listed as known: {sorted(gone)}; remove them from KNOWN"


@pytest.mark.parametrize(
    "module",
    sorted(p.stem for p in PACKAGE.glob("*.py"))
    + sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()),
)
def test_every_room_has_a_layer(module: str) -> None:
    _level(module)
