"""The engine dispatches every message to one handler function of its domain, and nothing else
reaches the fold."""

from __future__ import annotations

import typing
from decimal import Decimal
from types import ModuleType
from typing import Any

import msgspec
import pytest

from atlas_oms.core.engine import HANDLERS, DryRunWouldAct, Engine
from atlas_oms.model import algos, archive, commands_sor, events_market_data, rebalance, routing
from atlas_oms.model import commands as c
from atlas_oms.model import reports as rep
from atlas_oms.model import venue as vm
from atlas_oms.model.enums import OrderType, Side
from atlas_oms.model.reasons import Reason
from atlas_oms.model.risk import BreakerConfig, RiskLimits, Scope


def _concrete(base: type, module: ModuleType) -> set[type]:
    return {
        cls
        for cls in vars(module).values()
        if isinstance(cls, type)
        and issubclass(cls, base)
        and cls.__module__ == module.__name__
        and not cls.__subclasses__()
    }


def test_every_command_and_venue_report_has_a_handler() -> None:
    commands = _concrete(c.Command, c) | _concrete(c.Command, archive)
    commands |= _concrete(c.Command, routing)  # the failover router's (issue 15)
    commands |= _concrete(c.Command, rebalance)  # rebalancing's (issue 15)
    commands |= _concrete(c.Command, algos)  # parent orders' (issue 16)
    commands |= _concrete(c.Command, commands_sor)  # the smart order router's (issue 16)
    commands |= _concrete(c.Command, events_market_data)  # the spread monitor's (issue 16)
    venue = set(typing.get_args(vm.VenueMsg))  # what the venue gateway sends (issue 12)
    assert commands == set(HANDLERS) - set(typing.get_args(rep.ReportMsg)) - venue
    assert set(typing.get_args(rep.ReportMsg)) <= set(HANDLERS)
    assert venue <= set(HANDLERS)


def test_handlers_are_plain_functions_of_a_context_and_a_message() -> None:
    for message, handler in HANDLERS.items():
        assert callable(handler) and not isinstance(handler, type), message
        # A report handler may take the source of an external venue's word as a keyword.
        hints = [h for h in typing.get_type_hints(handler) if h != "source"]
        assert hints == ["ctx", "c", "return"] or hints == ["ctx", "r", "return"], (
            message,
            handler,
        )


def test_a_message_nobody_handles_is_a_bug_not_an_event() -> None:
    with pytest.raises(TypeError, match="does not handle"):
        Engine().handle(object())


def test_a_dry_run_pre_trade_check_never_changes_state(rec: Any, kit: Any) -> None:
    order = c.SubmitOrder(
        ts=rec.next_ts(),
        account_id="alice",
        symbol=kit.SPOT.symbol,
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=Decimal("50"),
        price=Decimal(29000),
    )
    inst = rec.engine.state.instruments[kit.SPOT.symbol]
    assert rec.engine.pre_trade_check(order, inst, order.price) is None
    rec.handle(
        c.SetRiskLimits(
            ts=rec.next_ts(),
            actor="ops",
            scope=Scope.ACCOUNT,
            scope_id="alice",
            limits=RiskLimits(
                max_order_qty=Decimal(10), breaker=BreakerConfig(max_orders_per_minute=1)
            ),
        )
    )
    refusal = rec.engine.pre_trade_check(order, inst, order.price)
    assert refusal is not None and refusal[0] == Reason.ORDER_QTY_TOO_LARGE
    rec.handle(msgspec.structs.replace(order, qty=Decimal("0.1"), ts=rec.next_ts()))
    digest = rec.engine.digest()
    with pytest.raises(DryRunWouldAct, match="CircuitBreakerTripped"):
        rec.engine.pre_trade_check(order, inst, order.price)  # the second order in a minute
    assert rec.engine.digest() == digest
