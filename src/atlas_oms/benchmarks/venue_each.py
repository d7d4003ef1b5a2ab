"""``venue_orders_per_s_<venue>``: orders per second through each real adapter, one key per venue.

For each of binance, binanceusdm, bybit, bybitlinear, okx, upbit and alpaca: a
:class:`~atlas_oms.runtime.node.Node` on a SQLite journal opened as ``atlas serve`` opens it (group
commit every 2 ms plus the record-before-send flush), one
:class:`~atlas_oms.runtime.gateway.Gateway`, the venue's real adapter (its client library, its
signatures, its private stream) for each of ``ACCOUNTS`` accounts, and the venue's loopback fake in
ANOTHER process (``python -m atlas_oms.benchmarks.venue_each VENUE ACCOUNTS DEPTH``), so the
fake's CPU is not counted as Atlas's. The fake's own rate limits are lifted (what would be
measured otherwise is the venue's 10 orders/s per UID), and so are the gateway limiter's windows
(its header bookkeeping still runs: Bybit's ``X-Bapi-Limit-*``, Upbit's ``Remaining-Req``...).

Each order is a limit buy at the price of a deep house ask the fake rests on the other side: it
fills at once. An order counts when its fill is booked in Atlas (``OrderFilled``): submitted,
journaled, sent, acknowledged, filled, reported back and booked, end to end. Each account keeps
``IN_FLIGHT`` orders outstanding (the gateway's sender sends one at a time per account). After a
warm-up, orders over the window's length. The CPU each process used in the window is reported
beside (2 cores: both compete for them).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import atlas_oms
from atlas_oms.benchmarks.venues import _cpu_s

D = Decimal
TAG = "bench1"
ACCOUNTS = 10
ACCOUNTS_QUICK = 1
IN_FLIGHT = 2
N_ORDERS = 1_000
N_ORDERS_QUICK = 6
WARMUP_ORDERS = 100
WARMUP_ORDERS_QUICK = 2
START_TIMEOUT_S = 30.0
HUGE = 10**12


@dataclass(frozen=True)
class Spec:
    """What one venue's bench trades: Atlas's symbol, a quantity and the house ask's price."""

    symbol: str
    qty: Decimal
    price: Decimal


#: The venues measured, in order (each a key ``venue_orders_per_s_<venue>``).
SPECS: dict[str, Spec] = {
    "binance": Spec("BTC/USDT", D("0.01"), D("50000")),
    "binanceusdm": Spec("BTC/USDT:USDT", D("0.01"), D("50000")),
    "bybit": Spec("BTC/USDT", D("0.01"), D("50000")),
    "bybitlinear": Spec("BTC/USDT:USDT", D("0.01"), D("50000")),
    "okx": Spec("BTC/USDT", D("0.01"), D("50000")),
    "upbit": Spec("BTC/KRW", D("0.001"), D("50000000")),
    "alpaca": Spec("AAPL", D("1"), D("150")),
}
VENUES = tuple(SPECS)
KEYS = tuple(f"venue_orders_per_s_{v}" for v in VENUES)


def _key(venue: str, i: int) -> tuple[str, str]:
    if venue.startswith("binance"):
        return f"benchkey{i:056d}", f"benchsecret{i:053d}"
    return f"bench{venue}key{i:04d}", f"bench{venue}secret{i:024d}"


PASSPHRASE = "benchPass1!"


def _account(i: int) -> str:
    return f"bench-{i:02d}"


# ---------------------------------------------------------------------------- the fake (child)
async def _serve_fake(venue: str, accounts: int, depth: Decimal) -> None:
    """Start ``venue``'s fake here with ``accounts`` rich accounts, its limits lifted and a
    house ask of ``depth`` at the spec's price; print its URLs as JSON; serve until stdin
    closes (the parent went away) or the process is terminated."""
    spec = SPECS[venue]
    fake: Any
    info: dict[str, str]
    if venue.startswith("binance"):
        from atlas_oms.fakes.binance import AccountConfig, FakeBinance
        from atlas_oms.fakes.binance.config import SPOT, USDM, Limits

        rows = [
            AccountConfig(
                name=_account(i),
                api_key=_key(venue, i)[0],
                secret=_key(venue, i)[1],
                spot={"USDT": D(HUGE), "BTC": D(1000)},
                futures={"USDT": D(HUGE)},
            )
            for i in range(accounts)
        ]
        limits = Limits(
            weight_per_window=HUGE,
            orders_per_10s=HUGE,
            orders_per_day=HUGE,
            orders_per_minute=HUGE,
        )
        fake = FakeBinance(rows, limits=limits)
        await fake.start()
        market = SPOT if venue == "binance" else USDM
        fake.venue.house_quote(market, "BTCUSDT", "SELL", spec.price, depth)
        info = {"http": fake.http, "ws": fake.ws}
    elif venue.startswith("bybit"):
        from atlas_oms.fakes.bybit import AccountConfig as BybitAccount
        from atlas_oms.fakes.bybit import FakeBybit

        fake = FakeBybit(
            [
                BybitAccount(
                    name=_account(i),
                    api_key=_key(venue, i)[0],
                    secret=_key(venue, i)[1],
                    wallet={"USDT": D(HUGE), "BTC": D(1000)},
                )
                for i in range(accounts)
            ]
        )
        fake.limits.read_per_s = fake.limits.write_per_s = HUGE
        await fake.start()
        category = "spot" if venue == "bybit" else "linear"
        fake.venue.house_quote(category, "BTCUSDT", "Sell", spec.price, depth)
        info = {"http": fake.http, "ws": fake.ws}
    elif venue == "okx":
        from atlas_oms.fakes.okx import Account as OkxAccount
        from atlas_oms.fakes.okx import FakeOkx

        fake = FakeOkx(
            [
                OkxAccount(
                    name=_account(i),
                    api_key=_key(venue, i)[0],
                    secret=_key(venue, i)[1],
                    passphrase=PASSPHRASE,
                    cash={"USDT": D(HUGE), "BTC": D(1000)},
                )
                for i in range(accounts)
            ]
        )
        fake.faults.low_limit = HUGE
        await fake.start()
        fake.venue.house_quote("BTC-USDT", "sell", spec.price, depth)
        info = {"http": fake.http, "ws": fake.ws}
    elif venue == "upbit":
        from atlas_oms.fakes.upbit import Account as UpbitAccount
        from atlas_oms.fakes.upbit import FakeUpbit

        fake = FakeUpbit(
            [
                UpbitAccount(
                    name=_account(i),
                    access_key=_key(venue, i)[0],
                    secret=_key(venue, i)[1],
                    balances={"KRW": [D(HUGE), D(0)], "BTC": [D(1000), D(0)]},
                )
                for i in range(accounts)
            ]
        )
        fake.limits.per_second = {"order": HUGE, "default": HUGE}
        await fake.start()
        fake.venue.house[("KRW-BTC", "ask", spec.price)] = depth
        info = {"http": fake.http, "ws": fake.ws}
    elif venue == "alpaca":
        from atlas_oms.fakes.alpaca import Account as AlpacaAccount
        from atlas_oms.fakes.alpaca import FakeAlpaca
        from atlas_oms.fakes.alpaca import Limits as AlpacaLimits
        from atlas_oms.fakes.alpaca.venue import HouseQuote

        fake = FakeAlpaca(
            [
                AlpacaAccount(
                    name=_account(i),
                    api_key=_key(venue, i)[0],
                    secret=_key(venue, i)[1],
                    cash=D(HUGE),
                )
                for i in range(accounts)
            ],
            last_price=spec.price,
            limits=AlpacaLimits(requests_per_window=HUGE),
        )
        await fake.start()
        fake.venue.house.setdefault("AAPL", []).append(HouseQuote("sell", depth, spec.price))
        info = {"http": fake.http, "ws": fake.stream_url}
    else:
        raise ValueError(f"no fake for venue {venue!r}")
    print(json.dumps(info), flush=True)
    loop = asyncio.get_running_loop()
    try:
        # Serve until the parent closes our stdin (or terminates us).
        await loop.run_in_executor(None, sys.stdin.read)
    finally:
        await fake.stop()


class FakeProcess:
    """One venue's fake in a child process (this module's ``__main__``)."""

    def __init__(self, folder: Path, venue: str, accounts: int, depth: Decimal) -> None:
        env = dict(os.environ)
        src = str(Path(atlas_oms.__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
        cmd = [sys.executable, "-m", "atlas_oms.benchmarks.venue_each", venue, str(accounts)]
        cmd.append(str(depth))
        self.log = folder / f"fake-{venue}.log"
        self._log = self.log.open("wb")
        self.proc = subprocess.Popen(
            cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.close()
            raise RuntimeError(f"the fake {venue} did not start: {self.log.read_text()[-2000:]}")
        info = json.loads(line)
        self.http: str = info["http"]
        self.ws: str = info["ws"]

    @property
    def pid(self) -> int:
        return self.proc.pid

    def close(self) -> None:
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()


# ---------------------------------------------------------------------------- Atlas (parent)
def _adapter(venue: str, i: int, fake: FakeProcess, decode: Callable[[str], int | None]) -> Any:
    key, secret = _key(venue, i)
    common: dict[str, Any] = {
        "account_id": _account(i),
        "api_key": key,
        "secret": secret,
        "decode_client_id": decode,
    }
    if venue == "binance":
        from atlas_oms.venues.binance import BinanceEndpoints, BinanceSpotAdapter

        ends = BinanceEndpoints(fake.http, f"{fake.ws}/ws", f"{fake.ws}/ws-api/v3")
        return BinanceSpotAdapter(endpoints=ends, **common)
    if venue == "binanceusdm":
        from atlas_oms.venues.binance import BinanceEndpoints, BinanceUsdmAdapter

        return BinanceUsdmAdapter(
            endpoints=BinanceEndpoints(fake.http, f"{fake.ws}/fstream/ws"), **common
        )
    if venue in ("bybit", "bybitlinear"):
        from atlas_oms.venues.bybit import BybitEndpoints, BybitLinearAdapter, BybitSpotAdapter

        cls: Any = BybitSpotAdapter if venue == "bybit" else BybitLinearAdapter
        return cls(endpoints=BybitEndpoints(fake.http, fake.ws), **common)
    if venue == "okx":
        from atlas_oms.venues.okx import OkxAdapter

        return OkxAdapter(passphrase=PASSPHRASE, rest_url=fake.http, ws_url=fake.ws, **common)
    if venue == "upbit":
        from atlas_oms.venues.upbit import UpbitAdapter

        return UpbitAdapter(rest_url=fake.http, ws_url=fake.ws, **common)
    if venue == "alpaca":
        from atlas_oms.venues.alpaca import AlpacaAdapter

        # session=None: the bench runs at any hour (the XNYS schedule is tested elsewhere).
        return AlpacaAdapter(base_url=fake.http, stream_url=fake.ws, session=None, **common)
    raise ValueError(f"no adapter for venue {venue!r}")


def _rate_limits() -> dict[str, Any]:
    """The gateway's specs with their windows out of reach (their header bookkeeping runs)."""
    from atlas_oms.runtime.gateway.ratelimit import binance_spot, binance_usdm, bybit, upbit

    return {
        "binance": binance_spot(weight_1m=HUGE, orders_10s=HUGE, orders_1d=HUGE),
        "binanceusdm": binance_usdm(weight_1m=HUGE, orders_1m=HUGE),
        "upbit": upbit(orders_1s=HUGE, default_1s=HUGE),
        "bybit": bybit(),
        "bybitlinear": bybit(),
    }


class Atlas:
    def __init__(self, folder: Path, venue: str, fake: FakeProcess, accounts: int) -> None:
        from atlas_oms.runtime.clock import LiveClock
        from atlas_oms.runtime.gateway import Gateway, GatewayConfig
        from atlas_oms.runtime.gateway.client_ids import decode, prefix_for
        from atlas_oms.runtime.live import Committer
        from atlas_oms.runtime.node import Node
        from atlas_oms.store.opener import open_journal

        journal = open_journal(str(folder / "atlas.db"), batch_events=1 << 30, batch_ms=None)
        self.node = node = Node(journal, clock=LiveClock())
        self.committer = Committer(node, every_s=0.002)
        prefix = prefix_for(TAG)

        def decode_client_id(client_order_id: str) -> int | None:
            return decode(prefix, client_order_id)

        adapters = []
        for i in range(accounts):
            node.open_account(_account(i))
            adapters.append(_adapter(venue, i, fake, decode_client_id))
        node.flush()
        config = GatewayConfig(rate_limits=_rate_limits())
        self.gateway = Gateway(node, adapters, tag=TAG, config=config, market_data=False)
        self._committer: asyncio.Task[Any] | None = None

    async def start(self) -> None:
        self._committer = asyncio.create_task(self.committer.run(), name="committer")
        self.gateway.start()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT_S
        while not all(s.tradable for s in self.gateway.sessions.values()):
            if loop.time() > deadline:
                raise RuntimeError(f"venue accounts not tradable: {self.gateway.health()}")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        await self.gateway.stop()
        if self._committer is not None:
            self._committer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._committer
        self.node.close()


@contextlib.asynccontextmanager
async def _world(venue: str, accounts: int, depth: Decimal) -> AsyncIterator[tuple[Any, Atlas]]:
    with tempfile.TemporaryDirectory(prefix=f"atlas-bench-{venue}-") as tmp:
        folder = Path(tmp)
        fake = FakeProcess(folder, venue, accounts, depth)
        atlas: Atlas | None = None
        try:
            atlas = Atlas(folder, venue, fake, accounts)
            await atlas.start()
            yield fake, atlas
        finally:
            if atlas is not None:
                await atlas.stop()
            fake.close()


async def _run(venue: str, quick: bool) -> dict[str, Any]:
    from atlas_oms.model import events as ev
    from atlas_oms.model.commands import SubmitOrder
    from atlas_oms.model.enums import OrderType, Side, TimeInForce

    spec = SPECS[venue]
    accounts = ACCOUNTS_QUICK if quick else ACCOUNTS
    total = N_ORDERS_QUICK if quick else N_ORDERS
    warmup = WARMUP_ORDERS_QUICK if quick else WARMUP_ORDERS
    depth = spec.qty * (total + warmup) * 2
    async with _world(venue, accounts, depth) as (fake, atlas):
        node = atlas.node
        loop = asyncio.get_running_loop()
        owner: dict[int, int] = {}
        free = [asyncio.Event() for _ in range(accounts)]
        outstanding = [0] * accounts
        submitted = 0
        stamps: list[int] = []
        refused: list[str] = []
        finished = loop.create_future()

        def done(order_id: int) -> None:
            account = owner.pop(order_id, None)
            if account is None:
                return
            stamps.append(time.perf_counter_ns())
            outstanding[account] -= 1
            free[account].set()
            if len(stamps) >= warmup + total and not finished.done():
                finished.set_result(None)

        def listener(events: list[Any]) -> None:
            for event in events:
                kind = type(event)
                if kind is ev.OrderFilled:
                    order = node.get_order(event.order_id)
                    if order is not None and order.cum_qty >= order.qty:
                        done(event.order_id)
                elif kind in (ev.OrderRejected, ev.OrderCanceled, ev.OrderExpired):
                    refused.append(f"{kind.__name__}: {event}")
                    done(event.order_id)

        node.subscribe(listener)

        def submit(account: int) -> int:
            cmd = SubmitOrder(
                ts=node.clock.now(),
                account_id=_account(account),
                symbol=spec.symbol,
                side=Side.BUY,
                order_type=OrderType.LIMIT,
                qty=spec.qty,
                price=spec.price,
                tif=TimeInForce.GTC,
            )
            for event in node.process(cmd):
                if type(event) is ev.OrderSubmitted:
                    return int(event.order_id)
                if type(event) in (ev.OrderDenied, ev.CommandRejected):
                    raise RuntimeError(f"the benchmark's order was refused: {event}")
            raise RuntimeError("no order submitted")

        async def driver(account: int) -> None:
            nonlocal submitted
            while submitted < warmup + total:
                while outstanding[account] < IN_FLIGHT and submitted < warmup + total:
                    submitted += 1
                    outstanding[account] += 1
                    owner[submit(account)] = account
                free[account].clear()
                await free[account].wait()

        gc.collect()
        gc.freeze()
        cpu_atlas = cpu_fake = 0.0
        drivers = [asyncio.create_task(driver(i)) for i in range(accounts)]
        try:
            deadline = loop.time() + (30 if quick else 300)
            while len(stamps) < warmup:
                for task in drivers:
                    if task.done() and task.exception() is not None:
                        raise RuntimeError(f"{venue}: {task.exception()}")
                if loop.time() > deadline:
                    raise RuntimeError(f"{venue}: warm-up not done: {_status_counts(node)}")
                await asyncio.sleep(0.001)
            cpu_atlas, cpu_fake = _cpu_s(os.getpid()), _cpu_s(fake.pid)
            try:
                await asyncio.wait_for(finished, 30 if quick else 300)
            except TimeoutError:
                raise RuntimeError(f"{venue}: orders unfinished: {_status_counts(node)}") from None
            cpu_atlas = _cpu_s(os.getpid()) - cpu_atlas
            cpu_fake = _cpu_s(fake.pid) - cpu_fake
        finally:
            for task in drivers:
                task.cancel()
            gc.unfreeze()
        window = (stamps[warmup + total - 1] - stamps[warmup - 1]) / 1e9
        statuses = _status_counts(node)
        fills = sum(len(node.order_fills(order.order_id)) for order in node.orders())
    rate = round(total / window, 1) if window else 0.0
    share = {"atlas": cpu_atlas / window if window else 0.0, "fake": cpu_fake / window}
    return {
        f"venue_orders_per_s_{venue}": rate,
        f"venue_orders_{venue}": {
            "statuses": statuses,
            "fills": fills,
            "refused": refused[:5],
            "cpu_share": {k: round(v, 2) for k, v in share.items()},
            "bound_by": "atlas" if share["atlas"] >= share["fake"] else "fake",
        },
        "n": {
            f"venue_orders_{venue}": total,
            f"venue_orders_{venue}_accounts": accounts,
            f"venue_orders_{venue}_window_ms": round(window * 1000, 1),
        },
    }


def _status_counts(node: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for order in node.orders():
        out[str(order.status)] = out.get(str(order.status), 0) + 1
    return out


def bench_venue(venue: str, quick: bool) -> dict[str, Any]:
    """One venue's ``venue_orders_per_s_<venue>`` (and its statuses, fills, CPU shares)."""
    return asyncio.run(_run(venue, quick))


NOTES = (
    "venue_orders_per_s_<venue>: limit buys filled at once by a deep house ask of the venue's "
    "fake (another process, its rate limits lifted), through one gateway and the venue's real "
    f"adapter; {ACCOUNTS} accounts, {IN_FLIGHT} orders outstanding per account; an order counts "
    "when its fill is booked in Atlas."
)


def main(argv: list[str] | None = None) -> int:
    """``python -m atlas_oms.benchmarks.venue_each VENUE ACCOUNTS DEPTH``: the fake, standalone."""
    args = sys.argv[1:] if argv is None else argv
    venue, accounts, depth = args[0], int(args[1]), D(args[2])
    asyncio.run(_serve_fake(venue, accounts, depth))
    return 0


if __name__ == "__main__":
    sys.exit(main())
