"""Corporate actions from a feed file (POS-5): one CSV row per action, turned into
``ApplyCorporateAction`` commands for the core (``core/equities/corporate.py``).

Columns (header required): ``action_id,symbol,kind,ratio,amount`` -- ``kind`` SPLIT, BONUS or
DIVIDEND; ``ratio`` for splits and bonuses (2 = 2-for-1, 0.1 = 1-for-10, 0.2 = one bonus share
per five), ``amount`` (per share, quote currency) for dividends; empty cells are None. The core
refuses an ``action_id`` it has applied already, so a feed may be replayed safely.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from pathlib import Path

from atlas_oms.model.commands import ApplyCorporateAction

COLUMNS = ("action_id", "symbol", "kind", "ratio", "amount")


class FeedError(ValueError):
    """A feed file the loader cannot read (the line and why)."""


def _decimal(text: str | None, where: str) -> Decimal | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise FeedError(f"{where}: {text!r} is not a number") from None


def parse_feed(
    lines: Iterable[str], *, ts: int = 0, actor: str = "feed"
) -> list[ApplyCorporateAction]:
    reader = csv.DictReader(lines)
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise FeedError(f"the header lacks {', '.join(missing)} (needs {','.join(COLUMNS)})")
    out = []
    for row in reader:
        where = f"line {reader.line_num}"
        out.append(
            ApplyCorporateAction(
                ts=ts,
                actor=actor,
                reason="corporate-action feed",
                action_id=row["action_id"].strip(),
                symbol=row["symbol"].strip(),
                kind=row["kind"].strip().upper(),
                ratio=_decimal(row["ratio"], where),
                amount=_decimal(row["amount"], where),
            )
        )
    return out


def load_feed(path: str | Path, *, ts: int = 0, actor: str = "feed") -> list[ApplyCorporateAction]:
    with open(path, newline="", encoding="utf-8") as f:
        return parse_feed(f, ts=ts, actor=actor)
