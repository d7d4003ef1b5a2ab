"""Shared set-up for the fake Binance tests: one fake, real ccxt clients over loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import ccxt.pro

from atlas_oms.fakes.binance import AccountConfig, FakeBinance, Faults, Limits, ccxt_config

KEY = "alicekey0000000000000000000000000000000000000000000000000000001"
SECRET = "alicesecret000000000000000000000000000000000000000000000000001"
KEY_B = "bobkey000000000000000000000000000000000000000000000000000000002"
SECRET_B = "bobsecret0000000000000000000000000000000000000000000000000002"


def accounts() -> list[AccountConfig]:
    return [
        AccountConfig(
            name="alice",
            api_key=KEY,
            secret=SECRET,
            spot={"USDT": Decimal("100000"), "BTC": Decimal("2"), "BNB": Decimal("1")},
            futures={"USDT": Decimal("100000"), "BNB": Decimal("1")},
        ),
        AccountConfig(
            name="bob",
            api_key=KEY_B,
            secret=SECRET_B,
            spot={"USDT": Decimal("1000")},
            futures={"USDT": Decimal("1000")},
            hedge_mode=True,
        ),
    ]


def client(fake: FakeBinance, market: str, key: str = KEY, secret: str = SECRET, **options: Any) -> Any:
    cfg = ccxt_config(market, key, secret, fake.http, fake.ws, **options)
    cfg["timeout"] = 1500
    cls = ccxt.pro.binance if market == "spot" else ccxt.pro.binanceusdm
    return cls(cfg)


@asynccontextmanager
async def running(
    limits: Limits | None = None, faults: Faults | None = None, **kw: Any
) -> AsyncIterator[FakeBinance]:
    fake = FakeBinance(accounts(), limits=limits, faults=faults, **kw)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


def run(main: Callable[[], Awaitable[None]], timeout: float = 10) -> None:
    asyncio.run(asyncio.wait_for(main(), timeout))


async def close(*clients: Any) -> None:
    for c in clients:
        await c.close()
