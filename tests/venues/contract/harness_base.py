"""The scaffolding every venue harness repeats (:class:`~.harness.VenueHarness`), written once.

:class:`FakeHarness` owns the fake venue's life (started on 127.0.0.1, port 0: a free port the
fake picks; stopped if started), the ``f`` accessor, the real adapter's common arguments (the
account's key and secret, the contract's short timeouts and reconnect delays), and the fault
knobs and fills that every loopback fake names alike (``faults.delay_places``,
``faults.half_open``, ``venue.fill(order, qty, price)`` ...). :class:`CountedChangeFaults` adds
the knobs of the fakes whose cancel and amend faults are counters named
``{delay,drop}_{cancels,amends}`` and ``fail_{cancels,amends}_{before,after}_commit`` (Binance,
Bybit, OKX). A harness overrides what its venue does differently; its wire shapes (an order's
fields, a house quote, a truth row) stay in its own module.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, Generic, Protocol, TypeVar

from .harness import Instrument

#: The adapter's HTTP timeout in the contract; a held reply is held longer than this.
TIMEOUT_MS = 800
#: The adapter's timings in the contract (small: a lost reply, a dropped stream show fast).
ADAPTER_TIMINGS: dict[str, Any] = {
    "timeout_ms": TIMEOUT_MS,
    "heartbeat_s": 0.1,
    "reconnect_min_s": 0.05,
    "reconnect_max_s": 0.2,
}
#: The crypto venues' contract instruments: BTC/USDT spot and its USDT-margined perpetual.
BTC_USDT = Instrument(
    symbol="BTC/USDT",
    base="BTC",
    quote="USDT",
    qty=Decimal("0.01"),
    price=Decimal("50000"),
    derivative=False,
)
BTC_USDT_PERP = Instrument(
    symbol="BTC/USDT:USDT",
    base="BTC",
    quote="USDT",
    qty=Decimal("0.01"),
    price=Decimal("50000"),
    derivative=True,
)
#: The harness's action names -> the fakes' counter names (``delay_cancels``, ``drop_amends``...).
CHANGES = {"CANCEL": "cancels", "AMEND": "amends"}


class LoopbackFake(Protocol):
    """A loopback fake venue: started on a free port of 127.0.0.1, stopped; ``venue`` is its
    state, ``faults`` its knobs."""

    venue: Any
    faults: Any

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


F = TypeVar("F", bound=LoopbackFake)


class FakeHarness(Generic[F]):
    """A harness's life around its fake ``F`` and the knobs every fake has alike."""

    #: The venue account's key and secret, as the fake knows them.
    key = ""
    secret = ""

    def __init__(self) -> None:
        self.fake: F | None = None

    # ------------------------------------------------------------------ life
    async def _start_fake(self, fake: F) -> None:
        """Start ``fake`` on 127.0.0.1 (port 0: a free port) as this harness's venue."""
        self.fake = fake
        await fake.start()

    async def stop(self) -> None:
        if self.fake is not None:
            await self.fake.stop()

    @property
    def f(self) -> F:
        assert self.fake is not None, "the harness is not started"
        return self.fake

    def adapter_args(
        self, account_id: str, decode_client_id: Callable[[str], int | None]
    ) -> dict[str, Any]:
        """The keyword arguments every real adapter takes, as the contract sets them; the
        harness adds where its venue is (URLs or endpoints) and anything of its own."""
        return {
            "account_id": account_id,
            "api_key": self.key,
            "secret": self.secret,
            "decode_client_id": decode_client_id,
            **ADAPTER_TIMINGS,
        }

    # ------------------------------------------------------------------ helpers
    def _by_client(self, client_order_id: str) -> Any:
        """The account's one venue order with this client order id (the harness's own)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ knobs
    def delay_next_place(self, seconds: float) -> None:
        self.f.faults.delay_places = 1
        self.f.faults.delay_s = seconds

    def drop_after_next_place(self) -> None:
        self.f.faults.drop_places = 1

    def fill_on_stream_subscribe(self, client_order_id: str) -> None:
        # Binance spot: after the WS-API subscribe answer; USDⓈ-M: when the listenKey stream
        # connects; the others: when the private stream's subscription is acknowledged
        self.f.faults.fill_on_subscribe.append(client_order_id)

    def half_open(self, on: bool) -> None:
        self.f.faults.half_open = on

    def duplicate_executions(self, on: bool) -> None:
        self.f.faults.duplicate_events = on

    def visibility_lag(self, seconds: float) -> None:
        self.f.faults.visibility_lag_s = seconds

    def cancel_races_fill(self) -> None:
        self.f.faults.cancel_races_fill = 1

    # ------------------------------------------------------------------ fills
    def fill(self, client_order_id: str, qty: Decimal, price: Decimal | None = None) -> None:
        self.f.venue.fill(self._by_client(client_order_id), qty, price)

    def fill_in_parts(self, client_order_id: str, parts: list[Decimal]) -> None:
        order = self._by_client(client_order_id)
        for part in parts:
            self.f.venue.fill(order, part)

    def fill_venue_order(self, venue_order_id: str, qty: Decimal) -> None:
        self.f.venue.fill(self.f.venue.orders[venue_order_id], qty)


class CountedChangeFaults(FakeHarness[F]):
    """The place, cancel and amend fault knobs of the fakes that count them by name."""

    def fail_next_place(self, *, committed: bool) -> None:
        # a 5xx "status unknown" (Binance: HTTP 503 -1007 "Timeout waiting for response from
        # backend server. Send status unknown")
        if committed:
            self.f.faults.fail_after_commit = 1
        else:
            self.f.faults.fail_before_commit = 1

    def delay_next_change(self, action: str, seconds: float) -> None:
        setattr(self.f.faults, f"delay_{CHANGES[action]}", 1)
        self.f.faults.delay_s = seconds

    def drop_after_next_change(self, action: str) -> None:
        setattr(self.f.faults, f"drop_{CHANGES[action]}", 1)

    def fail_next_change(self, action: str, *, committed: bool) -> None:
        when = "after" if committed else "before"
        setattr(self.f.faults, f"fail_{CHANGES[action]}_{when}_commit", 1)
