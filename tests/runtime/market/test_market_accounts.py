"""accounts.yaml's ``fees:`` tiers and ``account_routing.strategies`` as the consolidated book
uses them (fee-adjusted levels; the route book's accounts)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from atlas_oms import ManualClock, Node
from atlas_oms.model.route_book import BookLevel, VenueBook
from atlas_oms.runtime.market.hub import MarketData
from atlas_oms.venues.accounts import AccountsConfigError, parse_accounts

YAML = """
accounts:
  binance:
    main: {type: main, spot_enabled: true}
    arb1: {type: sub, parent: main, spot_enabled: true}
  bybit:
    main: {type: main, spot_enabled: true}
    arb1: {type: sub, parent: main, spot_enabled: true}
account_routing:
  default: main
  strategies: {arb: [arb1, main]}
fees:
  binance_spot_arb1:
    binance: {maker: "0.0001", taker: "0.0002"}
    bybit: {maker: "-0.0001", taker: "0.0005"}
"""


def test_fees_section_is_parsed_and_checked() -> None:
    config = parse_accounts(YAML)
    tier = config.fees["binance_spot_arb1"]["bybit"]
    assert (tier.maker, tier.taker) == (D("-0.0001"), D("0.0005"))
    assert parse_accounts(YAML.split("fees:")[0]).fees == {}
    with pytest.raises(AccountsConfigError, match=r"fees\.a\.binance\.taker"):
        parse_accounts(YAML.split("fees:")[0] + "fees: {a: {binance: {maker: 0, taker: 2}}}\n")


def test_route_book_names_the_strategys_accounts_on_the_groups_venues_and_fees_apply() -> None:
    node = Node.in_memory(clock=ManualClock(5))
    md = MarketData(node, accounts=parse_accounts(YAML))
    md.apply(VenueBook(venue="binance", symbol="BTC/USDT", asks=(BookLevel(D("100"), D("1")),)))
    md.apply(VenueBook(venue="bybit", symbol="BTC/USDT@bybit", asks=(BookLevel(D("100"), D("1")),)))
    rb = md.route_book("BTC/USDT", "binance_spot_arb1", "arb")
    assert rb.accounts == (
        "binance_spot_arb1",
        "bybit_spot_arb1",
        "binance_spot_main",
        "bybit_spot_main",
    )
    asks = md.book.levels("BTC/USDT", "ask", account_id="binance_spot_arb1")
    assert [(a.venue, a.fee_adjusted) for a in asks] == [
        ("binance", D("100") * D("1.0002")),
        ("bybit", D("100") * D("1.0005")),
    ]
