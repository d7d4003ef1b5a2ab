"""Stress scenarios of a backtest (seed 001 §15), from the command line and the backtest YAML.

Each scenario is one string (``atlas backtest --stress ...``, repeatable; the YAML's
``stress: [...]``) or a mapping in the YAML:

- ``conservative`` / ``conservative:K``: every slippage term times ``K`` (default 2) and fees at the
  worst commission tier (``simulation/stress.py::conservative``);
  ``{conservative: K}``.
- ``gap:AT:PCT``: from ``AT`` on, every price moves by ``PCT`` percent (negative: down), rounded to
  the instrument's tick; ``AT`` is nanoseconds since the epoch or an ISO time (UTC unless it names
  its zone); ``{gap: {at: ..., pct: ..., symbol: ...}}`` (``symbol``: only that one).
- ``halt:FROM:TO``: the venue refuses orders (``INSTRUMENT_HALTED``) and the market data
  disappears over ``[FROM, TO)``; ``{halt: {from: ..., to: ..., symbol: ...}}``.

ISO times contain colons: the parser finds the split where both sides read as times.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from atlas_oms.simulation.market import MarketEvent

__all__ = [
    "Scenario",
    "StressError",
    "apply_events",
    "apply_fills",
    "apply_venue",
    "parse",
    "parse_all",
]


class StressError(ValueError):
    """A stress scenario that cannot be read (a sentence naming it)."""


@dataclass(frozen=True)
class Scenario:
    """One scenario: ``kind`` is ``conservative``, ``gap`` or ``halt``."""

    kind: str
    k: Decimal = Decimal(2)
    at_ns: int = 0
    pct: Decimal = Decimal(0)
    end_ns: int = 0
    symbol: str | None = None

    def describe(self) -> str:
        """One line for the summary and the report."""
        on = f" on {self.symbol}" if self.symbol else ""
        if self.kind == "conservative":
            return f"conservative: slippage x{self.k}, fees at the worst tier"
        if self.kind == "gap":
            return f"gap{on}: prices {self.pct:+}% from {_iso(self.at_ns)}"
        return f"halt{on}: {_iso(self.at_ns)} to {_iso(self.end_ns)}"


def _iso(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _time(text: Any, what: str) -> int:
    if isinstance(text, datetime):
        dt = text
    else:
        s = str(text).strip()
        if s.lstrip("-").isdigit():
            return int(s)
        try:
            dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
        except ValueError:
            raise StressError(f"{what}: not a time (ns or ISO): {text!r}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp()) * 1_000_000_000 + dt.microsecond * 1_000


def _number(text: Any, what: str) -> Decimal:
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise StressError(f"{what}: not a number: {text!r}") from None
    if not value.is_finite():
        raise StressError(f"{what}: not a finite number: {text!r}")
    return value


def _two_times(rest: str, spec: str) -> tuple[int, int]:
    """``FROM:TO`` where each may hold colons: the split where both read as times."""
    for i, ch in enumerate(rest):
        if ch != ":":
            continue
        try:
            return _time(rest[:i], spec), _time(rest[i + 1 :], spec)
        except StressError:
            continue
    raise StressError(f"stress {spec!r}: expected halt:FROM:TO (ns or ISO times)")


def parse(spec: str | Mapping[str, Any]) -> Scenario:
    """One scenario from its string or YAML mapping (see the module's docstring)."""
    if isinstance(spec, Mapping):
        return _parse_mapping(spec)
    if not isinstance(spec, str):
        raise StressError(f"stress {spec!r}: expected a string or a mapping")
    kind, _, rest = spec.strip().partition(":")
    kind = kind.strip().lower()
    if kind == "conservative":
        k = _number(rest, f"stress {spec!r}") if rest else Decimal(2)
        if k < 1:
            raise StressError(f"stress {spec!r}: the factor must be >= 1")
        return Scenario(kind="conservative", k=k)
    if kind == "gap":
        at, sep, pct = rest.rpartition(":")
        if not sep or not at:
            raise StressError(f"stress {spec!r}: expected gap:AT:PCT")
        return Scenario(
            kind="gap", at_ns=_time(at, f"stress {spec!r}"), pct=_number(pct, f"stress {spec!r}")
        )
    if kind == "halt":
        start, end = _two_times(rest, spec)
        if end <= start:
            raise StressError(f"stress {spec!r}: the halt must end after it starts")
        return Scenario(kind="halt", at_ns=start, end_ns=end)
    raise StressError(f"stress {spec!r}: expected conservative[:K], gap:AT:PCT or halt:FROM:TO")


def _parse_mapping(spec: Mapping[str, Any]) -> Scenario:
    if len(spec) != 1:
        raise StressError(f"stress {dict(spec)!r}: one of conservative, gap, halt per entry")
    kind, body = next(iter(spec.items()))
    what = f"stress {kind}"
    if kind == "conservative":
        k = _number(body if body is not None else 2, what)
        if k < 1:
            raise StressError(f"{what}: the factor must be >= 1")
        return Scenario(kind="conservative", k=k)
    if not isinstance(body, Mapping):
        raise StressError(f"{what}: expected a mapping of its settings")
    allowed = {"gap": {"at", "pct", "symbol"}, "halt": {"from", "to", "symbol"}}.get(str(kind))
    if allowed is None:
        raise StressError(f"stress {kind!r}: expected conservative, gap or halt")
    unknown = set(body) - allowed
    if unknown:
        raise StressError(f"{what}: unknown keys {sorted(unknown)}")
    symbol = str(body["symbol"]) if body.get("symbol") else None
    try:
        if kind == "gap":
            return Scenario(
                kind="gap",
                at_ns=_time(body["at"], what),
                pct=_number(body["pct"], what),
                symbol=symbol,
            )
        start, end = _time(body["from"], what), _time(body["to"], what)
    except KeyError as exc:
        raise StressError(f"{what}: missing {exc.args[0]!r}") from None
    if end <= start:
        raise StressError(f"{what}: the halt must end after it starts")
    return Scenario(kind="halt", at_ns=start, end_ns=end, symbol=symbol)


def parse_all(specs: Iterable[Scenario | str | Mapping[str, Any]] | None) -> list[Scenario]:
    """Every scenario of ``specs`` (strings, mappings or scenarios)."""
    return [s if isinstance(s, Scenario) else parse(s) for s in specs or ()]


def apply_fills(scenarios: Sequence[Scenario], fills: Any) -> Any:
    """The fill configuration under the conservative scenarios (others leave it alone)."""
    conservative = [s for s in scenarios if s.kind == "conservative"]
    if not conservative:
        return fills
    from atlas_oms.simulation.config import FillConfig
    from atlas_oms.simulation.stress import conservative as make_conservative

    if fills is None:
        config = FillConfig()
    elif isinstance(fills, FillConfig):
        config = fills
    elif isinstance(fills, Mapping):
        config = FillConfig.from_dict(fills)
    else:
        config = FillConfig.from_yaml(str(fills))
    for s in conservative:
        config = make_conservative(config, s.k)
    return config


def apply_events(
    scenarios: Sequence[Scenario],
    events: Iterable[MarketEvent],
    tick_of: Callable[[str], Decimal | None],
    symbols: Iterable[str],
) -> list[MarketEvent]:
    """The events under the gaps and halts (in the order given)."""
    from atlas_oms.simulation.stress import gap, halt

    stream: Iterable[MarketEvent] = events
    for s in scenarios:
        if s.kind == "gap":
            for symbol in [s.symbol] if s.symbol else sorted(symbols):
                stream = gap(stream, s.at_ns, s.pct, symbol=symbol, tick=tick_of(symbol))
        elif s.kind == "halt":
            stream = halt(stream, s.at_ns, s.end_ns, symbol=s.symbol)
    return list(stream)


def apply_venue(scenarios: Sequence[Scenario], venue: Any) -> None:
    """Tell the venue of the halts (it refuses orders meanwhile: ``INSTRUMENT_HALTED``)."""
    for s in scenarios:
        if s.kind == "halt":
            if not hasattr(venue, "halt"):
                raise StressError("a halt scenario needs the simulated venue")
            venue.halt(s.at_ns, s.end_ns, s.symbol)
