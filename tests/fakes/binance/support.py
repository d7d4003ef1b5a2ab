"""Shared set-up for the fake Binance tests: one fake, real ccxt clients over loopback."""

from __future__ import annotations

import asyncio
import contextlib
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


def client(
    fake: FakeBinance, market: str, key: str = KEY, secret: str = SECRET, **options: Any
) -> Any:
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


class Collector:
    """Keeps a ccxt.pro ``watch_*`` loop running and collects the raw ``info`` of each item."""

    def __init__(self, watch: Callable[[], Awaitable[list[dict[str, Any]]]]) -> None:
        self.items: list[dict[str, Any]] = []
        self.errors: list[BaseException] = []
        self._task = asyncio.ensure_future(self._loop(watch))

    async def _loop(self, watch: Callable[[], Awaitable[list[dict[str, Any]]]]) -> None:
        while True:
            try:
                got = await watch()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.errors.append(exc)
                await asyncio.sleep(0.05)
                continue
            self.items.extend(
                item["info"] if isinstance(item, dict) and "info" in item else item for item in got
            )

    async def wait_for(self, count: int, timeout: float = 2.0) -> list[dict[str, Any]]:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.items) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(
                    f"{len(self.items)} of {count} items arrived: {self.items} {self.errors}"
                )
            await asyncio.sleep(0.01)
        return self.items

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task


async def settle(seconds: float = 0.15) -> None:
    await asyncio.sleep(seconds)


async def ws_api_subscribe(ws: Any, key: str = KEY, secret: str = SECRET) -> dict[str, Any]:
    """Send a signed ``userDataStream.subscribe.signature`` and return the answer."""
    import hashlib
    import hmac
    import time

    params: dict[str, Any] = {"apiKey": key, "timestamp": int(time.time() * 1000)}
    payload = "&".join(f"{k}={params[k]}" for k in sorted(params))
    params["signature"] = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    await ws.send_json(
        {"id": "sub", "method": "userDataStream.subscribe.signature", "params": params}
    )
    answer: dict[str, Any] = await ws.receive_json(timeout=1)
    return answer


async def ws_api_user_stream(
    http: Any, fake: FakeBinance, key: str = KEY, secret: str = SECRET
) -> Any:
    """A raw spot WS-API connection subscribed with ``userDataStream.subscribe.signature``."""
    ws = await http.ws_connect(f"{fake.ws}/ws-api/v3")
    answer = await ws_api_subscribe(ws, key, secret)
    assert answer["status"] == 200, answer
    return ws


async def drain(ws: Any, quiet: float = 0.15) -> list[dict[str, Any]]:
    """Every JSON message that arrives until the connection is quiet for ``quiet`` seconds."""
    out: list[dict[str, Any]] = []
    while True:
        try:
            out.append(await ws.receive_json(timeout=quiet))
        except (TimeoutError, TypeError):
            return out
