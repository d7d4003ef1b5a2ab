"""The Alpaca harness (``alpaca``): :class:`~atlas_oms.fakes.alpaca.FakeAlpaca` with the real
:class:`AlpacaAdapter` (real alpaca-py ``TradingClient`` and ``TradingStream``, real sockets,
key headers checked). US equities: an account holds cash and shares (no derivatives, no position
mode, no fees in a third asset, no expiring stream authentication)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from atlas_oms.core.ports import VenueAdapter
from atlas_oms.fakes.alpaca import Account, FakeAlpaca
from atlas_oms.fakes.alpaca.venue import HouseQuote, Order
from atlas_oms.model.enums import PositionSide
from atlas_oms.model.venue import VenueOrderState
from atlas_oms.venues.alpaca import AlpacaAdapter
from atlas_oms.venues.alpaca.parse import base_client_id, order_state

from .harness import Capability, Instrument, TruthOrder
from .harness_base import FakeHarness

D = Decimal
ACCOUNT = "acc-1"
KEY = "PKCONTRACT0000000001"
SECRET = "contractsecret0000000000000000000000001"
SYMBOL = "AAPL"


class AlpacaHarness(FakeHarness[FakeAlpaca]):
    name = "alpaca"
    venue = "alpaca"
    capabilities: frozenset[Capability] = frozenset({Capability.BOOKS})
    #: An equities NBBO: one level a side, in round lots of 100 shares (odd lots are not in it).
    book_levels = 1
    book_lot = D("100")
    #: A 429, or (once the limiter follows the X-RateLimit-* headers) nothing left before the
    #: reset: the scope pauses either way (str.startswith takes a tuple).
    rate_limit_signal = ("HTTP 429", "limit used up at alpaca")
    instrument = Instrument(
        symbol=SYMBOL, base=SYMBOL, quote="USD", qty=D("10"), price=D("150"), derivative=False
    )
    key = KEY
    secret = SECRET

    def not_applicable(self, capability: Capability) -> str:
        return f"{self.name}: {_WHY[capability]}"

    # ------------------------------------------------------------------ life
    async def start(self, *, hedge_mode: bool = False) -> None:
        await self._start_fake(
            FakeAlpaca(
                [Account(name=ACCOUNT, api_key=KEY, secret=SECRET, cash=D("100000"))],
                last_price=D("155"),
            )
        )

    def adapter(
        self, account_id: str, decode_client_id: Callable[[str], int | None]
    ) -> VenueAdapter:
        adapter: VenueAdapter = AlpacaAdapter(
            **self.adapter_args(account_id, decode_client_id),
            base_url=self.f.http,
            stream_url=self.f.stream_url,
            data_url=self.f.http,
            # the contract runs at any hour: the XNYS schedule is tested elsewhere
            session=None,
        )
        return adapter

    # ------------------------------------------------------------------ helpers
    def _mine(self) -> list[Order]:
        return [o for o in self.f.venue.orders.values() if o.account == ACCOUNT]

    def _by_client(self, client_order_id: str) -> Order:
        found = [
            o
            for o in self._mine()
            if base_client_id(o.client_order_id) == client_order_id and o.status != "replaced"
        ]
        assert len(found) == 1, f"{len(found)} working legs with client id {client_order_id}"
        return found[0]

    # ------------------------------------------------------------------ knobs

    def fail_next_place(self, *, committed: bool) -> None:
        if committed:
            self.f.faults.fail_places_after = 1  # 504 after acceptance
        else:
            self.f.faults.fail_places_before = 1  # 500, nothing taken

    def delay_next_change(self, action: str, seconds: float) -> None:
        self.f.faults.delay_changes[_CHANGES[action]] = 1
        self.f.faults.delay_s = seconds

    def drop_after_next_change(self, action: str) -> None:
        self.f.faults.drop_changes[_CHANGES[action]] = 1

    def fail_next_change(self, action: str, *, committed: bool) -> None:
        target = (
            self.f.faults.fail_changes_after if committed else self.f.faults.fail_changes_before
        )
        target[_CHANGES[action]] = 1

    def drop_stream(self) -> None:
        self.f.drop_streams()

    def expire_stream_auth(self) -> None:
        """Alpaca's stream keys do not expire; the nearest thing is the venue ending the
        session (``unauthorized``, then a close): the adapter reconnects and re-authenticates."""
        self.f.end_stream_sessions(ACCOUNT)

    def clock_offset(self, seconds: float) -> None:
        self.f.venue.clock_offset_ns = int(seconds * 1e9)

    def rate_limit_low(self, on: bool) -> None:
        # a reconciliation: open orders + fills + account + positions (+ one per order query)
        self.f.limits.requests_per_window = 8 if on else 200
        self.f.limits.window_s = 1.0 if on else 60.0

    def rate_limit_state(self) -> tuple[bool, bool]:
        return self.f.throttled, False  # Alpaca has no ban beyond 429

    def fees_in_third_asset(self, fills: int) -> str:
        raise NotImplementedError(_WHY[Capability.THIRD_ASSET_FEES])

    def short_fill_history(self, seconds: float) -> None:
        self.f.faults.fill_history_s = seconds

    def hedge_mode(self, on: bool) -> None:
        raise NotImplementedError(_WHY[Capability.HEDGE_MODE])

    def seed_old_position(self, qty: Decimal, price: Decimal, age_s: float) -> None:
        self.f.venue.accounts[ACCOUNT].positions[SYMBOL] = [qty, price]

    def place_external(self, side: str, qty: Decimal, price: Decimal) -> str:
        order = self.f.venue.place(
            ACCOUNT,
            {
                "symbol": SYMBOL,
                "side": side.lower(),
                "type": "limit",
                "time_in_force": "gtc",
                "qty": str(qty),
                "limit_price": str(price),
            },
        )
        return order.id

    def rest_liquidity(self, side: str, qty: Decimal, price: Decimal) -> None:
        self.f.venue.house.setdefault(SYMBOL, []).append(HouseQuote(side.lower(), qty, price))

    # ------------------------------------------------------------------ truth
    def orders(self) -> list[TruthOrder]:
        """Every order, replacement legs folded into one (the latest leg, with the earlier
        legs' fills added: what one Atlas order is)."""
        out = []
        for o in self._mine():
            if o.status == "replaced":
                continue
            carried = D(0)
            prior = o.replaces
            while prior:
                old = self.f.venue.orders[prior]
                carried += old.filled_qty
                prior = old.replaces
            state = order_state(o.status, o.qty, o.filled_qty)
            if carried and state is VenueOrderState.NEW:
                state = VenueOrderState.PARTIALLY_FILLED
            out.append(
                TruthOrder(
                    client_order_id=base_client_id(o.client_order_id) or o.client_order_id,
                    venue_order_id=o.id,
                    symbol=o.symbol,
                    state=state,
                    qty=o.qty + carried,
                    cum_qty=o.filled_qty + carried,
                )
            )
        return out

    def positions(self) -> dict[tuple[str, PositionSide], tuple[Decimal, Decimal]]:
        return {}

    def balances(self) -> dict[str, Decimal]:
        acct = self.f.venue.accounts[ACCOUNT]
        out = {"USD": acct.cash} if acct.cash else {}
        out.update({s: p[0] for s, p in acct.positions.items() if p[0]})
        return out


_CHANGES = {"CANCEL": "cancel", "AMEND": "amend"}

_WHY = {
    Capability.POSITIONS: "an equity account holds shares as assets, not derivatives positions",
    Capability.HEDGE_MODE: "an equity account has no position mode",
    Capability.THIRD_ASSET_FEES: "Alpaca charges no commission on US equities",
    Capability.STREAM_AUTH_EXPIRY: "Alpaca's stream authenticates with static keys (no expiry)",
    Capability.SHORT_FILL_HISTORY: "the harness does not yet age fills against positions",
    Capability.SELF_TRADES: "Alpaca refuses an order that would trade with the account's own"
    " (403 potential wash trade)",
    Capability.SHORT_RECV_WINDOW: "Alpaca's requests carry static key headers, no timestamp",
    Capability.SIGNED_TIMESTAMP: "Alpaca's requests carry static key headers, no timestamp",
    Capability.AMEND: "Alpaca's replace makes a new order with a new id (PATCH /v2/orders/{id})",
    Capability.BOOKS: "",
}
