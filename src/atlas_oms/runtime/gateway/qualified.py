"""Qualified symbols: one Atlas node trading the same unified symbol on two venues.

Atlas keys instruments by unified symbol (``BTC/USDT``) and an instrument belongs to one venue;
Binance spot and Bybit spot both list ``BTC/USDT``. A venue given a ``symbol_suffix`` in
``accounts.yaml`` (``venues: {bybit: {symbol_suffix: "@bybit"}}``) has its instruments named
``BTC/USDT@bybit`` in Atlas: :class:`QualifiedSymbols` wraps its adapter, adds the suffix to every
``symbol`` the adapter reports (instruments, orders, fills, positions, stream facts, prices) and
takes it off every symbol Atlas hands the adapter (place, cancel, amend, queries). The venue's own
name (``venue_symbol``, ``BTCUSDT``) is untouched. The adapter's internals are not changed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec

#: Attributes the gateway sets on an adapter (its rate-limit hooks): set on the wrapped one.
_FORWARDED = ("before_request", "on_response")
#: Derivative settings methods (symbol first): offered only when the wrapped adapter has them (the
#: gateway checks for them with ``isinstance(adapter, SettingsAdapter)``, which looks at the class).
_SETTINGS = ("set_leverage", "set_margin_mode", "symbol_settings")


def qualify(symbol: str, suffix: str) -> str:
    return symbol if not suffix or symbol.endswith(suffix) else symbol + suffix


def unqualify(symbol: str, suffix: str) -> str:
    return symbol[: -len(suffix)] if suffix and symbol.endswith(suffix) else symbol


def map_symbol(symbol: str, from_suffix: str, to_suffix: str) -> str:
    """``symbol`` of one venue as another venue's Atlas symbol (the same unified symbol)."""
    return qualify(unqualify(symbol, from_suffix), to_suffix)


def rename(value: Any, fn: Any) -> Any:
    """``value`` with ``fn`` applied to every ``symbol`` field of every struct in it (structs,
    tuples, lists and the per-symbol maps of :class:`VenueAccountSettings`)."""
    if isinstance(value, msgspec.Struct):
        changes: dict[str, Any] = {}
        for name in value.__struct_fields__:
            old = getattr(value, name)
            if name == "symbol" and isinstance(old, str):
                new = fn(old)
            elif name in ("leverage", "margin_mode") and isinstance(old, dict):
                new = {fn(k): v for k, v in old.items()}
            elif isinstance(old, msgspec.Struct | tuple | list):
                new = rename(old, fn)
            else:
                continue
            if new is not old and new != old:
                changes[name] = new
        return msgspec.structs.replace(value, **changes) if changes else value
    if isinstance(value, tuple):
        return tuple(rename(v, fn) for v in value)
    if isinstance(value, list):
        return [rename(v, fn) for v in value]
    return value


class QualifiedSymbols:
    """An adapter whose Atlas symbols carry ``suffix`` (see the module doc)."""

    def __init__(self, inner: Any, suffix: str) -> None:
        object.__setattr__(self, "inner", inner)
        object.__setattr__(self, "suffix", suffix)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _FORWARDED:
            setattr(self.inner, name, value)
        else:
            object.__setattr__(self, name, value)

    def _out(self, value: Any) -> Any:
        return rename(value, lambda s: qualify(s, self.suffix))

    def _in(self, value: Any) -> Any:
        return rename(value, lambda s: unqualify(s, self.suffix))

    def _sym(self, symbol: str | None) -> str | None:
        return None if symbol is None else unqualify(symbol, self.suffix)

    # ------------------------------------------------------------------ commands
    async def place(self, order: Any) -> Any:
        return self._out(await self.inner.place(self._in(order)))

    async def cancel(self, order: Any) -> Any:
        return self._out(await self.inner.cancel(self._in(order)))

    async def amend(self, order: Any) -> Any:
        return self._out(await self.inner.amend(self._in(order)))

    # ------------------------------------------------------------------ stream, market data
    async def facts(self) -> AsyncIterator[Any]:
        async for fact in self.inner.facts():
            yield self._out(fact)

    async def prices(self, symbols: list[str]) -> AsyncIterator[Any]:
        async for tick in self.inner.prices([unqualify(s, self.suffix) for s in symbols]):
            yield self._out(tick)

    # ------------------------------------------------------------------ queries
    async def open_orders(self) -> Any:
        return self._out(await self.inner.open_orders())

    async def order(self, symbol: str, *args: Any, **kwargs: Any) -> Any:
        return self._out(await self.inner.order(self._sym(symbol), *args, **kwargs))

    async def fills(self, since_ts: int, symbol: str | None = None) -> Any:
        return self._out(await self.inner.fills(since_ts, self._sym(symbol)))

    async def balances(self) -> Any:
        return await self.inner.balances()

    async def positions(self) -> Any:
        return self._out(await self.inner.positions())

    async def instruments(self) -> Any:
        return self._out(await self.inner.instruments())

    async def account_settings(self) -> Any:
        return self._out(await self.inner.account_settings())


class _QualifiedSettings(QualifiedSymbols):
    async def set_leverage(self, symbol: str, leverage: Any) -> Any:
        return self._out(await self.inner.set_leverage(self._sym(symbol), leverage))

    async def set_margin_mode(self, symbol: str, mode: str) -> Any:
        return self._out(await self.inner.set_margin_mode(self._sym(symbol), mode))

    async def symbol_settings(self, symbol: str) -> Any:
        return self._out(await self.inner.symbol_settings(self._sym(symbol)))


class _QualifiedBooks(QualifiedSymbols):
    """Public order books (``core/ports.py::VenueBooks``): offered only when the wrapped adapter
    has them (the gateway checks with ``isinstance``, which looks at the class)."""

    async def books(self, symbols: list[str], depth: int) -> AsyncIterator[Any]:
        async for book in self.inner.books([unqualify(s, self.suffix) for s in symbols], depth):
            yield self._out(book)


class _QualifiedSettingsBooks(_QualifiedSettings, _QualifiedBooks):
    pass


def qualified(adapter: Any, suffix: str) -> Any:
    """``adapter`` with its Atlas symbols suffixed (itself when ``suffix`` is empty)."""
    if not suffix:
        return adapter
    settings = all(callable(getattr(adapter, name, None)) for name in _SETTINGS)
    books = callable(getattr(adapter, "books", None))
    if settings:
        return (_QualifiedSettingsBooks if books else _QualifiedSettings)(adapter, suffix)
    return (_QualifiedBooks if books else QualifiedSymbols)(adapter, suffix)
