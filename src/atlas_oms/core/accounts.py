"""Reference data and money: instruments, accounts and sub-accounts, deposits and withdrawals,
and transfers within an account tree."""

from __future__ import annotations

from decimal import Decimal

from atlas_oms.core.context import Context
from atlas_oms.core.decimals import ZERO, is_amount, plain
from atlas_oms.core.derivatives.figures import cross_positions, valuation
from atlas_oms.core.refusals import Refusal, reject_command
from atlas_oms.core.state.state import State
from atlas_oms.model import commands as cmd
from atlas_oms.model import events as ev
from atlas_oms.model.reasons import Reason


def add_instrument(ctx: Context, c: cmd.AddInstrument) -> None:
    if c.instrument.symbol in ctx.state.instruments:
        reject_command(
            ctx, c, Reason.DUPLICATE_INSTRUMENT, f"instrument {c.instrument.symbol} already exists"
        )
        return
    ctx.emit(ev.InstrumentAdded(seq=ctx.state.seq + 1, ts_event=c.ts, instrument=c.instrument))


def open_account(ctx: Context, c: cmd.OpenAccount) -> None:
    accounts = ctx.state.accounts
    if c.account_id in accounts:
        reject_command(
            ctx, c, Reason.DUPLICATE_ACCOUNT, f"account {c.account_id} already exists", c.account_id
        )
    elif c.parent_id is not None and c.parent_id not in accounts:
        reject_command(
            ctx,
            c,
            Reason.UNKNOWN_PARENT_ACCOUNT,
            f"parent account {c.parent_id} does not exist",
            c.account_id,
        )
    elif not c.account_id or len(c.account_id) > 64:
        reject_command(
            ctx, c, Reason.UNKNOWN_ACCOUNT, "an account id has 1 to 64 characters", c.account_id
        )
    else:
        ctx.emit(ev.AccountOpened(seq=ctx.state.seq + 1, ts_event=c.ts, account=c.to_account()))


def adjust_balance(ctx: Context, c: cmd.AdjustBalance) -> None:
    """A deposit (positive) or a withdrawal (negative, from the free balance)."""
    state = ctx.state
    amount = c.amount
    if c.account_id not in state.accounts:
        reject_command(
            ctx, c, Reason.UNKNOWN_ACCOUNT, f"account {c.account_id} does not exist", c.account_id
        )
    elif not is_amount(amount) or not amount:
        reject_command(
            ctx,
            c,
            Reason.INVALID_AMOUNT,
            f"amount must be a non-zero finite number, got {amount}",
            c.account_id,
        )
    elif amount < 0 and state.free(c.account_id, c.asset) < -amount:
        reject_command(
            ctx,
            c,
            Reason.INSUFFICIENT_BALANCE,
            f"cannot withdraw {-amount} {c.asset}: only "
            f"{state.free(c.account_id, c.asset)} is free",
            c.account_id,
        )
    else:
        ctx.emit(
            ev.BalanceAdjusted(
                seq=state.seq + 1,
                ts_event=c.ts,
                account_id=c.account_id,
                asset=c.asset,
                amount=amount,
                reason=c.reason,
            )
        )


def transfer_funds(ctx: Context, c: cmd.TransferFunds) -> None:
    """Between two accounts of one tree; what may leave is what the sender could spend
    (:func:`transferable`). A refusal is the sender's (its ``account_id``)."""
    state = ctx.state
    src, dst, amount, asset = c.account_id, c.to_account_id, c.amount, c.asset
    accounts = state.accounts
    refusal: Refusal | None = None
    if src not in accounts:
        refusal = Reason.UNKNOWN_ACCOUNT, f"account {src} does not exist"
    elif dst not in accounts:
        refusal = Reason.UNKNOWN_ACCOUNT, f"receiving account {dst} does not exist"
    elif src == dst:
        refusal = Reason.INVALID_TRANSFER, f"account {src} cannot transfer to itself"
    elif (root := tree_root(state, src)) != (dst_root := tree_root(state, dst)):
        refusal = (
            Reason.TRANSFER_NOT_ALLOWED,
            f"accounts {src} and {dst} are not in one account tree (their top-level "
            f"accounts are {root} and {dst_root}): transfers stay between an account and "
            "its sub-accounts",
        )
    elif not is_amount(amount) or amount <= 0:
        refusal = (
            Reason.INVALID_AMOUNT,
            f"a transfer amount must be a positive finite number, got {amount}",
        )
    else:
        available, free, less = transferable(state, src, asset, c.ts)
        if amount > available:
            detail = f"only {plain(free)} is free"
            if less:
                detail = (
                    f"only {plain(available)} can leave it ({plain(free)} free, less "
                    + " and ".join(f"{plain(v)} of {what}" for what, v in less)
                    + ")"
                )
            refusal = (
                Reason.INSUFFICIENT_BALANCE,
                f"cannot transfer {plain(amount)} {asset} from account {src}: {detail}",
            )
    if refusal is not None:
        reject_command(ctx, c, refusal[0], refusal[1], src if isinstance(src, str) else None)
        return
    ctx.emit(
        ev.FundsTransferred(
            seq=state.seq + 1,
            ts_event=c.ts,
            account_id=src,
            to_account_id=dst,
            asset=asset,
            amount=amount,
            reason=c.reason,
            transfer_id=c.transfer_id,
            venue_transfer_id=c.venue_transfer_id,
        )
    )


def tree_root(state: State, account_id: str) -> str:
    """The top-level account of ``account_id``'s tree (itself if it has no parent)."""
    accounts = state.accounts
    while (parent := accounts[account_id].parent_id) is not None:
        account_id = parent
    return account_id


def transferable(
    state: State, account_id: str, asset: str, ts: int
) -> tuple[Decimal, Decimal, list[tuple[str, Decimal]]]:
    """What may leave an account: its free balance (total less what its orders and positions
    lock), less a cash account's sale proceeds not settled at ``ts`` (they cannot pay for
    anything yet) and its cross positions' unrealized losses in ``asset`` (the wallet owes
    them). Returns (that amount, never below zero; the free balance; what was taken off)."""
    free = state.free(account_id, asset)
    less: list[tuple[str, Decimal]] = []
    unsettled, _ = state.equities.unsettled_at(account_id, asset, ts)
    if unsettled:
        less.append(("unsettled sale proceeds", unsettled))
    loss = ZERO
    for _, pos in cross_positions(state, account_id, asset):
        upnl = pos.unrealized_pnl(valuation(state, pos))
        if upnl < 0:
            loss -= upnl
    if loss:
        less.append(("unrealized cross losses", loss))
    return max(ZERO, free - unsettled - loss), free, less
