"""The consolidated book (MD-1): venues merged per unified symbol and base asset, prices
normalized through the configured conversions, fee-adjusted per account, stale books left out,
and the router's snapshot."""

from __future__ import annotations

from decimal import Decimal as D

from atlas_oms.model.instrument import Instrument, InstrumentKind
from atlas_oms.model.route_book import BookLevel, QuoteRate, VenueBook
from atlas_oms.runtime.market.config import FeeTier, MarketDataConfig
from atlas_oms.runtime.market.consolidated import ConsolidatedBook, group_of, split_symbol

SEC = 1_000_000_000


def inst(symbol: str, venue: str, quote: str, taker: str = "0") -> Instrument:
    return Instrument(
        symbol=symbol,
        kind=InstrumentKind.SPOT,
        base="BTC",
        quote=quote,
        venue=venue,
        tick_size=D("0.01"),
        lot_size=D("0.0001"),
        taker_fee=D(taker),
    )


INSTRUMENTS = {
    "BTC/USDT": inst("BTC/USDT", "binance", "USDT", "0.001"),
    "BTC/USDT@bybit": inst("BTC/USDT@bybit", "bybit", "USDT", "0.002"),
    "BTC/KRW@upbit": inst("BTC/KRW@upbit", "upbit", "KRW", "0.0005"),
    "BTC/USD@alpaca": inst("BTC/USD@alpaca", "alpaca", "USD", "0"),
}


def vb(
    venue: str,
    symbol: str,
    bids: list[tuple[str, str]],
    asks: list[tuple[str, str]],
    ts: int = 10 * SEC,
    update_id: int = 0,
) -> VenueBook:
    return VenueBook(
        venue=venue,
        symbol=symbol,
        bids=tuple(BookLevel(D(p), D(q)) for p, q in bids),
        asks=tuple(BookLevel(D(p), D(q)) for p, q in asks),
        ts=ts,
        update_id=update_id,
    )


def make(now: int = 10 * SEC, **config: object) -> ConsolidatedBook:
    cfg = MarketDataConfig(
        rates={"KRW/USDT": D("0.0005"), "USDT/USD": D("1")},  # USD->USDT derived: 1
        **config,  # type: ignore[arg-type]
    )
    return ConsolidatedBook(cfg, instruments=INSTRUMENTS.get, now=lambda: now)


def feed(book: ConsolidatedBook) -> None:
    book.apply(vb("binance", "BTC/USDT", [("100", "1"), ("99", "2")], [("101", "1"), ("102", "2")]))
    book.apply(vb("bybit", "BTC/USDT@bybit", [("100.5", "3")], [("100.8", "1"), ("103", "5")]))
    book.apply(vb("upbit", "BTC/KRW@upbit", [("199000", "1")], [("201000", "1")]))  # 99.5/100.5
    book.apply(vb("alpaca", "BTC/USD@alpaca", [("99.8", "1")], [("100.9", "2")]))


def test_symbols_group_by_base_asset_and_contract_kind() -> None:
    assert split_symbol("BTC/USDT@bybit") == ("BTC", "USDT", "")
    assert split_symbol("BTC/USDT:USDT") == ("BTC", "USDT", ":USDT")
    assert group_of("BTC/KRW@upbit") == group_of("BTC/USDT") == "BTC"
    assert group_of("BTC/USDT:USDT") != group_of("BTC/USDT")


def test_asks_merge_across_venues_and_quotes_best_first_normalized_to_the_reference() -> None:
    book = make()
    feed(book)
    asks = book.levels("BTC/USDT", "ask", depth=5)
    assert [(a.venue, a.symbol, a.price, a.normalized) for a in asks] == [
        ("upbit", "BTC/KRW@upbit", D("201000"), D("100.5000")),
        ("bybit", "BTC/USDT@bybit", D("100.8"), D("100.8")),
        ("alpaca", "BTC/USD@alpaca", D("100.9"), D("100.9")),
        ("binance", "BTC/USDT", D("101"), D("101")),
        ("binance", "BTC/USDT", D("102"), D("102")),
    ]
    bids = book.levels("BTC/USDT", "bid", depth=3)
    assert [(b.venue, b.normalized, b.qty) for b in bids] == [
        ("bybit", D("100.5"), D("3")),
        ("binance", D("100"), D("1")),
        ("alpaca", D("99.8"), D("1")),
    ]


def test_a_venue_without_a_conversion_is_left_out() -> None:
    book = ConsolidatedBook(MarketDataConfig(), instruments=INSTRUMENTS.get, now=lambda: 10 * SEC)
    feed(book)
    venues = {lv.venue for lv in book.levels("BTC/USDT", "ask", depth=20)}
    assert venues == {"binance", "bybit"}  # KRW and USD have no rate to USDT


def test_the_reference_quote_is_configurable_per_base_asset() -> None:
    book = make(reference={"BTC": "KRW"})
    feed(book)
    best = book.levels("BTC/USDT", "ask", depth=1)[0]
    assert (best.venue, best.normalized) == ("upbit", D("201000"))
    assert book.levels("BTC/USDT", "ask", depth=2)[1].normalized == D("100.8") / D("0.0005")


def test_fee_adjusted_prices_use_the_instrument_taker_fee_or_the_account_tier() -> None:
    book = make(fees={"acct": {"bybit": FeeTier(D("0.0001"), D("0.01"))}})
    feed(book)
    asks = book.levels("BTC/USDT", "ask", depth=5, account_id="acct")
    by_venue = {a.venue: a for a in reversed(asks)}  # each venue's best
    # bybit's 1% tier makes 100.8 cost 101.808: now behind binance's 101 (+0.1% = 101.101)
    assert by_venue["bybit"].fee_adjusted == D("100.8") * D("1.01")
    assert by_venue["binance"].fee_adjusted == D("101") * D("1.001")
    assert [a.venue for a in asks][:4] == ["upbit", "alpaca", "binance", "bybit"]
    bids = book.levels("BTC/USDT", "bid", depth=1, account_id="other")
    assert bids[0].fee_adjusted == D("100.5") * (1 - D("0.002"))  # instrument's fee


def test_an_older_update_of_the_same_book_is_dropped() -> None:
    book = make()
    assert book.apply(vb("binance", "BTC/USDT", [("100", "1")], [("101", "1")], update_id=5))
    assert not book.apply(vb("binance", "BTC/USDT", [("90", "1")], [("91", "1")], update_id=4))
    assert book.best("BTC/USDT")[0].bid == D("100")


def test_stale_books_are_marked_and_left_out_of_the_merged_levels() -> None:
    book = make(now=20 * SEC, stale_ms=5_000)
    book.apply(vb("binance", "BTC/USDT", [("100", "1")], [("101", "1")], ts=19 * SEC))
    book.apply(vb("bybit", "BTC/USDT@bybit", [("100", "1")], [("100.5", "1")], ts=10 * SEC))
    best = {b.venue: b for b in book.best("BTC/USDT")}
    assert best["bybit"].stale and best["bybit"].age_ns == 10 * SEC
    assert not best["binance"].stale and best["binance"].age_ns == SEC
    assert [lv.venue for lv in book.levels("BTC/USDT", "ask")] == ["binance"]


def test_route_book_is_the_groups_snapshot_with_rates_accounts_and_throttled() -> None:
    book = make(stale_ms=3_000)
    feed(book)
    seen: list[object] = []
    book.strategy_accounts = lambda strategy, venues: [
        ("binance", "binance_spot_a"),
        ("bybit", "bybit_spot_a"),
    ]

    def throttled(pairs: object) -> tuple[str, ...]:
        seen.append(pairs)
        return ("bybit/bybit_spot_a",)

    book.throttled = throttled
    rb = book.route_book("BTC/USDT@bybit", "binance_spot_a", "arb")
    assert rb.symbol == "BTC/USDT" and rb.quote == "USDT" and rb.ts == 10 * SEC
    assert [b.venue for b in rb.books] == ["alpaca", "binance", "bybit", "upbit"]
    assert rb.rates == (QuoteRate("KRW", D("0.0005")), QuoteRate("USD", D("1")))
    assert rb.accounts == ("binance_spot_a", "bybit_spot_a")
    assert rb.throttled == ("bybit/bybit_spot_a",)
    assert rb.stale_ns == 3 * SEC
    plain = book.route_book("BTC/USDT")
    assert plain.accounts == () and plain.throttled == ()
