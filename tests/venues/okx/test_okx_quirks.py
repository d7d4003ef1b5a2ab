"""OKX v5's quirks, each through the real adapter (real ccxt client, real sockets) against the
loopback fake, which checks OKX's base64 HMAC-SHA256 signature and passphrase for real."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from atlas_oms.core.ports import VenueQueryFailed
from atlas_oms.fakes.okx import Account, FakeOkx, sign
from atlas_oms.fakes.okx.venue import Fill, Position
from atlas_oms.model.enums import InstrumentKind, Side
from atlas_oms.model.venue import (
    Acknowledged,
    CancelOrder,
    PlaceOrder,
    Refused,
    Unknown,
    VenueOrderState,
)
from atlas_oms.venues.okx import OkxAdapter
from atlas_oms.venues.okx.client import venue_code
from atlas_oms.venues.okx.parse import inst_id_of, unified_symbol

D = Decimal
KEY, SECRET, PASS = "okx-key-1", "OKXSECRET1", "Pass-1"
PREFIX = "atk3f9q2x"


def decode(cid: str) -> int | None:
    return int(cid[len(PREFIX) :]) if cid.startswith(PREFIX) else None


def run(test: Callable[[FakeOkx, OkxAdapter], Awaitable[Any]], **adapter_kw: Any) -> Any:
    async def main() -> Any:
        acct = Account(
            name="acc",
            api_key=KEY,
            secret=SECRET,
            passphrase=PASS,
            cash={"USDT": D("100000"), "BTC": D("2")},
        )
        fake = FakeOkx([acct])
        await fake.start()
        kw: dict[str, Any] = {"api_key": KEY, "secret": SECRET, "passphrase": PASS}
        kw.update(adapter_kw)
        adapter = OkxAdapter(
            account_id="acc",
            decode_client_id=decode,
            rest_url=fake.http,
            ws_url=fake.ws,
            timeout_ms=800,
            **kw,
        )
        try:
            await adapter.start()
            return await test(fake, adapter)
        finally:
            await adapter.close()
            await fake.stop()

    return asyncio.run(asyncio.wait_for(main(), 10))


def place(n: int, symbol: str = "BTC/USDT", qty: str = "0.01", px: str = "50000") -> PlaceOrder:
    return PlaceOrder(
        order_id=n,
        client_order_id=f"{PREFIX}{n}",
        symbol=symbol,
        side=Side.BUY,
        qty=D(qty),
        price=D(px),
    )


# ---------------------------------------------------------------- ids and symbols
def test_the_client_order_id_is_okx_clordid_with_no_broker_tag() -> None:
    async def t(fake: FakeOkx, a: OkxAdapter) -> None:
        out = await a.place(place(7))
        assert isinstance(out, Acknowledged) and out.venue_order_id
        (o,) = fake.venue.orders.values()
        assert (o.cl_ord_id, o.ord_id) == (f"{PREFIX}7", out.venue_order_id)
        found = await a.order("BTC/USDT", client_order_id=f"{PREFIX}7")
        assert found is not None and found.order_id == 7 and found.state is VenueOrderState.NEW
        done = await a.cancel(
            CancelOrder(order_id=7, client_order_id=f"{PREFIX}7", symbol="BTC/USDT")
        )
        assert isinstance(done, Acknowledged) and o.state == "canceled"

    run(t)


def test_instrument_ids_map_to_unified_symbols_both_ways() -> None:
    assert unified_symbol("BTC-USDT") == "BTC/USDT"
    assert unified_symbol("BTC-USDT-SWAP") == "BTC/USDT:USDT"
    assert inst_id_of("BTC/USDT") == "BTC-USDT"
    assert inst_id_of("BTC/USDT:USDT") == "BTC-USDT-SWAP"


def test_a_swap_is_listed_in_base_units_and_sent_in_contracts() -> None:
    """``BTC-USDT-SWAP``: ``ctVal`` 0.01 BTC, ``lotSz`` 0.01 contracts: Atlas's lot is
    0.0001 BTC, and 0.01 BTC goes out as ``sz`` 1 (one contract)."""

    async def t(fake: FakeOkx, a: OkxAdapter) -> None:
        listed = {vi.venue_symbol: vi.instrument for vi in await a.instruments()}
        swap = listed["BTC-USDT-SWAP"]
        assert (swap.symbol, swap.kind, swap.settle) == (
            "BTC/USDT:USDT",
            InstrumentKind.PERPETUAL,
            "USDT",
        )
        assert (swap.lot_size, swap.min_qty) == (D("0.0001"), D("0.0001"))
        assert listed["BTC-USDT"].symbol == "BTC/USDT"
        assert isinstance(await a.place(place(3, "BTC/USDT:USDT")), Acknowledged)
        (o,) = fake.venue.orders.values()
        assert (o.sz, o.pos_side) == (D("1"), "net")
        (pending,) = await a.open_orders()
        assert (pending.symbol, pending.qty) == ("BTC/USDT:USDT", D("0.01"))

    run(t)


# ---------------------------------------------------------------- the envelope and sCode
def test_a_duplicate_clordid_51016_is_a_duplicate_not_a_refusal() -> None:
    async def t(fake: FakeOkx, a: OkxAdapter) -> None:
        assert isinstance(await a.place(place(5)), Acknowledged)
        again = await a.place(place(5))
        assert isinstance(again, Unknown)
        assert (again.reason, again.code) == ("DUPLICATE", "51016")
        assert len(fake.venue.orders) == 1

    run(t)


def test_a_per_order_scode_in_a_code_1_envelope_is_the_refusal() -> None:
    """HTTP 200 ``{"code":"1","data":[{"sCode":"51008",...}]}``: the item's code decides."""
    envelope = {
        "code": "1",
        "msg": "All operations failed",
        "data": [{"sCode": "51008", "sMsg": "Insufficient balance"}],
    }
    assert venue_code(envelope) == ("51008", "Insufficient balance")
    assert venue_code({"code": "0", "msg": "", "data": [{"sCode": "0", "sMsg": ""}]}) == ("0", "")

    async def t(fake: FakeOkx, a: OkxAdapter) -> None:
        out = await a.place(place(1, qty="100"))  # 100 BTC at 50000: far more than the USDT
        assert isinstance(out, Refused)
        assert (out.reason, out.code) == ("INSUFFICIENT_FUNDS", "51008")
        gone = await a.cancel(
            CancelOrder(order_id=9, client_order_id=f"{PREFIX}9", symbol="BTC/USDT")
        )
        assert isinstance(gone, Refused) and (gone.reason, gone.code) == ("UNKNOWN_ORDER", "51400")
        assert await a.order("BTC/USDT", client_order_id=f"{PREFIX}9") is None  # 51603

    run(t)


def test_a_busy_backend_is_unknown_and_a_query_of_it_a_server_error() -> None:
    async def t(fake: FakeOkx, a: OkxAdapter) -> None:
        fake.faults.fail_after_commit = 1
        out = await a.place(place(2))
        assert isinstance(out, Unknown) and (out.reason, out.code) == ("SERVER_ERROR", "50013")
        found = await a.order("BTC/USDT", client_order_id=f"{PREFIX}2")
        assert found is not None and found.state is VenueOrderState.NEW

    run(t)


# ---------------------------------------------------------------- signing
def test_a_wrong_secret_or_passphrase_is_refused_by_the_fake() -> None:
    """The fake recomputes OKX's signature: a wrong secret is ``50113``, a wrong passphrase
    ``50105``; both AUTH (a query raises, a place is refused)."""

    async def main() -> None:
        acct = Account(name="acc", api_key=KEY, secret=SECRET, passphrase=PASS, cash={"USDT": D(1)})
        fake = FakeOkx([acct])
        await fake.start()
        try:
            for secret, passphrase, code in (("WRONG", PASS, "50113"), (SECRET, "WRONG", "50105")):
                a = OkxAdapter(
                    account_id="acc",
                    api_key=KEY,
                    secret=secret,
                    passphrase=passphrase,
                    decode_client_id=decode,
                    rest_url=fake.http,
                    ws_url=fake.ws,
                    timeout_ms=800,
                )
                try:
                    with pytest.raises(VenueQueryFailed) as e:
                        await a.balances()
                    assert (e.value.reason, e.value.code) == ("AUTH", code)
                    out = await a.place(place(1))
                    assert isinstance(out, Refused) and (out.reason, out.code) == ("AUTH", code)
                finally:
                    await a.close()
            assert not fake.venue.orders
        finally:
            await fake.stop()

    asyncio.run(asyncio.wait_for(main(), 10))


def test_the_fake_checks_the_signature_over_timestamp_method_path_and_body() -> None:
    async def main() -> None:
        acct = Account(name="acc", api_key=KEY, secret=SECRET, passphrase=PASS, cash={"USDT": D(1)})
        fake = FakeOkx([acct])
        await fake.start()
        try:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
            path = "/api/v5/account/balance?ccy=USDT"
            good = sign(SECRET, stamp + "GET" + path)
            async with aiohttp.ClientSession() as http:
                for signature, code in (
                    (good, "0"),
                    (sign(SECRET, stamp + "GET" + "/api/v5/account/balance"), "50113"),
                ):
                    headers = {
                        "OK-ACCESS-KEY": KEY,
                        "OK-ACCESS-SIGN": signature,
                        "OK-ACCESS-TIMESTAMP": stamp,
                        "OK-ACCESS-PASSPHRASE": PASS,
                    }
                    async with http.get(fake.http + path, headers=headers) as r:
                        assert json.loads(await r.text())["code"] == code
                async with http.ws_connect(fake.ws + "/private") as ws:
                    ts = str(int(time.time()))
                    await ws.send_str(
                        json.dumps(
                            {
                                "op": "login",
                                "args": [
                                    {
                                        "apiKey": KEY,
                                        "passphrase": PASS,
                                        "timestamp": ts,
                                        "sign": sign("bad", ts + "GET/users/self/verify"),
                                    }
                                ],
                            }
                        )
                    )
                    assert json.loads(await ws.receive_str())["code"] == "60009"
                    await ws.send_str(
                        json.dumps(
                            {
                                "op": "login",
                                "args": [
                                    {
                                        "apiKey": KEY,
                                        "passphrase": PASS,
                                        "timestamp": ts,
                                        "sign": sign(SECRET, ts + "GET/users/self/verify"),
                                    }
                                ],
                            }
                        )
                    )
                    assert json.loads(await ws.receive_str()) == {
                        "event": "login",
                        "code": "0",
                        "msg": "",
                        "connId": "c1",
                    }
        finally:
            await fake.stop()

    asyncio.run(asyncio.wait_for(main(), 10))


def test_a_timestamp_more_than_30_s_off_is_50102_clock_skew() -> None:
    async def t(fake: FakeOkx, a: OkxAdapter) -> None:
        fake.venue.clock_offset_ms = 40_000
        out = await a.place(place(1))
        assert isinstance(out, Refused) and (out.reason, out.code) == ("CLOCK_SKEW", "50102")
        a.set_clock_offset(40_000 * 1_000_000)
        assert isinstance(await a.place(place(1)), Acknowledged)

    run(t)


# ---------------------------------------------------------------- the 3-day fills window
def test_fills_older_than_three_days_are_gone_but_the_position_report_keeps_them() -> None:
    async def t(fake: FakeOkx, a: OkxAdapter) -> None:
        assert isinstance(await a.place(place(4, "BTC/USDT:USDT")), Acknowledged)
        (o,) = fake.venue.orders.values()
        fake.venue.fill(o, D("1"))
        acct = fake.venue.accounts["acc"]
        four_days = 4 * 24 * 3600 * 1000
        old: Fill = acct.fills[0]
        old.ts -= four_days
        acct.positions[("BTC-USDT-SWAP", "net")] = Position(D("1"), D("50000"), old.ts)
        since = (int(time.time() * 1000) - 5 * 24 * 3600 * 1000) * 1_000_000
        assert await a.fills(since) == []
        (pos,) = await a.positions()
        assert (pos.symbol, pos.qty, pos.entry_price) == ("BTC/USDT:USDT", D("0.01"), D("50000"))

    run(t)


# ---------------------------------------------------------------- rate limits
def test_50011_too_many_requests_is_rate_limited_for_reads_and_unknown_for_writes() -> None:
    async def t(fake: FakeOkx, a: OkxAdapter) -> None:
        fake.faults.low_limit = 1
        fake.faults.window_s = 5.0
        await a.balances()
        with pytest.raises(VenueQueryFailed) as e:
            await a.balances()
        assert (e.value.reason, e.value.code) == ("RATE_LIMITED", "50011")
        assert isinstance(await a.place(place(1)), Acknowledged)
        out = await a.place(place(2))
        assert isinstance(out, Unknown) and (out.reason, out.code) == ("RATE_LIMITED", "50011")
        assert fake.throttled == 2

    run(t)


# ---------------------------------------------------------------- public market data
def test_prices_come_from_the_public_tickers_channel_in_exact_decimals() -> None:
    async def t(fake: FakeOkx, a: OkxAdapter) -> None:
        fake.venue.last["BTC-USDT-SWAP"] = D("61234.5")
        stream = a.prices(["BTC/USDT:USDT"])
        first = await asyncio.wait_for(anext(stream), 3)
        assert (first.symbol, first.last) == ("BTC/USDT:USDT", D("61234.5"))
        assert (first.bid, first.ask) == (D("61234.4"), D("61234.6"))
        fake.venue.house_quote("BTC-USDT-SWAP", "sell", D("61300"), D("1"))
        fake.push_tickers("BTC-USDT-SWAP")
        second = await asyncio.wait_for(anext(stream), 3)
        assert second.ask == D("61300")
        await stream.aclose()

    run(t)


def test_a_fill_rides_on_the_orders_push_with_okx_fee_sign_and_contracts() -> None:
    """An ``orders`` push with ``tradeId``: a fill of ``fillSz`` contracts × ``ctVal``; OKX's
    ``fillFee`` is negative when charged, Atlas's fee positive; ``execType`` M is maker."""
    from atlas_oms.model.enums import LiquiditySide, PositionSide
    from atlas_oms.venues.okx.parse import Context, parse_order_push

    ctx = Context(
        "okx", "acc", decode, {"BTC-USDT-SWAP": "BTC/USDT:USDT"}, {"BTC-USDT-SWAP": D("0.01")}
    )
    row = {
        "instType": "SWAP",
        "instId": "BTC-USDT-SWAP",
        "ordId": "7001",
        "clOrdId": f"{PREFIX}12",
        "px": "50000",
        "sz": "3",
        "ordType": "limit",
        "side": "buy",
        "posSide": "net",
        "accFillSz": "2",
        "fillPx": "50000",
        "tradeId": "9001",
        "fillSz": "2",
        "fillTime": "1765000000123",
        "avgPx": "50000",
        "state": "partially_filled",
        "execType": "M",
        "fillFee": "-0.2",
        "fillFeeCcy": "USDT",
        "uTime": "1765000000123",
        "cTime": "1765000000000",
    }
    update = parse_order_push(row, ctx)
    assert update.exec_type == "TRADE" and update.order.order_id == 12
    assert (update.order.qty, update.order.cum_qty) == (D("0.03"), D("0.02"))
    assert update.order.state is VenueOrderState.PARTIALLY_FILLED
    fill = update.fill
    assert fill is not None
    assert (fill.qty, fill.px, fill.fee, fill.fee_asset) == (
        D("0.02"),
        D("50000"),
        D("0.2"),
        "USDT",
    )
    assert (fill.liquidity_side, fill.position_side, fill.trade_id) == (
        LiquiditySide.MAKER,
        PositionSide.BOTH,
        "9001",
    )
    assert fill.ts == 1765000000123 * 1_000_000


def test_a_ticker_carries_the_last_trades_size_in_base_units_once() -> None:
    """``lastSz`` counts contracts (× ``ctVal``); a push that repeats the same last trade (only
    the book moved) carries no volume, so the rolling VWAP counts each trade once."""
    from atlas_oms.venues.okx.parse import Context, new_trade, parse_ticker

    ctx = Context(
        "okx", "acc", decode, {"BTC-USDT-SWAP": "BTC/USDT:USDT"}, {"BTC-USDT-SWAP": D("0.01")}
    )
    row = {"instId": "BTC-USDT-SWAP", "last": "61234.5", "lastSz": "3", "bidPx": "61234.4"}
    tick = parse_ticker(row, ctx)
    assert tick is not None and tick.last_qty == D("0.03") and tick.last == D("61234.5")
    seen: dict = {}
    assert new_trade(tick, seen).last_qty == D("0.03")
    again = parse_ticker({**row, "bidPx": "61234.3"}, ctx)
    assert again is not None and new_trade(again, seen).last_qty is None
    nxt = parse_ticker({**row, "last": "61235", "lastSz": "0.5"}, ctx)
    assert nxt is not None and new_trade(nxt, seen).last_qty == D("0.005")
    spot = parse_ticker({"instId": "ETH-USDT", "last": "3000", "lastSz": "0"}, ctx)
    assert spot is not None and spot.last_qty is None  # no size: the TWAP only
