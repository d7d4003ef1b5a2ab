"""Rebalancing main and sub-accounts (seed 002 §10.5, issue 15 §2): the plan, decided here from
the engine's own balances so that a replay decides the same.

:func:`plan` is pure: given each account's balance of the rule's asset (its total, and what may
leave it: :func:`~atlas_oms.core.accounts.transferable`, the free balance less what its orders,
positions and unsettled proceeds need), the transfers that keep the rules:

1. **A sub above its cap** (its own ``max_balance_usdt``, else ``max_sub_balance``) sends the
   excess to its main, as much of it as may leave it (rule ``max_balance_usdt`` or
   ``max_sub_balance``).
2. **A main below ``min_main_balance``** (after step 1) pulls the shortfall from its subs, the
   sub with the most to spare first (ties: by account id), each giving at most what may leave it
   (rule ``min_main_balance``); what the subs cannot cover is a note.
3. Nothing when every account is within bounds; mains in account-id order, subs in account-id
   order within a main; amounts are exact Decimals (no rounding); zero amounts are dropped.

:func:`plan_rebalance` handles :class:`~atlas_oms.model.rebalance.PlanRebalance` (one
``RebalancePlanned``, its transfer ids ``{prefix}rb{seq}-{n}``); :func:`note_venue_transfer`
journals a transfer's outcome other than done.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from atlas_oms.core.accounts import transferable
from atlas_oms.core.context import Context
from atlas_oms.core.decimals import ZERO, plain
from atlas_oms.core.refusals import reject_command
from atlas_oms.core.state.state import State
from atlas_oms.model import events as ev
from atlas_oms.model.reasons import Reason
from atlas_oms.model.rebalance import (
    NoteVenueTransfer,
    PlannedTransfer,
    PlanRebalance,
    RebalanceAccount,
)


@dataclass(frozen=True, slots=True)
class Holding:
    """An account's balance of the rule's asset: ``total``, and ``spare``: what may leave it."""

    total: Decimal
    spare: Decimal


def plan(
    accounts: Sequence[RebalanceAccount],
    holdings: Mapping[str, Holding],
    *,
    min_main_balance: Decimal | None,
    new_id: Callable[[int], str] = lambda n: str(n),
) -> tuple[list[PlannedTransfer], list[str]]:
    """The transfers (and notes) that bring ``accounts`` within the rules (see the module doc).
    ``new_id(n)`` names the n-th transfer (from 1)."""
    notes: list[str] = []
    mains: dict[str, RebalanceAccount] = {}
    subs: dict[str, list[RebalanceAccount]] = {}
    for acc in sorted(accounts, key=lambda a: a.account_id):
        if acc.skip:
            notes.append(f"{acc.account_id} left out: {acc.skip}")
        elif acc.role == "main":
            mains[acc.account_id] = acc
    for acc in sorted(accounts, key=lambda a: a.account_id):
        if acc.role != "sub" or acc.skip:
            continue
        if acc.main_id is None or acc.main_id not in mains:
            notes.append(
                f"{acc.account_id} left out: its main account {acc.main_id} is not in the run"
            )
            continue
        subs.setdefault(acc.main_id, []).append(acc)
    out: list[PlannedTransfer] = []

    def add(src: RebalanceAccount, dst: str, amount: Decimal, rule: str, detail: str) -> None:
        out.append(
            PlannedTransfer(
                transfer_id=new_id(len(out) + 1),
                account_id=src.account_id,
                to_account_id=dst,
                amount=amount,
                rule=rule,
                path=src.path,
                detail=detail,
            )
        )

    def held(account_id: str) -> Holding:
        return holdings.get(account_id, Holding(ZERO, ZERO))

    for main_id in mains:
        main_total = held(main_id).total
        spare: dict[str, Decimal] = {}
        for sub in subs.get(main_id, []):
            h = held(sub.account_id)
            left = h.spare
            if sub.cap is not None and h.total > sub.cap:
                excess = h.total - sub.cap
                amount = min(excess, left)
                if amount > 0:
                    add(
                        sub,
                        main_id,
                        amount,
                        sub.cap_rule or "max_sub_balance",
                        f"{plain(h.total)} above the cap {plain(sub.cap)}",
                    )
                    left -= amount
                    main_total += amount
                if amount < excess:
                    notes.append(
                        f"{sub.account_id} stays {plain(excess - amount)} above its cap "
                        f"{plain(sub.cap)}: only {plain(h.spare)} may leave it"
                    )
            spare[sub.account_id] = left
        if min_main_balance is None or main_total >= min_main_balance:
            continue
        need = min_main_balance - main_total
        for sub_id in sorted(spare, key=lambda s: (-spare[s], s)):
            if need <= 0:
                break
            amount = min(need, spare[sub_id])
            if amount <= 0:
                continue
            sub = next(s for s in subs[main_id] if s.account_id == sub_id)
            add(
                sub,
                main_id,
                amount,
                "min_main_balance",
                f"{main_id} below the minimum {plain(min_main_balance)}",
            )
            need -= amount
        if need > 0:
            notes.append(
                f"{main_id} stays {plain(need)} below min_main_balance "
                f"{plain(min_main_balance)}: its subs have no more to spare"
            )
    return out, notes


def holdings_of(
    state: State, accounts: Sequence[RebalanceAccount], asset: str, ts: int
) -> dict[str, Holding]:
    """Each known account's :class:`Holding` of ``asset`` at ``ts``."""
    out: dict[str, Holding] = {}
    for acc in accounts:
        if acc.account_id not in state.accounts:
            continue
        bal = state.balances.get((acc.account_id, asset))
        total = bal.total if bal is not None else ZERO
        out[acc.account_id] = Holding(total, transferable(state, acc.account_id, asset, ts)[0])
    return out


def plan_rebalance(ctx: Context, c: PlanRebalance) -> None:
    """Handle ``PlanRebalance``: one ``RebalancePlanned`` (an unknown account is a refusal)."""
    state = ctx.state
    missing = sorted(a.account_id for a in c.accounts if a.account_id not in state.accounts)
    if missing:
        reject_command(
            ctx,
            c,
            Reason.UNKNOWN_ACCOUNT,
            f"rebalancing names unknown accounts: {', '.join(missing)}",
        )
        return
    seq = state.seq + 1
    transfers, notes = plan(
        c.accounts,
        holdings_of(state, c.accounts, c.asset, c.ts),
        min_main_balance=c.min_main_balance,
        new_id=lambda n: f"{c.id_prefix}rb{seq}-{n}",
    )
    ctx.emit(
        ev.RebalancePlanned(
            seq=seq,
            ts_event=c.ts,
            trigger=c.trigger,
            actor=c.actor,
            asset=c.asset,
            min_main_balance=c.min_main_balance,
            max_sub_balance=c.max_sub_balance,
            transfers=tuple(transfers),
            notes=tuple(notes),
            account_ids=tuple(sorted(a.account_id for a in c.accounts)),
        )
    )


def note_venue_transfer(ctx: Context, c: NoteVenueTransfer) -> None:
    """Handle ``NoteVenueTransfer``: journal it (nothing moves)."""
    ctx.emit(
        ev.VenueTransferNoted(
            seq=ctx.state.seq + 1,
            ts_event=c.ts,
            transfer_id=c.transfer_id,
            account_id=c.account_id,
            to_account_id=c.to_account_id,
            asset=c.asset,
            amount=c.amount,
            status=c.status,
            reason=c.reason,
            message=c.message,
            venue=c.venue,
            venue_transfer_id=c.venue_transfer_id,
        )
    )
