"""The shape of ``atlas_oms.cli``: small modules, docstrings, and no engine internals.

The command line reads a node only through its typed queries (``runtime/queries.py``): no module
of the package names ``.engine`` on a node or reaches for another object's private attribute.
"""

from __future__ import annotations

import ast
from pathlib import Path

import atlas_oms.cli

PACKAGE = Path(atlas_oms.cli.__file__).resolve().parent
MODULES = sorted(PACKAGE.rglob("*.py"))
#: ``atlas replay`` folds the journal into its own fresh Engine, as a restart would.
OWN_ENGINE = {"replay.py"}


def test_no_module_is_over_600_lines() -> None:
    sizes = {p.relative_to(PACKAGE).as_posix(): len(p.read_text().splitlines()) for p in MODULES}
    assert max(sizes.values()) <= 600, sizes


def test_no_module_reads_engine_internals_or_private_attributes() -> None:
    found = []
    for path in MODULES:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Attribute):
                continue
            own = isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")
            private = node.attr.startswith("_") and not node.attr.startswith("__") and not own
            engine = node.attr == "engine" and path.name not in OWN_ENGINE
            if private or engine:
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} .{node.attr}")
    assert not found, found


def test_every_module_and_public_function_has_a_docstring() -> None:
    missing = []
    for path in MODULES:
        tree = ast.parse(path.read_text())
        if ast.get_docstring(tree) is None:
            missing.append(str(path.relative_to(PACKAGE)))
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef | ast.ClassDef) or node.name.startswith("_"):
                continue
            if ast.get_docstring(node) is None:
                missing.append(f"{path.relative_to(PACKAGE)}:{node.name}")
    assert not missing, missing
