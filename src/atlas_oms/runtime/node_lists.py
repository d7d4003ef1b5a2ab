"""The node's linked orders and managed trades: OCO, OTO and bracket lists and trade intents.

A mixin of :class:`~atlas_oms.runtime.node.Node`, which supplies ``process`` (the loop).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from atlas_oms.core.policy.params import format_value
from atlas_oms.model import commands as c
from atlas_oms.model import events as ev
from atlas_oms.model.enums import Side
from atlas_oms.model.numbers import Number, to_decimal
from atlas_oms.runtime.errors import CommandRefused
from atlas_oms.runtime.list_views import OrderListView, list_command
from atlas_oms.runtime.queries import Queries


class LinkedOrders(Queries):
    """Linked order lists and managed trades, submitted through the node's loop."""

    #: The node's loop (``Node.process``).
    process: Callable[[Any], list[ev.EventBase]]

    def submit_order_list(
        self,
        account_id: str,
        kind: str,
        orders: Sequence[c.SubmitOrder | Mapping[str, Any]],
        *,
        oco_partial: str = "CANCEL",
    ) -> OrderListView:
        """Submit linked orders (``kind`` OCO, OTO or BRACKET; see core/orders/links.py):
        each order a SubmitOrder or its fields as a mapping. Returns the list's view."""
        command = list_command(self._now(), account_id, kind, orders, oco_partial)
        for event in self.process(command):
            if isinstance(event, ev.CommandRejected):
                raise CommandRefused(event.reason, event.message)
            if isinstance(event, ev.OrderListCreated):
                return self.order_list(event.list_id)
        raise RuntimeError("the engine recorded no list")  # pragma: no cover

    def submit_oco(
        self,
        account_id: str,
        *orders: c.SubmitOrder | Mapping[str, Any],
        oco_partial: str = "CANCEL",
    ) -> OrderListView:
        """Submit an OCO list: when one leg fills or ends, the engine cancels the others."""
        return self.submit_order_list(account_id, "OCO", orders, oco_partial=oco_partial)

    def submit_oto(
        self,
        account_id: str,
        parent: c.SubmitOrder | Mapping[str, Any],
        *children: c.SubmitOrder | Mapping[str, Any],
    ) -> OrderListView:
        """Submit an OTO list: ``children`` are held until ``parent`` fills."""
        return self.submit_order_list(account_id, "OTO", (parent, *children))

    def submit_bracket(
        self,
        account_id: str,
        entry: c.SubmitOrder | Mapping[str, Any],
        *exits: c.SubmitOrder | Mapping[str, Any],
    ) -> OrderListView:
        """Submit a bracket: ``exits`` (target, stop) released as an OCO group when ``entry`` fills."""
        return self.submit_order_list(account_id, "BRACKET", (entry, *exits))

    def trade(
        self,
        intent_id: str,
        account_id: str,
        symbol: str,
        side: Side | str,
        *,
        entry_ideal: Number,
        entry_max: Number,
        stop: Number,
        risk_amount: Number,
        urgency: str = "NORMAL",
        bias: str = "NEUTRAL",
        scale_out: str = "STANDARD",
        target_policy: str = "TRANCHES",
        key_level: Number | None = None,
        add_to: str | None = None,
    ) -> list[ev.EventBase]:
        """Submit a trade intent (issue 13, seed 001): Atlas derives and manages every order.
        Returns the events it set off (``TradeIntentRefused`` carries a refusal); read the trade
        with :meth:`managed_trade`. ``intent_id`` is the idempotency key and the trade id."""
        return self.process(
            c.SubmitTradeIntent(
                ts=self._now(),
                intent_id=intent_id,
                account_id=account_id,
                symbol=symbol,
                side=Side(side),
                entry_ideal=Decimal(str(entry_ideal)),
                entry_max=Decimal(str(entry_max)),
                stop=Decimal(str(stop)),
                risk_amount=Decimal(str(risk_amount)),
                urgency=urgency,
                bias=bias,
                scale_out=scale_out,
                target_policy=target_policy,
                key_level=to_decimal(key_level),
                add_to=add_to,
            )
        )

    def resume_trading(self, account_id: str, *, actor: str) -> list[ev.EventBase]:
        """The strategy's next cycle (seed 001 §8.2): ends the account's low-fill-rate
        degradation (``TradingResumed``)."""
        return self.process(c.ResumeTrading(ts=self._now(), actor=actor, account_id=account_id))

    def set_policy_params(
        self, overrides: dict[str, object], *, actor: str, reason: str = ""
    ) -> list[ev.EventBase]:
        """Put seed 001's policy parameters in force (``name -> value``, applied to the seed
        defaults; ``{}`` returns to them), journaled as ``PolicyParamsSet``. A bad name or value
        is refused (``CommandRejected``) and nothing changes."""
        return self.process(
            c.SetPolicyParams(
                ts=self._now(),
                actor=actor,
                reason=reason,
                overrides=tuple((k, format_value(v)) for k, v in sorted(overrides.items())),
            )
        )

    def trigger_scale_out(self, trade_id: str, reason: str = "") -> list[ev.EventBase]:
        """Seed 001 §6.2: take the trade's working targets now, by a limit at the bid repriced
        until filled (``CommandRejected`` when the trade has none)."""
        return self.process(c.TriggerScaleOut(ts=self._now(), trade_id=trade_id, reason=reason))
