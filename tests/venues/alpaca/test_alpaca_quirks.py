"""Alpaca's quirks, each against the loopback fake through the real alpaca-py client."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient

from atlas_oms.core.ports import VenueQueryFailed
from atlas_oms.fakes.alpaca import Account, Asset, FakeAlpaca
from atlas_oms.model.enums import Side, TimeInForce
from atlas_oms.model.venue import (
    Acknowledged,
    AmendOrder,
    CancelOrder,
    PlaceOrder,
    Refused,
    Unknown,
    VenueOrderState,
)
from atlas_oms.venues.alpaca import AlpacaAdapter
from atlas_oms.venues.alpaca.parse import base_client_id

D = Decimal
KEY, SECRET = "PKQUIRKS000000000001", "quirkssecret00000000000000000000000001"
PREFIX = "atk3f9q2x"


def decode(cid: str) -> int | None:
    if not cid.startswith(PREFIX) or not cid[len(PREFIX) :].isdigit():
        return None
    return int(cid[len(PREFIX) :])


def run(body: Callable[[FakeAlpaca, AlpacaAdapter], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        fake = FakeAlpaca(
            [Account(name="a", api_key=KEY, secret=SECRET, cash=D("100000"))],
            [Asset("AAPL", "Apple Inc."), Asset("BRK.A", "Berkshire A", fractionable=False)],
        )
        await fake.start()
        adapter = AlpacaAdapter(
            account_id="a",
            api_key=KEY,
            secret=SECRET,
            decode_client_id=decode,
            base_url=fake.http,
            stream_url=fake.stream_url,
            timeout_ms=500,
            session=None,
        )
        try:
            return await body(fake, adapter)
        finally:
            await adapter.close()
            await fake.stop()

    return asyncio.run(asyncio.wait_for(main(), 20))


def place(order_id: int = 1, **kw: Any) -> PlaceOrder:
    args: dict[str, Any] = {
        "order_id": order_id,
        "client_order_id": f"{PREFIX}{order_id}",
        "symbol": "AAPL",
        "side": Side.BUY,
        "qty": D("10"),
        "price": D("150"),
    }
    args.update(kw)
    return PlaceOrder(**args)


# ---------------------------------------------------------------- no blind retries
def test_a_504_after_acceptance_is_unknown_and_never_makes_a_second_order() -> None:
    """alpaca-py retries 429/504 by itself (3 times): the adapter's client does not, so the
    504 that followed the acceptance is Unknown and the venue holds one order, found by query
    under Atlas's client order id."""

    async def body(fake: FakeAlpaca, adapter: AlpacaAdapter) -> None:
        fake.faults.fail_places_after = 1
        outcome = await adapter.place(place())
        assert isinstance(outcome, Unknown) and outcome.reason == "SERVER_ERROR"
        assert outcome.code == "504"
        assert len(fake.venue.orders) == 1
        found = await adapter.order("AAPL", client_order_id=f"{PREFIX}1")
        assert found is not None and found.order_id == 1 and found.state is VenueOrderState.NEW

    run(body)


def test_alpaca_py_left_as_it_is_retries_a_post_after_a_504() -> None:
    """Why the retries are turned off: a plain ``TradingClient`` re-POSTs after the 504
    (waits shortened here); with a client order id the resend is refused as a duplicate
    (422), without one it is a second order."""

    async def body(fake: FakeAlpaca, adapter: AlpacaAdapter) -> None:
        client = TradingClient(KEY, SECRET, raw_data=True, url_override=fake.http)
        client._retry_wait = 0
        order = {
            "symbol": "AAPL",
            "qty": "1",
            "side": "buy",
            "type": "limit",
            "limit_price": "150",
            "time_in_force": "day",
        }
        fake.faults.fail_places_after = 1
        with pytest.raises(APIError) as refused:
            await asyncio.to_thread(client.post, "/orders", dict(order, client_order_id="x1"))
        assert refused.value.status_code == 422
        assert refused.value.message == "client_order_id must be unique"
        assert len(fake.venue.orders) == 1
        fake.faults.fail_places_after = 1
        await asyncio.to_thread(client.post, "/orders", order)  # no client id: two orders
        assert len(fake.venue.orders) == 3

    run(body)


def test_a_duplicate_client_order_id_is_unknown_not_refused() -> None:
    async def body(fake: FakeAlpaca, adapter: AlpacaAdapter) -> None:
        assert isinstance(await adapter.place(place()), Acknowledged)
        again = await adapter.place(place())
        assert isinstance(again, Unknown) and again.reason == "DUPLICATE"
        assert again.message == "client_order_id must be unique"
        assert len(fake.venue.orders) == 1

    run(body)


def test_a_reply_held_past_the_timeout_is_unknown() -> None:
    """alpaca-py's session has no timeout of its own; the adapter's gives up and says
    TIMEOUT (the order was taken)."""

    async def body(fake: FakeAlpaca, adapter: AlpacaAdapter) -> None:
        fake.faults.delay_places, fake.faults.delay_s = 1, 1.0
        outcome = await adapter.place(place())
        assert isinstance(outcome, Unknown) and outcome.reason == "TIMEOUT"
        assert len(fake.venue.orders) == 1

    run(body)


def test_every_order_carries_atlas_client_order_id() -> None:
    async def body(fake: FakeAlpaca, adapter: AlpacaAdapter) -> None:
        outcome = await adapter.place(place(7))
        assert isinstance(outcome, Acknowledged) and outcome.order is not None
        (order,) = fake.venue.orders.values()
        assert order.client_order_id == f"{PREFIX}7"
        assert outcome.order.order_id == 7

    run(body)


def test_wrong_keys_are_refused_by_the_venue() -> None:
    async def body(fake: FakeAlpaca, adapter: AlpacaAdapter) -> None:
        bad = AlpacaAdapter(
            account_id="a",
            api_key=KEY,
            secret="wrong",
            decode_client_id=decode,
            base_url=fake.http,
            stream_url=fake.stream_url,
            session=None,
        )
        with pytest.raises(VenueQueryFailed) as failed:
            await bad.balances()
        assert failed.value.reason == "AUTH"
        refused = await bad.place(place())
        assert isinstance(refused, Refused) and refused.reason == "AUTH"
        assert fake.venue.orders == {}

    run(body)


# ---------------------------------------------------------------- extended hours, fractions
def test_extended_hours_is_sent_on_a_limit_day_order() -> None:
    async def body(fake: FakeAlpaca, adapter: AlpacaAdapter) -> None:
        outcome = await adapter.place(place(tif=TimeInForce.DAY, extended_hours=True))
        assert isinstance(outcome, Acknowledged)
        (order,) = fake.venue.orders.values()
        assert order.extended_hours and order.time_in_force == "day" and order.type == "limit"

    run(body)


@pytest.mark.parametrize(
    "kw",
    [
        {"tif": TimeInForce.GTC},
        {"tif": TimeInForce.DAY, "price": None},
        {"tif": TimeInForce.IOC},
    ],
    ids=["limit-gtc", "market-day", "limit-ioc"],
)
def test_extended_hours_on_anything_but_a_limit_day_order_is_refused_unsent(
    kw: dict[str, Any],
) -> None:
    async def body(fake: FakeAlpaca, adapter: AlpacaAdapter) -> None:
        outcome = await adapter.place(place(extended_hours=True, **kw))
        assert isinstance(outcome, Refused) and outcome.reason == "UNSUPPORTED_ORDER"
        assert fake.venue.orders == {}

    run(body)


def test_the_fake_refuses_extended_hours_on_a_gtc_order_as_alpaca_does() -> None:
    async def body(fake: FakeAlpaca, adapter: AlpacaAdapter) -> None:
        client = TradingClient(KEY, SECRET, raw_data=True, url_override=fake.http)
        order = {
            "symbol": "AAPL",
            "qty": "1",
            "side": "buy",
            "type": "limit",
            "limit_price": "150",
            "time_in_force": "gtc",
            "extended_hours": True,
        }
        with pytest.raises(APIError) as refused:
            await asyncio.to_thread(client.post, "/orders", order)
        assert refused.value.status_code == 422

    run(body)


def test_a_fractional_quantity_goes_as_a_day_order_of_a_fractionable_asset() -> None:
    async def body(fake: FakeAlpaca, adapter: AlpacaAdapter) -> None:
        ok = await adapter.place(place(qty=D("0.123456789"), tif=TimeInForce.DAY))
        assert isinstance(ok, Acknowledged) and ok.order is not None
        assert ok.order.qty == D("0.123456789")  # exact: alpaca-py's models would float it
        gtc = await adapter.place(place(2, qty=D("0.5")))
        assert isinstance(gtc, Refused) and gtc.reason == "UNSUPPORTED_ORDER"
        whole_only = await adapter.place(
            place(3, symbol="BRK.A", qty=D("0.5"), tif=TimeInForce.DAY)
        )
        assert isinstance(whole_only, Refused) and whole_only.reason == "INVALID_REQUEST"
        assert "not fractionable" in whole_only.message
        assert len(fake.venue.orders) == 1

    run(body)


def test_instruments_lot_size_follows_fractionable() -> None:
    async def body(fake: FakeAlpaca, adapter: AlpacaAdapter) -> None:
        lots = {vi.instrument.symbol: vi.instrument.lot_size for vi in await adapter.instruments()}
        assert lots == {"AAPL": D("0.000000001"), "BRK.A": D(1)}

    run(body)


# ---------------------------------------------------------------- replace (PATCH)
def test_a_replace_of_a_partly_filled_order_works_the_leaves_under_a_new_id() -> None:
    """PATCH makes a new order (new id, a leg client id) sized to the leaves (Alpaca-API#165);
    the old leg ends ``replaced``; Atlas sees one order: total qty and cum qty carried over,
    and a query by Atlas's client id follows ``replaced_by`` to the working leg."""

    async def body(fake: FakeAlpaca, adapter: AlpacaAdapter) -> None:
        placed = await adapter.place(place())
        assert isinstance(placed, Acknowledged)
        old = fake.venue.orders[str(placed.venue_order_id)]
        fake.venue.fill(old, D("4"))
        outcome = await adapter.amend(
            AmendOrder(
                order_id=1,
                client_order_id=f"{PREFIX}1",
                symbol="AAPL",
                side=Side.BUY,
                qty=D("8"),
                leaves_qty=D("4"),
                price=D("151"),
                venue_order_id=old.id,
            )
        )
        assert isinstance(outcome, Acknowledged) and outcome.order is not None
        assert old.status == "replaced"
        new = fake.venue.orders[str(outcome.venue_order_id)]
        assert new.id != old.id and new.replaces == old.id
        assert new.qty == D("4") and new.limit_price == D("151")
        assert new.client_order_id != old.client_order_id
        assert base_client_id(new.client_order_id) == f"{PREFIX}1"
        seen = outcome.order
        assert (seen.order_id, seen.qty, seen.cum_qty, seen.state) == (
            1,
            D("8"),
            D("4"),
            VenueOrderState.PARTIALLY_FILLED,
        )
        queried = await adapter.order("AAPL", client_order_id=f"{PREFIX}1")
        assert queried is not None and queried.venue_order_id == new.id
        assert (queried.qty, queried.cum_qty) == (D("8"), D("4"))
        # after a restart (nothing remembered) the carried fills are read from the old leg
        fresh = AlpacaAdapter(
            account_id="a",
            api_key=KEY,
            secret=SECRET,
            decode_client_id=decode,
            base_url=fake.http,
            session=None,
        )
        (working,) = await fresh.open_orders()
        assert (working.order_id, working.qty, working.cum_qty) == (1, D("8"), D("4"))

    run(body)


def test_a_cancel_goes_to_the_working_leg_and_an_unknown_order_is_refused() -> None:
    async def body(fake: FakeAlpaca, adapter: AlpacaAdapter) -> None:
        placed = await adapter.place(place())
        assert isinstance(placed, Acknowledged)
        cancel = CancelOrder(order_id=1, client_order_id=f"{PREFIX}1", symbol="AAPL")
        assert isinstance(await adapter.cancel(cancel), Acknowledged)
        (order,) = fake.venue.orders.values()
        assert order.status == "canceled"
        again = await adapter.cancel(cancel)
        assert isinstance(again, Refused) and again.reason == "UNKNOWN_ORDER"
        missing = await adapter.cancel(
            CancelOrder(order_id=9, client_order_id=f"{PREFIX}9", symbol="AAPL")
        )
        assert isinstance(missing, Refused) and missing.reason == "UNKNOWN_ORDER"

    run(body)


def test_an_order_that_would_trade_against_the_accounts_own_order_is_refused() -> None:
    """Alpaca has no self-trades: a sell crossing the account's resting buy is refused (403
    "potential wash trade detected"), definitively."""

    async def body(fake: FakeAlpaca, adapter: AlpacaAdapter) -> None:
        assert isinstance(await adapter.place(place()), Acknowledged)
        fake.venue.accounts["a"].positions["AAPL"] = [D("10"), D("100")]
        sell = await adapter.place(place(2, side=Side.SELL, price=D("149")))
        assert isinstance(sell, Refused) and sell.reason == "VENUE_REJECTED"
        assert sell.message == "potential wash trade detected. use complex orders"
        above = await adapter.place(place(3, side=Side.SELL, price=D("160")))
        assert isinstance(above, Acknowledged)

    run(body)
