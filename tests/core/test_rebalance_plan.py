"""The rebalancing plan (seed 002 §10.5): a sub above its cap sends the excess to its main, a main
below its minimum pulls from its subs' spare money, nothing when within bounds; deterministic,
never taking what a sub's orders need; journaled as one ``RebalancePlanned`` that a replay
decides again identically."""

from __future__ import annotations

from decimal import Decimal

from atlas_oms.core.rebalance import Holding, plan
from atlas_oms.model import events as ev
from atlas_oms.model.rebalance import PlanRebalance, RebalanceAccount
from atlas_oms.runtime.clock import ManualClock
from atlas_oms.runtime.node import Node
from atlas_oms.store.memory import MemoryJournal

D = Decimal


def main(account_id: str = "m") -> RebalanceAccount:
    return RebalanceAccount(account_id=account_id, role="main")


def sub(
    account_id: str, cap: str | None = None, rule: str = "max_sub_balance", main_id: str = "m"
) -> RebalanceAccount:
    return RebalanceAccount(
        account_id=account_id,
        role="sub",
        main_id=main_id,
        cap=D(cap) if cap is not None else None,
        cap_rule=rule,
    )


def h(total: str, spare: str | None = None) -> Holding:
    return Holding(D(total), D(spare if spare is not None else total))


def rows(transfers: list) -> list[tuple[str, str, Decimal, str]]:
    return [(t.account_id, t.to_account_id, t.amount, t.rule) for t in transfers]


def test_a_sub_above_max_sub_balance_sends_the_excess_to_its_main() -> None:
    out, notes = plan(
        [main(), sub("s1", "50000")], {"m": h("200000"), "s1": h("80000")}, min_main_balance=None
    )
    assert rows(out) == [("s1", "m", D("30000"), "max_sub_balance")]
    assert notes == []


def test_a_subs_own_max_balance_usdt_is_its_cap_and_names_the_rule() -> None:
    out, _ = plan(
        [main(), sub("arb", "10000", "max_balance_usdt")],
        {"m": h("1"), "arb": h("12500.5")},
        min_main_balance=None,
    )
    assert rows(out) == [("arb", "m", D("2500.5"), "max_balance_usdt")]


def test_a_main_below_min_main_balance_pulls_from_the_sub_with_most_to_spare_first() -> None:
    out, notes = plan(
        [main(), sub("a"), sub("b"), sub("c")],
        {"m": h("90000"), "a": h("3000"), "b": h("8000"), "c": h("8000")},
        min_main_balance=D("100000"),
    )
    # b and c spare the same: by account id
    assert rows(out) == [
        ("b", "m", D("8000"), "min_main_balance"),
        ("c", "m", D("2000"), "min_main_balance"),
    ]
    assert notes == []


def test_the_excess_counts_toward_the_minimum_before_pulling_more() -> None:
    out, _ = plan(
        [main(), sub("a", "1000"), sub("b")],
        {"m": h("95000"), "a": h("3000"), "b": h("10000")},
        min_main_balance=D("100000"),
    )
    assert rows(out) == [
        ("a", "m", D("2000"), "max_sub_balance"),
        ("b", "m", D("3000"), "min_main_balance"),
    ]


def test_a_sub_never_gives_more_than_may_leave_it_and_the_rest_is_a_note() -> None:
    # 5000 total but orders lock 4000: only 1000 may leave
    out, notes = plan(
        [main(), sub("s", "2000")], {"m": h("0"), "s": h("5000", "1000")}, min_main_balance=D(10)
    )
    assert rows(out) == [("s", "m", D("1000"), "max_sub_balance")]
    assert notes == ["s stays 2000 above its cap 2000: only 1000 may leave it"]


def test_a_main_still_short_after_every_sub_gave_is_a_note() -> None:
    out, notes = plan([main(), sub("s")], {"m": h("10"), "s": h("5")}, min_main_balance=D("100"))
    assert rows(out) == [("s", "m", D("5"), "min_main_balance")]
    assert notes == ["m stays 85 below min_main_balance 100: its subs have no more to spare"]


def test_nothing_is_planned_when_every_account_is_within_bounds() -> None:
    out, notes = plan(
        [main(), sub("s", "100")], {"m": h("1000"), "s": h("100")}, min_main_balance=D("1000")
    )
    assert (out, notes) == ([], [])


def test_skipped_accounts_and_subs_of_unknown_mains_are_notes_not_transfers() -> None:
    skipped = RebalanceAccount(account_id="x", role="sub", main_id="m", cap=D(1), skip="why")
    out, notes = plan(
        [main(), skipped, sub("y", "1", main_id="gone")],
        {"m": h("0"), "x": h("50"), "y": h("50")},
        min_main_balance=D("100"),
    )
    assert out == []
    assert notes[0] == "x left out: why"
    assert notes[1].startswith("y left out")


def test_the_plan_is_the_same_whatever_order_the_accounts_come_in() -> None:
    accounts = [main("m2"), sub("b", "5", main_id="m2"), main(), sub("a", "5"), sub("c")]
    holdings = {"m": h("0"), "m2": h("0"), "a": h("9"), "b": h("7"), "c": h("4")}
    one, _ = plan(accounts, holdings, min_main_balance=D("3"))
    two, _ = plan(list(reversed(accounts)), holdings, min_main_balance=D("3"))
    assert (
        rows(one)
        == rows(two)
        == [
            ("a", "m", D("4"), "max_sub_balance"),
            ("b", "m2", D("2"), "max_sub_balance"),
            ("b", "m2", D("1"), "min_main_balance"),
        ]
    )


def _node() -> Node:
    node = Node(MemoryJournal(), clock=ManualClock(1_000_000_000))
    node.open_account("m")
    node.open_account("s", parent_id="m")
    node.deposit("m", "USDT", 10)
    node.deposit("s", "USDT", 500)
    return node


def test_the_plan_is_one_event_with_ids_and_a_replay_decides_the_same() -> None:
    node = _node()
    events = node.process(
        PlanRebalance(
            ts=node.clock.now(),
            min_main_balance=D("100"),
            max_sub_balance=D("300"),
            accounts=(main(), sub("s", "300")),
            trigger="manual",
            actor="test",
            id_prefix="n1-",
        )
    )
    [planned] = [e for e in events if isinstance(e, ev.RebalancePlanned)]
    assert [(t.transfer_id, t.amount, t.rule) for t in planned.transfers] == [
        (f"n1-rb{planned.seq}-1", D("200"), "max_sub_balance")
    ]
    replayed = Node(node.journal, clock=ManualClock(2_000_000_000))
    assert replayed.digest() == node.digest()
    assert list(replayed.events())[-1] == planned


def test_a_plan_naming_an_unknown_account_is_refused() -> None:
    node = _node()
    events = node.process(PlanRebalance(ts=1, accounts=(main("nope"),)))
    assert isinstance(events[0], ev.CommandRejected)
    assert events[0].reason == "UNKNOWN_ACCOUNT"
