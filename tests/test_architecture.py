"""The dependency rule and the shape of the house.

Arrows point down only: ``service``/``cli``/``benchmarks`` -> ``runtime`` -> ``core`` -> ``model``;
``core`` and ``matching`` are pure; nothing outside ``core/`` and ``runtime/`` touches the engine
(front ends read through the node's queries, ``runtime/queries.py``); the core stays in small
modules. Every layer named here must exist, so a renamed package fails the test instead of
slipping past it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import atlas_oms

PACKAGE = Path(atlas_oms.__file__).resolve().parent
REPO = PACKAGE.parent.parent
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
#: Every package of atlas_oms, innermost first.
LAYERS = (
    "model",
    "core",
    "matching",
    "venues",
    "simulation",
    "store",
    "runtime",
    "backtest",
    "service",
    "grpc_api",
    "fix",
    "binance_api",
    "integrations",
    "cli",
    "benchmarks",
    "fakes",
)
#: What each layer may import of the project (itself always).
MAY_IMPORT = {
    "model": set(),
    "core": {"model"},
    "matching": {"model"},
    "venues": {"model", "core", "matching"},
    # The simulated venue of paper trading and backtests (fill models): a venue like the others.
    "simulation": {"model", "core", "matching"},
    "store": {"model"},
    "runtime": {"model", "core", "matching", "venues", "simulation", "store"},
    # Backtests drive a node (runtime) with market data through the simulated venue.
    "backtest": {"model", "core", "runtime", "store", "simulation", "venues"},
    # ``grpc_api``, ``fix``, ``binance_api``: service/interfaces.py starts the interfaces beside
    # REST (issue 17; imported inside the function).
    "service": {
        "model",
        "core",
        "runtime",
        "store",
        "simulation",
        "backtest",
        "benchmarks",
        "grpc_api",
        "fix",
        "binance_api",
    },
    # The gRPC API (issue 17 §1): a thin adapter over the service's node, keys and views.
    "grpc_api": {"model", "core", "runtime", "store", "service"},
    # The FIX 4.4 gateway: an interface over the service's node, keys and checks.
    "fix": {"model", "core", "runtime", "store", "service"},
    # Atlas as a Binance-compatible venue (issue 17 §3): an adapter over the service.
    "binance_api": {"model", "core", "runtime", "service"},
    # Third-party frameworks on Atlas (freqtrade): optional extras, imported by nothing else.
    "integrations": {"model", "core", "runtime", "store", "simulation", "backtest", "service"},
    "cli": {
        "model",
        "core",
        "venues",
        "simulation",
        "runtime",
        "store",
        "backtest",
        "service",
        "benchmarks",
        "fakes",
        "binance_api",
    },
    # ``venues``: the venue benchmarks time the Binance adapter's client (benchmarks/venues.py).
    # ``grpc_api``, ``fix``, ``binance_api``: the interface benchmarks' clients use the generated
    # stubs, the FIX data dictionary and the dialect's derived secret (benchmarks/interfaces.py).
    "benchmarks": {
        "model",
        "core",
        "runtime",
        "store",
        "service",
        "matching",
        "fakes",
        "venues",
        "simulation",
        "backtest",
        "grpc_api",
        "fix",
        "binance_api",
    },
    # Fake venues for tests and ``atlas bench``: nothing in core/runtime/service imports them.
    "fakes": {"model", "matching"},
}
#: The core's public face for layers outside ``runtime/``: the engine and its configuration,
#: the ports, and the immutable views the read side returns.
CORE_PUBLIC = {"atlas_oms.core.engine", "atlas_oms.core.config", "atlas_oms.core.ports"}
CORE_PUBLIC_PREFIXES = ("atlas_oms.core.views",)
#: The one function outside runtime/ that may hold an Engine: the replay benchmark folds a
#: journal into a bare engine, as a restart does (tests/service/test_public_reads.py pins it).
ENGINE_HOLDERS = {"benchmarks/core.py"}
MAX_CORE_MODULE_LINES = 600
#: protoc's output (grpc_api/regen.py): it sets the descriptors' private fields by design.
GENERATED = "grpc_api/gen/"


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


def rel(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def test_every_layer_named_here_exists_and_nothing_else_does() -> None:
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages == set(LAYERS)
    top_level = {p.name for p in PACKAGE.glob("*.py")}
    assert top_level == {"__init__.py"}, "top-level modules belong in a layer"


def test_core_model_and_matching_import_no_io_clock_or_randomness() -> None:
    for layer in ("model", "core", "matching"):
        for path in modules(layer):
            bad = {name for name in imports_of(path) if name.split(".")[0] in FORBIDDEN_IN_CORE}
            assert not bad, f"{rel(path)} imports {bad}"


def test_each_layer_imports_only_the_layers_below_it() -> None:
    found = []
    for layer in LAYERS:
        allowed = MAY_IMPORT[layer] | {layer}
        for path in modules(layer):
            for name in imports_of(path):
                parts = name.split(".")
                if parts[0] == "atlas_oms" and len(parts) > 1 and parts[1] not in allowed:
                    found.append(f"{rel(path)} imports {name}")
    assert not found, "\n".join(found)


def test_outside_core_and_runtime_only_the_cores_public_face_is_imported() -> None:
    found = []
    for layer in LAYERS:
        if layer in ("core", "runtime"):
            continue
        for path in modules(layer):
            for name in imports_of(path):
                if not name.startswith("atlas_oms.core"):
                    continue
                public = name in CORE_PUBLIC or name.startswith(CORE_PUBLIC_PREFIXES)
                if not public or (
                    name == "atlas_oms.core.engine" and rel(path) not in ENGINE_HOLDERS
                ):
                    found.append(f"{rel(path)} imports {name}")
    assert not found, "read through the node's queries (runtime/queries.py):\n" + "\n".join(found)


def _attribute_uses(path: Path) -> list[tuple[int, str, ast.expr]]:
    return [
        (node.lineno, node.attr, node.value)
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute)
    ]


def _tail(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def test_nothing_outside_core_and_runtime_touches_the_engine() -> None:
    found = []
    for layer in LAYERS:
        if layer in ("core", "runtime"):
            continue
        for path in modules(layer):
            for line, attr, value in _attribute_uses(path):
                # ``metrics.engine`` is the service's engine latency histogram, not the engine.
                histogram = _tail(value) == "metrics" or (
                    rel(path) == "service/metrics.py" and _tail(value) == "self"
                )
                if attr in ("engine", "state") and not histogram:
                    if attr == "state" and _tail(value) not in ("engine", "node"):
                        continue  # another object's ``state`` (a breaker's, a request's)
                    found.append(f"{rel(path)}:{line} .{attr}")
    assert not found, "read through the node's queries (runtime/queries.py):\n" + "\n".join(found)


def test_no_layer_outside_core_reaches_for_a_private_attribute_of_another_object() -> None:
    found = []
    for layer in LAYERS:
        if layer == "core":
            continue
        for path in modules(layer):
            if rel(path).startswith(GENERATED):
                continue
            for line, attr, value in _attribute_uses(path):
                own = isinstance(value, ast.Name) and value.id in ("self", "cls")
                if attr.startswith("_") and not attr.startswith("__") and not own:
                    found.append(f"{rel(path)}:{line} .{attr}")
    assert not found, "\n".join(found)


def test_no_core_module_is_over_600_lines() -> None:
    sizes = {rel(p): len(p.read_text().splitlines()) for p in modules("core")}
    too_big = {name: n for name, n in sizes.items() if n > MAX_CORE_MODULE_LINES}
    assert not too_big, too_big


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
