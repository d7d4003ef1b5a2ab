"""``atlas serve``: the node on its embedded defaults behind the API, until stopped.

Before it touches anything in its data folder (keys, first keys, trade-id key, journal), the
server locks the folder (``DATA_DIR/.lock``): a second server on the same folder is refused with
:class:`JournalLockedError` and writes nothing. A damaged journal (events lost) is refused with
:class:`JournalDamagedError`, logged at ERROR with the lost seq range, unless the settings say
``repair_journal``; the node then journals the repair first (:mod:`atlas_oms.runtime.damage`).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import logging.config
import socket
import threading
import time
from collections.abc import Generator
from typing import Any

import structlog
import uvicorn
from fastapi import FastAPI

from atlas_oms.model import events as ev
from atlas_oms.runtime.node import Node
from atlas_oms.runtime.policy_params import (
    ParamError,
    PolicyParams,
    format_value,
    load_params_with_sources,
)
from atlas_oms.runtime.venue_setup import VenuePlan, VenueSetup, plan_venues, setup_venues
from atlas_oms.service.app import Service, create_app
from atlas_oms.service.bootstrap import (
    default_instruments,
    first_keys,
    first_start,
    load_instruments,
)
from atlas_oms.service.keys import KeyStore
from atlas_oms.service.logs import log_config, log_uncaught
from atlas_oms.service.market_maker import MarketFileError, load_path_file, run_market
from atlas_oms.service.settings import ServiceSettings
from atlas_oms.store.base import JournalDamagedError
from atlas_oms.store.guard import WriterLock, lock_path
from atlas_oms.store.opener import open_journal


def configure_logging(level: str) -> None:
    """Structured JSON logs on stderr: every line one JSON object, secrets redacted
    (:mod:`atlas_oms.service.logs`), uvicorn's lines, warnings and tracebacks included."""
    logging.config.dictConfig(log_config(level))
    log_uncaught()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
    )


def build_app(settings: ServiceSettings) -> FastAPI:
    """The service of ``settings``: on the built-in exchange (default), or, with an
    ``accounts_file``, in front of the venues it names (see :func:`venue_plan`)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    keys = KeyStore(settings.keys_path)
    plan = venue_plan(settings)
    venue_mode = plan is not None
    policy = policy_file(settings)
    if settings.instruments_file is not None:
        instruments = load_instruments(settings.instruments_file)
    else:
        # In front of venues the instruments are the venues' own (loaded at each connect):
        # the built-in exchange lists none of its demo instruments unless a file asks for them.
        instruments = [] if venue_mode else default_instruments()
    log = structlog.get_logger("atlas.serve")
    written = first_keys(
        keys, settings.data_dir, plan.trader_accounts() if plan is not None else None
    )
    if written is not None:
        from atlas_oms.binance_api.keys import add_first_pairs  # the trader's Binance pair

        add_first_pairs(written, keys, settings.data_dir)
        log.info("first API keys issued", file=str(written), note="secrets are in the file only")

    def setup(node: Node) -> None:
        repaired = node.repaired
        if repaired is not None:
            log.error(
                "journal repaired: the lost seqs are recorded and never issued again",
                journal=str(settings.journal_path),
                reason=repaired.reason,
                lost_from_seq=repaired.lost_from_seq,
                lost_to_seq=repaired.lost_to_seq,
                lost_events=repaired.lost_events,
                lost_chunks=repaired.lost_chunks,
                kept_at=repaired.kept_at,
                repair_seq=repaired.seq,
                next_order_id=repaired.next_order_id,
            )
        first_start(node, instruments, demo_accounts=not venue_mode)
        if policy is not None:
            apply_policy_file(node, *policy, log)
        log.info("journal open", path=str(settings.journal_path), seq=node.seq)

    market = settings.market_config()
    if market.mode == "file":  # a wrong file stops the start (exit 78)
        if market.file is None:
            raise MarketFileError("ATLAS_MARKET=file needs ATLAS_MARKET_FILE (--market-file)")
        load_path_file(market.file)

    def background(service: Service) -> Any:
        if market.mode == "off" or not instruments:
            return _idle()
        return run_market(service.node, market, paused=lambda: service.unavailable is not None)

    def venues(node: Node) -> VenueSetup | None:
        if plan is None:
            return None
        setup = setup_venues(
            node,
            plan.config,
            plan.sources,
            data_dir=settings.data_dir,
            gateway_config=settings.gateway_config(),
            keys_poll_s=settings.venue_keys_poll_s,
            vault_poll_s=settings.vault_poll_s,
            feeds=plan.feeds,
        )
        log.info(
            "venues",
            accounts=[f"{a.venue}/{a.account_id}" for a in plan.config.accounts],
            accounts_file=str(settings.accounts_file),
        )
        return setup

    return create_app(settings, keys=keys, setup=setup, background=background, venues=venues)


def policy_file(settings: ServiceSettings) -> tuple[str, PolicyParams, dict[str, str]] | None:
    """``policy_params_file`` read before anything starts: (path, its parameters, the values it
    sets by canonical name); None without one. A wrong file raises ``ParamError`` (exit 78)."""
    path = settings.policy_params_file
    if path is None:
        return None
    params, sources = load_params_with_sources(path)
    return str(path), params, {name: format_value(params.get(name)) for name in sources}


def apply_policy_file(
    node: Node, path: str, params: PolicyParams, overrides: dict[str, str], log: Any
) -> None:
    """Put the file's parameters in force (actor ``config``) unless the journal already has
    exactly them in force."""
    if node.policy_params() == params:
        return
    for event in node.set_policy_params(
        dict[str, object](overrides), actor="config", reason=f"policy file {path}"
    ):
        if isinstance(event, ev.CommandRejected):  # checked when read: a bug if it happens
            raise ParamError("INVALID_FILE", event.message, source=path)
    log.info("policy parameters from the file put in force", file=path, overrides=overrides)


def venue_plan(settings: ServiceSettings) -> VenuePlan | None:
    """``accounts_file`` checked before anything starts (None without one): see
    :func:`atlas_oms.runtime.venue_setup.plan_venues`; ``atlas serve`` exits 78 with the sentence
    when the file is wrong or a venue account's key cannot be read."""
    if settings.accounts_file is None:
        return None
    return plan_venues(
        settings.accounts_file,
        keys_path=settings.venue_keys_path,
        master_key_file=settings.master_key_file,
        vault_mount=settings.vault_mount,
    )


async def _idle() -> None:
    return None


class _Server(uvicorn.Server):
    """uvicorn, stopped the node's way: SIGTERM and SIGINT both drain (the node's own tasks stop
    and commit first, WebSocket clients get what was committed and a 1001 close, in-flight
    requests finish) and exit 0; a failed task of the node exits 1."""

    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self.atlas_app = app

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        with super().capture_signals():
            try:
                yield
            finally:
                # A signal is the ordinary way to stop: do not raise it again afterwards
                # (uvicorn would, and the process would end as killed by it, not with 0).
                self._captured_signals.clear()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        # Everything alive once the node is up (modules, the web stack, the recovered state)
        # lives as long as the process: keep it out of the cyclic GC's full collections, which
        # otherwise walk it all (~45 ms a time under load, the submit p99's largest part).
        gc.collect()
        gc.freeze()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        runtime = getattr(self.atlas_app.state, "runtime", None)
        if runtime is not None:
            await runtime.begin_stop()
        await super().shutdown(sockets)


def lock_data_dir(settings: ServiceSettings) -> WriterLock:
    """Hold the data folder's lock (raise ``JournalLockedError`` if another server holds it)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return WriterLock(settings.data_dir / ".lock", f"the data folder {settings.data_dir}")


def check_journal(settings: ServiceSettings) -> None:
    """Refuse a journal another writer holds, and a damaged one unless the settings repair it,
    before anything starts: read-only, so a refused start changes nothing; the loss is logged at
    ERROR with its seq range."""
    path = settings.journal_path
    if not path.exists():
        return
    WriterLock(lock_path(path), f"the journal {path}").release()  # no offline writer on it now
    if settings.repair_journal:
        return
    journal = open_journal(str(path), readonly=True)
    try:
        report = journal.recovery
    finally:
        journal.close()
    if report.damaged:
        sentence = report.sentence(path)
        structlog.get_logger("atlas.journal").error(
            sentence,
            journal=str(path),
            reason=report.reason,
            lost_from_seq=report.lost_from_seq,
            lost_to_seq=report.lost_to_seq,
            lost_events=report.lost_events,
            lost_chunks=report.lost_chunks,
            kept_at=report.kept_at,
        )
        raise JournalDamagedError(sentence, report)


def serve(settings: ServiceSettings) -> int:
    """Serve until stopped; return the exit code (0: stopped by a signal, 1: the node failed)."""
    configure_logging(settings.log_level)
    lock = lock_data_dir(settings)
    try:
        check_journal(settings)
        return _run(settings)
    finally:
        lock.release()


def _run(settings: ServiceSettings) -> int:
    app = build_app(settings)
    tls: dict[str, Any] = {}
    if settings.tls_cert is not None and settings.tls_key is not None:
        tls = {"ssl_certfile": str(settings.tls_cert), "ssl_keyfile": str(settings.tls_key)}
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        workers=1,
        log_level=settings.log_level.lower(),
        log_config=log_config(settings.log_level),
        access_log=False,  # Atlas's own access log (logs.AccessLog) replaces uvicorn's
        timeout_graceful_shutdown=max(1, int(settings.shutdown_timeout_s)),
        timeout_keep_alive=settings.keep_alive_s,
        **tls,
    )
    server = _Server(config, app)

    def stop_server() -> None:
        server.should_exit = True

    app.state.stop_server = stop_server
    server.run()
    if not server.started:
        return 1
    code: int = getattr(app.state, "exit_code", 0)
    return code


class BackgroundServer:
    """Serve ``app`` with uvicorn on a free port of 127.0.0.1 in a daemon thread (tests, notebooks):

    ``with BackgroundServer(build_app(settings)) as srv: httpx.get(srv.url + "/health")``
    """

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.url = ""
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> BackgroundServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        self.url = f"http://{self.host}:{self.port}"
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            log_config=log_config("warning", root=False),  # JSON lines, secrets redacted
            access_log=False,
            lifespan="on",
        )
        self._server = server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="atlas-serve", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.005)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
