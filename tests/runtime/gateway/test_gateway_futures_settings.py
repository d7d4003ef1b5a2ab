"""USDⓈ-M futures through Node + Gateway + BinanceUsdmAdapter + the fake Binance (real ccxt client,
real sockets): leverage and margin mode set on the venue first and never diverging from it, Atlas's
settings pushed at connect, the position mode check, and reduce-only, post-only and the fee asset
of each fill as the venue decides them."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from gw_world import FAST, Recorder, until

from atlas_oms.core.ports import VenueQueryFailed
from atlas_oms.fakes.binance import AccountConfig, FakeBinance
from atlas_oms.model import events as ev
from atlas_oms.model.enums import PositionMode
from atlas_oms.model.margin import MarginMode
from atlas_oms.runtime.clock import LiveClock
from atlas_oms.runtime.errors import CommandRefused
from atlas_oms.runtime.gateway import (
    Gateway,
    GatewayConfig,
    SettingOutcomeUnknown,
    VenueSettingRefused,
    decode,
    prefix_for,
)
from atlas_oms.runtime.node import Node
from atlas_oms.runtime.venue_setup import KeySources, setup_venues
from atlas_oms.venues.accounts import parse_accounts
from atlas_oms.venues.binance import BinanceEndpoints, BinanceUsdmAdapter
from atlas_oms.venues.credentials import KeyStore

D = Decimal
BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"
TAG = "k3f9q2"
PREFIX = prefix_for(TAG)
USDM = "usdm"
KEYS = {
    "alice": ("alicekey" + "0" * 56, "alicesecret" + "0" * 53),
    "bob": ("bobkey" + "0" * 58, "bobsecret" + "0" * 55),
    "carol": ("carolkey" + "0" * 56, "carolsecret" + "0" * 53),
}


def fake_accounts() -> list[AccountConfig]:
    return [
        AccountConfig(
            name="alice", api_key=KEYS["alice"][0], secret=KEYS["alice"][1],
            futures={"USDT": D("100000")},
        ),
        AccountConfig(
            name="bob", api_key=KEYS["bob"][0], secret=KEYS["bob"][1],
            futures={"USDT": D("100000")}, hedge_mode=True,
        ),
        AccountConfig(
            name="carol", api_key=KEYS["carol"][0], secret=KEYS["carol"][1],
            futures={"USDT": D("100000"), "BNB": D("0.0001")}, bnb_fees=True,
        ),
    ]  # fmt: skip


def adapter_for(fake: FakeBinance, venue_account: str, account_id: str, **kw: Any) -> Any:
    key, secret = KEYS[venue_account]
    kw.setdefault("timeout_ms", 1500)
    return BinanceUsdmAdapter(
        account_id=account_id,
        api_key=key,
        secret=secret,
        decode_client_id=lambda cid: decode(PREFIX, cid),
        endpoints=BinanceEndpoints(fake.http, f"{fake.ws}/fstream/ws"),
        reconnect_min_s=0.05,
        **kw,
    )


def new_node(*accounts: tuple[str, PositionMode]) -> Node:
    node = Node(clock=LiveClock())
    for account_id, mode in accounts or (("A", PositionMode.NETTING),):
        node.open_account(account_id, position_mode=mode)
    return node


@asynccontextmanager
async def gateway_on(
    fake: FakeBinance,
    node: Node,
    links: dict[str, str] | None = None,
    *,
    wait_ready: bool = True,
    config: GatewayConfig = FAST,
    **kw: Any,
) -> AsyncIterator[tuple[Gateway, Recorder]]:
    """A gateway over ``links`` (Atlas account -> fake venue account), started; stopped after."""
    timeout_ms = kw.pop("timeout_ms", 1500)
    adapters = [
        adapter_for(fake, venue_account, account_id, timeout_ms=timeout_ms)
        for account_id, venue_account in (links or {"A": "alice"}).items()
    ]
    recorder = Recorder(node)
    gateway = Gateway(recorder, adapters, tag=TAG, config=config, market_data=False, **kw)
    gateway.start()
    try:
        if wait_ready:
            await until(lambda: all(s.tradable for s in gateway.sessions.values()))
        yield gateway, recorder
    finally:
        await gateway.stop()


@asynccontextmanager
async def fake_binance() -> AsyncIterator[FakeBinance]:
    fake = FakeBinance(fake_accounts())
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


def run(main: Callable[[], Awaitable[None]], timeout: float = 10) -> None:
    asyncio.run(asyncio.wait_for(main(), timeout))


def atlas_settings(node: Node, symbol: str = BTC, account: str = "A") -> tuple[Any, Any]:
    return node.derivative_settings(account).get(symbol, (None, MarginMode.CROSS))


def venue_settings(fake: FakeBinance, account: str = "alice", symbol: str = "BTCUSDT") -> Any:
    acct = fake.venue.accounts[account]
    return acct.leverage.get(symbol), acct.margin_type.get(symbol, "cross")


def status(gateway: Gateway, account: str = "A") -> tuple[bool, str]:
    health = next(h for h in gateway.health() if h.account_id == account)
    return health.tradable, health.reason


def denial(rec: Recorder, account: str) -> str | None:
    """Why an order of ``account`` is denied (None: it was taken)."""
    try:
        view = rec.node.submit(account, BTC, "BUY", "LIMIT", D("0.01"), D("50000"))
    except CommandRefused as refused:
        return refused.reason
    return view.reason if view.status == "DENIED" else None


# ------------------------------------------------------------------ leverage and margin mode
def test_leverage_is_set_on_the_venue_first_then_atlas_margins_with_the_same_number() -> None:
    async def main() -> None:
        async with fake_binance() as fake, gateway_on(fake, new_node()) as (gateway, rec):
            adapter = gateway.session("binanceusdm", "A").adapter
            seen_in_atlas: list[Any] = []
            send = adapter.set_leverage

            async def spy(symbol: str, leverage: Decimal) -> Any:
                seen_in_atlas.append(atlas_settings(rec.node)[0])  # Atlas, as the request leaves
                return await send(symbol, leverage)

            adapter.set_leverage = spy
            assert await gateway.set_leverage("A", BTC, 10) == D(10)
            assert seen_in_atlas == [None]  # nothing in Atlas before the venue took it
            assert venue_settings(fake)[0] == 10
            assert atlas_settings(rec.node)[0] == D(10)
            # Atlas's margin math uses it: a 0.1 BTC position at 60000 needs 600 USDT at 10x
            fake.venue.house_quote(USDM, "BTCUSDT", "SELL", "60000", "1")
            order = rec.node.submit("A", BTC, "BUY", "LIMIT", D("0.1"), D("60000"))
            await until(lambda: rec.node.order(order.order_id).status == "FILLED")
            (position,) = rec.node.positions("A")
            assert (position.leverage, position.margin) == (D(10), D(600))

    run(main)


def test_margin_mode_is_set_on_the_venue_and_already_set_there_is_success() -> None:
    async def main() -> None:
        async with fake_binance() as fake, gateway_on(fake, new_node()) as (gateway, rec):
            assert await gateway.set_margin_mode("A", BTC, "ISOLATED") is MarginMode.ISOLATED
            assert venue_settings(fake)[1] == "isolated"
            assert atlas_settings(rec.node)[1] is MarginMode.ISOLATED
            # ETH is isolated at the venue already (web UI): Binance's -4046 means done
            fake.venue.accounts["alice"].margin_type["ETHUSDT"] = "isolated"
            assert await gateway.set_margin_mode("A", ETH, MarginMode.ISOLATED) is (
                MarginMode.ISOLATED
            )
            assert atlas_settings(rec.node, ETH)[1] is MarginMode.ISOLATED

    run(main)


def test_a_venue_refusal_is_a_typed_error_with_its_code_and_atlas_is_unchanged() -> None:
    async def main() -> None:
        async with fake_binance() as fake:
            # 1 BTC at 60000: above the 50000 USDT the venue allows at 125x
            fake.venue.seed_old_position("alice", "BTCUSDT", "1", "60000", age_ms=1000)
            async with gateway_on(fake, new_node()) as (gateway, rec):
                assert rec.node.positions("A")[0].qty == D(1)  # Atlas agrees (reconciled)
                before = rec.node.seq
                with pytest.raises(VenueSettingRefused) as refused:
                    await gateway.set_leverage("A", BTC, 125)
                assert (refused.value.reason, refused.value.code) == (
                    "MAX_POSITION_AT_LEVERAGE",
                    "-2027",
                )
                assert refused.value.message == (
                    "Exceeded the maximum allowable position at current leverage."
                )
                assert isinstance(refused.value, CommandRefused)
                assert rec.node.seq == before and atlas_settings(rec.node)[0] is None
                assert venue_settings(fake)[0] is None
                # margin type with a position: the venue says -4048 (Atlas would too: it is
                # checked first, so nothing is sent)
                with pytest.raises(VenueSettingRefused) as locked:
                    await gateway.set_margin_mode("A", BTC, "ISOLATED")
                assert (locked.value.reason, locked.value.code) == ("MARGIN_MODE_LOCKED", "")
                assert venue_settings(fake)[1] == "cross"

    run(main)


def test_max_leverage_of_the_venue_account_refuses_before_anything_is_sent() -> None:
    async def main() -> None:
        async with (
            fake_binance() as fake,
            gateway_on(fake, new_node(), max_leverage={"A": D(10)}) as (gateway, rec),
        ):
            sent: list[Any] = []
            adapter = gateway.session("binanceusdm", "A").adapter
            send = adapter.set_leverage

            async def spy(symbol: str, leverage: Decimal) -> Any:
                sent.append(leverage)
                return await send(symbol, leverage)

            adapter.set_leverage = spy
            with pytest.raises(VenueSettingRefused) as refused:
                await gateway.set_leverage("A", BTC, 20)
            assert refused.value.reason == "LEVERAGE_TOO_HIGH" and "max_leverage" in str(
                refused.value
            )
            assert sent == [] and venue_settings(fake)[0] is None
            assert atlas_settings(rec.node)[0] is None
            # what Atlas itself refuses is not sent either
            with pytest.raises(VenueSettingRefused) as invalid:
                await gateway.set_leverage("A", BTC, "0.5")
            assert invalid.value.reason == "INVALID_LEVERAGE" and sent == []
            with pytest.raises(VenueSettingRefused) as unknown:
                await gateway.set_leverage("A", "DOGE/USDT:USDT", 5)
            assert unknown.value.reason == "UNKNOWN_INSTRUMENT" and sent == []
            assert await gateway.set_leverage("A", BTC, 10) == D(10) and sent == [D(10)]

    run(main)


def test_an_unknown_outcome_is_resolved_by_reading_the_venue_and_atlas_follows_it() -> None:
    async def main() -> None:
        async with (
            fake_binance() as fake,
            gateway_on(fake, new_node(), timeout_ms=300) as (gateway, rec),
        ):
            fake.faults.delay_s = 0.4
            fake.faults.delay_settings = 1  # the venue took it; the answer came too late
            assert await gateway.set_leverage("A", BTC, 9) == D(9)
            assert venue_settings(fake)[0] == 9 and atlas_settings(rec.node)[0] == D(9)
            fake.faults.lose_settings = 1  # the request was lost: the venue still has 9x
            with pytest.raises(VenueSettingRefused) as lost:
                await gateway.set_leverage("A", BTC, 12)
            assert lost.value.reason == "SETTING_NOT_APPLIED" and "9x" in lost.value.message
            assert venue_settings(fake)[0] == 9 and atlas_settings(rec.node)[0] == D(9)
            # unanswered, and the venue cannot be read: unknown, Atlas keeps its own
            fake.faults.lose_settings = 1
            adapter = gateway.session("binanceusdm", "A").adapter

            async def unreadable(symbol: str) -> Any:
                raise VenueQueryFailed("TIMEOUT", "no answer")

            adapter.symbol_settings = unreadable
            with pytest.raises(SettingOutcomeUnknown) as unknown:
                await gateway.set_margin_mode("A", BTC, "ISOLATED")
            assert unknown.value.reason == "SETTING_OUTCOME_UNKNOWN"
            assert atlas_settings(rec.node)[1] is MarginMode.CROSS

    run(main, timeout=15)


def test_unknown_leverage_with_atlas_never_set_takes_the_venues_value() -> None:
    async def main() -> None:
        async with (
            fake_binance() as fake,
            gateway_on(fake, new_node(), timeout_ms=300) as (gateway, rec),
        ):
            fake.faults.delay_s = 0.4
            fake.faults.lose_settings = 1
            with pytest.raises(VenueSettingRefused) as lost:
                await gateway.set_leverage("A", ETH, 3)
            assert lost.value.reason == "SETTING_NOT_APPLIED"
            # the venue has its default (20x): Atlas now margins ETH at 20x too
            assert atlas_settings(rec.node, ETH)[0] == D(20)

    run(main, timeout=15)


# ------------------------------------------------------------------ at connect
def test_at_connect_atlas_settings_that_differ_are_pushed_to_the_venue() -> None:
    async def main() -> None:
        async with fake_binance() as fake:
            node = new_node()
            async with gateway_on(fake, node) as (gateway, _):
                await gateway.set_leverage("A", BTC, 5)
                await gateway.set_margin_mode("A", BTC, "ISOLATED")
            # while Atlas was away, someone changed them in the venue's web UI
            fake.venue.accounts["alice"].leverage["BTCUSDT"] = 50
            fake.venue.accounts["alice"].margin_type["BTCUSDT"] = "cross"
            fake.venue.accounts["alice"].leverage["ETHUSDT"] = 7  # Atlas never chose ETH's
            async with gateway_on(fake, node) as (gateway, rec):
                assert venue_settings(fake) == (5, "isolated")
                assert venue_settings(fake, symbol="ETHUSDT")[0] == 7  # left alone
                assert status(gateway) == (True, "READY")
                assert atlas_settings(rec.node) == (D(5), MarginMode.ISOLATED)

    run(main)


def test_after_a_stream_gap_settings_changed_at_the_venue_are_put_back() -> None:
    async def main() -> None:
        async with fake_binance() as fake, gateway_on(fake, new_node()) as (gateway, rec):
            await gateway.set_leverage("A", BTC, 5)
            fake.venue.accounts["alice"].leverage["BTCUSDT"] = 40  # the web UI
            reconciled = gateway.session("binanceusdm", "A").last_reconciliation
            fake.expire_listen_key("alice")  # a gap: the stream reconnects, Atlas reconciles
            session = gateway.session("binanceusdm", "A")
            await until(lambda: session.last_reconciliation is not reconciled and session.tradable)
            assert venue_settings(fake)[0] == 5 and atlas_settings(rec.node)[0] == D(5)

    run(main)


def test_a_push_the_venue_refuses_at_connect_makes_the_account_untradable_until_fixed() -> None:
    async def main() -> None:
        async with fake_binance() as fake:
            node = new_node()
            async with gateway_on(fake, node) as (gateway, _):
                await gateway.set_leverage("A", BTC, 125)
            # meanwhile at the venue: leverage lowered in the web UI, then a 1 BTC position
            fake.venue.accounts["alice"].leverage["BTCUSDT"] = 20
            fake.venue.seed_old_position("alice", "BTCUSDT", "1", "60000", age_ms=1000)
            async with gateway_on(fake, node, wait_ready=False) as (gateway, rec):
                session = gateway.session("binanceusdm", "A")
                await until(lambda: session.reconciled and session.status is not None)
                assert status(gateway) == (False, "SETTINGS_MISMATCH")
                (health,) = gateway.health()
                assert "Atlas has 125x, the venue 20x" in health.message
                assert "venue code -2027" in health.message
                assert denial(rec, "A") == "VENUE_NOT_TRADABLE"
                # a leverage the venue accepts, set through Atlas, ends the mismatch
                assert await gateway.set_leverage("A", BTC, 50) == D(50)
                assert status(gateway) == (True, "READY")
                assert venue_settings(fake)[0] == 50 and atlas_settings(rec.node)[0] == D(50)
                assert rec.statuses()[-2:] == [(False, "SETTINGS_MISMATCH"), (True, "READY")]

    run(main)


def test_position_mode_is_checked_against_the_hedge_mode_account() -> None:
    async def main() -> None:
        async with fake_binance() as fake:
            node = new_node(("A", PositionMode.NETTING), ("H", PositionMode.HEDGE))
            links = {"A": "bob", "H": "bob"}  # bob's venue account is in hedge mode
            async with gateway_on(fake, node, links, wait_ready=False) as (gateway, rec):
                await until(lambda: status(gateway, "H") == (True, "READY"))
                await until(lambda: status(gateway, "A")[1] == "POSITION_MODE_MISMATCH")
                assert status(gateway, "A") == (False, "POSITION_MODE_MISMATCH")
                health = next(h for h in gateway.health() if h.account_id == "A")
                assert "hedge mode" in health.message and "one-way" in health.message
                assert denial(rec, "A") == "VENUE_NOT_TRADABLE"

    run(main)


# ------------------------------------------------------------------ reduce-only, post-only, fees
def _rejection(rec: Recorder, order_id: int) -> ev.OrderRejected:
    return next(e for e in rec.events if isinstance(e, ev.OrderRejected) and e.order_id == order_id)


def test_a_reduce_only_order_that_would_increase_is_refused_by_the_venue_and_rejected() -> None:
    async def main() -> None:
        async with fake_binance() as fake:
            fake.venue.seed_old_position("alice", "BTCUSDT", "0.01", "60000", age_ms=1000)
            async with gateway_on(fake, new_node()) as (_gateway, rec):
                assert rec.node.positions("A")[0].qty == D("0.01")
                # the position is closed at the venue while the stream is half-open: Atlas has
                # not seen it yet, so its own reduce-only check lets the order through
                fake.faults.half_open = True
                fake.venue.house_quote(USDM, "BTCUSDT", "BUY", "59000", "1")
                fake.venue.place_external(
                    USDM,
                    "alice",
                    {"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET", "quantity": "0.01"},
                )
                assert fake.venue.accounts["alice"].positions[("BTCUSDT", "BOTH")].amt == 0
                order = rec.node.submit(
                    "A", BTC, "SELL", "LIMIT", D("0.01"), D("61000"), reduce_only=True
                )
                await until(lambda: rec.node.order(order.order_id).status == "REJECTED")
                view = rec.node.order(order.order_id)
                assert view.reason == "REDUCE_ONLY_REJECTED"
                rejected = _rejection(rec, order.order_id)
                assert rejected.message == "ReduceOnly Order is rejected. (venue code -2022)"
                # Atlas's own check refuses the obvious case without sending it
                denied = rec.node.submit(
                    "A", BTC, "BUY", "LIMIT", D("0.01"), D("50000"), reduce_only=True
                )
                assert (denied.status, denied.reason) == ("DENIED", "REDUCE_ONLY_WOULD_INCREASE")

    run(main)


def test_a_post_only_order_that_would_take_is_refused_with_5022_and_rejected() -> None:
    async def main() -> None:
        async with fake_binance() as fake, gateway_on(fake, new_node()) as (_gateway, rec):
            fake.venue.house_quote(USDM, "BTCUSDT", "SELL", "60000", "1")
            taker = rec.node.submit("A", BTC, "BUY", "LIMIT", D("0.01"), D("61000"), post_only=True)
            maker = rec.node.submit("A", BTC, "BUY", "LIMIT", D("0.01"), D("59000"), post_only=True)
            await until(lambda: rec.node.order(taker.order_id).status == "REJECTED")
            assert rec.node.order(taker.order_id).reason == "POST_ONLY_WOULD_TAKE"
            assert "(venue code -5022)" in _rejection(rec, taker.order_id).message
            await until(lambda: rec.node.order(maker.order_id).status == "ACCEPTED")
            (resting,) = fake.venue.open_orders(USDM, "alice", "BTCUSDT")
            assert resting.tif == "GTX" and resting.client_id == f"{PREFIX}{maker.order_id}"

    run(main)


def test_the_fee_asset_of_each_fill_is_booked_usdt_or_bnb_while_it_lasts() -> None:
    async def main() -> None:
        async with (
            fake_binance() as fake,
            gateway_on(fake, new_node(("A", PositionMode.NETTING), ("C", PositionMode.NETTING)),
                       {"A": "alice", "C": "carol"}) as (_gateway, rec),
        ):  # fmt: skip
            fake.venue.house_quote(USDM, "ETHUSDT", "SELL", "3000", "10")
            fills: dict[str, list[Any]] = {}
            for account, qty in (("A", "0.01"), ("C", "0.01"), ("C", "0.1")):
                order = rec.node.submit(account, ETH, "BUY", "LIMIT", D(qty), D("3000"))
                await until(lambda o=order: rec.node.order(o.order_id).status == "FILLED")
                fills.setdefault(account, []).extend(rec.node.order_fills(order.order_id))
            assert [(f.fee_asset, f.fee) for f in fills["A"]] == [("USDT", D("0.015"))]
            # carol pays in BNB (0.015 USDT at 600 = 0.000025 BNB) until her BNB is short
            assert [(f.fee_asset, f.fee) for f in fills["C"]] == [
                ("BNB", D("0.000025")),
                ("USDT", D("0.15")),
            ]
            venue_fees = [(t.commission_asset, t.commission) for t in fake.venue.trades
                          if t.account == "carol"]  # fmt: skip
            assert venue_fees == [("BNB", D("0.000025")), ("USDT", D("0.15"))]
            assert rec.node.order(fills["C"][0].order_id).fee_asset == "BNB"

    run(main)


def test_max_leverage_in_accounts_yaml_reaches_the_gateway(tmp_path: Path) -> None:
    config = parse_accounts(
        "accounts:\n"
        "  binance:\n"
        "    main:\n"
        "      type: main\n"
        "      futures_enabled: true\n"
        "      max_leverage: 5\n"
        "account_routing:\n"
        "  default: main\n"
    )
    (futures,) = config.accounts
    store = KeyStore(tmp_path / "keys.json", os.urandom(32))
    store.set(futures.account_id, *KEYS["alice"])
    node = new_node(("seed", PositionMode.NETTING))
    setup = setup_venues(
        node, config, KeySources(file=store, vault=None), data_dir=tmp_path, market_data=False
    )
    try:
        assert setup.gateway.futures_settings.max_leverage == {futures.account_id: D(5)}
    finally:
        setup.close()
