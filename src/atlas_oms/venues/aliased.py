"""One unified symbol on several venues in one Atlas: a venue's instruments under a suffix.

Atlas keeps one instrument per symbol (the core refuses ``BTC/USDT`` of a second venue,
``INSTRUMENT_ON_OTHER_VENUE``). A desk that trades BTC on Binance, Bybit and OKX gives every venue
but one a ``symbol_suffix`` in ``accounts.yaml`` (``venues: {bybit: {symbol_suffix: "@bybit"}}``):
the venue's adapter is wrapped in :class:`AliasedAdapter`, so Atlas sees ``BTC/USDT@bybit`` and
``BTC/USDT:USDT@bybit`` (its own instruments, positions, marks, orders) while the adapter and
the venue see their own symbols. The failover rules name such symbols
(``alternatives: [{venue: bybit, symbol: BTC/USDT@bybit}]``).

Every ``symbol`` field of what goes in (orders, cancels, amends, queries) loses the suffix; every
``symbol`` field of what comes out (instruments, orders, fills, positions, facts, ticks, the
per-symbol settings) gains it. Anything else (hooks the gateway sets, ``rotate_credentials``,
``venue``, ``account_id``...) is the wrapped adapter's own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import msgspec

from atlas_oms.model.venue import VenueAccountSettings

#: Adapter methods the gateway may look for (``settings.SettingsAdapter``): offered only when
#: the wrapped adapter has them, with the symbol argument translated.
_SYMBOL_FIRST = frozenset({"set_leverage", "set_margin_mode", "symbol_settings"})


def rename(obj: Any, f: Callable[[str], str]) -> Any:
    """``obj`` with ``f`` applied to every ``symbol`` field of every struct in it (and to the
    keys of :class:`VenueAccountSettings`' per-symbol maps); unchanged parts are the same
    objects."""
    if isinstance(obj, VenueAccountSettings):
        return msgspec.structs.replace(
            obj,
            leverage={f(k): v for k, v in obj.leverage.items()},
            margin_mode={f(k): v for k, v in obj.margin_mode.items()},
        )
    if isinstance(obj, msgspec.Struct):
        changes: dict[str, Any] = {}
        for name in obj.__struct_fields__:
            value = getattr(obj, name)
            new = f(value) if name == "symbol" and isinstance(value, str) else rename(value, f)
            if new is not value:
                changes[name] = new
        return msgspec.structs.replace(obj, **changes) if changes else obj
    if isinstance(obj, list | tuple):
        items = [rename(x, f) for x in obj]
        if any(a is not b for a, b in zip(items, obj, strict=True)):
            return type(obj)(items)
        return obj
    return obj


class AliasedAdapter:
    """``inner`` (any venue adapter) with its Atlas symbols suffixed by ``suffix``."""

    def __init__(self, inner: Any, suffix: str) -> None:
        object.__setattr__(self, "inner", inner)
        object.__setattr__(self, "suffix", suffix)

    # the adapter's own attributes (read and set: the gateway's hooks land on the adapter)
    def __getattr__(self, name: str) -> Any:
        value = getattr(self.inner, name)
        if name in _SYMBOL_FIRST:

            async def translated(symbol: str, *args: Any, **kw: Any) -> Any:
                return self.atlas(await value(self.plain(symbol), *args, **kw))

            return translated
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.inner, name, value)

    # symbols
    def plain(self, symbol: str) -> str:
        """The venue adapter's symbol of an Atlas symbol."""
        return symbol.removesuffix(self.suffix)

    def aliased(self, symbol: str) -> str:
        """The Atlas symbol of the venue adapter's symbol."""
        return symbol if not symbol or symbol.endswith(self.suffix) else symbol + self.suffix

    def atlas(self, obj: Any) -> Any:
        return rename(obj, self.aliased)

    def venue_side(self, obj: Any) -> Any:
        return rename(obj, self.plain)

    # commands
    async def place(self, order: Any) -> Any:
        return self.atlas(await self.inner.place(self.venue_side(order)))

    async def cancel(self, order: Any) -> Any:
        return self.atlas(await self.inner.cancel(self.venue_side(order)))

    async def amend(self, order: Any) -> Any:
        return self.atlas(await self.inner.amend(self.venue_side(order)))

    # queries
    async def open_orders(self) -> Any:
        return self.atlas(await self.inner.open_orders())

    async def order(self, symbol: str, **ids: Any) -> Any:
        return self.atlas(await self.inner.order(self.plain(symbol), **ids))

    async def fills(self, since_ts: int, symbol: str | None = None) -> Any:
        plain = None if symbol is None else self.plain(symbol)
        return self.atlas(await self.inner.fills(since_ts, plain))

    async def balances(self) -> Any:
        return await self.inner.balances()

    async def positions(self) -> Any:
        return self.atlas(await self.inner.positions())

    async def instruments(self) -> Any:
        return self.atlas(await self.inner.instruments())

    async def account_settings(self) -> Any:
        return self.atlas(await self.inner.account_settings())

    # streams
    async def facts(self) -> AsyncIterator[Any]:
        gen = self.inner.facts()
        try:
            async for fact in gen:
                yield self.atlas(fact)
        finally:
            await gen.aclose()

    async def prices(self, symbols: list[str]) -> AsyncIterator[Any]:
        gen = self.inner.prices([self.plain(s) for s in symbols])
        try:
            async for tick in gen:
                yield self.atlas(tick)
        finally:
            await gen.aclose()
