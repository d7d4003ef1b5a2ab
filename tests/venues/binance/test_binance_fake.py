"""The Binance adapters end to end against the fake Binance (atlas_oms.fakes.binance) on
127.0.0.1: real ccxt clients, real sockets, real HMAC signatures and timestamps."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from decimal import Decimal
from typing import Any

import pytest

from atlas_oms.fakes.binance import AccountConfig, FakeBinance, Limits
from atlas_oms.model.enums import LiquiditySide, PositionSide, Side, TimeInForce
from atlas_oms.model.venue import (
    Acknowledged,
    AmendOrder,
    BalanceUpdate,
    CancelOrder,
    OrderUpdate,
    PlaceOrder,
    PositionUpdate,
    Refused,
    StreamGap,
    Unknown,
    VenueFact,
    VenueOrderState,
)
from atlas_oms.venues.binance import BinanceEndpoints, BinanceSpotAdapter, BinanceUsdmAdapter
from atlas_oms.venues.binance.adapter import BinanceAdapter

D = Decimal
KEY = "alicekey0000000000000000000000000000000000000000000000000000001"
SECRET = "alicesecret000000000000000000000000000000000000000000000000001"
KEY_B = "bobkey000000000000000000000000000000000000000000000000000000002"
SECRET_B = "bobsecret0000000000000000000000000000000000000000000000000002"
PREFIX = "atk3f9q2x"
SPOT, USDM = "spot", "usdm"


def decode(client_order_id: str) -> int | None:
    tail = client_order_id[len(PREFIX) :]
    return int(tail) if client_order_id.startswith(PREFIX) and tail.isdigit() else None


def cid(n: int) -> str:
    return f"{PREFIX}{n}"


def accounts() -> list[AccountConfig]:
    return [
        AccountConfig(
            name="alice",
            api_key=KEY,
            secret=SECRET,
            spot={"USDT": D("100000"), "BTC": D("2"), "BNB": D("1")},
            futures={"USDT": D("100000")},
        ),
        AccountConfig(
            name="bob",
            api_key=KEY_B,
            secret=SECRET_B,
            spot={"USDT": D("1000")},
            futures={"USDT": D("100000")},
            hedge_mode=True,
        ),
    ]


def endpoints(fake: FakeBinance, market: str) -> BinanceEndpoints:
    if market == SPOT:
        return BinanceEndpoints(fake.http, f"{fake.ws}/ws", f"{fake.ws}/ws-api/v3")
    return BinanceEndpoints(fake.http, f"{fake.ws}/fstream/ws")


def make(fake: FakeBinance, market: str, key: str = KEY, secret: str = SECRET, **kw: Any) -> Any:
    cls = BinanceSpotAdapter if market == SPOT else BinanceUsdmAdapter
    kw.setdefault("timeout_ms", 1500)
    kw.setdefault("reconnect_min_s", 0.05)
    return cls(
        account_id="acc-1",
        api_key=key,
        secret=secret,
        decode_client_id=decode,
        endpoints=endpoints(fake, market),
        **kw,
    )


@asynccontextmanager
async def world(market: str, **kw: Any) -> AsyncIterator[tuple[FakeBinance, Any]]:
    fake = FakeBinance(accounts(), limits=kw.pop("limits", None))
    await fake.start()
    adapter = make(fake, market, **kw)
    try:
        await adapter.start()
        yield fake, adapter
    finally:
        await adapter.close()
        await fake.stop()


def run(main: Callable[[], Awaitable[None]], timeout: float = 10) -> None:
    asyncio.run(asyncio.wait_for(main(), timeout))


class Facts:
    """Runs ``adapter.facts()`` in the background and keeps what it yields."""

    def __init__(self, adapter: BinanceAdapter) -> None:
        self.items: list[VenueFact] = []
        self._task = asyncio.ensure_future(self._run(adapter))

    async def _run(self, adapter: BinanceAdapter) -> None:
        async for fact in adapter.facts():
            self.items.append(fact)

    async def wait(
        self, pred: Callable[[VenueFact], bool], count: int = 1, timeout: float = 3.0
    ) -> list[VenueFact]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            found = [f for f in self.items if pred(f)]
            if len(found) >= count:
                return found
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{len(found)} of {count} facts arrived: {self.items}")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self._task.cancel()
        with suppress(asyncio.CancelledError, Exception):
            await self._task


def gap(reason: str) -> Callable[[VenueFact], bool]:
    return lambda f: isinstance(f, StreamGap) and f.reason == reason


def update(client_order_id: str, exec_type: str) -> Callable[[VenueFact], bool]:
    return lambda f: (
        isinstance(f, OrderUpdate)
        and f.order.client_order_id == client_order_id
        and f.exec_type == exec_type
    )


def limit(n: int, symbol: str, side: Side, qty: str, price: str, **kw: Any) -> PlaceOrder:
    return PlaceOrder(
        order_id=n,
        client_order_id=cid(n),
        symbol=symbol,
        side=side,
        qty=D(qty),
        price=D(price),
        **kw,
    )


def fake_order(fake: FakeBinance, market: str, client_order_id: str) -> Any:
    return next(
        o
        for o in fake.venue.orders.values()
        if o.market == market and o.client_id == client_order_id
    )


# --------------------------------------------------------------------------- spot
def test_spot_place_fill_and_cancel_through_the_stream() -> None:
    async def main() -> None:
        async with world(SPOT) as (fake, adapter):
            facts = Facts(adapter)
            await facts.wait(gap("STARTED"))
            placed = await adapter.place(limit(1, "BTC/USDT", Side.BUY, "0.01", "50000"))
            assert isinstance(placed, Acknowledged), placed
            assert placed.order is not None and placed.order.state is VenueOrderState.NEW
            assert placed.order.order_id == 1 and placed.order.symbol == "BTC/USDT"
            (accepted,) = await facts.wait(update(cid(1), "NEW"))
            assert accepted.order.venue_order_id == placed.venue_order_id
            assert facts.items.index(next(f for f in facts.items if isinstance(f, StreamGap))) == 0

            fake.venue.fill(fake_order(fake, SPOT, cid(1)), "0.004")
            (trade,) = await facts.wait(update(cid(1), "TRADE"))
            assert trade.fill is not None and trade.fill.qty == D("0.004")
            assert trade.fill.px == D("50000") and trade.fill.liquidity_side is LiquiditySide.MAKER
            assert trade.order.state is VenueOrderState.PARTIALLY_FILLED
            assert trade.order.cum_qty == D("0.004") and trade.fill.order_id == 1
            await facts.wait(lambda f: isinstance(f, BalanceUpdate))

            canceled = await adapter.cancel(
                CancelOrder(order_id=1, client_order_id=cid(1), symbol="BTC/USDT")
            )
            assert isinstance(canceled, Acknowledged), canceled
            assert canceled.order is not None and canceled.order.state is VenueOrderState.CANCELED
            assert canceled.order.client_order_id == cid(1) and canceled.order.cum_qty == D("0.004")
            (stream_cancel,) = await facts.wait(update(cid(1), "CANCELED"))
            assert stream_cancel.order.order_id == 1

            again = await adapter.cancel(
                CancelOrder(order_id=1, client_order_id=cid(1), symbol="BTC/USDT")
            )
            assert isinstance(again, Refused) and again.reason == "UNKNOWN_ORDER", again
            assert again.code == "-2011"
            await facts.stop()

    run(main)


def test_spot_market_order_answer_carries_fills_and_queries_agree() -> None:
    async def main() -> None:
        async with world(SPOT) as (fake, adapter):
            fake.venue.house_quote(SPOT, "BTCUSDT", "SELL", "60000", "1")
            market = PlaceOrder(
                order_id=2, client_order_id=cid(2), symbol="BTC/USDT", side=Side.BUY, qty=D("0.01")
            )
            done = await adapter.place(market)
            assert isinstance(done, Acknowledged), done
            assert done.order is not None and done.order.state is VenueOrderState.FILLED
            assert [(f.qty, f.px, f.liquidity_side) for f in done.fills] == [
                (D("0.01"), D("60000"), LiquiditySide.TAKER)
            ]
            assert done.fills[0].fee > 0 and done.fills[0].fee_asset

            queried = await adapter.order("BTC/USDT", client_order_id=cid(2))
            assert queried is not None and queried.cum_qty == D("0.01") and queried.order_id == 2
            assert await adapter.order("BTC/USDT", client_order_id=cid(999)) is None

            fills = await adapter.fills(0, "BTC/USDT")
            assert [(f.trade_id, f.order_id, f.client_order_id) for f in fills] == [
                (done.fills[0].trade_id, 2, cid(2))
            ]
            assert await adapter.fills(0) == fills  # every symbol traded in this session
            balances = {b.asset: b for b in await adapter.balances()}
            assert balances["BTC"].total > D("2")
            assert await adapter.open_orders() == []
            assert await adapter.positions() == []
            assert (
                abs(await adapter.server_time() - fake.venue.now_ms() * 1_000_000) < 5_000_000_000
            )

    run(main)


def test_spot_instruments_come_from_exchange_info() -> None:
    async def main() -> None:
        async with world(SPOT) as (_, adapter):
            found = {vi.instrument.symbol: vi for vi in await adapter.instruments()}
            btc = found["BTC/USDT"]
            assert btc.venue_symbol == "BTCUSDT" and btc.instrument.venue == "binance"
            assert (btc.instrument.tick_size, btc.instrument.lot_size) == (D("0.01"), D("0.00001"))
            assert btc.instrument.min_notional == D("5") and btc.instrument.tradable
            assert "LIMIT" in btc.order_types and "MARKET" in btc.order_types

    run(main)


def test_spot_amend_reduces_quantity_and_refuses_a_price_change() -> None:
    async def main() -> None:
        async with world(SPOT) as (_, adapter):
            assert isinstance(
                await adapter.place(limit(3, "BTC/USDT", Side.BUY, "0.02", "40000")), Acknowledged
            )
            amend = AmendOrder(
                order_id=3,
                client_order_id=cid(3),
                symbol="BTC/USDT",
                side=Side.BUY,
                qty=D("0.01"),
                leaves_qty=D("0.01"),
            )
            done = await adapter.amend(amend)
            assert isinstance(done, Acknowledged), done
            assert (
                done.order is not None and done.order.qty == D("0.01") and done.order.order_id == 3
            )
            refused = await adapter.amend(
                AmendOrder(
                    order_id=3,
                    client_order_id=cid(3),
                    symbol="BTC/USDT",
                    side=Side.BUY,
                    qty=D("0.01"),
                    leaves_qty=D("0.01"),
                    price=D("41000"),
                )
            )
            assert isinstance(refused, Refused) and refused.reason == "MODIFY_NOT_SUPPORTED"
            (working,) = await adapter.open_orders()
            assert working.qty == D("0.01") and working.order_id == 3

    run(main)


def test_spot_refusals_are_classified_from_the_venues_code() -> None:
    async def main() -> None:
        async with world(SPOT) as (_, adapter):
            poor = await adapter.place(limit(4, "BTC/USDT", Side.BUY, "10", "50000"))
            assert isinstance(poor, Refused) and poor.reason == "INSUFFICIENT_FUNDS", poor
            lot = await adapter.place(limit(5, "BTC/USDT", Side.BUY, "0.000001", "50000"))
            assert isinstance(lot, Refused) and lot.reason == "FILTER_LOT_SIZE", lot
            tick = await adapter.place(limit(6, "BTC/USDT", Side.BUY, "0.01", "50000.001"))
            assert isinstance(tick, Refused) and tick.reason == "FILTER_PRICE_FILTER", tick
            assert isinstance(
                await adapter.place(limit(7, "BTC/USDT", Side.BUY, "0.01", "50000")), Acknowledged
            )
            dup = await adapter.place(limit(7, "BTC/USDT", Side.BUY, "0.01", "50000"))
            assert isinstance(dup, Unknown) and dup.reason == "DUPLICATE", dup
            gtd = await adapter.place(
                limit(8, "BTC/USDT", Side.BUY, "0.01", "50000", tif=TimeInForce.GTD)
            )
            assert isinstance(gtd, Refused) and gtd.reason == "UNSUPPORTED_ORDER"

    run(main)


def test_spot_post_only_that_would_take_is_refused() -> None:
    async def main() -> None:
        async with world(SPOT) as (fake, adapter):
            fake.venue.house_quote(SPOT, "BTCUSDT", "SELL", "60000", "1")
            taker = await adapter.place(
                limit(9, "BTC/USDT", Side.BUY, "0.01", "61000", post_only=True)
            )
            assert isinstance(taker, Refused) and taker.reason == "POST_ONLY_WOULD_TAKE", taker
            maker = await adapter.place(
                limit(10, "BTC/USDT", Side.BUY, "0.01", "59000", post_only=True)
            )
            assert (
                isinstance(maker, Acknowledged)
                and maker.order is not None
                and maker.order.post_only
            )

    run(main)


def test_market_with_protection_is_a_limit_ioc_at_the_bound() -> None:
    async def main() -> None:
        async with world(SPOT) as (fake, adapter):
            fake.venue.house_quote(SPOT, "BTCUSDT", "SELL", "60000", "0.005")
            fake.venue.house_quote(SPOT, "BTCUSDT", "SELL", "62000", "1")
            order = PlaceOrder(
                order_id=11,
                client_order_id=cid(11),
                symbol="BTC/USDT",
                side=Side.BUY,
                qty=D("0.01"),
                protection_price=D("61000"),
            )
            done = await adapter.place(order)
            assert isinstance(done, Acknowledged) and done.order is not None, done
            assert done.order.cum_qty == D("0.005") and done.order.state is VenueOrderState.EXPIRED
            assert done.order.tif is TimeInForce.IOC and done.order.price == D("61000")

    run(main)


def test_ambiguous_place_answers_are_unknown() -> None:
    async def main() -> None:
        async with world(SPOT, timeout_ms=400) as (fake, adapter):
            fake.faults.delay_places, fake.faults.delay_s = 1, 1.0
            late = await adapter.place(limit(12, "BTC/USDT", Side.BUY, "0.01", "50000"))
            assert isinstance(late, Unknown) and late.reason == "TIMEOUT", late
            fake.faults.drop_places = 1
            dropped = await adapter.place(limit(13, "BTC/USDT", Side.BUY, "0.01", "50000"))
            assert isinstance(dropped, Unknown) and dropped.reason == "DISCONNECTED", dropped
            fake.faults.fail_after_commit = 1
            failed = await adapter.place(limit(14, "BTC/USDT", Side.BUY, "0.01", "50000"))
            assert isinstance(failed, Unknown) and failed.reason == "SERVER_ERROR", failed
            # each landed: the query by client order id finds it (resolution is the gateway's)
            for n in (13, 14):
                found = await adapter.order("BTC/USDT", client_order_id=cid(n))
                assert found is not None and found.order_id == n

    run(main)


def test_not_visible_yet_is_none_and_clock_skew_is_refused_until_the_offset_is_set() -> None:
    async def main() -> None:
        async with world(SPOT) as (fake, adapter):
            fake.faults.visibility_lag_s = 0.3
            assert isinstance(
                await adapter.place(limit(15, "BTC/USDT", Side.BUY, "0.01", "50000")), Acknowledged
            )
            assert await adapter.order("BTC/USDT", client_order_id=cid(15)) is None
            await asyncio.sleep(0.35)
            assert await adapter.order("BTC/USDT", client_order_id=cid(15)) is not None

            fake.faults.clock_offset_ms = -6000
            skewed = await adapter.place(limit(16, "BTC/USDT", Side.BUY, "0.01", "50000"))
            assert isinstance(skewed, Refused) and skewed.reason == "CLOCK_SKEW", skewed
            adapter.set_clock_offset(await adapter.server_time() - time.time_ns())
            resent = await adapter.place(limit(16, "BTC/USDT", Side.BUY, "0.01", "50000"))
            assert isinstance(resent, Acknowledged), resent

    run(main)


def test_rate_limits_feed_the_hooks_and_a_rate_limited_write_is_unknown() -> None:
    async def main() -> None:
        limits = Limits(weight_per_window=30, weight_window_s=60.0)
        async with world(SPOT, limits=limits) as (_, adapter):
            seen: list[tuple[int, bool]] = []
            headers: list[tuple[int, Mapping[str, str]]] = []

            async def before(weight: int, is_order: bool) -> None:
                seen.append((weight, is_order))

            adapter.before_request = before
            adapter.on_response = lambda status, h: headers.append((status, h))
            assert isinstance(
                await adapter.place(limit(17, "BTC/USDT", Side.BUY, "0.01", "50000")), Acknowledged
            )
            assert seen[-1] == (1, True)
            status, h = headers[-1]
            assert status == 200
            assert any(k.upper().startswith("X-MBX-USED-WEIGHT") for k in h)
            await adapter.order("BTC/USDT", client_order_id=cid(17))
            assert seen[-1] == (4, False)
            outcome: Any = None
            for n in range(18, 40):
                outcome = await adapter.place(limit(n, "BTC/USDT", Side.BUY, "0.0001", "50000"))
                if not isinstance(outcome, Acknowledged):
                    break
            assert isinstance(outcome, Unknown) and outcome.reason == "RATE_LIMITED", outcome
            assert headers[-1][0] == 429

    run(main)


def test_spot_stream_drop_yields_a_gap_then_restarts() -> None:
    async def main() -> None:
        async with world(SPOT) as (fake, adapter):
            facts = Facts(adapter)
            await facts.wait(gap("STARTED"))
            fake.drop_user_streams()
            await facts.wait(gap("DISCONNECTED"))
            await facts.wait(gap("STARTED"), count=2)
            assert isinstance(
                await adapter.place(limit(41, "BTC/USDT", Side.BUY, "0.01", "50000")), Acknowledged
            )
            await facts.wait(update(cid(41), "NEW"))
            await facts.stop()

    run(main)


def test_an_order_placed_outside_atlas_is_external() -> None:
    async def main() -> None:
        async with world(SPOT) as (fake, adapter):
            facts = Facts(adapter)
            await facts.wait(gap("STARTED"))
            fake.venue.place_external(
                SPOT,
                "alice",
                {
                    "symbol": "BTCUSDT",
                    "side": "BUY",
                    "type": "LIMIT",
                    "price": "45000",
                    "quantity": "0.01",
                },
            )
            (seen,) = await facts.wait(
                lambda f: isinstance(f, OrderUpdate) and f.exec_type == "NEW"
            )
            assert seen.order.order_id is None and seen.order.client_order_id
            (listed,) = await adapter.open_orders()
            assert listed.order_id is None and listed.venue_order_id == seen.order.venue_order_id
            await facts.stop()

    run(main)


# --------------------------------------------------------------------------- USDⓈ-M
def test_futures_place_amend_fill_positions_and_account_facts() -> None:
    async def main() -> None:
        async with world(USDM) as (fake, adapter):
            assert adapter.settings.hedge_mode is False
            found = {vi.instrument.symbol: vi for vi in await adapter.instruments()}
            assert found["BTC/USDT:USDT"].venue_symbol == "BTCUSDT"
            facts = Facts(adapter)
            await facts.wait(gap("STARTED"))
            placed = await adapter.place(limit(1, "BTC/USDT:USDT", Side.BUY, "0.01", "50000"))
            assert isinstance(placed, Acknowledged), placed
            assert placed.order is not None and placed.order.position_side is PositionSide.BOTH
            amended = await adapter.amend(
                AmendOrder(
                    order_id=1,
                    client_order_id=cid(1),
                    symbol="BTC/USDT:USDT",
                    side=Side.BUY,
                    qty=D("0.02"),
                    leaves_qty=D("0.02"),
                    price=D("50100"),
                )
            )
            assert isinstance(amended, Acknowledged), amended
            assert amended.order is not None and (amended.order.qty, amended.order.price) == (
                D("0.02"),
                D("50100"),
            )
            assert amended.venue_order_id == placed.venue_order_id
            await facts.wait(update(cid(1), "AMENDMENT"))

            fake.venue.fill(fake_order(fake, USDM, cid(1)), "0.02")
            (trade,) = await facts.wait(update(cid(1), "TRADE"))
            assert trade.fill is not None and trade.fill.qty == D("0.02") and trade.fill.fee_asset
            assert trade.order.state is VenueOrderState.FILLED
            await facts.wait(lambda f: isinstance(f, PositionUpdate))
            (pos,) = await adapter.positions()
            assert (pos.symbol, pos.qty, pos.entry_price) == (
                "BTC/USDT:USDT",
                D("0.02"),
                D("50100"),
            )
            (fill,) = await adapter.fills(0, "BTC/USDT:USDT")
            assert fill.order_id == 1 and fill.trade_id == trade.fill.trade_id
            assert {b.asset for b in await adapter.balances()} >= {"USDT"}

            closing = await adapter.place(
                limit(2, "BTC/USDT:USDT", Side.BUY, "0.01", "50000", reduce_only=True)
            )
            assert isinstance(closing, Refused) and closing.reason == "REDUCE_ONLY_REJECTED", (
                closing
            )
            await facts.stop()

    run(main)


def test_futures_hedge_mode_is_detected_and_legs_are_placed() -> None:
    async def main() -> None:
        async with world(USDM, key=KEY_B, secret=SECRET_B) as (_, adapter):
            assert adapter.settings.hedge_mode is True
            assert (await adapter.account_settings()).hedge_mode is True
            long_leg = await adapter.place(
                limit(
                    1, "BTC/USDT:USDT", Side.BUY, "0.01", "50000", position_side=PositionSide.LONG
                )
            )
            assert isinstance(long_leg, Acknowledged), long_leg
            assert long_leg.order is not None and long_leg.order.position_side is PositionSide.LONG
            one_way = await adapter.place(limit(2, "BTC/USDT:USDT", Side.BUY, "0.01", "50000"))
            assert isinstance(one_way, Refused) and one_way.reason == "POSITION_SIDE_MISMATCH", (
                one_way
            )

    run(main)


def test_futures_listen_key_expiry_yields_a_gap_and_a_new_stream() -> None:
    async def main() -> None:
        async with world(USDM) as (fake, adapter):
            facts = Facts(adapter)
            await facts.wait(gap("STARTED"))
            fake.expire_listen_key("alice")
            await facts.wait(gap("LISTEN_KEY_EXPIRED"))
            await facts.wait(gap("STARTED"), count=2)
            assert isinstance(
                await adapter.place(limit(3, "BTC/USDT:USDT", Side.BUY, "0.01", "50000")),
                Acknowledged,
            )
            await facts.wait(update(cid(3), "NEW"))
            await facts.stop()

    run(main)


def test_futures_post_only_is_gtx_and_refused_when_it_would_take() -> None:
    async def main() -> None:
        async with world(USDM) as (fake, adapter):
            fake.venue.house_quote(USDM, "BTCUSDT", "SELL", "60000", "1")
            taker = await adapter.place(
                limit(4, "BTC/USDT:USDT", Side.BUY, "0.01", "61000", post_only=True)
            )
            assert isinstance(taker, Refused) and taker.reason == "POST_ONLY_WOULD_TAKE", taker
            maker = await adapter.place(
                limit(5, "BTC/USDT:USDT", Side.BUY, "0.01", "59000", post_only=True)
            )
            assert (
                isinstance(maker, Acknowledged)
                and maker.order is not None
                and maker.order.post_only
            )

    run(main)


def test_prices_come_from_book_ticker_trades_and_mark_price() -> None:
    async def main() -> None:
        async with world(USDM) as (fake, adapter):
            ticks: list[Any] = []

            async def collect() -> None:
                async for tick in adapter.prices(["BTC/USDT:USDT"]):
                    ticks.append(tick)

            task = asyncio.ensure_future(collect())
            deadline = asyncio.get_running_loop().time() + 1.5
            while not any(t.mark for t in ticks) or not any(t.bid or t.ask for t in ticks):
                fake.venue.set_mark_price("BTCUSDT", "50500")
                fake.venue.house_quote(USDM, "BTCUSDT", "SELL", "60000", "1")
                await asyncio.sleep(0.1)
                assert asyncio.get_running_loop().time() < deadline, ticks
            assert any(t.mark == D("50500") and t.symbol == "BTC/USDT:USDT" for t in ticks)
            assert any(t.ask == D("60000") for t in ticks)
            task.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await task

    run(main)


# --------------------------------------------------------------------------- the contract's failure cases
def test_five_fills_in_one_millisecond_arrive_as_five_updates_none_coalesced() -> None:
    async def main() -> None:
        async with world(SPOT) as (fake, adapter):
            facts = Facts(adapter)
            await facts.wait(gap("STARTED"))
            assert isinstance(
                await adapter.place(limit(50, "BTC/USDT", Side.BUY, "0.05", "50000")), Acknowledged
            )
            fake.venue.fill_in_parts(fake_order(fake, SPOT, cid(50)), ["0.01"] * 5)
            trades = await facts.wait(update(cid(50), "TRADE"), count=5)
            assert len({t.fill.trade_id for t in trades if t.fill}) == 5
            assert [t.order.cum_qty for t in trades] == [D("0.01") * k for k in range(1, 6)]
            assert trades[-1].order.state is VenueOrderState.FILLED
            await facts.stop()

    run(main)


def test_the_same_execution_twice_is_passed_on_with_the_same_trade_id() -> None:
    async def main() -> None:
        async with world(SPOT) as (fake, adapter):
            facts = Facts(adapter)
            await facts.wait(gap("STARTED"))
            fake.faults.duplicate_events = True
            assert isinstance(
                await adapter.place(limit(51, "BTC/USDT", Side.BUY, "0.01", "50000")), Acknowledged
            )
            fake.venue.fill(fake_order(fake, SPOT, cid(51)), "0.01")
            twice = await facts.wait(update(cid(51), "TRADE"), count=2)
            assert twice[0].fill == twice[1].fill  # the core deduplicates by (venue, trade id)
            (queried,) = await adapter.fills(0, "BTC/USDT")
            assert queried.trade_id == twice[0].fill.trade_id and queried.order_id == 51
            await facts.stop()

    run(main)


def test_a_cancel_that_races_a_fill_is_unknown_order_and_the_fill_arrives() -> None:
    async def main() -> None:
        async with world(SPOT) as (fake, adapter):
            facts = Facts(adapter)
            await facts.wait(gap("STARTED"))
            assert isinstance(
                await adapter.place(limit(52, "BTC/USDT", Side.BUY, "0.01", "50000")), Acknowledged
            )
            fake.faults.cancel_races_fill = 1
            late = await adapter.cancel(
                CancelOrder(order_id=52, client_order_id=cid(52), symbol="BTC/USDT")
            )
            assert isinstance(late, Refused) and late.reason == "UNKNOWN_ORDER", late
            (filled,) = await facts.wait(update(cid(52), "TRADE"))
            assert filled.order.state is VenueOrderState.FILLED
            final = await adapter.order("BTC/USDT", client_order_id=cid(52))
            assert final is not None and final.state is VenueOrderState.FILLED
            await facts.stop()

    run(main)


def test_fees_are_paid_in_bnb_while_it_lasts() -> None:
    async def main() -> None:
        fake = FakeBinance(
            [
                AccountConfig(
                    name="carol",
                    api_key=KEY,
                    secret=SECRET,
                    spot={"USDT": D("100000"), "BNB": D("0.0002")},
                    bnb_fees=True,
                )
            ]
        )
        await fake.start()
        adapter = make(fake, SPOT)
        try:
            await adapter.start()
            fake.venue.house_quote(SPOT, "BTCUSDT", "SELL", "60000", "1")
            first = await adapter.place(
                PlaceOrder(
                    order_id=1,
                    client_order_id=cid(1),
                    symbol="BTC/USDT",
                    side=Side.BUY,
                    qty=D("0.001"),
                )
            )
            assert isinstance(first, Acknowledged) and first.fills[0].fee_asset == "BNB", first
            second = await adapter.place(
                PlaceOrder(
                    order_id=2,
                    client_order_id=cid(2),
                    symbol="BTC/USDT",
                    side=Side.BUY,
                    qty=D("0.01"),
                )
            )
            assert isinstance(second, Acknowledged) and second.fills[0].fee_asset != "BNB", second
            fees = {f.trade_id: f.fee_asset for f in await adapter.fills(0, "BTC/USDT")}
            assert sorted(fees.values()) == sorted(
                [first.fills[0].fee_asset, second.fills[0].fee_asset]
            )
        finally:
            await adapter.close()
            await fake.stop()

    run(main)


def test_a_ban_is_unknown_for_writes_and_banned_for_reads() -> None:
    async def main() -> None:
        limits = Limits(weight_per_window=25, weight_window_s=60.0, requests_before_ban=1)
        async with world(SPOT, limits=limits) as (_, adapter):
            from atlas_oms.core.ports import VenueQueryFailed

            reasons: list[str] = []
            for _ in range(6):
                try:
                    await adapter.open_orders()
                except VenueQueryFailed as e:
                    reasons.append(e.reason)
                    assert e.retry_after_s is not None and e.retry_after_s > 0
            assert reasons[0] == "RATE_LIMITED" and reasons[-1] == "BANNED", reasons
            banned = await adapter.place(limit(53, "BTC/USDT", Side.BUY, "0.01", "50000"))
            assert isinstance(banned, Unknown) and banned.reason == "BANNED", banned

    run(main)


def test_a_position_older_than_the_fill_history_comes_from_the_position_report() -> None:
    async def main() -> None:
        async with world(USDM) as (fake, adapter):
            fake.faults.trade_history_ms = 60_000
            fake.venue.seed_old_position("alice", "BTCUSDT", "0.5", "30000", age_ms=10 * 86_400_000)
            (pos,) = await adapter.positions()
            assert (pos.symbol, pos.qty, pos.entry_price, pos.position_side) == (
                "BTC/USDT:USDT",
                D("0.5"),
                D("30000"),
                PositionSide.BOTH,
            )
            assert await adapter.fills(0, "BTC/USDT:USDT") == []

    run(main)


def test_fills_missed_while_the_stream_was_down_are_found_by_query() -> None:
    async def main() -> None:
        async with world(USDM) as (fake, adapter):
            facts = Facts(adapter)
            await facts.wait(gap("STARTED"))
            for n in (60, 61):
                assert isinstance(
                    await adapter.place(limit(n, "BTC/USDT:USDT", Side.BUY, "0.01", "50000")),
                    Acknowledged,
                )
            fake.faults.half_open = True  # events withheld and lost
            for n in (60, 61):
                fake.venue.fill(fake_order(fake, USDM, cid(n)), "0.01")
            await asyncio.sleep(0.1)
            assert not [
                f for f in facts.items if isinstance(f, OrderUpdate) and f.exec_type == "TRADE"
            ]
            found = await adapter.fills(0)
            assert sorted(f.order_id for f in found) == [60, 61]
            assert {o.order_id for o in await adapter.open_orders()} == set()
            await facts.stop()

    run(main)


def test_futures_refusals_insufficient_margin_and_duplicate_id() -> None:
    async def main() -> None:
        async with world(USDM) as (_, adapter):
            big = await adapter.place(limit(70, "BTC/USDT:USDT", Side.BUY, "900", "50000"))
            assert isinstance(big, Refused) and big.reason == "INSUFFICIENT_FUNDS", big
            assert isinstance(
                await adapter.place(limit(71, "BTC/USDT:USDT", Side.BUY, "0.01", "50000")),
                Acknowledged,
            )
            dup = await adapter.place(limit(71, "BTC/USDT:USDT", Side.BUY, "0.01", "50000"))
            assert isinstance(dup, Unknown) and (dup.reason, dup.code) == ("DUPLICATE", "-4116"), (
                dup
            )
            small = await adapter.place(limit(72, "BTC/USDT:USDT", Side.BUY, "0.001", "50000"))
            assert isinstance(small, Refused) and small.reason == "FILTER_MIN_NOTIONAL", small
            gone = await adapter.cancel(
                CancelOrder(order_id=73, client_order_id=cid(73), symbol="BTC/USDT:USDT")
            )
            assert isinstance(gone, Refused) and gone.reason == "UNKNOWN_ORDER", gone

    run(main)


def test_a_quiet_live_stream_yields_stream_alive_and_a_half_open_one_stays_silent() -> None:
    async def main() -> None:
        async with world(USDM, heartbeat_s=0.1) as (fake, adapter):
            from atlas_oms.model.venue import StreamAlive

            facts = Facts(adapter)
            await facts.wait(gap("STARTED"))
            assert isinstance(
                await adapter.place(limit(80, "BTC/USDT:USDT", Side.BUY, "0.01", "50000")),
                Acknowledged,
            )
            await facts.wait(update(cid(80), "NEW"))
            await facts.wait(lambda f: isinstance(f, StreamAlive))
            fake.faults.half_open = True
            alive = len([f for f in facts.items if isinstance(f, StreamAlive)])
            await asyncio.sleep(0.35)  # nothing arrives: no heartbeat is invented
            assert len([f for f in facts.items if isinstance(f, StreamAlive)]) == alive
            await facts.stop()

    run(main)


def test_spot_prices_come_from_book_ticker_and_trades() -> None:
    async def main() -> None:
        async with world(SPOT) as (fake, adapter):
            ticks: list[Any] = []

            async def collect() -> None:
                async for tick in adapter.prices(["BTC/USDT"]):
                    ticks.append(tick)

            task = asyncio.ensure_future(collect())
            deadline = asyncio.get_running_loop().time() + 1.5
            n = 90
            while not any(t.last for t in ticks) or not any(t.ask for t in ticks):
                fake.venue.house_quote(SPOT, "BTCUSDT", "SELL", "60000", "1")
                n += 1
                buy = PlaceOrder(
                    order_id=n,
                    client_order_id=cid(n),
                    symbol="BTC/USDT",
                    side=Side.BUY,
                    qty=D("0.001"),
                )
                assert isinstance(await adapter.place(buy), Acknowledged)
                await asyncio.sleep(0.1)
                assert asyncio.get_running_loop().time() < deadline, ticks
            assert any(t.last == D("60000") and t.symbol == "BTC/USDT" for t in ticks)
            assert any(t.ask == D("60000") for t in ticks)
            task.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await task

    run(main)


@pytest.mark.parametrize("market", [SPOT, USDM])
def test_a_quiet_market_is_priced_from_the_rest_tickers_when_prices_start(market: str) -> None:
    """Binance's ``bookTicker`` and ``trade`` streams send changes only: a book that does not
    move and a symbol that does not trade would have no price. The adapter asks the REST book
    ticker and last price once its streams are subscribed."""
    symbol = "BTC/USDT" if market == SPOT else "BTC/USDT:USDT"

    async def main() -> None:
        async with world(market) as (fake, adapter):
            # a trade and a resting quote before anyone listens
            fake.venue.house_quote(market, "BTCUSDT", "SELL", "60000", "1")
            buy = PlaceOrder(
                order_id=7, client_order_id=cid(7), symbol=symbol, side=Side.BUY, qty=D("0.01")
            )
            assert isinstance(await adapter.place(buy), Acknowledged)
            fake.venue.house_quote(market, "BTCUSDT", "SELL", "60010", "1")
            ticks: list[Any] = []

            async def collect() -> None:
                async for tick in adapter.prices([symbol]):
                    ticks.append(tick)

            task = asyncio.ensure_future(collect())
            deadline = asyncio.get_running_loop().time() + 3
            while not any(t.last for t in ticks) or not any(t.ask for t in ticks):
                await asyncio.sleep(0.05)  # nothing moves at the venue meanwhile
                assert asyncio.get_running_loop().time() < deadline, ticks
            assert any(t.last == D("60000") and t.symbol == symbol for t in ticks)
            assert any(t.ask == D("60000") and t.ask_qty is not None for t in ticks)
            task.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await task

    run(main)
