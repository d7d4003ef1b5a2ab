"""The OKX harnesses: spot (``okx-spot``, ``BTC/USDT``) and linear SWAP (``okx-swap``,
``BTC/USDT:USDT``) of one unified OKX account on :class:`~atlas_oms.fakes.okx.FakeOkx`, with
the real :class:`OkxAdapter` (real ccxt client, real sockets, real signatures)."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal

from atlas_oms.core.ports import VenueAdapter
from atlas_oms.fakes.okx import Account, FakeOkx, Order
from atlas_oms.fakes.okx.venue import INSTRUMENTS, Position
from atlas_oms.model.enums import PositionSide
from atlas_oms.model.venue import VenueOrderState
from atlas_oms.venues.okx import OkxAdapter
from atlas_oms.venues.okx.parse import unified_symbol

from .harness import Capability, Instrument, TruthOrder
from .harness_base import BTC_USDT, BTC_USDT_PERP, CountedChangeFaults

D = Decimal
ACCOUNT = "acc-1"
KEY = "okx-contract-key-0001"
SECRET = "OKXCONTRACTSECRET0000000000000001"
PASSPHRASE = "Contract-Pass-1"

_STATES = {
    "live": VenueOrderState.NEW,
    "partially_filled": VenueOrderState.PARTIALLY_FILLED,
    "filled": VenueOrderState.FILLED,
    "canceled": VenueOrderState.CANCELED,
}
_SIDES = {"net": PositionSide.BOTH, "long": PositionSide.LONG, "short": PositionSide.SHORT}


class _OkxHarness(CountedChangeFaults[FakeOkx]):
    name = ""
    venue = "okx"
    inst_id = ""
    capabilities: frozenset[Capability] = frozenset()
    instrument: Instrument
    key = KEY
    secret = SECRET

    def not_applicable(self, capability: Capability) -> str:
        return f"{self.name}: {_WHY[capability]}"

    # ------------------------------------------------------------------ life
    async def start(self, *, hedge_mode: bool = False) -> None:
        acct = Account(
            name=ACCOUNT,
            api_key=KEY,
            secret=SECRET,
            passphrase=PASSPHRASE,
            cash={"USDT": D("100000"), "BTC": D("2")},
            hedge=hedge_mode,
        )
        await self._start_fake(FakeOkx([acct]))

    def adapter(
        self, account_id: str, decode_client_id: Callable[[str], int | None]
    ) -> VenueAdapter:
        adapter: VenueAdapter = OkxAdapter(
            **self.adapter_args(account_id, decode_client_id),
            passphrase=PASSPHRASE,
            rest_url=self.f.http,
            ws_url=self.f.ws,
        )
        return adapter

    # ------------------------------------------------------------------ helpers
    def _acct(self) -> Account:
        return self.f.venue.accounts[ACCOUNT]

    def _ct(self) -> Decimal:
        return INSTRUMENTS[self.inst_id].ct_val

    def _mine(self) -> list[Order]:
        return [
            o
            for o in self.f.venue.orders.values()
            if o.account == ACCOUNT and o.inst.inst_id == self.inst_id
        ]

    def _by_client(self, client_order_id: str) -> Order:
        found = [o for o in self._mine() if o.cl_ord_id == client_order_id]
        assert len(found) == 1, f"{len(found)} venue orders with clOrdId {client_order_id}"
        return found[0]

    # ------------------------------------------------------------------ knobs

    def drop_stream(self) -> None:
        self.f.drop_private_streams()

    def expire_stream_auth(self) -> None:
        """OKX's login has no expiry; the nearest event is the venue ending the session: a
        ``notice`` (``64008``, "the connection will soon be closed") and the close."""
        self.f.end_private_sessions()

    def clock_offset(self, seconds: float) -> None:
        self.f.venue.clock_offset_ms = int(seconds * 1000)

    def rate_limit_low(self, on: bool) -> None:
        # a reconciliation: orders-pending + fills + balance + positions, one request each
        self.f.faults.low_limit = 2 if on else None
        self.f.faults.window_s = 1.0 if on else 2.0

    def rate_limit_state(self) -> tuple[bool, bool]:
        return self.f.throttled > 0, False

    def fees_in_third_asset(self, fills: int) -> str:
        raise NotImplementedError("OKX charges fees in the traded assets")

    def short_fill_history(self, seconds: float) -> None:
        self.f.faults.fills_window_ms = int(seconds * 1000)

    def hedge_mode(self, on: bool) -> None:
        self._acct().hedge = on

    def seed_old_position(self, qty: Decimal, price: Decimal, age_s: float) -> None:
        opened = int((time.time() - age_s) * 1000)
        self._acct().positions[(self.inst_id, "net")] = Position(qty / self._ct(), price, opened)

    def place_external(self, side: str, qty: Decimal, price: Decimal) -> str:
        o = self.f.venue.place(
            self._acct(),
            {
                "instId": self.inst_id,
                "side": side.lower(),
                "ordType": "limit",
                "px": str(price),
                "sz": str(qty / self._ct()),
                "posSide": "net",
            },
        )
        return o.ord_id

    def rest_liquidity(self, side: str, qty: Decimal, price: Decimal) -> None:
        self.f.venue.house_quote(self.inst_id, side.lower(), price, qty / self._ct())

    def fill(self, client_order_id: str, qty: Decimal, price: Decimal | None = None) -> None:
        self.f.venue.fill(self._by_client(client_order_id), qty / self._ct(), price)

    def fill_in_parts(self, client_order_id: str, parts: list[Decimal]) -> None:
        o = self._by_client(client_order_id)
        for part in parts:
            self.f.venue.fill(o, part / self._ct())

    def fill_venue_order(self, venue_order_id: str, qty: Decimal) -> None:
        self.f.venue.fill(self.f.venue.orders[venue_order_id], qty / self._ct())

    # ------------------------------------------------------------------ truth
    def orders(self) -> list[TruthOrder]:
        swap = INSTRUMENTS[self.inst_id].inst_type == "SWAP"
        return [
            TruthOrder(
                client_order_id=o.cl_ord_id,
                venue_order_id=o.ord_id,
                symbol=unified_symbol(o.inst.inst_id),
                state=_STATES[o.state],
                qty=o.sz * self._ct(),
                cum_qty=o.acc_fill_sz * self._ct(),
                position_side=_SIDES[o.pos_side] if swap else None,
            )
            for o in self._mine()
        ]

    def positions(self) -> dict[tuple[str, PositionSide], tuple[Decimal, Decimal]]:
        return {
            (unified_symbol(inst_id), _SIDES[side]): (
                (-pos.pos if side == "short" else pos.pos) * self._ct(),
                pos.avg_px,
            )
            for (inst_id, side), pos in self._acct().positions.items()
            if pos.pos and inst_id == self.inst_id
        }

    def balances(self) -> dict[str, Decimal]:
        return {ccy: cash for ccy, cash in self._acct().cash.items() if cash}


class OkxSpotHarness(_OkxHarness):
    name = "okx-spot"
    inst_id = "BTC-USDT"
    capabilities = frozenset(
        {
            Capability.SHORT_FILL_HISTORY,
            Capability.AMEND,
            Capability.SIGNED_TIMESTAMP,
            Capability.BOOKS,
        }
    )
    instrument = BTC_USDT


class OkxSwapHarness(_OkxHarness):
    name = "okx-swap"
    inst_id = "BTC-USDT-SWAP"
    capabilities = frozenset(
        {
            Capability.POSITIONS,
            Capability.HEDGE_MODE,
            Capability.SHORT_FILL_HISTORY,
            Capability.AMEND,
            Capability.SIGNED_TIMESTAMP,
            Capability.BOOKS,
        }
    )
    instrument = BTC_USDT_PERP


_WHY = {
    Capability.POSITIONS: "a spot pair holds balances, not positions",
    Capability.HEDGE_MODE: "a spot pair has no position mode (no long/short legs)",
    Capability.THIRD_ASSET_FEES: "OKX charges fees in the traded assets only",
    Capability.STREAM_AUTH_EXPIRY: "OKX's WebSocket login does not expire",
    Capability.SHORT_FILL_HISTORY: "",
    Capability.AMEND: "",
    Capability.SIGNED_TIMESTAMP: "",
    Capability.BOOKS: "",
    Capability.SELF_TRADES: (
        "OKX enforces self-trade prevention (cancel maker by default) since 2024-03-14"
    ),
    Capability.SHORT_RECV_WINDOW: (
        "OKX accepts a request timestamp within 30 s: a 6 s skew is not refused"
    ),
}
