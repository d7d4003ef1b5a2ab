"""The service and the benchmarks read a node through its queries only, never its engine
(tests/test_architecture.py pins that for every layer).

``Node`` is a :class:`~atlas_oms.runtime.queries.Queries`: every read the REST/WebSocket service
and the benchmarks make goes through it, so the engine's insides can change without them. The one
exception is the replay benchmark, which folds a journal into a bare ``Engine`` (its public
``apply``/``seq``/``digest``), confined to one function.
"""

from __future__ import annotations

import ast
from pathlib import Path

import atlas_oms

PACKAGE = Path(atlas_oms.__file__).resolve().parent
REPO = PACKAGE.parent.parent
#: The one place allowed to hold an Engine: (file, function).
REPLAY = ("benchmarks/core.py", "_replay")


def _files() -> list[Path]:
    return [
        *sorted((PACKAGE / "service").glob("*.py")),
        *sorted((PACKAGE / "benchmarks").glob("*.py")),
        *sorted((REPO / "benchmarks").glob("*.py")),
    ]


def _name(path: Path) -> str:
    return str(path.relative_to(PACKAGE if PACKAGE in path.parents else REPO))


def _tail(node: ast.expr) -> str:
    """The last name of ``a.b.c`` (``c``), or of a bare name."""
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def test_the_files_checked_exist() -> None:
    names = {_name(p) for p in _files()}
    assert {"service/routes.py", "service/stream.py", "benchmarks/derivatives.py"} <= names


def test_only_the_replay_benchmark_builds_an_engine() -> None:
    found = []
    for path in _files():
        tree = ast.parse(path.read_text())
        allowed: set[int] = set()
        if _name(path) == REPLAY[0]:
            for fn in ast.walk(tree):
                if isinstance(fn, ast.FunctionDef) and fn.name == REPLAY[1]:
                    allowed = {id(n) for n in ast.walk(fn)}
        for node in ast.walk(tree):
            imports_engine = isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "atlas_oms.core.engine"
            )
            if imports_engine and _name(path) != REPLAY[0]:
                found.append(f"{_name(path)}:{node.lineno}: imports the engine")
            if isinstance(node, ast.Name) and node.id == "Engine" and id(node) not in allowed:
                found.append(f"{_name(path)}:{node.lineno}: Engine outside {REPLAY[1]}()")
    assert not found, "\n".join(found)
