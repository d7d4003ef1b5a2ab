"""The shape of ``atlas_oms.cli``: small modules with docstrings. (That it reads a node only
through its typed queries, never the engine, is pinned for every layer in
tests/test_architecture.py.)"""

from __future__ import annotations

import ast
from pathlib import Path

import atlas_oms.cli

PACKAGE = Path(atlas_oms.cli.__file__).resolve().parent
MODULES = sorted(PACKAGE.rglob("*.py"))


def test_no_module_is_over_600_lines() -> None:
    sizes = {p.relative_to(PACKAGE).as_posix(): len(p.read_text().splitlines()) for p in MODULES}
    assert max(sizes.values()) <= 600, sizes


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
