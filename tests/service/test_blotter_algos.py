"""The web blotter's "Parent orders" panel (issue 16): each parent with its kind, progress, average
price and status; a row expands into its children; pause, resume and cancel buttons. The real
``atlas serve`` and headless Chromium, as test_blotter_e2e.py (skipped, saying why, without
Playwright or a Chromium)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.service.test_blotter_e2e import Server, browser, open_blotter, server

__all__ = ["browser", "server"]  # the fixtures, used by name


def test_the_blotter_shows_a_parent_its_children_and_pauses_resumes_and_cancels_it(
    server: Server, browser: Any
) -> None:
    from playwright.sync_api import expect

    trader = server.tokens["trader"]
    book = server.api("GET", "/v1/book/BTC/USDT?levels=1", trader)
    ask = Decimal(book["asks"][0][0])  # the built-in market maker's offer: the first slice fills
    body = {
        "account_id": "desk",
        "symbol": "BTC/USDT",
        "side": "BUY",
        "qty": "0.004",
        "kind": "TWAP",
        "algo_id": "blotter-tw",
        "duration_ms": 3_600_000,
        "slices": 4,
        "limit_price": str(ask + 50),
    }
    made = server.api("POST", "/v1/algos", trader, body)
    assert made["children"], made
    page = open_blotter(browser, server, trader)
    row = page.locator('#algos tr[data-algo-id="blotter-tw"]')
    expect(row).to_be_visible()
    expect(row.locator(".algo-kind")).to_have_text("TWAP")
    made = server.api("GET", "/v1/algos/blotter-tw", trader)
    expect(row.locator(".algo-progress")).to_have_text(f"{made['cum_qty']} / {made['qty']}")
    expect(row.locator(".algo-status")).to_have_text("WORKING")
    children = page.locator('#algos tr.algo-children[data-parent="blotter-tw"]')
    # Expand the parent. The page may still be settling its account (which collapses every
    # parent) when the first click lands: click again while the toggle shows collapsed.
    for _ in range(5):
        if row.locator(".algo-toggle").inner_text() == "▸":
            row.locator(".algo-toggle").click()
        try:
            children.wait_for(state="visible", timeout=1500)
            break
        except Exception:  # playwright's TimeoutError: collapsed again meanwhile
            continue
    expect(children).to_contain_text(f"#{made['children'][0]['order_id']} sim/desk")
    expect(children).to_contain_text("slippage")
    row.get_by_role("button", name="Pause").click()
    expect(row.locator(".algo-status")).to_have_text("PAUSED")
    row.get_by_role("button", name="Resume").click()
    expect(row.locator(".algo-status")).to_have_text("WORKING")
    row.get_by_role("button", name="Cancel").click()
    expect(row.locator(".algo-status")).to_have_text("CANCELED (CANCELED_BY_USER)")
    assert server.api("GET", "/v1/algos/blotter-tw", trader)["status"] == "CANCELED"
    assert page.errors == []
