"""The fold books what events say: one applier per event type, all state changes through it,
and the decision fields of schema 2 decided the same way for journals that lack them."""

from __future__ import annotations

import typing
from decimal import Decimal
from typing import Any

import msgspec

from atlas_oms.core.engine import Engine
from atlas_oms.core.state.fold import APPLIERS
from atlas_oms.core.state.legacy import DECISION_FIELDS
from atlas_oms.model import commands as c
from atlas_oms.model import events as ev
from atlas_oms.model.enums import OrderType, Side
from atlas_oms.model.risk import Scope

D = Decimal


def test_every_event_type_has_exactly_one_applier() -> None:
    assert set(APPLIERS) == set(typing.get_args(ev.Event))


def test_every_decision_field_is_optional_so_older_journals_decode() -> None:
    for cls, fields in DECISION_FIELDS.items():
        defaults = dict(zip(cls.__struct_fields__, _defaults(cls), strict=True))
        for name in fields:
            assert name in defaults and defaults[name] is None, (cls.__name__, name)


def _defaults(cls: type) -> list[Any]:
    n_required = len(cls.__struct_fields__) - len(cls.__struct_defaults__)  # type: ignore[attr-defined]
    return [msgspec.NODEFAULT] * n_required + list(cls.__struct_defaults__)  # type: ignore[attr-defined]


def test_an_event_out_of_sequence_is_refused_and_changes_nothing(kit: Any) -> None:
    engine = Engine()
    for msg in kit.setup_messages(1):
        engine.handle(msg)
    digest = engine.digest()
    stray = ev.PricesUpdated(seq=engine.seq + 2, ts_event=5, symbol=kit.SPOT.symbol, last=D(1))
    try:
        engine.apply(stray)
    except ValueError as exc:
        assert "does not follow" in str(exc)
    else:  # pragma: no cover - the assertion below reports it
        raise AssertionError("a gap in the sequence was folded")
    assert engine.digest() == digest


def test_new_events_carry_their_decisions(rec: Any, kit: Any) -> None:
    order_id, _ = rec.submit(
        account_id="alice",
        symbol=kit.SPOT.symbol,
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=D("0.2"),
        price=D(29000),
    )
    rec.accept(order_id)
    partial = rec.fill(order_id, "0.1", "29000", "x1")
    full = rec.fill(order_id, "0.1", "29000", "x2")
    fills = [e for e in (*partial, *full) if isinstance(e, ev.OrderFilled)]
    assert [f.order_status for f in fills] == ["PARTIALLY_FILLED", "FILLED"]
    killed = rec.handle(
        c.TripKillSwitch(ts=rec.next_ts(), actor="ops", scope=Scope.GLOBAL, flatten=True)
    )
    trip = next(e for e in killed if isinstance(e, ev.KillSwitchTripped))
    assert trip.flatten_accounts == ["alice"]
