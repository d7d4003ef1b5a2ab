"""Public streams (SUBSCRIBE protocol) through ccxt.pro, and Binance's rate limits: weight per IP
with ``X-MBX-USED-WEIGHT-1M``, 429 + ``Retry-After``, 418 for an IP that keeps calling, and order
counts per account."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import ccxt
import pytest

from atlas_oms.fakes.binance import Limits

from .support import client, close, run, running, settle

SYM = "BTC/USDT"
PERP = "BTC/USDT:USDT"


async def _after(watch: Any, trigger: Any, timeout: float = 1.5) -> Any:
    task = asyncio.ensure_future(watch)
    await settle(0.2)
    trigger()
    return await asyncio.wait_for(task, timeout)


@pytest.mark.parametrize(("market", "symbol"), [("spot", SYM), ("usdm", PERP)])
def test_book_ticker_trades_and_ticker_streams(market: str, symbol: str) -> None:
    async def main() -> None:
        async with running() as fake:
            venue = fake.venue
            ex = client(fake, market)
            await ex.load_markets()
            quotes = await _after(
                ex.watch_bids_asks([symbol]),
                lambda: venue.house_quote(market, "BTCUSDT", "BUY", "49000", "0.5"),
            )
            assert quotes[symbol]["bid"] == 49000 and quotes[symbol]["bidVolume"] == 0.5
            trades = await _after(
                ex.watch_trades(symbol),
                lambda: venue.house_quote(market, "BTCUSDT", "SELL", "49000", "0.2"),
            )
            assert trades[-1]["price"] == 49000 and trades[-1]["amount"] == 0.2
            ticker = await _after(
                ex.watch_ticker(symbol),
                lambda: venue.house_quote(market, "BTCUSDT", "SELL", "49000", "0.1"),
            )
            assert ticker["last"] == 49000
            await close(ex)

    run(main)


def test_mark_price_stream() -> None:
    async def main() -> None:
        async with running() as fake:
            ex = client(fake, "usdm")
            await ex.load_markets()
            ticker = await _after(
                ex.watch_mark_price(PERP), lambda: fake.venue.set_mark_price("BTCUSDT", "50123.4")
            )
            assert ticker["markPrice"] == 50123.4
            await close(ex)

    run(main)


def test_every_answer_carries_the_used_weight() -> None:
    async def main() -> None:
        async with running() as fake:
            ex = client(fake, "spot")
            await ex.load_markets()  # exchangeInfo: 20
            assert ex.last_response_headers["X-MBX-USED-WEIGHT-1M"] == "20"
            await ex.fetch_balance()  # account: 20
            assert ex.last_response_headers["X-MBX-USED-WEIGHT-1M"] == "40"
            await ex.create_order(SYM, "limit", "buy", 0.001, 40000)
            headers = ex.last_response_headers
            assert headers["X-MBX-USED-WEIGHT-1M"] == "41"
            assert (
                headers["X-MBX-ORDER-COUNT-10S"] == "1" and headers["X-MBX-ORDER-COUNT-1D"] == "1"
            )
            fx = client(fake, "usdm")
            await fx.load_markets()
            await fx.create_order(PERP, "limit", "buy", 0.01, 40000)
            assert fx.last_response_headers["X-MBX-ORDER-COUNT-1M"] == "1"
            await close(ex, fx)

    run(main)


def test_429_with_retry_after_then_418_for_an_ip_that_keeps_calling() -> None:
    async def main() -> None:
        limits = Limits(weight_per_window=3, weight_window_s=1.0, requests_before_ban=2, ban_s=30)
        async with running(limits=limits) as fake, aiohttp.ClientSession() as http:
            url = f"{fake.http}/api/v3/time"
            statuses = []
            for _ in range(3):
                async with http.get(url) as resp:
                    statuses.append((resp.status, resp.headers["X-MBX-USED-WEIGHT-1M"]))
            assert statuses == [(200, "1"), (200, "2"), (200, "3")]
            async with http.get(url) as resp:
                assert resp.status == 429 and 1 <= int(resp.headers["Retry-After"]) <= 1
                body = await resp.json()
                assert body["code"] == -1003 and body["msg"].startswith(
                    "Too much request weight used"
                )
            for _ in range(2):  # still calling during the back-off
                async with http.get(url) as resp:
                    assert resp.status == 429
            async with http.get(url) as resp:
                assert resp.status == 418 and resp.headers["Retry-After"] == "30"
                assert "IP banned until" in (await resp.json())["msg"]

    run(main)


def test_a_client_that_waits_retry_after_is_served_again() -> None:
    async def main() -> None:
        limits = Limits(weight_per_window=1, weight_window_s=0.5, requests_before_ban=0)
        async with running(limits=limits) as fake:
            ex = client(fake, "spot")
            await ex.fetch_time()
            with pytest.raises(ccxt.DDoSProtection):
                await ex.fetch_time()
            await settle(0.55)
            assert await ex.fetch_time() > 0
            await close(ex)

    run(main)


def test_order_count_per_account_is_limited() -> None:
    async def main() -> None:
        async with running(limits=Limits(orders_per_10s=2)) as fake:
            ex = client(fake, "spot")
            await ex.load_markets()
            for _ in range(2):
                await ex.create_order(SYM, "limit", "buy", 0.001, 40000)
            with pytest.raises(ccxt.BaseError):
                await ex.create_order(SYM, "limit", "buy", 0.001, 40000)
            assert ex.last_http_response == (
                '{"code":-1015,"msg":"Too many new orders; current limit is 2 orders per 10 SECOND."}'
            )
            assert len(await ex.fetch_open_orders(SYM)) == 2
            await close(ex)

    run(main)


def test_standalone_process_serves_ccxt(tmp_path: Any) -> None:
    import json
    import subprocess
    import sys

    from .support import KEY, SECRET

    accounts = tmp_path / "accounts.json"
    accounts.write_text(
        json.dumps([{"name": "a", "api_key": KEY, "secret": SECRET, "spot": {"USDT": "1000"}}])
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "atlas_oms.fakes.binance",
            "--accounts",
            str(accounts),
            "--house-quotes",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())

        async def main() -> None:
            import ccxt.pro

            ex = ccxt.pro.binance(
                {
                    "apiKey": KEY,
                    "secret": SECRET,
                    "urls": {"api": first["urls"]},
                    "options": {
                        "fetchCurrencies": False,
                        "fetchMargins": False,
                        "fetchMarkets": {"types": ["spot"]},
                    },
                }
            )
            assert (await ex.fetch_balance())["USDT"]["free"] == 1000
            order = await ex.create_order(SYM, "market", "buy", 0.001)
            assert order["status"] == "closed"
            await ex.close()

        run(main)
    finally:
        proc.terminate()
        proc.wait(timeout=5)
