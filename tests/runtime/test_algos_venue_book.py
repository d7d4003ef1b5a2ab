"""A TWAP/VWAP slice on an external venue (not SMART) is priced from that venue's book: the slice
asks the runtime for it (``AlgoRouteRequested`` + ``NeedRouteBook`` naming the venue), the Node
answers from its ``route_books`` provider with that venue's books only, and the slice starts
priced ``slice_aggression_bps`` through the best opposite level (``AlgoSliceStarted.quote``).
No book there (or a stale one): the last price, as before."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

from atlas_oms import Instrument, ManualClock, Node
from atlas_oms.model.events_algos import AlgoRouteRequested, AlgoSliceStarted
from atlas_oms.model.requests import SubmitToVenue
from atlas_oms.model.route_book import BookLevel, RouteBook, VenueBook
from atlas_oms.model.venue import SetVenueStatus

SEC = 1_000_000_000
T0 = 10_000 * SEC
ETH = "ETH/USDT"


class GatewayStub:
    synchronous = False

    def __init__(self, name: str) -> None:
        self.name = name
        self.requests: list[object] = []

    def handle(self, request: object) -> list[object]:
        self.requests.append(request)
        return []


def provider(asked: list[tuple[str, str, str | None]], *, age_ns: int = 0, stale_ns: int = 0):
    def books(symbol: str, account_id: str, strategy: str | None) -> RouteBook:
        asked.append((symbol, account_id, strategy))
        now = T0 + 100 * SEC
        okx = VenueBook(
            venue="okx",
            symbol=ETH,
            bids=(BookLevel(D("2999.5"), D("3")),),
            asks=(BookLevel(D("3000.5"), D("2")), BookLevel(D("3001"), D("5"))),
            ts=now - age_ns,
        )
        other = VenueBook(
            venue="sim", symbol="ETH/USDT@sim", asks=(BookLevel(D("2900"), D("9")),), ts=now
        )
        return RouteBook(symbol=symbol, quote="USDT", ts=now, books=(okx, other), stale_ns=stale_ns)

    return books


def node_at(journal: str | None = None) -> Node:
    stub = GatewayStub("okx")
    if journal is None:
        return Node.in_memory(clock=ManualClock(T0), venues=[stub])
    return Node(journal=journal, clock=ManualClock(T0), venues=[stub])


def setup(node: Node) -> None:
    node.add_instrument(Instrument.spot(ETH, tick_size="0.01", lot_size="0.01", venue="okx"))
    node.open_account("t1")
    node.deposit("t1", "USDT", 1_000_000)
    node.deposit("t1", "ETH", 100)
    node.process(SetVenueStatus(venue="okx", account_id="t1", tradable=True, reason="READY"))
    node.update_prices(ETH, last="3000")


def sent(node: Node) -> list[SubmitToVenue]:
    stub = node.venues["okx"]
    return [r for r in stub.requests if isinstance(r, SubmitToVenue)]  # type: ignore[attr-defined]


def twap(node: Node, side: str = "BUY") -> None:
    node.submit_algo(
        "t1", ETH, side, "2", "TWAP", algo_id="tw", duration_ms=60_000, slices=2,
        slice_aggression_bps=10, strategy="s1",
    )  # fmt: skip


def test_a_slice_on_an_external_venue_is_priced_from_that_venues_book() -> None:
    node = node_at()
    setup(node)
    asked: list[tuple[str, str, str | None]] = []
    node.route_books = provider(asked)
    twap(node)
    assert asked == [(ETH, "t1", "s1")]
    (req,) = [e for e in node.events() if isinstance(e, AlgoRouteRequested)]
    assert (req.slice_no, req.qty) == (0, D("1"))
    (started,) = [e for e in node.events() if isinstance(e, AlgoSliceStarted)]
    assert started.quote == D("3000.5")  # the okx ask, not the sim book's 2900 nor last 3000
    assert started.price == D("3003.51")  # 10 bps through, up to the tick
    (child,) = sent(node)
    assert (child.qty, child.price) == (D("1"), D("3003.51"))
    assert node.engine.state.algos["tw"].route_pending is None
    node.clock.set(T0 + 30 * SEC)  # type: ignore[attr-defined]
    node.tick()
    assert len(asked) == 2 and [
        e.slice_no for e in node.events() if isinstance(e, AlgoSliceStarted)
    ] == [0, 1]


def test_a_sell_slice_takes_the_best_bid() -> None:
    node = node_at()
    setup(node)
    node.route_books = provider([])
    twap(node, "SELL")
    (started,) = [e for e in node.events() if isinstance(e, AlgoSliceStarted)]
    assert (started.quote, started.price) == (D("2999.5"), D("2996.50"))


def test_without_that_venues_book_the_slice_is_priced_from_the_last_price() -> None:
    node = node_at()
    setup(node)  # the default provider: the built-in exchange's books only
    twap(node)
    (started,) = [e for e in node.events() if isinstance(e, AlgoSliceStarted)]
    assert started.quote == D("3000") and started.price == D("3003.00")
    stale = node_at()
    setup(stale)
    stale.route_books = provider([], age_ns=10 * SEC, stale_ns=5 * SEC)
    twap(stale)
    (started,) = [e for e in stale.events() if isinstance(e, AlgoSliceStarted)]
    assert started.quote == D("3000")


def test_a_venue_priced_slice_replays_to_the_same_digest(tmp_path: Path) -> None:
    path = str(tmp_path / "j.db")
    node = node_at(path)
    setup(node)
    node.route_books = provider([])
    twap(node)
    digest = node.engine.digest()
    node.close()
    again = node_at(path)
    assert again.engine.digest() == digest
    assert again.engine.state.algos["tw"].route_pending is None
    again.close()
