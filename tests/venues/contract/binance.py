"""The Binance harnesses: spot (``binance``) and USDⓈ-M (``binanceusdm``) on
:class:`~atlas_oms.fakes.binance.FakeBinance` with the real :class:`BinanceSpotAdapter` /
:class:`BinanceUsdmAdapter` (real ccxt clients, real sockets, real signatures)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_DOWN, Decimal
from typing import Any

from atlas_oms.core.ports import VenueAdapter
from atlas_oms.fakes.binance import AccountConfig, FakeBinance
from atlas_oms.fakes.binance.venue import Order
from atlas_oms.model.enums import PositionSide
from atlas_oms.model.venue import VenueOrderState
from atlas_oms.venues.binance import BinanceEndpoints, BinanceSpotAdapter, BinanceUsdmAdapter

from .harness import Capability, Instrument, TruthOrder
from .harness_base import BTC_USDT, BTC_USDT_PERP, CountedChangeFaults

D = Decimal
ACCOUNT = "acc-1"
KEY = "contractkey00000000000000000000000000000000000000000000000000001"
SECRET = "contractsecret000000000000000000000000000000000000000000000001"

_STATES = {
    "NEW": VenueOrderState.NEW,
    "PARTIALLY_FILLED": VenueOrderState.PARTIALLY_FILLED,
    "FILLED": VenueOrderState.FILLED,
    "CANCELED": VenueOrderState.CANCELED,
    "EXPIRED": VenueOrderState.EXPIRED,
    "EXPIRED_IN_MATCH": VenueOrderState.EXPIRED,
    "REJECTED": VenueOrderState.REJECTED,
}


class _BinanceHarness(CountedChangeFaults[FakeBinance]):
    name = ""
    venue = ""
    market = ""
    capabilities: frozenset[Capability] = frozenset()
    instrument: Instrument
    key = KEY
    secret = SECRET

    def not_applicable(self, capability: Capability) -> str:
        return f"{self.name}: {_WHY[capability]}"

    # ------------------------------------------------------------------ life
    def _account(self, hedge_mode: bool) -> AccountConfig:
        return AccountConfig(
            name=ACCOUNT,
            api_key=KEY,
            secret=SECRET,
            spot={"USDT": D("100000"), "BTC": D("2")},
            futures={"USDT": D("100000")},
            hedge_mode=hedge_mode,
        )

    async def start(self, *, hedge_mode: bool = False) -> None:
        await self._start_fake(FakeBinance([self._account(hedge_mode)]))

    def _endpoints(self) -> BinanceEndpoints:
        raise NotImplementedError

    def adapter(
        self, account_id: str, decode_client_id: Callable[[str], int | None]
    ) -> VenueAdapter:
        cls: Any = BinanceSpotAdapter if self.market == "spot" else BinanceUsdmAdapter
        adapter: VenueAdapter = cls(
            **self.adapter_args(account_id, decode_client_id),
            endpoints=self._endpoints(),
        )
        return adapter

    # ------------------------------------------------------------------ helpers
    def _acct(self) -> Any:
        return self.f.venue.accounts[ACCOUNT]

    def _mine(self) -> list[Order]:
        return [
            o
            for o in self.f.venue.orders.values()
            if o.market == self.market and o.account == ACCOUNT
        ]

    def _by_client(self, client_order_id: str) -> Order:
        found = [o for o in self._mine() if o.client_id == client_order_id]
        assert len(found) == 1, f"{len(found)} venue orders with client id {client_order_id}"
        return found[0]

    def _unified(self, venue_symbol: str) -> str:
        spec = self.f.venue.spec(self.market, venue_symbol)
        suffix = f":{spec.quote}" if self.market == "usdm" else ""
        return f"{spec.base}/{spec.quote}{suffix}"

    # ------------------------------------------------------------------ knobs

    def drop_stream(self) -> None:
        self.f.drop_user_streams()

    def expire_stream_auth(self) -> None:
        raise NotImplementedError

    def clock_offset(self, seconds: float) -> None:
        self.f.faults.clock_offset_ms = int(seconds * 1000)

    #: Request weight a 1 s window allows when the limit is low.
    low_weight = 0

    def rate_limit_low(self, on: bool) -> None:
        limits = self.f.limits
        defaults = type(limits)()
        limits.weight_per_window = self.low_weight if on else defaults.weight_per_window
        limits.weight_window_s = 1.0 if on else defaults.weight_window_s
        limits.ban_s = 30.0

    def rate_limit_state(self) -> tuple[bool, bool]:
        ips = list(self.f._ips.values())
        return any(s.backoff_until for s in ips), any(s.banned_until for s in ips)

    def fees_in_third_asset(self, fills: int) -> str:
        acct = self._acct()
        acct.cfg.bnb_fees = True
        inst = self.instrument
        rate = acct.cfg.spot_maker if self.market == "spot" else acct.cfg.futures_maker
        one = (inst.qty / 2 * inst.price * rate / self.f.venue.bnb_price).quantize(
            D("0.00000001"), ROUND_DOWN
        )
        amount = one * fills + (one / 2).quantize(D("0.00000001"), ROUND_DOWN)
        if self.market == "spot":
            row = acct.spot.setdefault("BNB", [D(0), D(0)])
            row[0] = amount
        else:
            acct.wallet["BNB"] = amount
        return "BNB"

    def short_fill_history(self, seconds: float) -> None:
        self.f.faults.trade_history_ms = int(seconds * 1000)

    def hedge_mode(self, on: bool) -> None:
        self._acct().hedge = on

    def seed_old_position(self, qty: Decimal, price: Decimal, age_s: float) -> None:
        self.f.venue.seed_old_position(
            ACCOUNT, "BTCUSDT", qty, price, int(age_s * 1000), market=self.market
        )

    def place_external(self, side: str, qty: Decimal, price: Decimal) -> str:
        params = {
            "symbol": "BTCUSDT",
            "side": side,
            "type": "LIMIT",
            "price": str(price),
            "quantity": str(qty),
        }
        return str(self.f.venue.place_external(self.market, ACCOUNT, params).order_id)

    def rest_liquidity(self, side: str, qty: Decimal, price: Decimal) -> None:
        self.f.venue.house_quote(self.market, "BTCUSDT", side, price, qty)

    def fill_in_parts(self, client_order_id: str, parts: list[Decimal]) -> None:
        self.f.venue.fill_in_parts(self._by_client(client_order_id), list(parts))

    def fill_venue_order(self, venue_order_id: str, qty: Decimal) -> None:
        order = self.f.venue.order(self.market, int(venue_order_id))
        assert order is not None, venue_order_id
        self.f.venue.fill(order, qty)

    # ------------------------------------------------------------------ truth
    def orders(self) -> list[TruthOrder]:
        return [
            TruthOrder(
                client_order_id=o.client_id,
                venue_order_id=str(o.order_id),
                symbol=self._unified(o.symbol),
                state=_STATES[o.status],
                qty=o.qty,
                cum_qty=o.executed,
                position_side=PositionSide(o.position_side) if self.market == "usdm" else None,
            )
            for o in self._mine()
        ]

    def positions(self) -> dict[tuple[str, PositionSide], tuple[Decimal, Decimal]]:
        if self.market == "spot":
            return {}
        return {
            (self._unified(symbol), PositionSide(side)): (pos.amt, pos.entry)
            for (symbol, side), pos in self._acct().positions.items()
            if pos.amt
        }

    def balances(self) -> dict[str, Decimal]:
        acct = self._acct()
        if self.market == "spot":
            totals = {asset: free + locked for asset, (free, locked) in acct.spot.items()}
        else:
            totals = dict(acct.wallet)
        return {asset: total for asset, total in totals.items() if total}


class BinanceSpotHarness(_BinanceHarness):
    name = "binance-spot"
    venue = "binance"
    market = "spot"
    capabilities = frozenset(
        {
            Capability.THIRD_ASSET_FEES,
            Capability.STREAM_AUTH_EXPIRY,
            Capability.SHORT_FILL_HISTORY,
            Capability.SELF_TRADES,
            Capability.SHORT_RECV_WINDOW,
            Capability.AMEND,
            Capability.SIGNED_TIMESTAMP,
            Capability.BOOKS,
        }
    )
    instrument = BTC_USDT

    def _endpoints(self) -> BinanceEndpoints:
        return BinanceEndpoints(self.f.http, f"{self.f.ws}/ws", f"{self.f.ws}/ws-api/v3")

    def expire_stream_auth(self) -> None:
        """Spot has no listenKey since 2026-02-20: the WS-API subscription is what expires
        (the venue ends it with ``eventStreamTerminated``, as on a logout or a key change)."""
        fake = self.f
        for conn in list(fake._conns):
            if conn.kind != "wsapi":
                continue
            for sid in [s for s, name in conn.subs.items() if name == ACCOUNT]:
                conn.subs.pop(sid)
                conn.send(
                    {
                        "subscriptionId": sid,
                        "event": {"e": "eventStreamTerminated", "E": fake.venue.now_ms()},
                    }
                )

    #: a reconciliation: openOrders 80 + account 20 + myTrades 20 (+ 4 per order query)
    low_weight = 160


class BinanceUsdmHarness(_BinanceHarness):
    name = "binance-usdm"
    venue = "binanceusdm"
    market = "usdm"
    capabilities = frozenset(
        {
            Capability.POSITIONS,
            Capability.HEDGE_MODE,
            Capability.THIRD_ASSET_FEES,
            Capability.STREAM_AUTH_EXPIRY,
            Capability.SHORT_FILL_HISTORY,
            Capability.SELF_TRADES,
            Capability.SHORT_RECV_WINDOW,
            Capability.AMEND,
            Capability.SIGNED_TIMESTAMP,
            Capability.BOOKS,
        }
    )
    instrument = BTC_USDT_PERP

    def _endpoints(self) -> BinanceEndpoints:
        return BinanceEndpoints(self.f.http, f"{self.f.ws}/fstream/ws")

    def expire_stream_auth(self) -> None:
        """``listenKeyExpired`` is pushed, the stream closed, the key forgotten (a keep-alive
        now answers ``-1125``)."""
        self.f.expire_listen_key(ACCOUNT)

    #: a reconciliation: openOrders 40 + userTrades 5 + account 5 + positionRisk 5
    low_weight = 70


_WHY = {
    Capability.POSITIONS: "a spot venue holds balances, not positions",
    Capability.HEDGE_MODE: "a spot venue has no position mode (no LONG/SHORT legs)",
    Capability.THIRD_ASSET_FEES: "the venue charges fees in the traded assets only",
    Capability.STREAM_AUTH_EXPIRY: "the venue's private stream has no expiring authentication",
    Capability.SHORT_FILL_HISTORY: "the venue's fill history is not shorter than a position",
    Capability.SELF_TRADES: "the venue prevents self-trades",
    Capability.SHORT_RECV_WINDOW: "the venue's signed requests stay valid for 30 s",
    Capability.AMEND: "the venue cannot change a working order in place",
    Capability.SIGNED_TIMESTAMP: "the venue's signatures carry no timestamp",
}
