"""The fake Binance USDⓈ-M venue through the real ccxt ``binanceusdm`` client: markets, orders,
the listenKey user stream (ORDER_TRADE_UPDATE, keep-alive, expiry), positions in one-way and
hedge mode, and the futures refusals."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt
import pytest

from .support import KEY, KEY_B, SECRET_B, Collector, client, close, run, running, settle

PERP = "BTC/USDT:USDT"


async def _error(coro: Any) -> str:
    with pytest.raises(ccxt.BaseError) as info:
        await coro
    return str(info.value)


def test_markets_load_as_linear_perpetuals() -> None:
    async def main() -> None:
        async with running() as fake:
            ex = client(fake, "usdm")
            markets = await ex.load_markets()
            btc = markets[PERP]
            assert (
                btc["id"] == "BTCUSDT" and btc["linear"] and btc["swap"] and btc["settle"] == "USDT"
            )
            assert btc["precision"]["price"] == 0.1 and btc["limits"]["cost"]["min"] == 100
            await close(ex)

    run(main)


def test_limit_order_rests_then_fills_with_order_trade_updates_and_a_position() -> None:
    async def main() -> None:
        async with running() as fake:
            fake.venue.set_mark_price("BTCUSDT", "50000")
            ex = client(fake, "usdm")
            await ex.load_markets()
            stream = Collector(lambda: ex.watch_orders(PERP))
            await settle(0.2)
            placed = await ex.create_order(
                PERP, "limit", "buy", 0.01, 50000, {"clientOrderId": "atk3f9q2x7"}
            )
            assert placed["status"] == "open"
            await stream.wait_for(1)
            fake.venue.house_quote("usdm", "BTCUSDT", "SELL", "50000", "0.004")
            await stream.wait_for(2)
            fake.venue.house_quote("usdm", "BTCUSDT", "SELL", "49900", "0.006")
            new, part, done = (await stream.wait_for(3))[:3]
            assert (new["x"], new["X"], new["c"], new["i"]) == (
                "NEW",
                "NEW",
                "atk3f9q2x7",
                int(placed["id"]),
            )
            assert "n" not in new and "N" not in new  # omitted when there is no commission
            assert (part["x"], part["X"], part["l"], part["z"], part["L"]) == (
                "TRADE",
                "PARTIALLY_FILLED",
                "0.004",
                "0.004",
                "50000.00",
            )
            assert (done["X"], done["z"], done["m"], done["N"], done["ps"]) == (
                "FILLED",
                "0.010",
                True,
                "USDT",
                "BOTH",
            )
            assert Decimal(done["n"]) == Decimal("0.06")  # 0.006 * 50000 * 0.0002
            assert done["t"] > part["t"] and done["T"] >= part["T"]
            assert await ex.fetch_open_orders(PERP) == []
            trades = await ex.fetch_my_trades(PERP)
            assert [t["info"]["maker"] for t in trades] == [True, True]
            positions = await ex.fetch_positions([PERP])
            assert len(positions) == 1
            assert positions[0]["info"]["positionAmt"] == "0.01" and positions[0]["side"] == "long"
            assert Decimal(positions[0]["info"]["entryPrice"]) == Decimal("50000")
            balance = await ex.fetch_balance()
            assert Decimal(str(balance["USDT"]["total"])) == Decimal("100000") - Decimal("0.1")
            await stream.stop()
            await close(ex)

    run(main)


def test_hedge_mode_keeps_long_and_short_legs_and_refuses_a_both_order() -> None:
    async def main() -> None:
        async with running() as fake:
            ex = client(fake, "usdm", key=KEY_B, secret=SECRET_B)
            await ex.load_markets()
            mode = await ex.fetch_position_mode(PERP)
            assert mode["hedged"] is True
            msg = await _error(ex.create_order(PERP, "limit", "buy", 0.002, 50000))
            assert "Order's position side does not match user's setting." in msg
            assert '"code":-4061' in ex.last_http_response
            fake.venue.house_quote("usdm", "BTCUSDT", "SELL", "50000", "0.002")
            fake.venue.house_quote("usdm", "BTCUSDT", "BUY", "49000", "0.003")
            await ex.create_order(PERP, "market", "buy", 0.002, None, {"positionSide": "LONG"})
            await ex.create_order(PERP, "market", "sell", 0.003, None, {"positionSide": "SHORT"})
            legs = {
                p["info"]["positionSide"]: p["info"]["positionAmt"]
                for p in await ex.fetch_positions([PERP])
            }
            assert legs == {"LONG": "0.002", "SHORT": "-0.003"}
            msg = await _error(
                ex.create_order(
                    PERP, "limit", "buy", 0.002, 40000, {"positionSide": "LONG", "reduceOnly": True}
                )
            )
            assert '"code":-1106' in ex.last_http_response
            await close(ex)

    run(main)


def test_futures_refusals_in_binance_words() -> None:
    async def main() -> None:
        async with running() as fake:
            ex = client(fake, "usdm")
            small = client(fake, "usdm", key=KEY_B, secret=SECRET_B)
            await ex.load_markets()
            await small.load_markets()
            await ex.create_order(PERP, "limit", "buy", 0.01, 40000, {"clientOrderId": "f1"})
            await _error(
                ex.create_order(PERP, "limit", "buy", 0.01, 40000, {"clientOrderId": "f1"})
            )
            assert ex.last_http_response == '{"code":-4116,"msg":"ClientOrderId is duplicated."}'
            await _error(ex.create_order(PERP, "limit", "sell", 0.01, 60000, {"reduceOnly": True}))
            assert ex.last_http_response == '{"code":-2022,"msg":"ReduceOnly Order is rejected."}'
            fake.venue.house_quote("usdm", "BTCUSDT", "SELL", "41000", "1")
            await _error(ex.create_order(PERP, "limit", "buy", 0.01, 41000, {"timeInForce": "GTX"}))
            assert '"code":-5022' in ex.last_http_response
            await _error(
                small.create_order(PERP, "limit", "buy", 0.6, 40000, {"positionSide": "LONG"})
            )
            assert small.last_http_response == '{"code":-2019,"msg":"Margin is insufficient."}'
            await _error(ex.cancel_order("424242", PERP))
            assert ex.last_http_response == '{"code":-2011,"msg":"Unknown order sent."}'
            await _error(ex.fetch_order("424242", PERP))
            assert ex.last_http_response == '{"code":-2013,"msg":"Order does not exist."}'
            await _error(ex.create_order(PERP, "limit", "buy", 0.001, 40000))
            assert '"code":-4164' in ex.last_http_response
            await close(ex, small)

    run(main)


def test_edit_leverage_margin_type_and_position_mode() -> None:
    async def main() -> None:
        async with running() as fake:
            ex = client(fake, "usdm")
            await ex.load_markets()
            o = await ex.create_order(PERP, "limit", "buy", 0.01, 40000)
            edited = await ex.edit_order(o["id"], PERP, "limit", "buy", 0.02, 40100)
            assert edited["id"] == o["id"] and edited["info"]["origQty"] == "0.020"
            assert (await ex.set_leverage(10, PERP))["leverage"] == 10
            # Binance refuses a margin type change while the symbol has open orders (-4047)
            await ex.cancel_order(o["id"], PERP)
            await ex.set_margin_mode("isolated", PERP)
            with pytest.raises(ccxt.MarginModeAlreadySet):
                await ex.set_margin_mode("isolated", PERP)
            await ex.set_position_mode(True)
            assert (await ex.fetch_position_mode(PERP))["hedged"] is True
            await close(ex)

    run(main)


def test_listen_key_keep_alive_then_expiry_pushes_listen_key_expired_and_put_answers_1125() -> None:
    async def main() -> None:
        async with running() as fake:
            headers = {"X-MBX-APIKEY": KEY}
            async with aiohttp.ClientSession() as http:
                async with http.post(f"{fake.http}/fapi/v1/listenKey", headers=headers) as resp:
                    key = (await resp.json())["listenKey"]
                async with http.put(f"{fake.http}/fapi/v1/listenKey", headers=headers) as resp:
                    assert resp.status == 200 and (await resp.json()) == {"listenKey": key}
                async with http.ws_connect(f"{fake.ws}/fstream/private/ws?listenKey={key}") as ws:
                    await settle(0.05)
                    fake.expire_listen_key("alice")
                    event = await ws.receive_json(timeout=1)
                    assert event["e"] == "listenKeyExpired" and event["listenKey"] == key
                async with http.put(f"{fake.http}/fapi/v1/listenKey", headers=headers) as resp:
                    assert resp.status == 400
                    assert (
                        await resp.text() == '{"code":-1125,"msg":"This listenKey does not exist."}'
                    )
                async with http.post(f"{fake.http}/fapi/v1/listenKey", headers=headers) as resp:
                    assert (await resp.json())["listenKey"] != key

    run(main)


def test_listen_key_lapses_without_keep_alive() -> None:
    async def main() -> None:
        async with running(listen_key_ttl_ms=100) as fake:
            headers = {"X-MBX-APIKEY": KEY}
            async with aiohttp.ClientSession() as http:
                async with http.post(f"{fake.http}/fapi/v1/listenKey", headers=headers) as resp:
                    key = (await resp.json())["listenKey"]
                await settle(0.15)
                async with http.put(f"{fake.http}/fapi/v1/listenKey", headers=headers) as resp:
                    assert (await resp.json())["code"] == -1125
                with pytest.raises(aiohttp.WSServerHandshakeError):
                    await http.ws_connect(f"{fake.ws}/fstream/private/ws?listenKey={key}")

    run(main)


@pytest.mark.parametrize(("market", "symbol"), [("spot", "BTC/USDT"), ("usdm", PERP)])
def test_watch_balance_and_watch_my_trades(market: str, symbol: str) -> None:
    async def main() -> None:
        async with running() as fake:
            ex = client(fake, market)
            await ex.load_markets()
            trades = Collector(lambda: ex.watch_my_trades(symbol))
            await settle(0.2)
            balance_task = asyncio.ensure_future(ex.watch_balance())
            await settle(0.1)
            fake.venue.house_quote(market, "BTCUSDT", "SELL", "50000", "0.01")
            await ex.create_order(symbol, "market", "buy", 0.01)
            [trade] = await trades.wait_for(1)
            assert trade["t"] > 0 and trade["X"] == "FILLED"
            balance = await asyncio.wait_for(balance_task, 1.5)
            assert balance["USDT"]["free"] is not None or balance["USDT"]["total"] is not None
            await trades.stop()
            await close(ex)

    run(main)


def test_futures_fees_in_bnb_while_it_lasts_then_in_the_margin_asset() -> None:
    async def main() -> None:
        async with running(bnb_price=Decimal("500")) as fake:
            alice = fake.venue.accounts["alice"]
            alice.cfg.bnb_fees = True
            alice.wallet["BNB"] = Decimal("0.0003")
            ex = client(fake, "usdm")
            await ex.load_markets()
            fake.venue.house_quote("usdm", "BTCUSDT", "SELL", "50000", "1")
            await ex.create_order(
                PERP, "market", "buy", 0.01
            )  # 0.25 USDT taker fee = 0.0005 BNB: too much
            fake.venue.accounts["alice"].wallet["BNB"] = Decimal("0.001")
            await ex.create_order(PERP, "market", "buy", 0.01)  # now BNB pays 0.0005
            trades = await ex.fetch_my_trades(PERP)
            assert [(t["info"]["commissionAsset"], t["info"]["commission"]) for t in trades] == [
                ("USDT", "0.25000000"),
                ("BNB", "0.00050000"),
            ]
            assert alice.wallet["BNB"] == Decimal("0.0005")
            assert alice.wallet["USDT"] == Decimal("100000") - Decimal("0.25")
            await close(ex)

    run(main)


def test_knobs_from_another_thread_while_the_fake_runs_in_its_own() -> None:
    from atlas_oms.fakes.binance import FakeBinance

    from .support import accounts

    with FakeBinance(accounts()).running_in_thread() as fake:

        async def main() -> None:
            ex = client(fake, "usdm")
            await ex.load_markets()
            stream = Collector(lambda: ex.watch_orders(PERP))
            await settle(0.2)
            placed = await ex.create_order(PERP, "limit", "buy", 0.01, 40000)
            order = fake.call(fake.venue.order, "usdm", int(placed["id"]))
            assert order is not None
            fake.call(fake.venue.fill, order, "0.01")
            events = await stream.wait_for(2)
            assert events[-1]["X"] == "FILLED"
            fake.expire_listen_key("alice")  # dispatched to the fake's loop
            await settle(0.2)
            assert stream.errors
            await stream.stop()
            await close(ex)

        run(main)
