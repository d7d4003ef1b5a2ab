"""The Upbit harness: KRW-BTC spot on :class:`~atlas_oms.fakes.upbit.FakeUpbit` with the real
:class:`~atlas_oms.venues.upbit.UpbitAdapter` (real ccxt ``upbit`` client, real sockets, real
JWTs checked by the fake)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from atlas_oms.core.ports import VenueAdapter
from atlas_oms.fakes.upbit import Account, FakeUpbit, Order
from atlas_oms.model.enums import PositionSide
from atlas_oms.model.venue import VenueOrderState
from atlas_oms.venues.upbit import UpbitAdapter

from .harness import Capability, Instrument, TruthOrder
from .harness_base import FakeHarness

D = Decimal
ACCOUNT = "acc-1"
KEY = "upbitaccesskey0000000000000000000000001"
SECRET = "upbitsecretkey0000000000000000000000000000001"

_WHY = {
    Capability.POSITIONS: "Upbit is a spot venue: balances, not positions",
    Capability.HEDGE_MODE: "Upbit is a spot venue: no position mode",
    Capability.THIRD_ASSET_FEES: "Upbit charges its fees in KRW, the quote",
    Capability.STREAM_AUTH_EXPIRY: "Upbit's private stream is authenticated once, at the handshake",
    Capability.SHORT_FILL_HISTORY: "Upbit has no fill history: fills are the trades of each order",
    Capability.AMEND: "Upbit has no in-place amend (cancel_and_new makes a new order)",
    Capability.SIGNED_TIMESTAMP: "Upbit's JWT carries a nonce, no timestamp; no server time",
    Capability.SELF_TRADES: "the Upbit fake models no self-trades (Upbit's smp_type is optional)",
    Capability.SHORT_RECV_WINDOW: "Upbit's signatures carry no timestamp, so no receive window",
    Capability.BOOKS: "",
}


def _state(order: Order) -> VenueOrderState:
    if order.state == "done":
        return VenueOrderState.FILLED
    if order.state == "cancel":
        return VenueOrderState.CANCELED
    return VenueOrderState.PARTIALLY_FILLED if order.executed else VenueOrderState.NEW


class UpbitHarness(FakeHarness[FakeUpbit]):
    name = "upbit"
    venue = "upbit"
    capabilities: frozenset[Capability] = frozenset({Capability.BOOKS})
    instrument = Instrument(
        symbol="BTC/KRW",
        base="BTC",
        quote="KRW",
        qty=D("0.01"),
        price=D("50000000"),
        derivative=False,
    )
    key = KEY
    secret = SECRET

    def not_applicable(self, capability: Capability) -> str:
        return f"{self.name}: {_WHY[capability]}"

    async def start(self, *, hedge_mode: bool = False) -> None:
        account = Account(
            name=ACCOUNT,
            access_key=KEY,
            secret=SECRET,
            balances={"KRW": [D("100000000"), D(0)], "BTC": [D("2"), D(0)]},
        )
        await self._start_fake(FakeUpbit([account]))

    def adapter(
        self, account_id: str, decode_client_id: Callable[[str], int | None]
    ) -> VenueAdapter:
        adapter: VenueAdapter = UpbitAdapter(
            **self.adapter_args(account_id, decode_client_id),
            rest_url=self.f.http,
            ws_url=self.f.ws,
        )
        return adapter

    # ------------------------------------------------------------------ helpers
    def _mine(self) -> list[Order]:
        return [o for o in self.f.venue.orders.values() if o.account == ACCOUNT]

    def _by_client(self, client_order_id: str) -> Order:
        found = [o for o in self._mine() if o.identifier == client_order_id]
        assert len(found) == 1, f"{len(found)} venue orders with identifier {client_order_id}"
        return found[0]

    # ------------------------------------------------------------------ knobs

    def fail_next_place(self, *, committed: bool) -> None:
        if committed:
            self.f.faults.fail_places_after_commit = 1
        else:
            self.f.faults.fail_places_before_commit = 1

    def delay_next_change(self, action: str, seconds: float) -> None:
        assert action == "CANCEL", action
        self.f.faults.delay_cancels = 1
        self.f.faults.delay_s = seconds

    def drop_after_next_change(self, action: str) -> None:
        assert action == "CANCEL", action
        self.f.faults.drop_cancels = 1

    def fail_next_change(self, action: str, *, committed: bool) -> None:
        assert action == "CANCEL", action
        if committed:
            self.f.faults.fail_cancels_after_commit = 1
        else:
            self.f.faults.fail_cancels_before_commit = 1

    def drop_stream(self) -> None:
        self.f.drop_streams()

    def expire_stream_auth(self) -> None:
        raise NotImplementedError(self.not_applicable(Capability.STREAM_AUTH_EXPIRY))

    def clock_offset(self, seconds: float) -> None:
        self.f.venue.clock_offset_ms = int(seconds * 1000)

    def rate_limit_low(self, on: bool) -> None:
        # A reconciliation: open orders, closed orders, one order query per executed order,
        # accounts (+ market/all on start): 6 per second fit one, a burst does not.
        self.f.limits.enforced = {"default": 6, "order": 2} if on else {}

    def rate_limit_state(self) -> tuple[bool, bool]:
        return self.f.throttled, self.f.banned

    def fees_in_third_asset(self, fills: int) -> str:
        raise NotImplementedError(self.not_applicable(Capability.THIRD_ASSET_FEES))

    def short_fill_history(self, seconds: float) -> None:
        raise NotImplementedError(self.not_applicable(Capability.SHORT_FILL_HISTORY))

    def hedge_mode(self, on: bool) -> None:
        raise NotImplementedError(self.not_applicable(Capability.HEDGE_MODE))

    def seed_old_position(self, qty: Decimal, price: Decimal, age_s: float) -> None:
        raise NotImplementedError(self.not_applicable(Capability.POSITIONS))

    def place_external(self, side: str, qty: Decimal, price: Decimal) -> str:
        acct = self.f.venue.accounts[ACCOUNT]
        body = {
            "market": "KRW-BTC",
            "side": "bid" if side == "BUY" else "ask",
            "ord_type": "limit",
            "price": str(price),
            "volume": str(qty),
        }
        return self.f.venue.place(acct, body).uuid

    def rest_liquidity(self, side: str, qty: Decimal, price: Decimal) -> None:
        key = ("KRW-BTC", "bid" if side == "BUY" else "ask", price)
        self.f.venue.house[key] = self.f.venue.house.get(key, D(0)) + qty

    # ------------------------------------------------------------------ truth
    def orders(self) -> list[TruthOrder]:
        return [
            TruthOrder(
                client_order_id=o.identifier or "",
                venue_order_id=o.uuid,
                symbol="BTC/KRW",
                state=_state(o),
                qty=o.volume if o.volume is not None else o.executed,
                cum_qty=o.executed,
            )
            for o in self._mine()
        ]

    def positions(self) -> dict[tuple[str, PositionSide], tuple[Decimal, Decimal]]:
        return {}

    def balances(self) -> dict[str, Decimal]:
        acct = self.f.venue.accounts[ACCOUNT]
        return {c: free + locked for c, (free, locked) in acct.balances.items() if free + locked}
