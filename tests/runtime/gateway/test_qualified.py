"""A venue's ``symbol_suffix``: Atlas names its instruments ``BTC/USDT@bybit`` (one unified
symbol on several venues); what goes to the adapter has the venue's own symbols, what comes back
has Atlas's, and anything else is the wrapped adapter's (the gateway's hooks land on it)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from atlas_oms.model.venue import PriceTick, VenueAccountSettings
from atlas_oms.runtime.gateway.qualified import qualified, rename
from atlas_oms.venues.accounts import AccountsConfigError, parse_accounts

D = Decimal


class Inner:
    venue = "bybit"
    account_id = "acc"

    def __init__(self) -> None:
        self.before_request: Any = None
        self.asked: list[Any] = []

    async def order(self, symbol: str, **ids: Any) -> Any:
        self.asked.append((symbol, ids))
        return None

    async def account_settings(self) -> VenueAccountSettings:
        return VenueAccountSettings(leverage={"BTC/USDT:USDT": D(5)})

    async def prices(self, symbols: list[str]) -> Any:
        self.asked.append(symbols)
        for s in symbols:
            yield PriceTick(symbol=s, ts=1, last=D(1))


def test_symbols_gain_the_suffix_coming_out_and_lose_it_going_in() -> None:
    inner = Inner()
    adapter = qualified(inner, "@bybit")

    async def main() -> None:
        await adapter.order("BTC/USDT@bybit", client_order_id="c1")
        assert inner.asked == [("BTC/USDT", {"client_order_id": "c1"})]
        settings = await adapter.account_settings()
        assert settings.leverage == {"BTC/USDT:USDT@bybit": D(5)}
        gen = adapter.prices(["BTC/USDT:USDT@bybit"])
        tick = await anext(gen)
        await gen.aclose()
        assert inner.asked[-1] == ["BTC/USDT:USDT"]
        assert tick.symbol == "BTC/USDT:USDT@bybit"

    asyncio.run(main())
    # The gateway's hooks and the adapter's identity are the wrapped adapter's.
    adapter.before_request = "hook"
    assert inner.before_request == "hook"
    assert (adapter.venue, adapter.account_id) == ("bybit", "acc")
    # Methods the wrapped adapter lacks are not offered (the gateway looks for them).
    assert not hasattr(adapter, "set_leverage")
    # Nothing to rename: the very same object.
    tick = PriceTick(symbol="X@bybit", ts=1)
    assert rename(tick, lambda s: s) is tick


def test_a_symbol_suffix_is_an_at_sign_and_a_name() -> None:
    base = "accounts:\n  bybit:\n    main: {type: main, spot_enabled: true}\n"
    base += "account_routing: {default: main}\n"
    ok = parse_accounts(base + "venues:\n  bybit: {symbol_suffix: '@bybit'}\n")
    assert ok.accounts[0].endpoints.symbol_suffix == "@bybit"
    with pytest.raises(AccountsConfigError, match="suffix like"):
        parse_accounts(base + "venues:\n  bybit: {symbol_suffix: 'bybit x'}\n")
