"""Who may see and who may act for an account (README "Keys and roles", DECISIONS "Who may trade
for whom").

- **See** (:meth:`Service.visible`): a ``trader`` key sees the accounts it lists and their
  sub-accounts; ``risk`` and ``admin`` keys see every account. An account a key cannot see is
  answered ``404 UNKNOWN_ACCOUNT``, the same as one that does not exist (no probing).
- **Trade** (place, modify, cancel orders; transfer funds; open sub-accounts): only a key with the
  ``trader`` role itself whose accounts include the account or one of its ancestors. ``admin``
  does not imply it: an admin key trades only if it also has the trader role (and then for its
  listed accounts only).
- **Cancel** (one order, or all of an account's): a trader of the account's tree, or a ``risk``
  key (``admin`` includes ``risk``): a risk officer pulls orders, never sends them.
- **Risk controls** (kill switch and its reset, trading states, limits, breakers, market data in):
  the ``risk`` role (``admin`` included).
- **Keys and top-level accounts**: ``admin``.

A key that sees an account but may not do what it asks is answered ``403 FORBIDDEN_ROLE`` with a
sentence saying what it lacks; the refusal is logged (key id, never the secret).
"""

from __future__ import annotations

from atlas_oms.runtime.queries import Queries
from atlas_oms.service.keys import ApiKey


def may_trade(node: Queries, key: ApiKey, account_id: str) -> bool:
    """Whether ``key`` may trade for ``account_id``: the trader role itself (not implied by admin)
    and the account or one of its ancestors among the key's accounts."""
    if "trader" not in key.roles or not key.accounts:
        return False
    if node.account(account_id) is None:
        return False
    chain = node.account_chain(account_id)
    return any(a in chain for a in key.accounts)


def forbidden_trading(key: ApiKey, account_id: str, action: str) -> str:
    """The sentence of a ``403 FORBIDDEN_ROLE`` answer."""
    roles = "/".join(key.roles)
    if "trader" not in key.roles:
        if action == "cancel":
            return (
                f"a {roles} key may not cancel for account {account_id}: "
                "that needs the trader role on its account tree, or the risk role"
            )
        return (
            f"a {roles} key may not {action} for account {account_id}: "
            "that needs the trader role on the account's tree (risk keys cancel and kill)"
        )
    return (
        f"this key may see account {account_id} but not {action} for it: "
        "it is not among the key's trading accounts or their sub-accounts"
    )


def role_required(role: str) -> str:
    """The sentence of a ``403 FORBIDDEN_ROLE`` answer for an endpoint that needs ``role``."""
    return f"this needs the {role} role"


__all__ = ["forbidden_trading", "may_trade", "role_required"]
