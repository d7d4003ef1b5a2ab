"""Binance spot icebergs (``icebergQty``) through ccxt against the fake Binance: the adapter
sends ``display_qty`` as ``icebergQty``; the fake honours it like the venue (exchangeInfo
``icebergAllowed`` and ``ICEBERG_PARTS``, ``icebergQty`` echoed in the order query and the
execution report's ``F``, only the visible part in the book, refills as it fills) and refuses
what Binance refuses with Binance's codes; USDⓈ-M has no icebergs."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest
from test_binance_fake import (
    SPOT,
    USDM,
    Facts,
    cid,
    fake_order,
    gap,
    limit,
    run,
    update,
    world,
)

from atlas_oms.model.enums import Side, TimeInForce
from atlas_oms.model.venue import Acknowledged, OrderUpdate, Refused

D = Decimal


def test_exchange_info_says_which_symbols_take_icebergs() -> None:
    async def main() -> None:
        async with world(SPOT) as (fake, adapter):
            spec = fake.venue.symbols[SPOT]["BNBUSDT"]
            fake.venue.symbols[SPOT]["BNBUSDT"] = dataclasses.replace(spec, iceberg_allowed=False)
            found = {vi.instrument.symbol: vi.instrument for vi in await adapter.instruments()}
            assert found["BTC/USDT"].iceberg_allowed and found["BTC/USDT"].iceberg_parts == 10
            assert found["BTC/USDT"].native_iceberg
            assert not found["BNB/USDT"].iceberg_allowed
        async with world(USDM) as (_, adapter):
            for vi in await adapter.instruments():
                assert not vi.instrument.iceberg_allowed and not vi.instrument.native_iceberg

    run(main)


def test_an_iceberg_shows_only_its_part_and_refills_as_it_fills() -> None:
    async def main() -> None:
        async with world(SPOT) as (fake, adapter):
            await adapter.instruments()
            facts = Facts(adapter)
            await facts.wait(gap("STARTED"))
            placed = await adapter.place(
                limit(1, "BTC/USDT", Side.SELL, "0.01", "60000", display_qty=D("0.002"))
            )
            assert isinstance(placed, Acknowledged), placed
            o = fake_order(fake, SPOT, cid(1))
            assert o.iceberg_qty == D("0.002")
            client: Any = adapter._client
            raw = await client.privateGetOrder({"symbol": "BTCUSDT", "origClientOrderId": cid(1)})
            assert D(raw["icebergQty"]) == D("0.002")
            ticker = await client.publicGetTickerBookTicker({"symbol": "BTCUSDT"})
            assert (D(ticker["askPrice"]), D(ticker["askQty"])) == (D(60000), D("0.002"))

            # A taker for 0.003: the visible 0.002, then 0.001 of the refill.
            fake.venue.house_quote(SPOT, "BTCUSDT", "BUY", "60000", "0.003")
            trades = await facts.wait(update(cid(1), "TRADE"), count=2)
            assert [t.fill.qty for t in trades if t.fill is not None] == [D("0.002"), D("0.001")]
            assert trades[-1].order.cum_qty == D("0.003")
            ticker = await client.publicGetTickerBookTicker({"symbol": "BTCUSDT"})
            assert D(ticker["askQty"]) == D("0.001")  # what is left of the refill
            assert o.leaves == D("0.007")

            canceled = await adapter.cancel(_cancel(1))
            assert isinstance(canceled, Acknowledged), canceled
            assert canceled.order is not None and canceled.order.cum_qty == D("0.003")
            ticker = await client.publicGetTickerBookTicker({"symbol": "BTCUSDT"})
            assert D(ticker["askQty"]) == 0
            await facts.stop()

    run(main)


def test_the_execution_report_carries_the_iceberg_qty() -> None:
    async def main() -> None:
        async with world(SPOT) as (fake, adapter):
            await adapter.instruments()
            seen: list[dict[str, Any]] = []
            fake.venue.user_listeners.append(lambda market, account, msg: seen.append(msg))
            placed = await adapter.place(
                limit(2, "BTC/USDT", Side.BUY, "0.01", "50000", display_qty=D("0.005"))
            )
            assert isinstance(placed, Acknowledged), placed
            reports = [m for m in seen if m.get("e") == "executionReport"]
            assert reports and D(reports[-1]["F"]) == D("0.005")

    run(main)


def _cancel(n: int) -> Any:
    from atlas_oms.model.venue import CancelOrder

    return CancelOrder(order_id=n, client_order_id=cid(n), symbol="BTC/USDT")


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        pytest.param({"display_qty": D("0.0005")}, "FILTER_ICEBERG_PARTS", id="too-many-parts"),
        pytest.param({"display_qty": D("0.000001")}, "FILTER_LOT_SIZE", id="off-lot"),
        pytest.param({"display_qty": D("0.01")}, "INVALID_REQUEST", id="all-of-it"),
        pytest.param(
            {"display_qty": D("0.002"), "tif": TimeInForce.IOC}, "UNSUPPORTED_ORDER", id="ioc"
        ),
    ],
)
def test_the_adapter_refuses_what_binance_refuses(changes: dict[str, Any], reason: str) -> None:
    async def main() -> None:
        async with world(SPOT) as (_, adapter):
            await adapter.instruments()
            out = await adapter.place(limit(3, "BTC/USDT", Side.BUY, "0.01", "50000", **changes))
            assert isinstance(out, Refused) and out.reason == reason, out

    run(main)


def test_a_symbol_without_icebergs_is_refused_before_sending() -> None:
    async def main() -> None:
        async with world(SPOT) as (fake, adapter):
            spec = fake.venue.symbols[SPOT]["BNBUSDT"]
            fake.venue.symbols[SPOT]["BNBUSDT"] = dataclasses.replace(spec, iceberg_allowed=False)
            await adapter.instruments()
            out = await adapter.place(
                limit(4, "BNB/USDT", Side.SELL, "1", "600", display_qty=D("0.1"))
            )
            assert isinstance(out, Refused) and out.reason == "UNSUPPORTED_ORDER", out
            assert not [o for o in fake.venue.orders.values() if o.client_id == cid(4)]

    run(main)


@pytest.mark.parametrize(
    ("params", "code", "msg"),
    [
        pytest.param(
            {"symbol": "BNBUSDT", "quantity": "1", "icebergQty": "0.1"},
            -2010,
            "Iceberg orders are not supported for this symbol.",
            id="not-allowed",
        ),
        pytest.param(
            {"quantity": "0.01", "icebergQty": "0.002", "timeInForce": "IOC"},
            -2010,
            "Unsupported order combination",
            id="ioc",
        ),
        pytest.param(
            {"quantity": "0.01", "icebergQty": "0.01"},
            -2010,
            "IcebergQty exceeds QTY.",
            id="all-of-it",
        ),
        pytest.param(
            {"quantity": "0.01", "icebergQty": "0.0005"},
            -1013,
            "Filter failure: ICEBERG_PARTS",
            id="too-many-parts",
        ),
    ],
)
def test_the_fake_refuses_icebergs_with_binances_codes(
    params: dict[str, str], code: int, msg: str
) -> None:
    async def main() -> None:
        async with world(SPOT) as (fake, adapter):
            spec = fake.venue.symbols[SPOT]["BNBUSDT"]
            fake.venue.symbols[SPOT]["BNBUSDT"] = dataclasses.replace(spec, iceberg_allowed=False)
            body = {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "price": "500",
                "newClientOrderId": cid(5),
            } | params
            with pytest.raises(Exception) as raised:
                await adapter._client.privatePostOrder(body)
            assert str(code) in str(raised.value) and msg in str(raised.value)

    run(main)


def test_usdm_has_no_icebergs() -> None:
    async def main() -> None:
        async with world(USDM) as (_, adapter):
            out = await adapter.place(
                limit(6, "BTC/USDT:USDT", Side.BUY, "0.01", "50000", display_qty=D("0.005"))
            )
            assert isinstance(out, Refused) and out.reason == "UNSUPPORTED_ORDER", out
            assert "no iceberg" in out.message

    run(main)


def test_an_order_update_of_an_iceberg_parses() -> None:
    # The stream's executionReport (with F) is an ordinary order update to the adapter.
    async def main() -> None:
        async with world(SPOT) as (_, adapter):
            await adapter.instruments()
            facts = Facts(adapter)
            await facts.wait(gap("STARTED"))
            await adapter.place(
                limit(7, "BTC/USDT", Side.BUY, "0.01", "50000", display_qty=D("0.002"))
            )
            (new,) = await facts.wait(update(cid(7), "NEW"))
            assert isinstance(new, OrderUpdate) and new.order.qty == D("0.01")
            await facts.stop()

    run(main)
