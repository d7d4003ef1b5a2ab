"""Accounts and sub-accounts."""

from __future__ import annotations

import msgspec

from atlas_oms.model.enums import PositionMode


class Account(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A trading account; ``parent_id`` makes it a sub-account of another."""

    account_id: str
    parent_id: str | None = None
    position_mode: PositionMode = PositionMode.NETTING
    name: str = ""
