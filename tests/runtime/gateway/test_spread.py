"""Rate limits spread across accounts (issue 15 §2, seed 002): orders go to the account with
budget left, per account and per shared scope, budgets taken from the venue's headers."""

from __future__ import annotations

from atlas_oms.runtime.gateway.ratelimit import Limits, default_specs
from atlas_oms.runtime.gateway.spread import BudgetBook, book_for, choose


def test_choose_keeps_the_current_account_while_it_has_budget_then_moves_on() -> None:
    assert choose([2, 3, 0], [(), (), ()], [], 0) == 0
    assert choose([0, 3, 0], [(), (), ()], [], 0) == 1
    assert choose([4, 0, 1], [(), (), ()], [], 1) == 2  # round the ring from the cursor
    assert choose([0, 0, 0], [(), (), ()], [], 0) == -1


def test_a_spent_shared_scope_excludes_every_account_in_it() -> None:
    # accounts 0 and 1 share scope 0 (one IP), account 2 is behind scope 1
    scopes = [(0,), (0,), (1,)]
    assert choose([5, 5, 5], scopes, [0, 10], 0) == 2
    assert choose([5, 5, 5], scopes, [3, 10], 0, weight=4) == 2
    assert choose([5, 5, 0], scopes, [0, 10], 0) == -1


def test_orders_spread_over_accounts_as_budgets_run_out() -> None:
    book = BudgetBook(["A", "B", "C"], {"A": ("ip",), "B": ("ip",), "C": ("ip2",)})
    for account, left in (("A", 2), ("B", 1), ("C", 5)):
        book.set_account(account, left)
    book.set_scope("ip", 100)
    book.set_scope("ip2", 2)
    picks = [book.choose_and_take() for _ in range(6)]
    assert picks == ["A", "A", "B", "C", "C", None]  # C's IP scope has 2 left


def test_budgets_come_from_the_venue_headers() -> None:
    now = [1_000_000.0]
    limits = Limits(default_specs(), now=lambda: now[0])
    venue_of = {"A": "binance", "B": "binance"}
    book = book_for(["A", "B"], venue_of)
    # Binance says A sent 100 orders in the 10 s window (the limit): A has none left
    limits.scope("binance").on_response("A", 200, {"X-MBX-ORDER-COUNT-10S": "100"})
    limits.scope("binance").on_response("B", 200, {"X-MBX-ORDER-COUNT-10S": "7"})
    book.refresh(limits, venue_of)
    assert book.choose() == "B"
    assert book.left == [0, 93]
    # the IP's weight (shared by A and B) is spent: nobody may send
    limits.scope("binance").on_response("B", 200, {"X-MBX-USED-WEIGHT-1M": "6000"})
    book.refresh(limits, venue_of)
    assert book.choose() is None
    # a 429 pauses the scope: nothing left either, even after the window rolled
    now[0] += 60
    limits.scope("binance").on_response("B", 429, {"Retry-After": "30"})
    book.refresh(limits, venue_of)
    assert book.choose() is None
    now[0] += 31
    book.refresh(limits, venue_of)
    assert book.choose() == "B"
