"""Atlas's own overhead on a real venue path, and orders per second through one gateway.

Both run the real pieces: a :class:`~atlas_oms.runtime.node.Node` on a SQLite journal opened as
``atlas serve`` opens it (WAL, ``synchronous=NORMAL``, commits only when asked: the group commit
of :class:`~atlas_oms.runtime.live.Committer` every 2 ms, plus the record-before-send flush that
``Node.process`` does before a request leaves for an external venue), one
:class:`~atlas_oms.runtime.gateway.Gateway`, a :class:`~atlas_oms.venues.binance.BinanceSpotAdapter`
per account (ccxt, aiohttp, HMAC signatures), and the fake Binance in ANOTHER process
(``python -m atlas_oms.fakes.binance``), so the fake's CPU is not counted as Atlas's.

``venue_submit_overhead_us``: one account, one order at a time (an IOC limit buy below an empty
book: the venue answers EXPIRED, nothing rests). Per order:

* **submit** (a): from ``Node.process(SubmitOrder)`` called to the request handed to ccxt (the
  client library's ``privatePostOrder`` entered). In: the engine, the journal append and the
  record-before-send commit (a SQLite commit in WAL mode with ``synchronous=NORMAL``: a write to
  the WAL, no fsync, so it survives a kill of the process, not a power loss), the hand-over to the
  account's sender queue and its wait there, the sender's bookkeeping and the adapter's
  translation. The parts are reported beside it (``venue_submit_parts_us``);
* **fact** (b): from a user-data WebSocket message captured by the adapter (the raw message,
  before ccxt's own handling) to ``Node.process(ApplyOrderUpdate)`` returned: parsing, the adapter's
  and the session's queues, the core, and the journal append. The events become durable at the next
  group commit (every 2 ms, one commit for everything processed meanwhile); the cost of one such
  commit is reported beside it (``venue_group_commit_us``).

The key's figure is the worse of the two p99s (target 500 µs).

``venue_orders_per_s``: ``ACCOUNTS`` accounts, each with its own adapter, through one gateway and
one node; each account keeps ``IN_FLIGHT`` orders outstanding (the gateway sends one at a time per
account: its sender waits for each answer). An order counts when the fake's answer to it is
booked (the order ends EXPIRED in Atlas). After a warm-up, orders over the window's length.
Beside it, ``venue_fake_alone_orders_per_s``: the same fake process under a raw aiohttp client
(signed REST orders, the same accounts and concurrency, user-data streams subscribed so the fake
does the same pushes), which shows which side bounds the figure. The CPU seconds each process
used in the window are reported too (2 cores: the two processes compete for them).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import atlas_oms
from atlas_oms.model import events as ev
from atlas_oms.model.commands import SubmitOrder
from atlas_oms.model.enums import OrderType, Side, TimeInForce
from atlas_oms.model.venue import ApplyOrderUpdate, FactSource
from atlas_oms.venues.binance.client import AtlasBinance

SYMBOL = "BTC/USDT"
VENUE_SYMBOL = "BTCUSDT"
#: An IOC buy far below any ask: the fake's book for it is empty, so it expires at once.
PRICE = Decimal("30000")
QTY = Decimal("0.001")
TAG = "bench0"

N_LATENCY = 2_000
N_LATENCY_QUICK = 30
LATENCY_WARMUP = 200
LATENCY_WARMUP_QUICK = 5

ACCOUNTS = 10
ACCOUNTS_QUICK = 2
IN_FLIGHT = 2
N_ORDERS = 5_000
N_ORDERS_QUICK = 40
WARMUP_ORDERS = 500
WARMUP_ORDERS_QUICK = 10

#: Limits lifted on both sides: Binance's 100 orders / 10 s per account would be what is measured.
FAKE_LIMITS = {"weight_per_window": 10**12, "orders_per_10s": 10**12, "orders_per_day": 10**12}
START_TIMEOUT_S = 30.0


def _key(i: int) -> tuple[str, str]:
    return f"benchkey{i:056d}", f"benchsecret{i:053d}"


def _account(i: int) -> str:
    return f"bench-{i:02d}"


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (Linux; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


class FakeProcess:
    """``python -m atlas_oms.fakes.binance`` in a child process with ``accounts`` accounts."""

    def __init__(self, folder: Path, accounts: int) -> None:
        rows = []
        for i in range(accounts):
            key, secret = _key(i)
            rows.append(
                {
                    "name": _account(i),
                    "api_key": key,
                    "secret": secret,
                    "spot": {"USDT": "1000000000", "BTC": "1000"},
                }
            )
        path = folder / "fake-accounts.json"
        path.write_text(json.dumps(rows))
        env = dict(os.environ)
        src = str(Path(atlas_oms.__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
        cmd = [sys.executable, "-m", "atlas_oms.fakes.binance", "--port", "0"]
        cmd += ["--accounts", str(path), "--limits", json.dumps(FAKE_LIMITS)]
        self.log = folder / "fake.log"
        self._log = self.log.open("wb")
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=self._log)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.close()
            raise RuntimeError(f"the fake Binance did not start: {self.log.read_text()[-2000:]}")
        info = json.loads(line)
        self.http: str = info["http"]
        self.ws: str = info["ws"]

    @property
    def pid(self) -> int:
        return self.proc.pid

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()


# ---------------------------------------------------------------------------- the Atlas side
@dataclass
class Probe:
    """perf_counter_ns stamps taken along the paths (tiny wrappers, installed after set-up)."""

    #: order id -> stamp: Node.process(SubmitOrder) called, returned, adapter.place entered,
    #: ccxt's privatePostOrder entered.
    submit_start: dict[int, int] = field(default_factory=dict)
    submit_end: dict[int, int] = field(default_factory=dict)
    place_entered: dict[int, int] = field(default_factory=dict)
    ccxt_entered: dict[int, int] = field(default_factory=dict)
    #: Record-before-send commits (inside a submit) and group commits, in ns.
    flush_in_submit: list[int] = field(default_factory=list)
    group_commits: list[int] = field(default_factory=list)
    #: Stream facts: (raw message captured, Node.process(ApplyOrderUpdate) returned).
    fact_raw: dict[str, deque[int]] = field(default_factory=dict)
    fact_spans: list[int] = field(default_factory=list)
    in_submit: bool = False
    #: The order whose place is on its way into the client library.
    placing: int | None = None
    #: Orders answered by the venue (their acknowledgement booked) and when.
    answered: dict[int, int] = field(default_factory=dict)
    on_answer: Callable[[int], None] | None = None


class Atlas:
    """A node, a gateway and one spot adapter per account, against the fake at ``fake``."""

    def __init__(self, folder: Path, fake: FakeProcess, accounts: int) -> None:
        from atlas_oms.runtime.clock import LiveClock
        from atlas_oms.runtime.gateway import Gateway, GatewayConfig
        from atlas_oms.runtime.gateway.client_ids import decode, prefix_for
        from atlas_oms.runtime.gateway.ratelimit import binance_spot
        from atlas_oms.runtime.live import Committer
        from atlas_oms.runtime.node import Node
        from atlas_oms.store.opener import open_journal
        from atlas_oms.venues.binance import BinanceEndpoints, BinanceSpotAdapter

        # As atlas serve opens it: only the group commit (and record-before-send) commits.
        journal = open_journal(str(folder / "atlas.db"), batch_events=1 << 30, batch_ms=None)
        self.node = node = Node(journal, clock=LiveClock())
        self.committer = Committer(node, every_s=0.002)
        prefix = prefix_for(TAG)

        def decode_client_id(client_order_id: str) -> int | None:
            return decode(prefix, client_order_id)

        self.adapters = []
        #: Each account's API key (the client's ``apiKey`` tells whose a message is).
        self.keys: dict[str, str] = {}
        for i in range(accounts):
            node.open_account(_account(i))
            key, secret = _key(i)
            self.keys[_account(i)] = key
            self.adapters.append(
                BinanceSpotAdapter(
                    account_id=_account(i),
                    api_key=key,
                    secret=secret,
                    decode_client_id=decode_client_id,
                    endpoints=BinanceEndpoints(fake.http, f"{fake.ws}/ws", f"{fake.ws}/ws-api/v3"),
                )
            )
        node.flush()
        huge = 10**12
        config = GatewayConfig(
            rate_limits={"binance": binance_spot(weight_1m=huge, orders_10s=huge, orders_1d=huge)}
        )
        self.gateway = Gateway(node, self.adapters, tag=TAG, config=config, market_data=False)
        self.probe = Probe()
        self._tasks: list[asyncio.Task[Any]] = []
        self._restore: Callable[[], None] = lambda: None
        #: API key -> stamps of the account's execution reports not yet applied (filled once
        #: set-up is over).
        self._raw_by_key: dict[str, deque[int]] = {}

    async def start(self) -> None:
        # ccxt binds its message handler when a connection opens: wrap it before any opens.
        raw_by_key = self._raw_by_key
        perf = time.perf_counter_ns
        handle_message = AtlasBinance.handle_message

        def timed_handle_message(client: Any, ws: Any, message: Any) -> None:
            # The raw user-data message, as the adapter's client receives it (before anything).
            raw = raw_by_key.get(client.apiKey)
            if raw is not None and _is_execution_report(message):
                raw.append(perf())
            handle_message(client, ws, message)

        AtlasBinance.handle_message = timed_handle_message  # type: ignore[method-assign,assignment]
        self._restore = lambda: setattr(AtlasBinance, "handle_message", handle_message)
        self._tasks.append(asyncio.create_task(self.committer.run(), name="committer"))
        self.gateway.start()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT_S
        while not all(s.tradable for s in self.gateway.sessions.values()):
            if loop.time() > deadline:
                raise RuntimeError(f"venue accounts not tradable: {self.gateway.health()}")
            await asyncio.sleep(0.01)
        self._instrument()

    def _instrument(self) -> None:
        """Install the probe's wrappers (after set-up, so set-up is not measured)."""
        probe = self.probe
        perf = time.perf_counter_ns
        journal = self.node.journal
        flush = journal.flush

        def timed_flush() -> None:
            t = perf()
            flush()
            (probe.flush_in_submit if probe.in_submit else probe.group_commits).append(perf() - t)

        journal.flush = timed_flush  # type: ignore[method-assign]

        raw_by_key = self._raw_by_key
        for session in self.gateway.sessions.values():
            adapter: Any = session.adapter
            raw = probe.fact_raw.setdefault(session.account_id, deque())
            place = adapter.place

            async def timed_place(cmd: Any, place: Any = place) -> Any:
                probe.place_entered[cmd.order_id] = perf()
                probe.placing = cmd.order_id
                return await place(cmd)

            adapter.place = timed_place
            before = adapter.before_request

            async def timed_before(weight: int, is_order: bool, before: Any = before) -> None:
                # Called by the client library (ccxt's fetch2) once the request is in its hands.
                if is_order and probe.placing is not None:
                    probe.ccxt_entered[probe.placing] = perf()
                    probe.placing = None
                await before(weight, is_order)

            adapter.before_request = timed_before
            raw_by_key[self.keys[session.account_id]] = raw
            process = session.process

            def timed_process(message: Any, process: Any = process, raw: Any = raw) -> Any:
                out = process(message)
                if (
                    type(message) is ApplyOrderUpdate
                    and message.update.source is FactSource.STREAM
                    and raw
                ):
                    probe.fact_spans.append(perf() - raw.popleft())
                return out

            session.process = timed_process  # type: ignore[method-assign]

        def listener(events: list[Any]) -> None:
            for event in events:
                if type(event) in (ev.OrderExpired, ev.OrderAccepted, ev.OrderRejected):
                    order_id = event.order_id
                    if order_id not in probe.answered:
                        probe.answered[order_id] = perf()
                        if probe.on_answer is not None:
                            probe.on_answer(order_id)

        self.node.subscribe(listener)

    def submit(self, account: str) -> int:
        probe = self.probe
        cmd = SubmitOrder(
            ts=self.node.clock.now(),
            account_id=account,
            symbol=SYMBOL,
            side=Side.BUY,
            order_type=OrderType.LIMIT,
            qty=QTY,
            price=PRICE,
            tif=TimeInForce.IOC,
        )
        probe.in_submit = True
        start = time.perf_counter_ns()
        try:
            events = self.node.process(cmd)
        finally:
            probe.in_submit = False
        end = time.perf_counter_ns()
        for event in events:
            if type(event) is ev.OrderSubmitted:
                probe.submit_start[event.order_id] = start
                probe.submit_end[event.order_id] = end
                return int(event.order_id)
            if type(event) in (ev.OrderDenied, ev.CommandRejected):
                raise RuntimeError(f"the benchmark's order was refused: {event}")
        raise RuntimeError(f"no order submitted: {events}")

    async def stop(self) -> None:
        self._restore()
        await self.gateway.stop()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.node.close()


@contextlib.asynccontextmanager
async def _world(accounts: int) -> AsyncIterator[tuple[FakeProcess, Atlas, dict[str, Any]]]:
    """The fake in its process and Atlas here; the dict yielded takes results that need the fake
    after Atlas stopped (``after(fake)`` coroutine function under key ``"after"``)."""
    with tempfile.TemporaryDirectory(prefix="atlas-bench-venues-") as tmp:
        folder = Path(tmp)
        fake = FakeProcess(folder, accounts)
        atlas: Atlas | None = None
        extra: dict[str, Any] = {}
        try:
            atlas = Atlas(folder, fake, accounts)
            await atlas.start()
            yield fake, atlas, extra
            await atlas.stop()
            atlas = None
            after = extra.pop("after", None)
            if after is not None:
                extra["result"] = await after(fake)
        finally:
            if atlas is not None:
                await atlas.stop()
            fake.close()


def _is_execution_report(message: Any) -> bool:
    if not isinstance(message, dict):
        return False
    event = message.get("event", message)
    return isinstance(event, dict) and event.get("e") == "executionReport"


def _pct(samples: list[int], p: float) -> float:
    """The p-th percentile of ns samples, in µs (nearest rank)."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return round(ordered[index] / 1000, 1)


def _summary(samples: list[int]) -> dict[str, float | int]:
    return {
        "count": len(samples),
        "p50_us": _pct(samples, 50),
        "p99_us": _pct(samples, 99),
        "max_us": _pct(samples, 100),
    }


# ---------------------------------------------------------------------------- overhead
async def _overhead(quick: bool) -> dict[str, Any]:
    n = N_LATENCY_QUICK if quick else N_LATENCY
    warmup = LATENCY_WARMUP_QUICK if quick else LATENCY_WARMUP
    async with _world(1) as (_fake, atlas, _):
        probe = atlas.probe
        account = _account(0)
        loop = asyncio.get_running_loop()
        gc.collect()
        gc.freeze()
        ids: list[int] = []
        for i in range(warmup + n):
            if i == warmup:
                probe.fact_spans.clear()
                probe.group_commits.clear()
                probe.flush_in_submit.clear()
            done = loop.create_future()
            want = len(probe.fact_spans) + 2  # the stream's NEW and EXPIRED

            def answered(order_id: int, done: asyncio.Future[None] = done) -> None:
                if not done.done():
                    done.set_result(None)

            probe.on_answer = answered
            order_id = atlas.submit(account)
            await asyncio.wait_for(done, 10)
            # Let the stream's facts of this order arrive before the next one.
            deadline = loop.time() + 1.0
            while len(probe.fact_spans) < want and loop.time() < deadline:
                await asyncio.sleep(0.0005)
            if i >= warmup:
                ids.append(order_id)
        probe.on_answer = None
        health = atlas.gateway.overhead.summary()
    submit = [probe.ccxt_entered[i] - probe.submit_start[i] for i in ids]
    to_place = [probe.place_entered[i] - probe.submit_start[i] for i in ids]
    process = [probe.submit_end[i] - probe.submit_start[i] for i in ids]
    handover = [probe.place_entered[i] - probe.submit_end[i] for i in ids]
    translate = [probe.ccxt_entered[i] - probe.place_entered[i] for i in ids]
    facts = list(probe.fact_spans)
    s, f = _summary(submit), _summary(facts)
    return {
        "venue_submit_overhead_us": max(s["p99_us"], f["p99_us"]),
        "venue_submit_p50_us": s["p50_us"],
        "venue_submit_p99_us": s["p99_us"],
        "venue_fact_p50_us": f["p50_us"],
        "venue_fact_p99_us": f["p99_us"],
        "venue_submit_parts_us": {
            "process_submit": _summary(process),
            "of_which_record_before_send_commit": _summary(probe.flush_in_submit),
            "queue_and_sender": _summary(handover),
            "adapter_translate": _summary(translate),
            "to_adapter_place": _summary(to_place),
            "to_ccxt": s,
        },
        "venue_fact_us": f,
        "venue_group_commit_us": _summary(probe.group_commits),
        "venue_gateway_histograms_us": health,
        "venue_overhead_notes": (
            "submit: Node.process(SubmitOrder) called -> ccxt privatePostOrder entered, with the "
            "record-before-send SQLite commit (WAL, synchronous=NORMAL: no fsync) and the sender "
            "queue's wait in it; fact: user-data message captured -> Node.process(ApplyOrderUpdate)"
            " returned (events appended; durable at the next 2 ms group commit, whose cost is "
            "venue_group_commit_us). One order at a time, one account, fake in another process."
        ),
        "n": {"venue_overhead_samples": n, "venue_overhead_facts": len(facts)},
    }


def bench_venue_overhead(quick: bool) -> dict[str, Any]:
    return asyncio.run(_overhead(quick))


# ---------------------------------------------------------------------------- orders per second
async def _through_atlas(quick: bool) -> dict[str, Any]:
    accounts = ACCOUNTS_QUICK if quick else ACCOUNTS
    total = N_ORDERS_QUICK if quick else N_ORDERS
    warmup = WARMUP_ORDERS_QUICK if quick else WARMUP_ORDERS
    async with _world(accounts) as (fake, atlas, extra):
        probe = atlas.probe
        loop = asyncio.get_running_loop()
        gc.collect()
        gc.freeze()
        owner: dict[int, int] = {}
        free = [asyncio.Event() for _ in range(accounts)]
        outstanding = [0] * accounts
        submitted = 0
        stamps: list[int] = []  # when each order was answered, in order
        finished = loop.create_future()

        def answered(order_id: int) -> None:
            account = owner.pop(order_id, None)
            if account is None:
                return
            stamps.append(time.perf_counter_ns())
            outstanding[account] -= 1
            free[account].set()
            if len(stamps) >= warmup + total and not finished.done():
                finished.set_result(None)

        probe.on_answer = answered

        async def driver(account: int) -> None:
            nonlocal submitted
            name = _account(account)
            while submitted < warmup + total:
                while outstanding[account] < IN_FLIGHT and submitted < warmup + total:
                    submitted += 1
                    outstanding[account] += 1
                    owner[atlas.submit(name)] = account
                free[account].clear()
                await free[account].wait()

        cpu_atlas = cpu_fake = 0.0
        drivers = [asyncio.create_task(driver(i)) for i in range(accounts)]
        try:
            # The window starts after the warm-up's answers.
            while len(stamps) < warmup:
                await asyncio.sleep(0.001)
            cpu_atlas, cpu_fake = _cpu_s(os.getpid()), _cpu_s(fake.pid)
            await asyncio.wait_for(finished, 120)
            cpu_atlas = _cpu_s(os.getpid()) - cpu_atlas
            cpu_fake = _cpu_s(fake.pid) - cpu_fake
        finally:
            for task in drivers:
                task.cancel()
            probe.on_answer = None
        window = stamps[warmup + total - 1] - stamps[warmup - 1]
        statuses = _statuses(atlas)
        extra["after"] = lambda fake: _fake_alone(fake, accounts, total, warmup)
    alone = extra["result"]
    seconds = window / 1e9
    rate = round(total / seconds, 1) if seconds else 0.0
    share = {"atlas": cpu_atlas / seconds if seconds else 0.0, "fake": cpu_fake / seconds}
    bound = "atlas" if share["atlas"] >= share["fake"] else "fake"
    return {
        "venue_orders_per_s": rate,
        "venue_fake_alone_orders_per_s": alone["orders_per_s"],
        "venue_orders_bound_by": bound,
        "venue_orders_notes": (
            f"{accounts} accounts, one gateway, {IN_FLIGHT} orders outstanding per account (the "
            f"sender sends one at a time); in the window Atlas's process used "
            f"{share['atlas']:.0%} of a core and the fake's {share['fake']:.0%}; the fake alone "
            f"(raw aiohttp client, same orders and streams) took {alone['orders_per_s']:.0f}/s "
            f"at {alone['fake_cpu_s'] / alone['window_s']:.0%} of a core. "
            + (
                "Atlas's single-threaded process (ccxt, aiohttp, the node) is the bound."
                if bound == "atlas"
                else "The fake is the bound."
            )
        ),
        "venue_orders_cpu_s": {"atlas": round(cpu_atlas, 2), "fake": round(cpu_fake, 2)},
        "venue_orders_statuses": statuses,
        "venue_fake_alone": alone,
        "n": {
            "venue_accounts": accounts,
            "venue_orders": total,
            "venue_orders_warmup": warmup,
            "venue_orders_in_flight_per_account": IN_FLIGHT,
            "venue_orders_window_ms": round(seconds * 1000, 1),
        },
    }


def _statuses(atlas: Atlas) -> dict[str, int]:
    out: dict[str, int] = {}
    for order in atlas.node.orders():
        out[str(order.status)] = out.get(str(order.status), 0) + 1
    return out


def bench_venue_orders(quick: bool) -> dict[str, Any]:
    return asyncio.run(_through_atlas(quick))


# ---------------------------------------------------------------------------- the fake alone
async def _fake_alone(fake: FakeProcess, accounts: int, total: int, warmup: int) -> dict[str, Any]:
    """A raw aiohttp client (no ccxt, no Atlas) against the same fake: every account's user-data
    stream subscribed on the WS-API (so the fake pushes the same events), then the same IOC
    orders, signed, ``IN_FLIGHT`` per account. Returns orders/s and the fake's CPU seconds."""
    import aiohttp

    stamps: list[int] = []
    statuses: dict[int, int] = {}
    done = asyncio.get_running_loop().create_future()
    pushed = [0]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        sockets = []
        readers = []
        for i in range(accounts):
            key, secret = _key(i)
            ws = await http.ws_connect(f"{fake.ws}/ws-api/v3")
            params: dict[str, Any] = {"apiKey": key, "timestamp": int(time.time() * 1000)}
            payload = "&".join(f"{k}={params[k]}" for k in sorted(params))
            params["signature"] = hmac.new(secret.encode(), payload.encode(), "sha256").hexdigest()
            method = "userDataStream.subscribe.signature"
            await ws.send_json({"id": 1, "method": method, "params": params})
            answer = await ws.receive_json(timeout=10)
            if answer.get("status") != 200:
                raise RuntimeError(f"the fake refused the user-data subscription: {answer}")
            sockets.append(ws)

            async def read(ws: Any = ws) -> None:
                async for _ in ws:
                    pushed[0] += 1

            readers.append(asyncio.create_task(read()))
        sent = 0

        async def sender(i: int) -> None:
            nonlocal sent
            key, secret = _key(i)
            headers = {
                "X-MBX-APIKEY": key,
                "Content-Type": "application/x-www-form-urlencoded",
            }
            url = f"{fake.http}/api/v3/order"
            while sent < warmup + total:
                sent += 1
                body = urllib.parse.urlencode(
                    {
                        "symbol": VENUE_SYMBOL,
                        "side": "BUY",
                        "type": "LIMIT",
                        "timeInForce": "IOC",
                        "quantity": str(QTY),
                        "price": str(PRICE),
                        "newClientOrderId": f"raw{i}x{sent}",
                        "recvWindow": 5000,
                        "timestamp": int(time.time() * 1000),
                    }
                )
                sig = hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()
                async with http.post(url, data=f"{body}&signature={sig}", headers=headers) as r:
                    await r.read()
                    statuses[r.status] = statuses.get(r.status, 0) + 1
                stamps.append(time.perf_counter_ns())
                if len(stamps) >= warmup + total and not done.done():
                    done.set_result(None)

        tasks = [asyncio.create_task(sender(i)) for i in range(accounts) for _ in range(IN_FLIGHT)]
        cpu = 0.0
        try:
            while len(stamps) < warmup:
                await asyncio.sleep(0.001)
            cpu = _cpu_s(fake.pid)
            await asyncio.wait_for(done, 120)
            cpu = _cpu_s(fake.pid) - cpu
        finally:
            for task in tasks + readers:
                task.cancel()
            await asyncio.gather(*tasks, *readers, return_exceptions=True)
            for ws in sockets:
                await ws.close()
    window = (stamps[warmup + total - 1] - stamps[warmup - 1]) / 1e9
    return {
        "orders_per_s": round(total / window, 1) if window else 0.0,
        "fake_cpu_s": round(cpu, 2),
        "window_s": round(window, 3),
        "statuses": {str(k): v for k, v in statuses.items()},
        "stream_messages": pushed[0],
    }
