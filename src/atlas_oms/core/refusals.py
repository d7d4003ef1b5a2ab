"""Refusals: a business outcome is an event with a reason code and a sentence, never an exception.

A check returns a :data:`Refusal` (or None); a handler turns it into the command's rejection event
through one of the functions here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from atlas_oms.model import events as ev
from atlas_oms.model.reasons import Reason
from atlas_oms.model.risk import Scope

if TYPE_CHECKING:
    from atlas_oms.core.context import Context

#: (reason code, human sentence).
Refusal = tuple[Reason, str]


def reject_command(
    ctx: Context, c: Any, reason: Reason, message: str, account_id: str | None = None
) -> None:
    """Journal ``CommandRejected`` for a command that changed nothing."""
    ctx.emit(
        ev.CommandRejected(
            seq=ctx.state.seq + 1,
            ts_event=c.ts,
            command=type(c).__name__,
            reason=reason,
            message=message,
            account_id=account_id,
        )
    )


def operator_reject(ctx: Context, c: Any, refusal: Refusal) -> None:
    """Journal ``CommandRejected`` for an operator's command, with who asked."""
    account = c.scope_id if getattr(c, "scope", None) is Scope.ACCOUNT else None
    ctx.emit(
        ev.CommandRejected(
            seq=ctx.state.seq + 1,
            ts_event=c.ts,
            command=type(c).__name__,
            reason=refusal[0],
            message=refusal[1],
            account_id=account,
            actor=c.actor if isinstance(c.actor, str) and c.actor else None,
        )
    )
