"""The dependency rule: model imports nothing of ours; core and matching stay pure."""

from __future__ import annotations

import ast
from pathlib import Path

import atlas_oms

PACKAGE = Path(atlas_oms.__file__).resolve().parent
FORBIDDEN_IN_CORE = {
    "asyncio",
    "socket",
    "sqlite3",
    "threading",
    "multiprocessing",
    "subprocess",
    "time",
    "datetime",
    "random",
    "os",
    "io",
    "pathlib",
    "requests",
    "httpx",
    "fastapi",
    "uvicorn",
    "nats",
    "ccxt",
    "logging",
    "secrets",
    "uuid",
}
OUTER_LAYERS = ("venues", "store", "runtime", "api", "cli")


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def modules(layer: str) -> list[Path]:
    return sorted((PACKAGE / layer).rglob("*.py"))


def test_core_model_and_matching_import_no_io_clock_or_randomness() -> None:
    for layer in ("model", "core", "matching"):
        for path in modules(layer):
            bad = {name for name in imports_of(path) if name.split(".")[0] in FORBIDDEN_IN_CORE}
            assert not bad, f"{path.relative_to(PACKAGE)} imports {bad}"


def test_core_and_matching_import_no_outer_layer() -> None:
    for layer in ("model", "core", "matching"):
        for path in modules(layer):
            outer = {
                n
                for n in imports_of(path)
                if n.startswith("atlas_oms.") and n.split(".")[1] in OUTER_LAYERS
            }
            assert not outer, f"{path.relative_to(PACKAGE)} imports {outer}"


def test_model_imports_nothing_else_of_the_project() -> None:
    for path in modules("model"):
        ours = {
            n
            for n in imports_of(path)
            if n.startswith("atlas_oms.") and not n.startswith("atlas_oms.model")
        }
        assert not ours, f"{path.relative_to(PACKAGE)} imports {ours}"


def test_matching_imports_only_the_model() -> None:
    for path in modules("matching"):
        ours = {
            n
            for n in imports_of(path)
            if n.startswith("atlas_oms.")
            and not n.startswith(("atlas_oms.model", "atlas_oms.matching"))
        }
        assert not ours, f"{path.relative_to(PACKAGE)} imports {ours}"


def test_public_api_is_pinned() -> None:
    assert set(atlas_oms.__all__) == {
        "BreakerConfig",
        "CommandRefused",
        "DuplicateAction",
        "EquityAccountType",
        "MarketOrderReason",
        "MarketStatus",
        "RiskLimits",
        "Scope",
        "TradingState",
        "Engine",
        "EngineConfig",
        "Instrument",
        "InstrumentKind",
        "LiveClock",
        "ManualClock",
        "Node",
        "OrderStatus",
        "OrderType",
        "OrderView",
        "PositionMode",
        "PositionSide",
        "Reason",
        "Side",
        "TimeInForce",
        "TrailingOffsetType",
        "TriggerType",
        "MarginInfo",
        "MarginMode",
        "MarginTier",
        "load_brackets",
        "parse_brackets",
        "tiers_from_rows",
    }
