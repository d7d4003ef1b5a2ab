"""A real node trading on the simulated venue "paper": positions, balances and fees follow its fills."""

from decimal import Decimal as D

from atlas_oms.model.enums import OrderStatus
from atlas_oms.model.instrument import Instrument
from atlas_oms.runtime.node import Node
from atlas_oms.simulation.config import FillConfig
from atlas_oms.simulation.market import BookSnapshot, TradePrint
from atlas_oms.simulation.venue import SimulatedVenue

SYM = "BTC/USDT"


def paper_node(config: FillConfig | None = None) -> tuple[Node, SimulatedVenue]:
    venue = SimulatedVenue(name="paper", config=config)
    node = Node.in_memory(venues=[venue])
    venue.bind(node.engine.state.instruments)
    node.add_instrument(
        Instrument.spot(
            SYM,
            tick_size="0.01",
            lot_size="0.0001",
            venue="paper",
            maker_fee="0.0005",
            taker_fee="0.001",
        )
    )
    node.open_account("alice")
    node.deposit("alice", "USDT", 100_000)
    return node, venue


def market(node: Node, venue: SimulatedVenue, event) -> None:
    for report in venue.on_market(event):
        node.feed(report)
    price = (
        event.price if isinstance(event, TradePrint) else (event.bids[0][0] + event.asks[0][0]) / 2
    )
    node.update_prices(SYM, last=price)  # what the market driver does for the core


def test_a_market_buy_walks_the_paper_book_and_books_position_balance_and_fee() -> None:
    node, venue = paper_node()
    market(
        node,
        venue,
        BookSnapshot(
            symbol=SYM, ts=1, bids=((D(100), D(1)),), asks=((D("100.5"), D("0.05")), (D(101), D(1)))
        ),
    )
    order = node.buy("alice", SYM, "0.1")
    assert order.status is OrderStatus.FILLED
    assert order.avg_px == D("100.75")
    fee = D("0.05") * D("100.5") * D("0.001") + D("0.05") * D(101) * D("0.001")
    assert order.fees == fee and order.fee_asset == "USDT"
    assert node.position("alice", SYM).qty == D("0.1")
    assert node.balance("alice", "BTC").total == D("0.1")
    assert node.balance("alice", "USDT").total == D(100_000) - D("10.075") - fee


def test_a_limit_sell_rests_queues_and_fills_as_maker_through_node_feed() -> None:
    node, venue = paper_node()
    market(
        node, venue, BookSnapshot(symbol=SYM, ts=1, bids=((D(100), D(1)),), asks=((D(101), D(1)),))
    )
    node.buy("alice", SYM, "0.2")
    sell = node.sell("alice", SYM, "0.2", price="101")
    assert sell.status is OrderStatus.ACCEPTED
    assert sell.venue_order_id == f"paper-{sell.order_id}"
    (working,) = venue.open_orders(SYM)
    assert working.ahead == D("0.8")  # the 0.8 the buy left visible at 101 is ahead
    market(node, venue, TradePrint(symbol=SYM, ts=2, price=D(101), qty=D("0.9")))
    assert node.order(sell.order_id).status is OrderStatus.PARTIALLY_FILLED
    assert node.order(sell.order_id).cum_qty == D("0.1")
    market(node, venue, TradePrint(symbol=SYM, ts=3, price=D("101.5"), qty=D("0.01")))
    done = node.order(sell.order_id)
    assert done.status is OrderStatus.FILLED and done.avg_px == D(101)
    assert done.fees == D("0.2") * D(101) * D("0.0005")
    assert node.position("alice", SYM).qty == 0


def test_cancel_through_the_node_reaches_the_paper_venue() -> None:
    node, venue = paper_node()
    market(
        node, venue, BookSnapshot(symbol=SYM, ts=1, bids=((D(100), D(1)),), asks=((D(101), D(1)),))
    )
    order = node.buy("alice", SYM, "0.1", price="99")
    node.cancel("alice", order.order_id)
    assert node.order(order.order_id).status is OrderStatus.CANCELED
    assert venue.open_orders() == []
    assert node.balance("alice", "USDT").locked == 0


def test_after_a_restart_the_venue_is_restored_from_the_nodes_resting_orders() -> None:
    node, venue = paper_node()
    market(
        node, venue, BookSnapshot(symbol=SYM, ts=1, bids=((D(100), D(1)),), asks=((D(101), D(1)),))
    )
    order = node.buy("alice", SYM, "0.1", price="100")
    fresh = SimulatedVenue(node.engine.state.instruments, name="paper")
    fresh.restore(
        (o.symbol, o.order_id, o.account_id, o.side, o.price, o.leaves_qty)
        for o in node.resting_orders("paper")
    )
    node.venues["paper"] = fresh
    for report in fresh.on_market(
        BookSnapshot(symbol=SYM, ts=2, bids=((D(100), D(2)),), asks=((D(101), D(1)),))
    ):
        node.feed(report)
    (working,) = fresh.open_orders()
    assert working.order_id == order.order_id and working.ahead == D(2)  # the whole level
    for report in fresh.on_market(TradePrint(symbol=SYM, ts=3, price=D("99.99"), qty=D("0.01"))):
        node.feed(report)
    assert node.order(order.order_id).status is OrderStatus.FILLED
