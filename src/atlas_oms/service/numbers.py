"""How numbers look on the API's edge: exact decimal strings, never an exponent, at fixed places.

The engine, the journal and the library keep every ``Decimal`` at full precision. Only what the
REST API, the WebSocket stream and the blotter send passes through :class:`Numbers`, the one
formatting layer: each view's decimal fields have a *kind*, and the kind gives the places.

=========  ==========================================================  =========================
kind       places                                                      examples
=========  ==========================================================  =========================
PRICE      the instrument's tick (``tick_size`` 0.01: 2, 0.5: 1, 5: 0)  ``price``, ``last_px``
AVG        the tick's places + :data:`AVG_EXTRA` (4)                    ``avg_px``, ``mark_px``,
                                                                        ``avg_entry_px``,
                                                                        ``liquidation_price``
QTY        the instrument's lot (``lot_size`` 0.0001: 4)               ``qty``, ``cum_qty``
MONEY      the asset's places (:meth:`Numbers.asset_places`)           ``fees``, ``total``,
                                                                        ``realized_pnl``
RATIO      :data:`RATIO_PLACES` (8)                                    ``margin_ratio``
OFFSET     PRICE if the holder's ``trailing_offset_type`` is PRICE (a      ``trailing_offset``
           price distance), else EXACT (a percentage, as given: 0.25%
           must not round to 0)
EXACT      every digit the value has, as it is                         ``leverage``, tick sizes,
                                                                        limits, any unmapped field
=========  ==========================================================  =========================

Rules, the same for every kind:

* Rounding is half-even, trailing zeros are kept (``59000.00`` at tick 0.01: columns line up and
  the places say the precision); a zero has no sign (``0.0000000``, never ``-0E-7``).
* No exponent: ``5.9E+4`` is ``59000`` (EXACT) or ``59000.00`` (PRICE at tick 0.01); only a
  value beyond 1000 digits (no real amount, see :func:`plain`) keeps one.
* An asset's places: the operator's table (``ATLAS_ASSET_PLACES``, e.g. ``{"USD": 2}``) if it
  names the asset, else the largest of :data:`DEFAULT_ASSET_PLACES` (8) and the places of every
  instrument's tick quoted or settled in the asset and lot sized in it (its base asset).
* A field whose instrument or asset is unknown, and any decimal field no table names, is EXACT
  (``format(d, "f")``): exact, never rounded.
* The money fields of a struct are in its ``asset`` (balances, transfers), its fee asset
  (``fees``/``fee`` with ``fee_asset``), else its instrument's settlement asset (P&L, margin).
  A closed position's money is in its ``pnl_asset``.
* A dictionary under a key of :data:`ASSET_MAPS` maps assets to amounts (the insurance funds):
  each amount is money in its key's asset.

Which field has which kind: :data:`VIEWS` (one table per view struct) and :data:`BY_NAME` (by
field name: events, commands and the API's own dictionaries). Adding a view: one line in
:data:`VIEWS`; tests/service/test_number_format.py pins the tables.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from typing import Any

import msgspec

from atlas_oms.core.views import BalanceView, LotView, OrderView, PositionView
from atlas_oms.model.enums import TrailingOffsetType
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.margin import MarginTier
from atlas_oms.runtime.account_history import ClosedPosition, EquityPoint, PnlEntry
from atlas_oms.runtime.node_algos import AlgoView
from atlas_oms.runtime.queries import NetPosition
from atlas_oms.runtime.trade_view import (
    StopChange,
    TargetLeg,
    TradeIntentView,
    TradeLotView,
    TradeOrderView,
    TradeView,
    TrancheView,
)

#: Places an average (and any other derived price) has beyond its instrument's tick.
AVG_EXTRA = 4
#: Places of a ratio (margin ratio).
RATIO_PLACES = 8
#: Places of an asset the operator's table does not name (at least: see the module docstring).
DEFAULT_ASSET_PLACES = 8

#: Digits beyond which a (nonsensical) value keeps its exponent: see :func:`plain`.
MAX_DIGITS = 1000
#: Enough digits for any quantize (the default context's 28 would refuse large values).
_CONTEXT = Context(prec=200, rounding=ROUND_HALF_EVEN)


class Kind(enum.Enum):
    PRICE = "price"
    AVG = "avg"
    QTY = "qty"
    MONEY = "money"
    RATIO = "ratio"
    EXACT = "exact"
    #: A trailing offset: PRICE or EXACT by the holder's ``trailing_offset_type``.
    OFFSET = "offset"


PRICE, AVG, QTY, MONEY, RATIO, EXACT, OFFSET = (
    Kind.PRICE,
    Kind.AVG,
    Kind.QTY,
    Kind.MONEY,
    Kind.RATIO,
    Kind.EXACT,
    Kind.OFFSET,
)

#: A field's kind; MONEY may name the field holding its asset (``(MONEY, "fee_asset")``).
Spec = Kind | tuple[Kind, str]

#: The view structs the API and the blotter show, field by field.
VIEWS: dict[type, dict[str, Spec]] = {
    OrderView: {
        "qty": QTY,
        "price": PRICE,
        "trigger_price": PRICE,
        "protection_price": PRICE,
        "cum_qty": QTY,
        "leaves_qty": QTY,
        "display_qty": QTY,
        "avg_px": AVG,
        "fees": (MONEY, "fee_asset"),
        "trailing_offset": OFFSET,
        "limit_offset": PRICE,  # a price distance beyond the trigger
    },
    PositionView: {
        "qty": QTY,
        "avg_entry_px": AVG,
        "realized_pnl": MONEY,
        "unrealized_pnl": MONEY,
        "fees": MONEY,
        "margin": MONEY,
        "mark_px": AVG,
        "leverage": EXACT,
        "notional": MONEY,
        "maint_margin": MONEY,
        "margin_balance": MONEY,
        "margin_ratio": RATIO,
        "liquidation_price": AVG,
        "bankruptcy_price": AVG,
        "funding": MONEY,
    },
    LotView: {"qty": QTY, "price": PRICE, "realized_pnl": MONEY, "unrealized_pnl": MONEY},
    BalanceView: {"total": MONEY, "locked": MONEY, "free": MONEY},
    NetPosition: {
        "net_qty": QTY,
        "gross_qty": QTY,
        "realized_pnl": MONEY,
        "unrealized_pnl": MONEY,
        "fees": MONEY,
    },
    Instrument: {},  # its rules (tick, lot, fees, limits) are shown exactly as configured
    MarginTier: {},  # configuration too: floors, caps, rates and leverage exactly as set
    ClosedPosition: {
        "max_qty": QTY,
        "qty": QTY,
        "entry_notional": (MONEY, "pnl_asset"),
        "exit_notional": (MONEY, "pnl_asset"),
        "entry_avg_px": AVG,
        "exit_avg_px": AVG,
        "realized_pnl": (MONEY, "pnl_asset"),
        "fees": (MONEY, "pnl_asset"),
        "funding": (MONEY, "pnl_asset"),
    },
    PnlEntry: {
        "realized_pnl": MONEY,
        "fee": MONEY,
        "funding": MONEY,
        "total_realized_pnl": MONEY,
        "total_fees": MONEY,
        "total_funding": MONEY,
        "total_net": MONEY,
    },
    EquityPoint: {"balance": MONEY, "unrealized_pnl": MONEY, "equity": MONEY},
    # managed trades (issue 13): P&L in the instrument's settlement asset
    TradeView: {
        "qty": QTY,
        "entry_filled": QTY,
        "position": QTY,
        "entry_px": AVG,
        "entry_price": PRICE,
        "stop_trigger": PRICE,
        "stop_qty": QTY,
        "entry_avg_px": AVG,
        "stop_limit": PRICE,
        "last_px": PRICE,
        "realized_pnl": MONEY,
        "unrealized_pnl": MONEY,
    },
    TradeIntentView: {
        "entry_ideal": PRICE,
        "entry_max": PRICE,
        "stop0": PRICE,
        "risk_amount": MONEY,
        "qty": QTY,
        "key_level": PRICE,
    },
    TradeOrderView: {
        "qty": QTY,
        "price": PRICE,
        "trigger_price": PRICE,
        "cum_qty": QTY,
        "avg_px": AVG,
        "realized_pnl": MONEY,
    },
    TrancheView: {
        "planned_qty": QTY,
        "price": PRICE,
        "filled_qty": QTY,
        "avg_px": AVG,
        "realized_pnl": MONEY,
    },
    TradeLotView: {
        "price": AVG,
        "qty": QTY,
        "open_qty": QTY,
        "realized_pnl": MONEY,
        "unrealized_pnl": MONEY,
    },
    StopChange: {"trigger": PRICE},
    TargetLeg: {"qty": QTY, "price": PRICE},
    # parent orders (issue 16): sums over the children, in the parent's symbol
    AlgoView: {
        "qty": QTY,
        "limit_price": PRICE,
        "cum_qty": QTY,
        "avg_px": AVG,
        "leaves_qty": QTY,
        "working_qty": QTY,
        "arrival_price": AVG,
    },
}

#: Every other struct (events, commands) and the API's dictionaries: by field name.
BY_NAME: dict[str, Spec] = {
    "qty": QTY,
    "last_qty": QTY,
    "filled_qty": QTY,
    "cum_qty": QTY,
    "leaves_qty": QTY,
    "price": PRICE,
    "last_px": PRICE,
    "trigger_price": PRICE,
    "protection_price": PRICE,
    "last": PRICE,
    "mark": AVG,
    "avg_px": AVG,
    "bankruptcy_price": AVG,
    "fee": (MONEY, "fee_asset"),
    "fees": (MONEY, "fee_asset"),
    "amount": MONEY,
    "realized_pnl": MONEY,
    "unrealized_pnl": MONEY,
    "trailing_offset": OFFSET,
    "limit_offset": PRICE,
    "previous_mark": AVG,
    "max_notional": MONEY,
    "balance": MONEY,
    "deposited": MONEY,
    "from_liquidations": MONEY,
    "to_liquidations": MONEY,
}

#: Dictionary keys holding ``[[price, qty], …]`` book levels.
LEVELS = frozenset({"bids", "asks"})
#: Dictionary keys holding ``{asset: amount}``: each amount is money in its key's asset.
ASSET_MAPS = frozenset({"insurance_funds", "insurance_funds_before"})


def places_of(step: Decimal) -> int:
    """The decimals of a tick or lot size: 0.01 -> 2, 0.5 -> 1, 5 -> 0, 1E+1 -> 0."""
    exponent = step.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


#: ``places`` -> ``1E-places`` (the quantize exponent), made once each.
_EXPONENTS: dict[int, Decimal] = {}
#: A field without a default (never omitted).
_NO_DEFAULT = object()
#: Types that are already JSON values: written as they are.
_ATOMS = (str, int, bool, type(None))


def fixed(value: Decimal, places: int) -> str:
    """``value`` rounded half-even to ``places`` decimals, trailing zeros kept, unsigned zero."""
    if not value.is_finite():
        return str(value)
    exp = _EXPONENTS.get(places)
    if exp is None:
        exp = _EXPONENTS[places] = Decimal(1).scaleb(-places)
    try:
        q = _CONTEXT.quantize(value, exp)
    except InvalidOperation:  # more than 200 digits: no real amount, shown exactly
        return plain(value)
    if not q:
        q = q.copy_abs()
    return format(q, "f")


def plain(value: Decimal) -> str:
    """``value`` exactly, without exponent; a zero has no sign (``-0E-7`` -> ``0.0000000``).
    A value beyond :data:`MAX_DIGITS` digits either side of the point (no real amount: a
    request's ``1E+999999``, refused by the engine) keeps its exponent rather than fill pages."""
    if not value.is_finite() or abs(value.adjusted()) > MAX_DIGITS:
        return str(value)
    if not value:
        value = value.copy_abs()
    return format(value, "f")


class Numbers:
    """Formats what the API sends, with the node's instruments and the operator's asset table.

    ``instrument(symbol)`` and ``instruments()`` read the node; ``order_symbol(order_id)`` names
    an order's instrument (for events that carry only the order id).
    """

    def __init__(
        self,
        instrument: Callable[[str], Instrument | None],
        instruments: Callable[[], list[Instrument]],
        asset_places: Mapping[str, int] | None = None,
        order_symbol: Callable[[int], str | None] | None = None,
    ) -> None:
        self._instrument = instrument
        self._instruments = instruments
        self._asset_table = dict(asset_places or {})
        self._order_symbol = order_symbol
        self._symbols: dict[str, tuple[Instrument, int, int]] = {}
        self._assets: dict[str, int] = {}
        self._assets_from: int = -1
        #: Per struct class: its tag and, per field, (name, wire name, kind, default, in VIEWS).
        self._plans: dict[type, tuple[tuple[str, Any] | None, list[tuple[Any, ...]]]] = {}

    @classmethod
    def of_node(cls, node: Any, asset_places: Mapping[str, int] | None = None) -> Numbers:
        def order_symbol(order_id: int) -> str | None:
            order = node.get_order(order_id)
            return order.symbol if order is not None else None

        return cls(node.instrument, node.instruments, asset_places, order_symbol)

    # ------------------------------------------------------------------ precision tables
    def symbol_places(self, symbol: str) -> tuple[int, int] | None:
        """(price places, quantity places) of an instrument; None if it is unknown."""
        inst = self._instrument(symbol)
        if inst is None:
            return None
        known = self._symbols.get(symbol)
        if known is None or known[0] is not inst:
            known = self._symbols[symbol] = (
                inst,
                places_of(inst.tick_size),
                places_of(inst.lot_size),
            )
        return known[1], known[2]

    def asset_places(self, asset: str) -> int:
        """The places money in ``asset`` is shown at (see the module docstring)."""
        if asset in self._asset_table:
            return self._asset_table[asset]
        instruments = self._instruments()
        if len(instruments) != self._assets_from:  # instruments are only ever added
            table: dict[str, int] = {}
            for inst in instruments:
                tick, lot = places_of(inst.tick_size), places_of(inst.lot_size)
                for a in {inst.quote, inst.settle_asset}:
                    table[a] = max(table.get(a, DEFAULT_ASSET_PLACES), tick)
                table[inst.base] = max(table.get(inst.base, DEFAULT_ASSET_PLACES), lot)
            self._assets, self._assets_from = table, len(instruments)
        return self._assets.get(asset, DEFAULT_ASSET_PLACES)

    def settle_asset(self, symbol: str | None) -> str | None:
        inst = self._instrument(symbol) if symbol else None
        return inst.settle_asset if inst is not None else None

    # ------------------------------------------------------------------ formatting
    def number(self, value: Decimal, spec: Spec, symbol: str | None, asset: str | None) -> str:
        """One decimal of kind ``spec`` for ``symbol`` (money: in ``asset``)."""
        kind = spec[0] if isinstance(spec, tuple) else spec
        if kind is EXACT:
            return plain(value)
        if kind is RATIO:
            return fixed(value, RATIO_PLACES)
        if kind is MONEY:
            if asset is None:
                asset = self.settle_asset(symbol)
            return plain(value) if asset is None else fixed(value, self.asset_places(asset))
        places = self.symbol_places(symbol) if symbol else None
        if places is None:
            return plain(value)
        if kind is QTY:
            return fixed(value, places[1])
        return fixed(value, places[0] + (AVG_EXTRA if kind is AVG else 0))

    def builtins(self, obj: Any, symbol: str | None = None) -> Any:
        """``obj`` as JSON-ready values (what ``msgspec.to_builtins`` gives) with every decimal a
        string formatted by its kind; ``symbol`` is the instrument of the enclosing object."""
        if isinstance(obj, msgspec.Struct):
            return self._struct(obj, symbol)
        if isinstance(obj, dict):
            return self._dict(obj, symbol)
        if isinstance(obj, list | tuple):
            return [self.builtins(v, symbol) for v in obj]
        if isinstance(obj, Decimal):
            return plain(obj)
        if isinstance(obj, enum.Enum):
            return obj.value
        return obj

    def encode(self, obj: Any) -> bytes:
        return msgspec.json.encode(self.builtins(obj))

    def _value(
        self, name: str, value: Any, spec: Spec | None, symbol: str | None, holder: Any
    ) -> Any:
        if isinstance(value, Decimal):
            if spec is None:
                return plain(value)
            asset = None
            if spec is OFFSET:
                by = _get(holder, "trailing_offset_type")
                spec = EXACT if by is not None and by != TrailingOffsetType.PRICE else PRICE
            if isinstance(spec, tuple):
                asset = _get(holder, spec[1])
            elif spec is MONEY:
                asset = _get(holder, "asset")
            return self.number(value, spec, symbol, asset if isinstance(asset, str) else None)
        if name in ASSET_MAPS and isinstance(value, dict):
            return {
                a: self.number(v, MONEY, None, a) if isinstance(v, Decimal) else self.builtins(v)
                for a, v in value.items()
            }
        if name in LEVELS and isinstance(value, list | tuple):
            return [self._level(level, symbol) for level in value]
        if isinstance(value, msgspec.Struct | dict | list | tuple):
            return self.builtins(value, symbol)
        if isinstance(value, enum.Enum):
            return value.value
        return value

    def _level(self, level: Any, symbol: str | None) -> Any:
        if isinstance(level, list | tuple) and len(level) == 2:
            px, qty = level
            return [
                self.number(px, PRICE, symbol, None) if isinstance(px, Decimal) else px,
                self.number(qty, QTY, symbol, None) if isinstance(qty, Decimal) else qty,
            ]
        return self.builtins(level, symbol)

    def _dict(self, obj: dict[Any, Any], symbol: str | None) -> dict[Any, Any]:
        own = obj.get("symbol")
        if isinstance(own, str):
            symbol = own
        return {k: self._value(k, v, BY_NAME.get(k), symbol, obj) for k, v in obj.items()}

    def _struct(self, obj: msgspec.Struct, symbol: str | None) -> dict[str, Any]:
        cls = type(obj)
        table = VIEWS.get(cls)
        own = getattr(obj, "symbol", None)
        if isinstance(own, str):
            symbol = own
        elif symbol is None and self._order_symbol is not None:
            order_id = getattr(obj, "order_id", None)
            if isinstance(order_id, int) and _has_decimal(obj):
                symbol = self._order_symbol(order_id)
        plan = self._plans.get(cls)
        if plan is None:
            plan = self._plans[cls] = _plan(cls, table)
        tag, fields = plan
        out: dict[str, Any] = {}
        if tag is not None:
            out[tag[0]] = tag[1]
        atoms = _ATOMS
        for name, wire, spec, default, tabled in fields:
            value = getattr(obj, name)
            if default is not _NO_DEFAULT and _same(value, default):
                continue
            if type(value) in atoms:
                out[wire] = value
                continue
            if tabled and spec is None and isinstance(value, Decimal):
                spec = EXACT
            out[wire] = self._value(name, value, spec, symbol, obj)
        return out


def _plan(
    cls: type[msgspec.Struct], table: Mapping[str, Spec] | None
) -> tuple[tuple[str, Any] | None, list[tuple[Any, ...]]]:
    """How :meth:`Numbers._struct` walks a struct class: its tag, and per field (name, wire
    name, kind, default or ``_NO_DEFAULT`` when it is never omitted, whether the class is in
    ``VIEWS``), worked out once per class."""
    config = cls.__struct_config__
    tag = (config.tag_field or "type", config.tag) if config.tag is not None else None
    names = cls.__struct_fields__
    wire = cls.__struct_encode_fields__
    defaults = cls.__struct_defaults__
    first_default = len(names) - len(defaults)
    fields: list[tuple[Any, ...]] = []
    for i, name in enumerate(names):
        default: Any = _NO_DEFAULT
        if config.omit_defaults and i >= first_default:
            default = defaults[i - first_default]
            factory = getattr(default, "factory", None)  # a default_factory
            if callable(factory) and type(default).__name__ == "Factory":
                default = factory()
            if default is msgspec.NODEFAULT:
                default = _NO_DEFAULT
        spec = table.get(name) if table is not None else BY_NAME.get(name)
        fields.append((name, wire[i], spec, default, table is not None))
    return tag, fields


def _get(holder: Any, name: str) -> Any:
    if isinstance(holder, dict):
        return holder.get(name)
    return getattr(holder, name, None)


def _same(value: Any, default: Any) -> bool:
    try:
        return bool(value == default) and type(value) is type(default)
    except Exception:
        return False


def _has_decimal(obj: msgspec.Struct) -> bool:
    return any(isinstance(getattr(obj, n), Decimal) for n in obj.__struct_fields__)
