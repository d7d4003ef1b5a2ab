"""A corporate action applied in Atlas but not at the broker (issue 15, queue §2).

Alpaca reports shares as balances, so a split Atlas applied and the broker did not shows in the
balance reconciliation: Atlas holds 20 AAPL, the broker 10. The reconciliation adopts the
broker's balance (``BalanceAdjusted``, as for any balance difference). Here the position is
brought along so the books stay consistent, and the mismatch is flagged loudly:

* when the broker's count is Atlas's divided by the share factor of the corporate actions last
  applied to the symbol in Atlas (one split/bonus, or the product of the latest few), the
  action is named: each position of the account in that equity is rescaled by the same factor
  (``PositionQtyAdopted``: lot quantities scaled, each lot's cost kept, so the cost basis total
  is unchanged), a ``POSITION`` difference is reported with the action's id, and a CRITICAL
  ``RiskAlert`` ``CORPORATE_ACTION_MISMATCH`` tells people to check the action with the broker;
* any other difference of an equity's shares with a position in it (a transfer at the broker, a
  split the broker applied and Atlas did not): the balance is adopted as before, the position
  is left as it is and reported (``POSITION`` difference, action ``none: review``) with the same
  CRITICAL alert: FIFO lots cannot be guessed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from atlas_oms.core.decimals import plain
from atlas_oms.model import events as ev
from atlas_oms.model.reasons import Reason
from atlas_oms.model.risk import AlertLevel

if TYPE_CHECKING:
    from atlas_oms.core.context import Context


def share_factor(actions: list[tuple[str, Decimal]], ours: Decimal, theirs: Decimal) -> list[str]:
    """The latest actions whose combined share factor turns the broker's count into Atlas's
    (``theirs × factor == ours``), newest last; [] when none does."""
    factor = Decimal(1)
    for i in range(len(actions) - 1, -1, -1):
        factor *= actions[i][1]
        if theirs * factor == ours:
            return [a for a, _ in actions[i:]]
    return []


def adopt_shares(
    ctx: Context,
    venue: str,
    account_id: str,
    asset: str,
    ours: Decimal,
    theirs: Decimal,
    ts: int,
    diffs: list[ev.VenueDifference],
) -> None:
    """After the balance of ``asset`` was adopted (``ours`` -> ``theirs``): bring the account's
    positions in the equity whose shares it is along, or report them (see the module)."""
    state = ctx.state
    inst = state.equities.equity_of_base(state.instruments, asset)
    if inst is None or not ours:
        return
    symbol = inst.symbol
    positions = [
        p for p in state.account_positions.get(account_id, ()) if p.symbol == symbol and p.qty
    ]
    ids = share_factor(state.equities.us.share_actions.get(symbol, []), ours, theirs)
    if not positions and not ids:
        return
    named = ", ".join(ids)
    for pos in sorted(positions, key=lambda p: p.position_side):
        before = pos.qty
        after = before * theirs / ours if ids else before
        seqs: tuple[int, ...] = ()
        if ids:
            ctx.emit(
                ev.PositionQtyAdopted(
                    seq=state.seq + 1,
                    ts_event=ts,
                    account_id=account_id,
                    symbol=symbol,
                    position_side=pos.position_side,
                    qty_before=before,
                    qty_after=after,
                    venue=venue,
                    action_ids=tuple(ids),
                )
            )
            seqs = (state.seq,)
            action = f"adopted: corporate action {named} applied in Atlas, not at the broker"
        else:
            action = "none: review (the shares differ for no corporate action Atlas applied)"
        diffs.append(
            ev.VenueDifference(
                kind="POSITION",
                action=action,
                symbol=symbol,
                position_side=pos.position_side,
                atlas=plain(before),
                venue=plain(after) if ids else "",
                seqs=seqs,
            )
        )
    cause = (
        f"corporate action {named} was applied in Atlas but not at {venue}"
        if ids
        else "no corporate action Atlas applied explains it"
    )
    done = (
        "; the broker's figure was adopted for the balance and the position "
        "(cost basis kept): check the action with the broker"
        if ids
        else "; the broker's balance was adopted, the position was left for review"
    )
    ctx.emit(
        ev.RiskAlert(
            seq=state.seq + 1,
            ts_event=ts,
            level=AlertLevel.CRITICAL,
            code=Reason.CORPORATE_ACTION_MISMATCH,
            message=f"{venue} account {account_id} holds {plain(theirs)} {asset}, Atlas "
            f"{plain(ours)}: {cause}{done}",
            account_id=account_id,
            symbol=symbol,
        )
    )
