"""The FastAPI application: REST endpoints over one :class:`~atlas_oms.runtime.node.Node`.

Every endpoint is ``async`` and runs on the event loop's one thread, so the node sees one message
at a time, in arrival order, exactly as in the library. A request that changes anything returns
after the journal holds it: writes are committed in groups (every few milliseconds) and each such
request waits for the commit that covers it.

Numbers travel as strings (exact decimals). Errors are problem details
(``application/problem+json``) carrying the engine's reason code.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import hmac
import logging
import os
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import msgspec
import structlog
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from atlas_oms.core.config import EngineConfig
from atlas_oms.model import events as ev
from atlas_oms.runtime.clock import ManualClock
from atlas_oms.runtime.live import (
    Committer,
    CommitTimeout,
    LiveRuntime,
    RetryPolicy,
    run_clock,
)
from atlas_oms.runtime.node import CommandRefused, Node
from atlas_oms.runtime.venue_setup import VenueSetup
from atlas_oms.service import schemas as s
from atlas_oms.service.access import forbidden_trading, may_trade
from atlas_oms.service.keys import ApiKey, KeyStore, signature
from atlas_oms.service.logs import AccessLog
from atlas_oms.service.metrics import Metrics
from atlas_oms.service.numbers import Numbers
from atlas_oms.service.settings import ServiceSettings
from atlas_oms.store.base import JournalError
from atlas_oms.store.opener import open_journal

log = logging.getLogger("atlas.service")

#: Reason codes that mean "no such thing" (404) or "not now" (409); the rest are 422.
NOT_FOUND = {"UNKNOWN_ORDER", "UNKNOWN_ACCOUNT", "UNKNOWN_INSTRUMENT"}
CONFLICT = {
    "ORDER_NOT_LIVE",
    "ORDER_PENDING",
    "LIQUIDATION_IN_PROGRESS",
    "DUPLICATE_CLIENT_ORDER_ID",
}


class Problem(Exception):
    """An error the API answers with a problem document."""

    def __init__(self, status: int, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.status = status
        self.reason = reason
        self.detail = detail


def problem_response(status: int, reason: str, detail: str) -> Response:
    body = {
        "type": f"https://atlas-oms.dev/problems/{reason.lower()}",
        "title": reason,
        "status": status,
        "detail": detail,
        "reason": reason,
    }
    return Response(msgspec.json.encode(body), status, media_type="application/problem+json")


class Answer:
    """What the durability middleware knows of the request being answered: whether the endpoint
    already waited for the commit of everything it computed (``covered``), or gave up
    (``timed_out``). One per HTTP request, reached through :data:`ANSWER`."""

    __slots__ = ("covered", "timed_out")

    def __init__(self) -> None:
        self.covered = False
        self.timed_out = False


#: The current HTTP request's :class:`Answer` (set by the middleware in service/durable.py).
ANSWER: contextvars.ContextVar[Answer | None] = contextvars.ContextVar("atlas_answer", default=None)


def refused(exc: CommandRefused) -> Problem:
    status = 404 if exc.reason in NOT_FOUND else 409 if exc.reason in CONFLICT else 422
    return Problem(status, exc.reason, exc.message)


class JSON(Response):
    """msgspec-encoded JSON: Decimals become strings, structs become objects.

    Sent through an app with a :class:`Service`, the body is encoded again when it is sent, with
    the service's number formatting (:mod:`atlas_oms.service.numbers`: every decimal at its
    places, never an exponent); ``body`` before that is the plain encoding."""

    media_type = "application/json"

    def __init__(self, content: Any = None, status_code: int = 200, **kw: Any) -> None:
        self._content = content
        self._headers_given = kw.get("headers")
        super().__init__(content, status_code, **kw)

    def render(self, content: Any) -> bytes:
        return msgspec.json.encode(content)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        app = scope.get("app")
        service = getattr(getattr(app, "state", None), "service", None)
        if isinstance(service, Service) and self._content is not None:
            self.body = service.numbers.encode(self._content)
            self.init_headers(self._headers_given)
        await super().__call__(scope, receive, send)


def trade_id_secret(path: Path | None) -> bytes:
    """The key that makes the built-in exchange's trade ids opaque: kept in ``path`` (created,
    owner-only) so that the ids a client saw stay the same after a restart; random without one."""
    if path is None:
        return secrets.token_bytes(32)
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    value = secrets.token_bytes(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(value.hex() + "\n")
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return value


class Service:
    """The node, the keys, rate limits and the group commit, shared by the endpoints."""

    def __init__(
        self,
        node: Node,
        keys: KeyStore,
        settings: ServiceSettings,
        trade_secret: bytes | None = None,
    ) -> None:
        self.node = node
        self.keys = keys
        self.settings = settings
        self._trade_secret = trade_secret or secrets.token_bytes(32)
        # The built-in exchange names a trade after both orders (``sim-<taker>x<maker>``), and
        # both orders are ours: shown as they are, a fill would tell its account the other
        # side's order id.
        name = re.escape(node.sim.name).encode()
        self._masked: dict[str, str] = {}
        self._trade_ids = re.compile(rb"\b" + name + rb"-\d+x\d+\b")
        self.metrics = Metrics()
        #: The node's external venues (accounts.yaml): None when it trades on the built-in
        #: exchange only.
        self.venues: VenueSetup | None = None
        #: The API's number formatting (exact strings at each field's places).
        self.numbers = Numbers.of_node(node, settings.asset_places)
        self._buckets: dict[str, list[float]] = {}
        self._seen_signatures: dict[str, float] = {}
        self.committer = Committer(
            node,
            every_s=settings.commit_every_ms / 1000,
            retry=RetryPolicy(
                initial_s=settings.journal_retry_initial_s,
                max_s=settings.journal_retry_max_s,
                limit_s=settings.journal_retry_limit_s,
            ),
        )
        self.committer.on_commit(self._committed_now)
        #: The owner of the node's tasks (set when the app starts).
        self.runtime: LiveRuntime | None = None
        #: Consolidated market data (service/market_data.py; set when the app starts).
        self.market_data: Any = None
        node.subscribe(self._on_events)
        self._time_engine(node)

    # ------------------------------------------------------------------ group commit
    def _time_engine(self, node: Node) -> None:
        """Time every message the node processes (the engine latency histogram)."""
        process = node.process
        observe = self.metrics.engine.observe
        clock = time.perf_counter

        def timed(message: Any) -> list[ev.EventBase]:
            start = clock()
            try:
                return process(message)
            finally:
                observe(clock() - start)

        # Node has no hook around process: wrap the bound method on this one instance.
        node.process = timed  # type: ignore[method-assign]  # deliberate per-instance wrap

    def _on_events(self, events: list[ev.EventBase]) -> None:
        self.metrics.observe_events(events)
        self.metrics.journal_lag.inc(len(events))

    def _committed_now(self) -> None:
        self.metrics.journal_lag.set(0)

    async def durable(self) -> None:
        """Return once the journal holds everything processed so far; raise
        :class:`CommitTimeout` (answered 503) when it does not within ``commit_wait_s``.

        Call it once the answer is computed: the answer then shows only journaled state, and
        the durability middleware does not wait a second time."""
        answer = ANSWER.get()
        try:
            await self.committer.wait(self.node.seq, self.settings.commit_wait_s)
        except CommitTimeout:
            if answer is not None:
                answer.timed_out = True
            raise
        if answer is not None:
            answer.covered = True

    @property
    def unavailable(self) -> tuple[str, str] | None:
        """``(reason, sentence)`` while the node refuses writes (journal down, stopping)."""
        if self.runtime is not None:
            return self.runtime.unavailable
        return self.committer.unavailable

    def on_commit(self, hook: Callable[[], None]) -> None:
        """Call ``hook()`` after each group commit (the journal then holds every event processed
        so far): the stream publishes events only once they are durable."""
        self.committer.on_commit(hook)

    async def run_flusher(self) -> None:
        """The group commit (a task of the live runtime)."""
        await self.committer.run()

    # ------------------------------------------------------------------ security
    def authenticate(self, request: Request, body: bytes) -> ApiKey:
        token = request.headers.get("x-api-key")
        auth = request.headers.get("authorization", "")
        if token is None and auth.lower().startswith("bearer "):
            token = auth[7:].strip()
        if not token:
            raise Problem(401, "UNAUTHENTICATED", "send an API key: X-API-Key or Bearer")
        found = self.keys.verify(token)
        if found is None:
            raise Problem(401, "UNAUTHENTICATED", "the API key is not valid")
        key, secret = found
        sig = request.headers.get("x-atlas-signature")
        if sig is not None or key.require_signature:
            self._check_signature(request, body, secret, sig)
        self.rate_limit(key)
        return key

    def _check_signature(self, request: Request, body: bytes, secret: str, sig: str | None) -> None:
        stamp = request.headers.get("x-atlas-timestamp")
        if sig is None or stamp is None or not stamp.isdigit():
            raise Problem(
                401, "SIGNATURE_REQUIRED", "sign the request: X-Atlas-Timestamp, X-Atlas-Signature"
            )
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        self.check_signature(secret, stamp, sig, request.method, path, body)

    def check_signature(
        self, secret: str, stamp: str, sig: str, method: str, path: str, body: bytes
    ) -> None:
        """Refuse (401) a signature that is stale, wrong or already used."""
        if not stamp.isdigit():
            raise Problem(401, "SIGNATURE_REQUIRED", "the timestamp must be epoch milliseconds")
        now_ms = time.time() * 1000
        if abs(now_ms - int(stamp)) > self.settings.signature_window_ms:
            raise Problem(401, "SIGNATURE_EXPIRED", "the request's timestamp is too old or early")
        want = signature(secret, stamp, method, path, body)
        if not _same(want, sig):
            raise Problem(401, "BAD_SIGNATURE", "the request's signature does not match")
        if sig in self._seen_signatures:
            raise Problem(401, "REPLAYED_REQUEST", "this signed request was already received")
        self._seen_signatures[sig] = now_ms
        if len(self._seen_signatures) > 100_000:
            cutoff = now_ms - self.settings.signature_window_ms
            self._seen_signatures = {k: v for k, v in self._seen_signatures.items() if v >= cutoff}

    def rate_limit(self, key: ApiKey) -> None:
        rate = self.settings.rate_limit_per_s
        burst = rate * 2
        now = time.monotonic()
        bucket = self._buckets.get(key.key_id)
        if bucket is None:
            bucket = self._buckets[key.key_id] = [burst, now]
        tokens = min(burst, bucket[0] + (now - bucket[1]) * rate)
        bucket[1] = now
        if tokens < 1:
            bucket[0] = tokens
            raise Problem(429, "RATE_LIMITED", f"more than {rate:g} requests per second")
        bucket[0] = tokens - 1

    def visible(self, key: ApiKey, account_id: str) -> bool:
        """Whether ``key`` may *see* ``account_id`` (risk and admin keys see every account).
        Acting for it is :meth:`may_trade` / :meth:`may_cancel` (access.py)."""
        if key.has("risk"):
            return True
        return self.may_trade(key, account_id)

    def may_trade(self, key: ApiKey, account_id: str) -> bool:
        """Whether ``key`` may place, modify and cancel orders and move money for ``account_id``:
        only a key with the trader role itself (admin is not enough) whose accounts include the
        account or one of its ancestors."""
        return may_trade(self.node, key, account_id)

    def require_account(self, key: ApiKey, account_id: str) -> None:
        if self.node.account(account_id) is None or not self.visible(key, account_id):
            # The same answer whether it does not exist or is someone else's: no probing.
            raise Problem(404, "UNKNOWN_ACCOUNT", f"no account {account_id} for this key")

    def require_trading(self, key: ApiKey, account_id: str, action: str = "trade") -> None:
        """404 if ``key`` cannot see the account (no probing), 403 ``FORBIDDEN_ROLE`` if it sees
        it but may not trade for it (a risk or admin key without the trader role on its tree)."""
        self.require_account(key, account_id)
        if not self.may_trade(key, account_id):
            raise Problem(403, "FORBIDDEN_ROLE", forbidden_trading(key, account_id, action))

    def require_cancel(self, key: ApiKey, account_id: str) -> None:
        """Cancelling: a trader of the account's tree, or a risk key (admin included)."""
        self.require_account(key, account_id)
        if not (key.has("risk") or self.may_trade(key, account_id)):
            raise Problem(403, "FORBIDDEN_ROLE", forbidden_trading(key, account_id, "cancel"))

    def book(self, symbol: str, levels: int) -> dict[str, list[tuple[Decimal, Decimal]]] | None:
        """The order book of ``symbol``: the built-in exchange's own, or for an instrument of
        an external venue its top of book as the venue last streamed it (one level a side:
        Atlas keeps no copy of a venue's depth). None: no book (unknown, or no quote yet)."""
        instrument = self.node.instrument(symbol)
        if instrument is None:
            return None
        if instrument.venue == self.node.sim.name:
            return self.node.book(symbol, levels)
        tick = self.venues.gateway.quotes.get(symbol) if self.venues is not None else None
        if tick is None:
            return None
        bids: list[tuple[Decimal, Decimal]] = []
        asks: list[tuple[Decimal, Decimal]] = []
        if tick.bid is not None and tick.bid_qty:
            bids.append((tick.bid, tick.bid_qty))
        if tick.ask is not None and tick.ask_qty:
            asks.append((tick.ask, tick.ask_qty))
        return {"bids": bids, "asks": asks}

    def accounts_of(self, key: ApiKey) -> list[str]:
        return [a.account_id for a in self.node.accounts() if self.visible(key, a.account_id)]

    # ------------------------------------------------------------------ trade ids
    def for_key(self, key: ApiKey, content: Any) -> Response:
        """``content`` as JSON for ``key``; a trader's copy has the built-in exchange's trade
        ids (and the execution ids made from them) replaced by opaque ones, the same for both
        sides of a trade and across restarts. Risk and admin keys see the journal's ids."""
        body = self.numbers.encode(content)
        if not key.has("risk"):
            body = self._trade_ids.sub(self._opaque, body)
        return Response(body, media_type="application/json")

    def mask_text(self, key: ApiKey, text: str) -> str:
        """The same replacement for a text message (the WebSocket's). The result is the same
        for every trader key, so the last messages' results are kept: one message fanned out to
        many connections is masked once."""
        if key.has("risk"):
            return text
        cache = self._masked
        out = cache.get(text)
        if out is None:
            if len(cache) >= 1024:
                cache.clear()
            out = cache[text] = self._trade_ids.sub(self._opaque, text.encode()).decode()
        return out

    def _opaque(self, match: re.Match[bytes]) -> bytes:
        digest = hmac.new(self._trade_secret, match.group(0), hashlib.sha256).hexdigest()[:20]
        return self.node.sim.name.encode() + b"-t" + digest.encode()


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def add_us_markets(runtime: LiveRuntime, node: Node, settings: ServiceSettings) -> None:
    """US equities: the calendar, the close's equity and the corporate-action feed
    (runtime/us_markets.py), once now (before the first request) and then as a task."""
    from atlas_oms.runtime.us_markets import FeedWatcher, run_us_markets, us_market_step

    if not isinstance(node.clock, ManualClock):
        us_market_step(node)
    feed = settings.corporate_feed
    if feed is not None:
        FeedWatcher(feed).step(node)
    if isinstance(node.clock, ManualClock):
        return  # a manual clock moves only when told: no timer
    runtime.add(
        "us-markets",
        lambda: run_us_markets(
            node,
            paused=lambda: runtime.unavailable is not None,
            feed=feed,
            every_s=settings.us_markets_every_s,
        ),
    )


def engine_config(settings: ServiceSettings) -> EngineConfig:
    """The engine's settings that the service exposes (the retention windows)."""

    def ns(seconds: float | None) -> int | None:
        return None if seconds is None else int(seconds * 1_000_000_000)

    return EngineConfig(
        order_retention_ns=ns(settings.order_retention_s),
        client_id_retention_ns=ns(settings.client_id_retention_s),
    )


def create_app(
    settings: ServiceSettings | None = None,
    *,
    node: Node | None = None,
    keys: KeyStore | None = None,
    setup: Callable[[Node], None] | None = None,
    background: Callable[[Service], Any] | None = None,
    venues: Callable[[Node], VenueSetup | None] | None = None,
) -> FastAPI:
    """The API over ``node`` (default: the settings' SQLite journal, opened at start-up)."""
    from atlas_oms.service.stream import StreamHub

    settings = settings or ServiceSettings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_node = node is None
        # Only the committer commits (no commit inside a request's processing): a journal
        # that fails then fails in one place, which knows how to retry.
        the_node = (
            node
            if node is not None
            else Node(
                open_journal(str(settings.journal_path), batch_events=1 << 30, batch_ms=None),
                config=engine_config(settings),
                on_damage="repair" if settings.repair_journal else "refuse",
            )
        )
        if setup is not None:
            setup(the_node)
        # With its own journal the service keeps the trade-id key beside it (ids stay the same
        # after a restart); around a node it was given, a fresh one.
        secret = trade_id_secret(settings.data_dir / "trade-ids.key" if own_node else None)
        service = Service(the_node, keys or KeyStore(settings.keys_path), settings, secret)
        app.state.service = service
        hub = app.state.hub = StreamHub(service)
        runtime = service.runtime = app.state.runtime = LiveRuntime(service.committer)
        app.state.exit_code = 0
        # Every task of the node belongs to the runtime. A manual clock moves only when told
        # (tests, backtests): no clock task then.
        if not isinstance(the_node.clock, ManualClock):
            the_node.tick()  # orders that expired while the node was stopped expire now
            runtime.add(
                "clock",
                lambda: run_clock(
                    the_node,
                    paused=lambda: runtime.unavailable is not None,
                    max_interval_s=settings.clock_interval_s,
                ),
            )
        if not isinstance(the_node.clock, ManualClock) or settings.corporate_feed is not None:
            add_us_markets(runtime, the_node, settings)
        if background is not None:
            runtime.add("background", lambda: background(service), forever=False)
        # External venues: one producer task per venue account (its session), one market data
        # feed per venue, and the watchers of the key sources (rotations without a restart).
        venue_setup = service.venues = venues(the_node) if venues is not None else None
        from atlas_oms.service.market_data import attach_market_data

        service.market_data = attach_market_data(the_node, settings, venue_setup, runtime)
        from atlas_oms.service.stream_books import push_books

        runtime.add("consolidated-push", lambda: push_books(hub, settings.md_push_every_ms / 1000))
        if venue_setup is not None:
            venue_setup.gateway.attach(runtime)
            if venue_setup.rebalancer is not None:  # a run's plan is durable before a venue call
                venue_setup.rebalancer.durable = service.durable
            for name, watcher in venue_setup.watchers:
                runtime.add(name, watcher)
        from atlas_oms.service.interfaces import attach_interfaces

        attach_interfaces(service, hub, runtime)
        runtime.on_stop(hub.close_all)

        def failed(reason: str) -> None:
            app.state.exit_code = 1
            stop_server = getattr(app.state, "stop_server", None)
            if stop_server is not None:
                stop_server()

        runtime.on_failure(failed)
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()
            if venue_setup is not None:
                await venue_setup.aclose()
            if runtime.failure is not None:
                app.state.exit_code = 1
            if own_node:
                try:
                    the_node.close()
                except JournalError as exc:
                    app.state.exit_code = 1
                    log.error("the journal did not close cleanly: %s", exc)

    app = FastAPI(
        title="Atlas OMS",
        version="0.1.0",
        description="Orders, positions, balances, risk and market data of one Atlas node.",
        lifespan=lifespan,
        default_response_class=JSON,
        docs_url=None,  # served from local files by service/docs.py
        redoc_url=None,
    )

    def logged(request: Request, status: int, reason: str, detail: str) -> Response:
        log_refusal(request, status, reason, detail)
        return problem_response(status, reason, detail)

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> Response:
        return logged(request, exc.status, exc.reason, exc.detail)

    @app.exception_handler(CommandRefused)
    async def _refused(request: Request, exc: CommandRefused) -> Response:
        p = refused(exc)
        return logged(request, p.status, p.reason, p.detail)

    @app.exception_handler(CommitTimeout)
    async def _commit_timeout(request: Request, exc: CommitTimeout) -> Response:
        from atlas_oms.service.durable import commit_timeout_response

        return commit_timeout_response(request.method)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        first = errors[0] if errors else {}
        where = ".".join(str(x) for x in first.get("loc", ()))
        return problem_response(400, "INVALID_FIELD", f"{where}: {first.get('msg', 'invalid')}")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> Response:
        reason = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "HTTP_ERROR")
        return problem_response(exc.status_code, reason, str(exc.detail))

    if settings.access_log:
        app.add_middleware(AccessLog)  # a plain ASGI middleware

    from atlas_oms.service import (
        blotter,
        docs,
        openapi,
        routes,
        routes_algos,
        routes_arbitrage,
        routes_books,
        routes_corporate,
        routes_history,
        routes_lists,
        routes_margin,
        routes_operator,
        routes_rebalance,
        routes_trades,
        routes_venues,
        stream,
    )
    from atlas_oms.service.durable import DurableAnswers

    routes_trades.register(app)  # first: routes' /v1/trades/{symbol:path} would catch trade ids
    routes.register(app)
    routes_operator.register(app)
    routes_corporate.register(app)
    routes_history.register(app)
    routes_venues.register(app)
    routes_lists.register(app)
    routes_margin.register(app)
    routes_rebalance.register(app)
    routes_algos.register(app)
    routes_books.register(app)
    routes_arbitrage.register(app)
    stream.register(app)
    blotter.register(app)
    docs.register(app)
    openapi.install(app, principal)
    app.add_middleware(DurableAnswers)
    return app


#: JSON lines through the standard ``logging`` module (shown once ``atlas serve`` sets a handler;
#: silent in an embedding application that does not).
api_log = structlog.wrap_logger(
    logging.getLogger("atlas.api"),
    processors=[
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.JSONRenderer(),
    ],
    wrapper_class=structlog.stdlib.BoundLogger,
)


def log_refusal(
    request: Request, status: int, reason: str, detail: str, account_id: str | None = None
) -> None:
    """A refusal, logged with its account context (never a secret: keys by id only)."""
    api_log.info(
        "refused",
        status=status,
        reason=reason,
        detail=detail,
        method=request.method,
        path=request.url.path,
        key_id=getattr(request.state, "key_id", None),
        account_id=account_id
        or request.query_params.get("account_id")
        or request.path_params.get("account_id"),
    )


def service_of(request: Request) -> Service:
    return request.app.state.service


async def principal(request: Request) -> ApiKey:
    """The authenticated key of a request (signature and rate limit checked)."""
    service = service_of(request)
    body = await request.body()
    key = service.authenticate(request, body)
    request.state.key_id = key.key_id
    return key


Key = Annotated[ApiKey, Depends(principal)]
Limit = Annotated[int, Query(ge=1, le=1000)]


__all__ = ["Key", "Limit", "Problem", "Service", "api_log", "create_app", "s", "service_of"]
