"""The rebalancer over ``accounts.yaml``: paper accounts are rebalanced in Atlas only; venue
accounts through the venue first (the main account's adapter, the sub's email), booked only once
the venue confirmed; an unknown outcome is journaled and resolved from the venue's history, never
booked twice; a run with a transfer in doubt plans nothing; the schedule runs on its clock."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from atlas_oms.model import events as ev
from atlas_oms.model.rebalance import VenueTransfer, VenueTransferResult
from atlas_oms.runtime.clock import ManualClock
from atlas_oms.runtime.node import Node
from atlas_oms.runtime.rebalance import Rebalancer, next_run_ns, run_schedule
from atlas_oms.runtime.venue_setup import open_venue_accounts
from atlas_oms.store.memory import MemoryJournal
from atlas_oms.venues.accounts import parse_accounts

D = Decimal
T0 = 1_767_225_600 * 1_000_000_000  # 2026-01-01 00:00 UTC, a Thursday

LIVE = """
accounts:
  binance:
    main: {type: main, spot_enabled: true}
    sub_a: {type: sub, parent: main, spot_enabled: true, email: a@desk.test, max_balance_usdt: 1000}
    sub_b: {type: sub, parent: main, spot_enabled: true, email: b@desk.test}
    sub_f: {type: sub, parent: main, futures_enabled: true, email: f@desk.test}
    sub_noemail: {type: sub, parent: main, spot_enabled: true}
account_routing:
  default: main
  balance_rules: {min_main_balance: 5000, max_sub_balance: 2000}
  rebalance: {enabled: true, schedule: daily, time: "00:00 UTC"}
"""

PAPER = """
accounts:
  binance:
    main: {type: main, spot_enabled: true, mode: paper, paper_balances: {USDT: 100}}
    sub_a: {type: sub, parent: main, spot_enabled: true, mode: paper, paper_balances: {USDT: 900}}
account_routing:
  default: main
  balance_rules: {min_main_balance: 300, max_sub_balance: 800}
  rebalance: {enabled: true, schedule: hourly, time: "00:15 UTC"}
"""


class StubVenue:
    """A venue's sub-account transfer API: ``answers`` in order, then DONE; ``history``: what
    its transfer history says per transfer id."""

    def __init__(self, answers: list[str] | None = None) -> None:
        self.answers = list(answers or [])
        self.sent: list[VenueTransfer] = []
        self.history: dict[str, str] = {}
        self.queries: list[str] = []

    async def transfer(self, t: VenueTransfer) -> VenueTransferResult:
        self.sent.append(t)
        status = self.answers.pop(0) if self.answers else "DONE"
        if status in ("DONE", "LOST"):  # LOST: done at the venue, the answer never came
            self.history[t.transfer_id] = f"{900 + len(self.sent)}"
        if status == "DONE":
            return VenueTransferResult(status="DONE", venue_transfer_id=self.history[t.transfer_id])
        if status == "REFUSED":
            return VenueTransferResult(status="REFUSED", reason="INSUFFICIENT_FUNDS")
        return VenueTransferResult(status="UNKNOWN", reason="TIMEOUT")

    async def transfer_status(self, t: VenueTransfer, since_ms: int) -> VenueTransferResult:
        self.queries.append(t.transfer_id)
        if t.transfer_id in self.history:
            return VenueTransferResult(status="DONE", venue_transfer_id=self.history[t.transfer_id])
        return VenueTransferResult(status="NOT_FOUND")


def live_world(answers: list[str] | None = None) -> tuple[Node, Rebalancer, StubVenue]:
    config = parse_accounts(LIVE)
    node = Node(MemoryJournal(), clock=ManualClock(T0))
    open_venue_accounts(node, config)
    for account, amount in [
        ("binance_spot_main", 1000),
        ("binance_spot_sub_a", 1500),
        ("binance_spot_sub_b", 2600),
        ("binance_futures_sub_f", 9000),
        ("binance_spot_sub_noemail", 9000),
    ]:
        node.deposit(account, "USDT", amount)
    venue = StubVenue(answers)
    adapters: dict[str, Any] = {a.account_id: object() for a in config.accounts}
    adapters["binance_spot_main"] = venue
    return node, Rebalancer(node, config, adapters, id_prefix="t-"), venue


def usdt(node: Node, account: str) -> Decimal:
    return node.balance(account, "USDT").total


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_paper_accounts_are_rebalanced_in_atlas_only_and_a_second_run_does_nothing() -> None:
    config = parse_accounts(PAPER)
    node = Node(MemoryJournal(), clock=ManualClock(T0))
    open_venue_accounts(node, config)
    reb = Rebalancer(node, config)
    report = run(reb.run(actor="ops"))
    assert report.status == "done"
    assert [(t.from_account, t.amount, t.rule, t.outcome) for t in report.transfers] == [
        ("binance_spot_sub_a", D(100), "max_sub_balance", "BOOKED"),
        ("binance_spot_sub_a", D(100), "min_main_balance", "BOOKED"),
    ]
    assert (usdt(node, "binance_spot_main"), usdt(node, "binance_spot_sub_a")) == (D(300), D(700))
    [first, _second] = node.transfers()
    assert first.transfer_id == report.transfers[0].transfer_id and first.venue_transfer_id == ""
    assert first.reason == "rebalance: max_sub_balance"
    assert run(reb.run()).status == "nothing to do"


def test_venue_accounts_move_at_the_venue_first_then_in_atlas_with_the_venue_id() -> None:
    node, reb, venue = live_world()
    report = run(reb.run(actor="ops"))
    # sub_a above its own 1000 cap; sub_b above 2000; main 1000+500+600 < 5000: pulls 2000
    # from sub_b (most to spare: 2000) then sub_a (1000); sub_f (umbrella parent) and
    # sub_noemail are left out
    assert [(t.from_account, t.amount, t.rule) for t in report.transfers] == [
        ("binance_spot_sub_a", D(500), "max_balance_usdt"),
        ("binance_spot_sub_b", D(600), "max_sub_balance"),
        ("binance_spot_sub_b", D(2000), "min_main_balance"),
        ("binance_spot_sub_a", D(900), "min_main_balance"),
    ]
    assert any("sub_noemail left out: no email" in n for n in report.notes)
    assert any("binance_futures_sub_f left out" in n for n in report.notes)
    sent = venue.sent[0]
    assert (sent.from_email, sent.to_email, sent.from_type, sent.to_type) == (
        "a@desk.test",
        "",
        "SPOT",
        "SPOT",
    )
    assert sent.transfer_id == report.transfers[0].transfer_id
    assert usdt(node, "binance_spot_main") == D(5000)
    assert all(t.venue_transfer_id for t in node.transfers())


def test_after_a_run_each_venue_account_whose_money_moved_is_reconciled() -> None:
    _node, reb, _venue = live_world()
    asked: list[tuple[str, str]] = []

    async def reconcile(venue: str, account_id: str) -> None:
        asked.append((venue, account_id))
        if account_id.endswith("sub_b"):
            raise RuntimeError("venue down")  # logged; the run's answer stands

    reb.reconcile = reconcile
    assert run(reb.run()).status == "done"
    assert asked == [
        ("binance", "binance_spot_main"),
        ("binance", "binance_spot_sub_a"),
        ("binance", "binance_spot_sub_b"),
    ]


def test_a_refusal_moves_nothing_in_atlas_and_is_journaled() -> None:
    node, reb, _venue = live_world(["REFUSED"])
    report = run(reb.run())
    assert report.transfers[0].outcome == "REFUSED"
    noted = [e for e in node.events() if isinstance(e, ev.VenueTransferNoted)]
    assert [(n.status, n.reason) for n in noted] == [("REFUSED", "INSUFFICIENT_FUNDS")]
    assert report.transfers[0].transfer_id not in {t.transfer_id for t in node.transfers()}


def test_an_unknown_outcome_is_journaled_resolved_from_history_and_booked_once() -> None:
    node, reb, venue = live_world(["LOST"])
    report = run(reb.run())
    first = report.transfers[0]
    assert first.outcome == "BOOKED" and first.venue_transfer_id == venue.history[first.transfer_id]
    noted = [e for e in node.events() if isinstance(e, ev.VenueTransferNoted)]
    assert [(n.transfer_id, n.status) for n in noted] == [(first.transfer_id, "UNKNOWN")]
    booked = [t for t in node.transfers() if t.transfer_id == first.transfer_id]
    assert len(booked) == 1
    # a fresh rebalancer (a restart) reading the journal finds nothing in doubt
    again = Rebalancer(node, reb.config, reb.adapters, id_prefix="t-")
    assert run(again.run()).status == "nothing to do"
    assert len([t for t in node.transfers() if t.transfer_id == first.transfer_id]) == 1


def test_an_unknown_that_the_history_cannot_settle_blocks_the_next_plan_until_it_can() -> None:
    node, reb, venue = live_world(["UNKNOWN"])

    async def still_unknown(t: VenueTransfer, since_ms: int) -> VenueTransferResult:
        raise RuntimeError("history down")

    real = venue.transfer_status
    venue.transfer_status = still_unknown  # type: ignore[method-assign]
    report = run(reb.run())
    lost = report.transfers[0]
    assert lost.outcome == "UNKNOWN"
    assert report.in_doubt == [lost.transfer_id]
    before = len(list(node.events()))
    blocked = run(reb.run())
    assert blocked.status == "in doubt" and blocked.run_id == 0
    assert not [e for e in list(node.events())[before:] if isinstance(e, ev.RebalancePlanned)]
    venue.transfer_status = real  # type: ignore[method-assign]
    resumed = run(reb.run())
    assert [r.outcome for r in resumed.resolved] == ["NOT_DONE"]  # it never reached the venue
    assert resumed.status == "done"  # and the new plan moves the money


def test_a_dry_run_shows_the_plan_and_changes_nothing() -> None:
    node, reb, venue = live_world()
    seq = node.seq
    report = reb.dry_run()
    assert report.status == "dry run" and len(report.transfers) == 4
    assert all(t.outcome == "PLANNED" for t in report.transfers)
    assert node.seq == seq and venue.sent == []


def test_next_run_is_the_next_hour_day_or_monday_at_the_configured_time() -> None:
    h, m = 3600 * 10**9, 60 * 10**9
    assert next_run_ns(T0, "daily", "00:00 UTC") == T0 + 24 * h
    assert next_run_ns(T0 + 1, "daily", "06:30 UTC") == T0 + 6 * h + 30 * m
    assert next_run_ns(T0 + 20 * m, "hourly", "00:15 UTC") == T0 + h + 15 * m
    assert next_run_ns(T0, "hourly", "00:15 UTC") == T0 + 15 * m
    # 2026-01-01 is a Thursday: the next Monday is 2026-01-05
    assert next_run_ns(T0, "weekly", "00:00 UTC") == T0 + 4 * 24 * h


def test_the_schedule_runs_at_its_times_on_an_injected_clock() -> None:
    config = parse_accounts(PAPER)
    node = Node(MemoryJournal(), clock=ManualClock(T0))
    open_venue_accounts(node, config)
    reb = Rebalancer(node, config)
    now = [T0 + 60 * 10**9]  # 00:01: the next run is at 00:15, then 01:15
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += int(seconds * 10**9)

    run(run_schedule(reb, now_ns=lambda: now[0], sleep=sleep, runs=2))
    plans = [e for e in node.events() if isinstance(e, ev.RebalancePlanned)]
    assert [(p.trigger, len(p.transfers)) for p in plans] == [("schedule", 2), ("schedule", 0)]
    assert now[0] == T0 + (60 + 15) * 60 * 10**9
    assert plans[0].actor == "schedule hourly"


BYBIT = """
accounts:
  bybit:
    main: {type: main, spot_enabled: true, uid: "1001"}
    sub_a: {type: sub, parent: main, spot_enabled: true, uid: "2002"}
    sub_b: {type: sub, parent: main, spot_enabled: true}
account_routing:
  default: main
  balance_rules: {max_sub_balance: 100}
"""


def test_bybit_subs_move_by_uid_between_unified_accounts_and_a_sub_without_uid_is_left_out() -> (
    None
):
    config = parse_accounts(BYBIT)
    node = Node(MemoryJournal(), clock=ManualClock(T0))
    open_venue_accounts(node, config)
    node.deposit("bybit_spot_sub_a", "USDT", 150)
    node.deposit("bybit_spot_sub_b", "USDT", 150)
    venue = StubVenue()
    reb = Rebalancer(node, config, {"bybit_spot_main": venue, "bybit_spot_sub_a": object()})
    report = run(reb.run())
    assert [(t.from_account, t.amount) for t in report.transfers] == [("bybit_spot_sub_a", D(50))]
    [sent] = venue.sent
    assert (sent.from_uid, sent.to_uid, sent.from_type, sent.to_type) == (
        "2002",
        "1001",
        "UNIFIED",
        "UNIFIED",
    )
    assert any("bybit_spot_sub_b left out: no uid" in n for n in report.notes)


def test_a_venue_account_that_is_not_tradable_now_is_left_out_of_the_run() -> None:
    _node, reb, venue = live_world()
    reb.tradable = lambda venue_name, account_id: account_id != "binance_spot_sub_b"
    report = run(reb.run())
    assert {t.from_account for t in report.transfers} == {"binance_spot_sub_a"}
    assert any(
        n.startswith("binance_spot_sub_b left out: binance_spot_sub_b is not tradable")
        for n in report.notes
    )
    assert all(t.from_email == "a@desk.test" for t in venue.sent)
