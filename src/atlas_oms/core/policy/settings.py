"""Setting the execution policy's parameters (seed 001 §16) through the journal.

``SetPolicyParams`` is checked against :class:`~atlas_oms.core.policy.params.PolicyParams` (every
name and value, and the rules between them); accepted, it becomes a ``PolicyParamsSet`` event
whose fold replaces ``state.policy``. So a replay decides every repricing, stop and tranche with
the parameters that were in force when it was first decided.
"""

from __future__ import annotations

from atlas_oms.core.context import Context
from atlas_oms.core.policy.params import ParamError, canonical_name
from atlas_oms.core.policy.trade_state import params_from
from atlas_oms.core.refusals import operator_reject
from atlas_oms.model import commands as cmd
from atlas_oms.model import events as ev
from atlas_oms.model.reasons import Reason


def set_policy_params(ctx: Context, c: cmd.SetPolicyParams) -> None:
    """Handle ``SetPolicyParams``: check every override, then journal ``PolicyParamsSet``."""
    if not isinstance(c.actor, str) or not c.actor.strip():
        operator_reject(ctx, c, (Reason.MISSING_ACTOR, "say who acts: actor must not be empty"))
        return
    try:
        params_from(c.overrides)
        overrides = tuple(sorted((canonical_name(k), v) for k, v in c.overrides))
    except ParamError as exc:
        operator_reject(ctx, c, (Reason.INVALID_FIELD, str(exc)))
        return
    ctx.emit(
        ev.PolicyParamsSet(
            seq=ctx.state.seq + 1,
            ts_event=c.ts,
            overrides=overrides,
            actor=c.actor,
            reason=c.reason,
        )
    )
