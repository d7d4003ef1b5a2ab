"""Each fault knob of the fake Binance does what it says (the spine of the adapter contract suite)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt
import pytest

from atlas_oms.fakes.binance import Faults

from .support import (
    Collector,
    client,
    close,
    drain,
    run,
    running,
    settle,
    ws_api_subscribe,
    ws_api_user_stream,
)

SYM = "BTC/USDT"
PERP = "BTC/USDT:USDT"


def _trades(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m["event"] for m in events if m.get("event", {}).get("x") == "TRADE"]


@pytest.mark.parametrize("market", ["spot", "usdm"])
def test_a_reply_delayed_past_the_client_timeout_still_commits_the_order(market: str) -> None:
    async def main() -> None:
        async with running(faults=Faults(delay_places=1, delay_s=0.6)) as fake:
            ex = client(fake, market)
            symbol = SYM if market == "spot" else PERP
            await ex.load_markets()
            ex.timeout = 250
            with pytest.raises(ccxt.RequestTimeout):
                await ex.create_order(
                    symbol, "limit", "buy", 0.01, 40000, {"clientOrderId": "late1"}
                )
            ex.timeout = 1500
            found = await ex.fetch_order(None, symbol, {"clientOrderId": "late1"})
            assert found["info"]["status"] == "NEW"
            assert len(await ex.fetch_open_orders(symbol)) == 1
            await close(ex)

    run(main)


def test_a_dropped_connection_after_commit_leaves_exactly_one_order() -> None:
    async def main() -> None:
        async with running(faults=Faults(drop_places=1)) as fake:
            ex = client(fake, "spot")
            await ex.load_markets()
            with pytest.raises(ccxt.NetworkError):
                await ex.create_order(SYM, "limit", "buy", 0.01, 40000, {"clientOrderId": "drop1"})
            # The retry under the same client id is a duplicate: it probably landed, and it did.
            with pytest.raises(ccxt.BaseError):
                await ex.create_order(SYM, "limit", "buy", 0.01, 40000, {"clientOrderId": "drop1"})
            assert ex.last_http_response == '{"code":-2010,"msg":"Duplicate order sent."}'
            assert [o["clientOrderId"] for o in await ex.fetch_open_orders(SYM)] == ["drop1"]
            await close(ex)

    run(main)


@pytest.mark.parametrize(("after", "orders"), [(True, 1), (False, 0)])
def test_a_5xx_answer_after_or_before_commit(after: bool, orders: int) -> None:
    async def main() -> None:
        faults = Faults(fail_after_commit=1) if after else Faults(fail_before_commit=1)
        async with running(faults=faults) as fake:
            ex = client(fake, "usdm")
            await ex.load_markets()
            with pytest.raises(ccxt.BaseError):
                await ex.create_order(PERP, "limit", "buy", 0.01, 40000, {"clientOrderId": "x5"})
            assert ex.last_http_response == (
                '{"code":-1007,"msg":"Timeout waiting for response from backend server.'
                ' Send status unknown; execution status unknown."}'
            )
            assert len(await ex.fetch_open_orders(PERP)) == orders
            await close(ex)

    run(main)


def test_an_accepted_order_is_invisible_to_queries_for_the_lag() -> None:
    async def main() -> None:
        async with running(faults=Faults(visibility_lag_s=0.3)) as fake:
            ex = client(fake, "spot")
            await ex.load_markets()
            o = await ex.create_order(SYM, "limit", "buy", 0.01, 40000)
            with pytest.raises(ccxt.BaseError):
                await ex.fetch_order(o["id"], SYM)
            assert ex.last_http_response == '{"code":-2013,"msg":"Order does not exist."}'
            await settle(0.35)
            assert (await ex.fetch_order(o["id"], SYM))["info"]["status"] == "NEW"
            await close(ex)

    run(main)


def test_dropping_the_user_streams_closes_them_and_loses_what_happens_meanwhile() -> None:
    async def main() -> None:
        async with running() as fake:
            order = fake.venue.place_external(
                "spot",
                "alice",
                {
                    "symbol": "BTCUSDT",
                    "side": "BUY",
                    "type": "LIMIT",
                    "price": "40000",
                    "quantity": "0.01",
                },
            )
            async with aiohttp.ClientSession() as http:
                ws = await ws_api_user_stream(http, fake)
                fake.drop_user_streams()
                fake.venue.fill(order, "0.005")
                closing = await ws.receive(timeout=1)
                assert closing.type in (
                    aiohttp.WSMsgType.CLOSE,
                    aiohttp.WSMsgType.CLOSED,
                    aiohttp.WSMsgType.CLOSING,
                )
                ws2 = await ws_api_user_stream(http, fake)
                fake.venue.fill(order, "0.005")
                events = _trades(await drain(ws2))
                assert [e["z"] for e in events] == ["0.01000000"]  # the first fill was not replayed
                await ws2.close()

    run(main)


def test_ccxt_sees_a_dropped_stream_and_resubscribes() -> None:
    async def main() -> None:
        async with running() as fake:
            ex = client(fake, "spot")
            await ex.load_markets()
            stream = Collector(lambda: ex.watch_orders(SYM))
            await settle(0.2)
            fake.drop_user_streams()
            await settle(0.2)
            assert stream.errors, "ccxt noticed the closed stream"
            await settle(0.2)
            await ex.create_order(SYM, "limit", "buy", 0.01, 40000)
            assert (await stream.wait_for(1))[0]["x"] == "NEW"
            await stream.stop()
            await close(ex)

    run(main)


def test_half_open_stream_answers_pings_but_withholds_and_loses_events() -> None:
    async def main() -> None:
        async with running() as fake:
            order = fake.venue.place_external(
                "spot",
                "alice",
                {
                    "symbol": "BTCUSDT",
                    "side": "BUY",
                    "type": "LIMIT",
                    "price": "40000",
                    "quantity": "0.01",
                },
            )
            async with aiohttp.ClientSession() as http:
                ws = await ws_api_user_stream(http, fake)
                fake.faults.half_open = True
                fake.venue.fill(order, "0.004")
                await ws.send_json({"id": "p", "method": "ping", "params": {}})
                answers = await drain(ws)
                assert [a.get("id") for a in answers] == ["p"] and answers[0]["status"] == 200
                fake.faults.half_open = False
                fake.venue.fill(order, "0.006")
                assert [e["l"] for e in _trades(await drain(ws))] == ["0.00600000"]
                await ws.close()

    run(main)


def test_each_execution_event_can_arrive_twice() -> None:
    async def main() -> None:
        async with running(faults=Faults(duplicate_events=True)) as fake:
            order = fake.venue.place_external(
                "spot",
                "alice",
                {
                    "symbol": "BTCUSDT",
                    "side": "BUY",
                    "type": "LIMIT",
                    "price": "40000",
                    "quantity": "0.01",
                },
            )
            async with aiohttp.ClientSession() as http:
                ws = await ws_api_user_stream(http, fake)
                fake.venue.fill(order, "0.01")
                trades = _trades(await drain(ws))
                assert len(trades) == 2 and trades[0] == trades[1]
                await ws.close()

    run(main)


def test_five_partial_fills_within_one_millisecond() -> None:
    async def main() -> None:
        async with running() as fake:
            ex = client(fake, "spot")
            await ex.load_markets()
            o = await ex.create_order(SYM, "limit", "buy", 0.05, 40000, {"clientOrderId": "five"})
            stream = Collector(lambda: ex.watch_my_trades(SYM))
            async with aiohttp.ClientSession() as http:
                ws = await ws_api_user_stream(http, fake)
                await settle(0.2)
                order = fake.venue.order("spot", int(o["id"]))
                assert order is not None
                fake.venue.fill_in_parts(order, ["0.01"] * 5)
                raw = _trades(await drain(ws))
                assert len({e["T"] for e in raw}) == 1 and len({e["t"] for e in raw}) == 5
                assert [e["X"] for e in raw] == ["PARTIALLY_FILLED"] * 4 + ["FILLED"]
                trades = await stream.wait_for(5)
                assert len({t["t"] for t in trades}) == 5
                await ws.close()
            await stream.stop()
            await close(ex)

    run(main)


def test_a_cancel_that_races_a_fill_answers_2011_and_the_order_is_filled() -> None:
    async def main() -> None:
        async with running(faults=Faults(cancel_races_fill=1)) as fake:
            ex = client(fake, "usdm")
            await ex.load_markets()
            o = await ex.create_order(PERP, "limit", "buy", 0.01, 40000)
            with pytest.raises(ccxt.BaseError):
                await ex.cancel_order(o["id"], PERP)
            assert ex.last_http_response == '{"code":-2011,"msg":"Unknown order sent."}'
            assert (await ex.fetch_order(o["id"], PERP))["info"]["status"] == "FILLED"
            assert len(await ex.fetch_my_trades(PERP)) == 1
            await close(ex)

    run(main)


def test_a_position_older_than_the_trade_history_window() -> None:
    async def main() -> None:
        week = 7 * 24 * 3600 * 1000
        async with running(faults=Faults(trade_history_ms=week)) as fake:
            fake.venue.seed_old_position(
                "alice", "BTCUSDT", "0.5", "30000", age_ms=30 * 24 * 3600 * 1000
            )
            fake.venue.set_mark_price("BTCUSDT", "50000")
            ex = client(fake, "usdm")
            await ex.load_markets()
            assert await ex.fetch_my_trades(PERP) == []
            [position] = await ex.fetch_positions([PERP])
            assert (
                position["info"]["positionAmt"] == "0.5"
                and Decimal(position["info"]["entryPrice"]) == 30000
            )
            fake.faults.trade_history_ms = None
            assert len(await ex.fetch_my_trades(PERP)) == 1
            await close(ex)

    run(main)


def test_an_order_from_the_web_ui_carries_a_client_id_atlas_did_not_make() -> None:
    async def main() -> None:
        async with running() as fake:
            ex = client(fake, "usdm")
            await ex.load_markets()
            stream = Collector(lambda: ex.watch_orders(PERP))
            await settle(0.2)
            fake.venue.place_external(
                "usdm",
                "alice",
                {
                    "symbol": "BTCUSDT",
                    "side": "SELL",
                    "type": "LIMIT",
                    "price": "60000",
                    "quantity": "0.01",
                },
            )
            [event] = await stream.wait_for(1)
            assert event["x"] == "NEW" and event["c"].startswith("web_")
            [open_order] = await ex.fetch_open_orders(PERP)
            assert open_order["clientOrderId"] == event["c"]
            await stream.stop()
            await close(ex)

    run(main)


def test_clock_offset_moves_server_time() -> None:
    async def main() -> None:
        async with running(faults=Faults(clock_offset_ms=2000)) as fake:
            ex = client(fake, "usdm")
            local = ex.milliseconds()
            assert 1500 < await ex.fetch_time() - local < 2600
            fake.faults.clock_offset_ms = -6000
            assert -6600 < await ex.fetch_time() - ex.milliseconds() < -5500
            with pytest.raises(ccxt.BaseError):
                await ex.fetch_balance()
            assert '"code":-1021' in ex.last_http_response
            await close(ex)

    run(main)


def test_listen_key_expiry_reaches_ccxt_watch_orders() -> None:
    async def main() -> None:
        async with running() as fake:
            ex = client(fake, "usdm")
            await ex.load_markets()
            stream = Collector(lambda: ex.watch_orders(PERP))
            await settle(0.2)
            fake.expire_listen_key("alice")
            await settle(0.2)
            assert stream.errors, "the listenKey stream closed under ccxt"
            assert fake.venue.accounts["alice"].listen_key is None
            await stream.stop()
            await close(ex)
            await asyncio.sleep(0)

    run(main)


# ---------------------------------------------------------------- cancels and amends lost
_CHANGE_KNOBS: dict[str, tuple[bool, type[Exception] | None]] = {
    # knob -> (the venue applied it, what ccxt raises). On a dropped connection aiohttp sends
    # an idempotent request (DELETE, PUT) once more on a new connection, so what ccxt raises
    # is the venue's answer to the repeat (the change is already applied): not checked here.
    "delay": (True, ccxt.RequestTimeout),
    "drop": (True, None),
    "fail_after": (True, ccxt.BaseError),
    "fail_before": (False, ccxt.BaseError),
}


async def _lost(raised: type[Exception] | None, call: Any) -> None:
    try:
        await call
    except ccxt.BaseError as exc:
        assert raised is None or isinstance(exc, raised), exc
    else:
        assert raised is None, f"no {raised.__name__}"


def _change_faults(kind: str, knob: str) -> Faults:
    name = {
        "delay": f"delay_{kind}",
        "drop": f"drop_{kind}",
        "fail_after": f"fail_{kind}_after_commit",
        "fail_before": f"fail_{kind}_before_commit",
    }[knob]
    return Faults(delay_s=0.6, **{name: 1})


@pytest.mark.parametrize("market", ["spot", "usdm"])
@pytest.mark.parametrize("knob", list(_CHANGE_KNOBS))
def test_a_cancel_whose_reply_is_lost_is_applied_or_not_as_the_knob_says(
    market: str, knob: str
) -> None:
    async def main() -> None:
        applied, raised = _CHANGE_KNOBS[knob]
        async with running(faults=_change_faults("cancels", knob)) as fake:
            ex = client(fake, market)
            symbol = SYM if market == "spot" else PERP
            await ex.load_markets()
            o = await ex.create_order(symbol, "limit", "buy", 0.01, 40000, {"clientOrderId": "c1"})
            ex.timeout = 250
            await _lost(raised, ex.cancel_order(o["id"], symbol))
            assert fake.faults == Faults(delay_s=0.6)  # the knob fired, once
            ex.timeout = 1500
            if knob.startswith("fail"):
                assert '"code":-1007' in ex.last_http_response
            status = (await ex.fetch_order(o["id"], symbol))["info"]["status"]
            assert status == ("CANCELED" if applied else "NEW")
            # the next cancel goes through (the knob fired once)
            if not applied:
                assert (await ex.cancel_order(o["id"], symbol))["info"]["status"] == "CANCELED"
            await close(ex)

    run(main)


async def _amend(ex: Any, market: str, qty: str) -> Any:
    if market == "spot":
        params = {"symbol": "BTCUSDT", "origClientOrderId": "a1", "newQty": qty}
        return await ex.request("order/amend/keepPriority", ["private"], "PUT", params)
    return await ex.fapiPrivatePutOrder(
        {
            "symbol": "BTCUSDT",
            "origClientOrderId": "a1",
            "side": "BUY",
            "quantity": qty,
            "price": "40000",
        }
    )


@pytest.mark.parametrize("market", ["spot", "usdm"])
@pytest.mark.parametrize("knob", list(_CHANGE_KNOBS))
def test_an_amend_whose_reply_is_lost_is_applied_or_not_as_the_knob_says(
    market: str, knob: str
) -> None:
    async def main() -> None:
        applied, raised = _CHANGE_KNOBS[knob]
        async with running(faults=_change_faults("amends", knob)) as fake:
            ex = client(fake, market)
            symbol = SYM if market == "spot" else PERP
            await ex.load_markets()
            o = await ex.create_order(symbol, "limit", "buy", 0.02, 40000, {"clientOrderId": "a1"})
            ex.timeout = 250
            await _lost(raised, _amend(ex, market, "0.01"))
            assert fake.faults == Faults(delay_s=0.6)  # the knob fired, once
            if knob == "drop":  # aiohttp's repeat of the PUT is refused: already applied
                code = '"code":-2038' if market == "spot" else '"code":-5027'
                assert code in ex.last_http_response
            ex.timeout = 1500
            found = await ex.fetch_order(o["id"], symbol)
            assert Decimal(found["info"]["origQty"]) == Decimal("0.01" if applied else "0.02")
            assert found["info"]["status"] == "NEW" and found["id"] == o["id"]
            await close(ex)

    run(main)


@pytest.mark.parametrize("market", ["spot", "usdm"])
def test_a_fill_right_after_the_user_data_subscription_is_acknowledged(market: str) -> None:
    """``fill_on_subscribe``: the order fills after the subscription's answer (spot) or the
    listenKey stream's connect (futures), so the new stream carries it, once."""

    async def main() -> None:
        async with running() as fake:
            ex = client(fake, market)
            symbol = SYM if market == "spot" else PERP
            await ex.load_markets()
            o = await ex.create_order(symbol, "limit", "buy", 0.01, 40000, {"clientOrderId": "f1"})
            fake.faults.fill_on_subscribe = ["f1", "nobody"]
            async with aiohttp.ClientSession() as http:
                if market == "spot":
                    ws = await http.ws_connect(f"{fake.ws}/ws-api/v3")
                    answer = await ws_api_subscribe(ws)
                    assert answer["status"] == 200  # the answer comes first, then the fill
                    trades = _trades(await drain(ws))
                    assert [(e["c"], e["X"]) for e in trades] == [("f1", "FILLED")]
                else:
                    headers = {"X-MBX-APIKEY": ex.apiKey}
                    async with http.post(f"{fake.http}/fapi/v1/listenKey", headers=headers) as r:
                        key = (await r.json())["listenKey"]
                    ws = await http.ws_connect(f"{fake.ws}/fstream/ws/{key}")
                    events = await drain(ws)
                    trades = [e["o"] for e in events if e.get("e") == "ORDER_TRADE_UPDATE"]
                    assert [(t["c"], t["x"], t["X"]) for t in trades] == [("f1", "TRADE", "FILLED")]
                await ws.close()
            assert fake.faults.fill_on_subscribe == ["nobody"]  # fired for f1, once
            assert (await ex.fetch_order(o["id"], symbol))["info"]["status"] == "FILLED"
            await close(ex)

    run(main)
