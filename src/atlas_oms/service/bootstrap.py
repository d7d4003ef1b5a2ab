"""First start of ``atlas serve``: instruments, a demo desk, the first API keys, and the market
maker's account (its quotes follow a moving price: :mod:`atlas_oms.service.market_maker`)."""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path

import msgspec

from atlas_oms.model.instrument import Instrument
from atlas_oms.model.margin import tiers_from_rows
from atlas_oms.runtime.node import Node
from atlas_oms.service.keys import KeyStore, write_first_keys

log = logging.getLogger("atlas.service")

#: Market maker account, desk account and its sub-account opened on first start.
MAKER = "maker"
DESK = "desk"
SUB = "desk-algo"
#: Reference prices the market maker quotes around until trades move them.
REFERENCE = {
    "BTC/USDT": Decimal(60000),
    "ETH/USDT": Decimal(3000),
    "BTC/USDT:USDT": Decimal(60000),
}


def default_instruments() -> list[Instrument]:
    tiers = tiers_from_rows(
        [
            (0, 50_000, "0.004", 0, 125),
            (50_000, 250_000, "0.005", 50, 100),
            (250_000, 1_000_000, "0.01", 1_300, 50),
            (1_000_000, None, "0.025", 16_300, 20),
        ]
    )
    return [
        Instrument.spot("BTC/USDT", tick_size="0.01", lot_size="0.00001", taker_fee="0.001"),
        Instrument.spot("ETH/USDT", tick_size="0.01", lot_size="0.0001", taker_fee="0.001"),
        Instrument.perpetual(
            "BTC/USDT:USDT",
            tick_size="0.1",
            lot_size="0.001",
            maker_fee="0.0002",
            taker_fee="0.0005",
            margin_tiers=tiers,
        ),
    ]


def load_instruments(path: Path) -> list[Instrument]:
    """A JSON list of instruments in Atlas's own field names (exact decimals as strings)."""
    return msgspec.json.decode(path.read_bytes(), type=list[Instrument])


def first_start(node: Node, instruments: list[Instrument], *, demo_accounts: bool = True) -> None:
    """Set up an empty journal; a journal that holds anything is left as it is. Without
    ``demo_accounts`` (a node in front of real venues) only the instruments are listed: no
    market maker, no demo desk, no money that is not at a venue."""
    if node.seq:
        return
    if not demo_accounts:
        for inst in instruments:
            node.add_instrument(inst)
        node.flush()
        return
    for inst in instruments:
        node.add_instrument(inst)
        ref = REFERENCE.get(inst.symbol)
        if ref is not None:
            node.update_prices(inst.symbol, last=ref, mark=ref if inst.is_derivative else None)
    node.open_account(MAKER, name="built-in market maker")
    node.open_account(DESK, name="demo desk")
    node.open_account(SUB, parent_id=DESK, name="demo desk: algo sub-account")
    for account, usdt, btc, eth in (
        (MAKER, 100_000_000, 1_000, 10_000),
        (DESK, 1_000_000, 10, 100),
    ):
        node.deposit(account, "USDT", usdt)
        node.deposit(account, "BTC", btc)
        node.deposit(account, "ETH", eth)
    for inst in instruments:
        if inst.is_derivative:
            node.set_leverage(MAKER, inst.symbol, 5)
            node.set_leverage(DESK, inst.symbol, 10)
    node.flush()


def first_keys(
    keys: KeyStore, data_dir: Path, trader_accounts: tuple[str, ...] | None = None
) -> Path | None:
    """With no keys yet: issue an admin, a risk and a trader key (for the demo desk, or for
    ``trader_accounts``: the top accounts of accounts.yaml); write their secrets once to
    ``first-keys.txt`` (owner-only). The secrets never go to the log."""
    if keys.keys:
        return None
    trader = (
        keys.issue(("trader",), (DESK,), label="demo desk trader")
        if trader_accounts is None
        else keys.issue(("trader",), trader_accounts, label="venue accounts trader")
    )
    issued = [
        keys.issue(("admin",), label="first admin"),
        keys.issue(("risk",), label="first risk officer"),
        trader,
    ]
    path = data_dir / "first-keys.txt"
    write_first_keys(path, issued)
    return path
