"""Binance symbol ids (``BTCUSDT``) <-> Atlas instruments.

Spot ids name the node's SPOT instruments with an unqualified symbol (``BTC/USDT``; an
instrument of another venue listed as ``BTC/USDT@bybit`` has no Binance id here);
USDⓈ-M ids name its PERPETUAL instruments (``BTC/USDT:USDT`` -> ``BTCUSDT``)."""

from __future__ import annotations

from atlas_oms.binance_api.errors import bad_symbol
from atlas_oms.model.enums import InstrumentKind
from atlas_oms.model.instrument import Instrument
from atlas_oms.runtime.node import Node


def binance_id(inst: Instrument) -> str:
    return f"{inst.base}{inst.quote}"


class Symbols:
    """Id lookups over the node's instruments of one kind (re-read when the list changes)."""

    def __init__(self, node: Node, kind: InstrumentKind = InstrumentKind.SPOT) -> None:
        self.node = node
        self.kind = kind
        self._seen = -1
        self._by_id: dict[str, Instrument] = {}

    def all(self) -> dict[str, Instrument]:
        instruments = self.node.instruments()
        if len(instruments) != self._seen:
            self._seen = len(instruments)
            self._by_id = {
                binance_id(i): i for i in instruments if i.kind == self.kind and "@" not in i.symbol
            }
        return self._by_id

    def get(self, symbol_id: str | None) -> Instrument | None:
        return self.all().get((symbol_id or "").upper())

    def instrument(self, symbol_id: str | None) -> Instrument:
        """The instrument of a Binance id; -1121 Invalid symbol otherwise."""
        inst = self.get(symbol_id)
        if inst is None:
            raise bad_symbol()
        return inst

    def id_of(self, symbol: str) -> str | None:
        inst = self.node.instrument(symbol)
        if inst is None or inst.kind != self.kind or "@" in symbol:
            return None
        return binance_id(inst)


__all__ = ["Symbols", "binance_id"]
