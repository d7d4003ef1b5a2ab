"""Parents on an external venue read the venues' trades through the node's market data hub
(``Node.market_data``, runtime/market/hub.py): a VWAP without weights takes its volume profile
from the hub's trade statistics, and the execution report's market volume (participation) is
the hub's count over the parent's window. The core still receives the weights in the command."""

from __future__ import annotations

from decimal import Decimal as D

from atlas_oms import Instrument, ManualClock, Node
from atlas_oms.model.events_algos import AlgoSlicesPlanned
from atlas_oms.model.venue import PriceTick, SetVenueStatus
from atlas_oms.runtime.market.config import MarketDataConfig
from atlas_oms.runtime.market.hub import MarketData

SEC = 1_000_000_000
T0 = 10_000 * SEC
ETH = "ETH/USDT"


class GatewayStub:
    """Takes the node's venue requests and answers nothing."""

    synchronous = False

    def __init__(self, name: str) -> None:
        self.name = name
        self.requests: list[object] = []

    def handle(self, request: object) -> list[object]:
        self.requests.append(request)
        return []


def external_node(*, hub: bool = True) -> tuple[Node, MarketData | None]:
    node = Node.in_memory(clock=ManualClock(T0), venues=[GatewayStub("okx")])
    node.add_instrument(Instrument.spot(ETH, tick_size="0.01", lot_size="0.01", venue="okx"))
    node.open_account("t1")
    node.deposit("t1", "USDT", 1_000_000)
    node.deposit("t1", "ETH", 100)
    node.process(SetVenueStatus(venue="okx", account_id="t1", tradable=True, reason="READY"))
    node.update_prices(ETH, last="3000")
    md = None
    if hub:
        md = MarketData(node, MarketDataConfig(windows_s=(600,)))
        node.market_data = md
    return node, md


def trade(md: MarketData, ts: int, qty: str, px: str = "3000") -> None:
    md.on_tick("okx", PriceTick(symbol=ETH, ts=ts, last=D(px), last_qty=D(qty)))


def test_a_vwap_on_an_external_venue_follows_the_hubs_volume_profile() -> None:
    node, md = external_node()
    assert md is not None
    # One earlier window of 60 s in three 20 s parts: 1, then 3, then nothing.
    trade(md, T0 - 55 * SEC, "1")
    trade(md, T0 - 30 * SEC, "2")
    trade(md, T0 - 25 * SEC, "1")
    md.on_tick("okx", PriceTick(symbol=ETH, ts=T0 - 5 * SEC, last=D("3001")))  # no quantity
    view = node.submit_algo(
        "t1", ETH, "BUY", "4", "VWAP", algo_id="vw", duration_ms=60_000, slices=3
    )
    (plan,) = [e for e in node.events() if isinstance(e, AlgoSlicesPlanned)]
    assert [s.qty for s in plan.slices] == [D("1"), D("3"), D("0")]
    assert view.slices_planned == 3


def test_without_a_hub_or_trades_the_vwap_weights_are_equal() -> None:
    for hub in (False, True):
        node, _ = external_node(hub=hub)
        node.submit_algo("t1", ETH, "BUY", "3", "VWAP", algo_id="vw", duration_ms=60_000, slices=3)
        (plan,) = [e for e in node.events() if isinstance(e, AlgoSlicesPlanned)]
        assert [s.qty for s in plan.slices] == [D("1"), D("1"), D("1")]


def test_the_report_counts_the_hubs_volume_in_the_parents_window() -> None:
    node, md = external_node()
    assert md is not None
    trade(md, T0 - SEC, "7")  # before acceptance: not in the window
    node.submit_algo("t1", ETH, "BUY", "1", "TWAP", algo_id="tw", duration_ms=60_000, slices=2)
    trade(md, T0 + 2 * SEC, "3")
    trade(md, T0 + 9 * SEC, "1.5")
    node.clock.set(T0 + 10 * SEC)  # type: ignore[attr-defined]
    report = node.algo_report("tw")
    assert report["market_volume"] == "4.5"
    assert report["participation_pct"] == "0.00"  # nothing filled yet
    assert node.algo("tw").report["market_volume"] == "4.5"
    assert node.algo_report("tw", market_volume=9)["market_volume"] == "9"  # supplied wins


def test_without_a_hub_an_external_parent_has_no_market_volume() -> None:
    node, _ = external_node(hub=False)
    node.submit_algo("t1", ETH, "BUY", "1", "TWAP", algo_id="tw", duration_ms=60_000, slices=2)
    assert node.algo_report("tw")["market_volume"] is None
