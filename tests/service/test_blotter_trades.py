"""The web blotter shows managed trades (issue 13 §3 "the blotter shows managed trades with their
stop and targets"): the real ``atlas serve`` and headless Chromium, as test_blotter_e2e.py (skipped,
saying why, without Playwright or a Chromium)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.service.test_blotter_e2e import Server, browser, open_blotter, server

__all__ = ["browser", "server"]  # the fixtures, used by name


def test_the_blotter_lists_a_managed_trade_with_its_phase_position_stop_and_targets(
    server: Server, browser: Any
) -> None:
    from playwright.sync_api import expect

    trader = server.tokens["trader"]
    book = server.api("GET", "/v1/book/BTC/USDT?levels=1", trader)
    ask = Decimal(book["asks"][0][0])  # the built-in market maker's offer: the entry fills
    intent = {
        "intent_id": "blotter-1",
        "account_id": "desk",
        "symbol": "BTC/USDT",
        "side": "BUY",
        "entry_ideal": str(ask),
        "entry_max": str(ask + 50),
        "stop": str(ask - 200),
        "risk_amount": "10",  # 0.05 BTC
    }
    made = server.api("POST", "/v1/trades", trader, intent)
    # Filled at once, wholly or in part (the maker's offer is small): protected either way.
    assert made["stop_trigger"] is not None and made["tranches"], made
    page = open_blotter(browser, server, trader)
    made = server.api("GET", "/v1/trades/blotter-1", trader)  # as the page shows it now
    row = page.locator('#trades tr[data-trade-id="blotter-1"]')
    expect(row).to_be_visible()
    expect(row.locator(".trade-phase")).to_have_text(made["phase"])
    expect(row.locator(".trade-position")).to_have_text(made["position"])
    expect(row.locator(".trade-stop")).to_have_text(made["stop_trigger"])
    first = made["tranches"][0]
    expect(row.locator(".trade-targets")).to_contain_text(
        f"T1 {first['price']}×{first['planned_qty']}"
    )
    assert page.errors == []
