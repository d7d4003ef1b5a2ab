"""The FIX gateway's application layer, on the node's event loop: each FIX session's messages are
handled one at a time, in arrival order, through the same checks and node calls as REST
(``service.rate_limit``, ``require_trading``/``require_cancel``, ``routes._submit``,
``node.cancel``/``node.modify``), and answered only after ``service.durable()``.

ExecutionReports come from durable events only (``hub.on_durable``), folded per order by
:class:`~atlas_oms.fix.translate.OrderTrack`. The session layer (QuickFIX) lives in
:mod:`atlas_oms.fix.acceptor`; this module knows it only as ``send(session, msg_type, fields)``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import pydantic

from atlas_oms.fix import translate as t
from atlas_oms.fix.translate import FixInvalid, OrderTrack
from atlas_oms.model import events as ev
from atlas_oms.model.enums import OrderStatus
from atlas_oms.runtime.live import CommitTimeout
from atlas_oms.runtime.node import CommandRefused
from atlas_oms.service.keys import ApiKey

if TYPE_CHECKING:
    from atlas_oms.service.app import Service

log = logging.getLogger("atlas.fix")
access = logging.getLogger("atlas.access")
refusals = logging.getLogger("atlas.api")

Send = Callable[[str, str, t.Fields], None]

#: Application messages the gateway takes, by MsgType, with their names (metrics, access log).
SUPPORTED = {
    "D": "NewOrderSingle",
    "F": "OrderCancelRequest",
    "G": "OrderCancelReplaceRequest",
    "H": "OrderStatusRequest",
    "q": "OrderMassCancelRequest",
}
INTERFACE = "fix"


class Refusal(Exception):
    """A request refused before it reached the engine (reason code and sentence)."""

    def __init__(self, reason: str, text: str) -> None:
        super().__init__(f"{reason}: {text}")
        self.reason = reason
        self.text = text


class SessionBook:
    """What the gateway keeps on disk (``<data_dir>/fix/``): which key each session belongs to
    (bound at its first logon: ``sessions.json``) and which orders each session placed with their
    ClOrdID chains (``orders.jsonl``, one line per new order or accepted ClOrdID, written before
    the answer waits for the commit, so a crash cannot lose an acknowledged order's owner; a line
    whose commit was lost is dropped at load, as its order is not the node's or has another
    client order id). Sequence numbers and sent messages are QuickFIX's FileStore's."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()  # logon checks run on QuickFIX's thread
        self.bindings: dict[str, str] = {}
        path = folder / "sessions.json"
        if path.exists():
            self.bindings = json.loads(path.read_text())
        #: (session, ClOrdID) -> order id, and order id -> (session, current ClOrdID).
        self.by_cl: dict[tuple[str, str], int] = {}
        self.orders: dict[int, tuple[str, str]] = {}
        self._out: TextIO | None = None
        #: order id -> every (session, ClOrdID) that names it (to forget them together).
        self.names: dict[int, list[tuple[str, str]]] = {}
        #: The rows as read (session, ClOrdID, order id), in file order: checked against the
        #: node by the gateway (:meth:`FixGateway._load`) before they are remembered.
        self.rows: list[tuple[str, str, int]] = []
        lines = folder / "orders.jsonl"
        if lines.exists():
            for line in lines.read_text().splitlines():
                try:
                    row = json.loads(line)
                    self.rows.append((row["s"], row["c"], int(row["o"])))
                except (ValueError, KeyError, TypeError):
                    continue  # a torn last line (killed while appending)

    def bind(self, session: str, key_id: str) -> bool:
        """Bind ``session`` to ``key_id`` (first logon); False if it belongs to another key."""
        with self._lock:
            owner = self.bindings.get(session)
            if owner is not None:
                return owner == key_id
            self.bindings[session] = key_id
            path = self.folder / "sessions.json"
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.bindings, indent=1))
            tmp.replace(path)
            return True

    def remember(self, session: str, cl_ord_id: str, order_id: int) -> None:
        if self.by_cl.get((session, cl_ord_id)) != order_id:
            self.by_cl[(session, cl_ord_id)] = order_id
            self.names.setdefault(order_id, []).append((session, cl_ord_id))
        self.orders[order_id] = (session, cl_ord_id)

    def persist(self, session: str, cl_ord_id: str, order_id: int) -> None:
        # One append handle for the gateway's life, flushed each line (as each close flushed):
        # opening and closing the file per order was ~7% of the FIX server's busy time.
        if self._out is None:
            self._out = open(self.folder / "orders.jsonl", "a")  # noqa: SIM115
        self._out.write(json.dumps({"s": session, "c": cl_ord_id, "o": order_id}) + "\n")
        self._out.flush()

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None

    def forget(self, order_id: int) -> None:
        """Drop a finished order (retention): its ClOrdIDs stay known to the node (the
        account's client order ids), which is where a reuse is detected afterwards."""
        self.orders.pop(order_id, None)
        for key in self.names.pop(order_id, ()):
            if self.by_cl.get(key) == order_id:
                del self.by_cl[key]

    def rewrite(self, rows: list[tuple[str, str, int]]) -> None:
        """Replace ``orders.jsonl`` with ``rows`` (at start: what is still kept)."""
        self.close()  # the append handle would go on writing to the replaced file
        path = self.folder / "orders.jsonl"
        tmp = path.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps({"s": s, "c": c, "o": o}) + "\n" for s, c, o in rows))
        tmp.replace(path)


class FixGateway:
    """The application side of every FIX session of one ``atlas serve``."""

    def __init__(self, service: Service, folder: Path, send: Send) -> None:
        self.service = service
        self.book = SessionBook(folder)
        self.send = send
        self.keys: dict[str, ApiKey] = {}
        self.tracks: dict[int, OrderTrack] = {}
        self._queues: dict[str, asyncio.Queue[tuple[str, dict[int, str]]]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._n = 0
        self._live: set[str] = set()
        #: The sentence of each session's last refusal (for its log line).
        self._detail: dict[str, str] = {}
        #: Finished orders by the ts they ended, oldest first: forgotten ``order_retention_s``
        #: after (the node's own order retention), so memory stays bounded.
        self.ended: dict[int, int] = {}
        retention = getattr(service.settings, "order_retention_s", None)
        self.retention_ns = None if retention is None else int(retention * 1e9)
        self._load()

    def _load(self) -> None:
        """The sessions' orders from ``orders.jsonl``, checked against the node: a row whose
        order the node does not have (its commit was lost in a crash), whose first ClOrdID is
        not the order's client order id (the id went to another order), or that finished more
        than the retention ago is dropped; the file is rewritten with what is kept."""
        node = self.service.node
        now = node.clock.now()
        kept: list[tuple[str, str, int]] = []
        for session, cl, order_id in self.book.rows:
            if order_id not in self.book.orders:
                view = node.get_order(order_id)
                if view is None or (view.client_order_id or cl) != cl:
                    continue
                if view.status in t.TERMINAL and self._expired(view.ts_last, now):
                    continue
                self.tracks[order_id] = OrderTrack.of_view(view, cl, seen_seq=node.seq)
                if view.status in t.TERMINAL:
                    self.ended[order_id] = view.ts_last
            elif self.book.orders[order_id][0] != session:
                continue
            self.book.remember(session, cl, order_id)
            self.tracks[order_id].cl_ord_id = cl
            kept.append((session, cl, order_id))
        self.book.rows = []
        if kept or (self.book.folder / "orders.jsonl").exists():
            self.book.rewrite(kept)

    def _expired(self, ended_ts: int, now: int) -> bool:
        return self.retention_ns is not None and ended_ts + self.retention_ns <= now

    def prune(self, now: int) -> int:
        """Forget the finished orders that ended more than the retention before ``now``; the
        number forgotten."""
        gone = []
        for order_id, ts in self.ended.items():  # in the order they ended (nearly: adopted
            if not self._expired(ts, now):  # archived orders may wait behind younger ones)
                break
            gone.append(order_id)
        for order_id in gone:
            del self.ended[order_id]
            self.tracks.pop(order_id, None)
            self.book.forget(order_id)
        return len(gone)

    # ------------------------------------------------------------------ sessions
    def check_logon(self, session: str, username: str | None, password: str | None) -> str | None:
        """Called on QuickFIX's thread for each Logon: None to accept, else why not. The key
        store is read only (no node access)."""
        if not username or not password:
            return "UNAUTHENTICATED: send Username(553)=key id and Password(554)=its secret"
        found = self.service.keys.verify(f"{username}.{password}")
        if found is None or found[0].key_id != username:
            return "UNAUTHENTICATED: the key id or secret is not valid"
        if not self.book.bind(session, username):
            return f"UNAUTHENTICATED: session {session} belongs to another key"
        self.keys[session] = found[0]
        return None

    def logged_on(self, session: str) -> None:
        if session not in self._live:
            self._live.add(session)
            self.service.metrics.api_sessions.labels(INTERFACE).inc()
        self._access(session, "Logon", "ok", 0.0)

    def logged_out(self, session: str) -> None:
        if session in self._live:
            self._live.discard(session)
            self.service.metrics.api_sessions.labels(INTERFACE).dec()
        self._access(session, "Logout", "ok", 0.0)

    def refused_logon(self, session: str, why: str) -> None:
        self.service.metrics.api_requests.labels(INTERFACE, "Logon", "UNAUTHENTICATED").inc()
        self._access(session, "Logon", "UNAUTHENTICATED", 0.0)
        log.info("fix logon refused", extra={"session": session, "detail": why})

    def receive(self, session: str, msg_type: str, fields: dict[int, str]) -> None:
        """An application message from QuickFIX (already on the loop): queued for its session's
        worker, which handles one message at a time."""
        queue = self._queues.get(session)
        if queue is None:
            queue = self._queues[session] = asyncio.Queue()
            self._workers[session] = asyncio.get_running_loop().create_task(
                self._work(session, queue), name=f"fix-{session}"
            )
        queue.put_nowait((msg_type, fields))

    async def _work(self, session: str, queue: asyncio.Queue[tuple[str, dict[int, str]]]) -> None:
        while True:
            msg_type, fields = await queue.get()
            start = time.perf_counter()
            outcome = "ok"
            try:
                outcome = await self.handle(session, msg_type, fields)
            except Exception:  # a bug must not end the session's worker
                log.exception("fix message %s failed", msg_type)
                outcome = "INTERNAL_ERROR"
            elapsed = time.perf_counter() - start
            if outcome != "ok":
                self._refusal(session, msg_type, outcome, fields)
            metrics = self.service.metrics
            metrics.api_requests.labels(INTERFACE, SUPPORTED.get(msg_type, msg_type), outcome).inc()
            metrics.api_latency.labels(INTERFACE).observe(elapsed)
            self._access(session, SUPPORTED.get(msg_type, msg_type), outcome, elapsed)

    def _refusal(self, session: str, msg_type: str, reason: str, fields: dict[int, str]) -> None:
        """A refusal, logged with its context like REST's (service/app.py::log_refusal): the
        key by id only, never a secret."""
        key = self.keys.get(session)
        refusals.info(
            "refused",
            extra={
                "interface": INTERFACE,
                "session": session,
                "method": SUPPORTED.get(msg_type, msg_type),
                "reason": reason,
                "detail": self._detail.pop(session, None),
                "key_id": key.key_id if key is not None else None,
                "account_id": fields.get(t.ACCOUNT),
                "cl_ord_id": fields.get(t.CL_ORD_ID),
            },
        )

    def stop(self) -> None:
        for task in self._workers.values():
            task.cancel()
        self.book.close()

    def _access(self, session: str, method: str, outcome: str, elapsed: float) -> None:
        key = self.keys.get(session)
        access.info(
            "fix",
            extra={
                "interface": INTERFACE,
                "session": session,
                "method": method,
                "outcome": outcome,
                "key_id": key.key_id if key is not None else None,
                "duration_ms": round(elapsed * 1000, 3),
            },
        )

    # ------------------------------------------------------------------ durable events
    def on_durable(self, events: list[ev.EventBase]) -> None:
        """ExecutionReports (and a venue's OrderCancelRejects) of the sessions' orders, from
        committed events only, in seq order."""
        for event in events:
            order_id = getattr(event, "order_id", None)
            track = self.tracks.get(order_id) if isinstance(order_id, int) else None
            if track is None:
                continue
            owner = self.book.orders.get(track.order_id)
            if owner is None:
                continue
            for msg_type, fields in track.apply(event):
                self.send(owner[0], msg_type, fields)
            if track.status in t.TERMINAL and track.pending is None:
                self.ended.setdefault(track.order_id, event.ts_event)
        if events and self.ended:
            self.prune(events[-1].ts_event)

    # ------------------------------------------------------------------ messages
    async def handle(self, session: str, msg_type: str, fields: dict[int, str]) -> str:
        """Handle one application message; the outcome ("ok" or the refusal's reason code)."""
        key = self.keys.get(session)
        if key is not None and self.service.keys.keys.get(key.key_id) is None:
            self.keys.pop(session, None)  # revoked since its Logon: refused at once, as REST
            key = None
        if key is None:  # a refused Logon (before its Logout goes out), or a revoked key
            self.send(
                session,
                "j",
                [
                    (45, fields.get(34, "0")),
                    (372, msg_type),
                    (380, "6"),
                    (
                        t.TEXT,
                        "UNAUTHENTICATED: the session's key is not valid (refused or revoked)",
                    ),
                ],
            )
            return "UNAUTHENTICATED"
        if msg_type not in SUPPORTED:
            text = f"MsgType {msg_type} is not supported; supported: " + ", ".join(
                f"{k} {v}" for k, v in SUPPORTED.items()
            )
            out = [
                (45, fields.get(34, "0")),
                (372, msg_type),
                (380, "3"),
                (t.TEXT, f"UNSUPPORTED_MESSAGE: {text}"),
            ]
            self.send(session, "j", out)
            return "UNSUPPORTED_MESSAGE"
        handler = {
            "D": self._new_order,
            "F": self._cancel,
            "G": self._replace,
            "H": self._status,
            "q": self._mass_cancel,
        }[msg_type]
        try:
            return await handler(session, key, fields)
        except CommitTimeout:
            # The outcome is unknown, never "failed": the client asks again (OrderStatusRequest).
            self.send(
                session,
                "j",
                self._business_reject(
                    msg_type,
                    fields,
                    "COMMIT_TIMEOUT",
                    "the journal did not confirm in time: the outcome is unknown; ask with "
                    "an OrderStatusRequest",
                ),
            )
            return "COMMIT_TIMEOUT"

    def _now(self) -> int:
        """TransactTime(60) of an answer the gateway makes itself (a refusal, a status): the
        node's clock, or the wall clock when the node's has not started (0)."""
        return self.service.node.clock.now() or time.time_ns()

    def _exec_id(self) -> str:
        self._n += 1
        return f"x{time.time_ns()}-{self._n}"

    def _account(self, key: ApiKey, fields: dict[int, str]) -> str:
        account = fields.get(t.ACCOUNT)
        if account:
            return account
        for acct in key.accounts:
            if self.service.may_trade(key, acct):
                return acct
        raise Refusal("UNKNOWN_ACCOUNT", "name the account: Account(1)")

    def _guard(self, key: ApiKey) -> None:
        from atlas_oms.service.app import Problem

        try:
            self.service.rate_limit(key)
        except Problem as exc:
            raise Refusal(exc.reason, exc.detail) from None

    async def _new_order(self, session: str, key: ApiKey, fields: dict[int, str]) -> str:
        from atlas_oms.service import schemas as s
        from atlas_oms.service.app import Problem
        from atlas_oms.service.routes import _submit

        node = self.service.node
        cl = fields.get(t.CL_ORD_ID, "")
        try:
            self._guard(key)
            account = self._account(key, fields)
            if (session, cl) in self.book.by_cl:
                existing = self.book.by_cl[(session, cl)]
                if fields.get(97) == "Y" and existing in self.tracks:  # PossResend: its status
                    report = t.status_report(
                        self.tracks[existing], self._exec_id(), self._now(), None
                    )
                    self.send(session, "8", report)
                    return "ok"
                raise Refusal(
                    "DUPLICATE_CLIENT_ORDER_ID", f"ClOrdID {cl!r} already names order {existing}"
                )
            self.service.require_trading(key, account, "place orders")
            try:
                order = s.OrderIn(**t.submit_fields(fields, account))
            except pydantic.ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(x) for x in first.get("loc", ()))
                raise Refusal("INVALID_FIELD", f"{where}: {first.get('msg', 'invalid')}") from None
            status, body = _submit(self.service, key, order)
        except (Refusal, FixInvalid, Problem, CommandRefused) as exc:
            reason, text = _why(exc)
            self._detail[session] = text
            await self.service.durable()  # a refusal the engine journaled is durable first
            self.send(
                session,
                "8",
                t.rejected_order(fields, self._exec_id(), reason, text, self._now()),
            )
            return reason
        placed = body.get("order", body)
        order_id = int(placed["order_id"])
        if body.get(
            "duplicate"
        ):  # the account's client order id, placed by REST or another session
            await self.service.durable()
            self.send(
                session,
                "8",
                t.rejected_order(
                    fields,
                    self._exec_id(),
                    "DUPLICATE_CLIENT_ORDER_ID",
                    f"client order id {cl!r} already names order {order_id}",
                    self._now(),
                ),
            )
            return "DUPLICATE_CLIENT_ORDER_ID"
        view = node.order(order_id)
        assert view is not None
        track = OrderTrack.of_view(view, cl)
        track.status, track.cum_qty, track.notional, track.acked = (
            OrderStatus.SUBMITTED,
            Decimal(0),
            Decimal(0),
            False,
        )
        track.qty = order.qty
        self.tracks[order_id] = track
        self.book.remember(session, cl, order_id)  # before the commit: its reports find it
        self.book.persist(session, cl, order_id)  # checked against the node at load
        await self.service.durable()
        if status != 422:
            return "ok"
        self._detail[session] = str(body["detail"])  # denied: journaled, reported from its event
        return str(body["reason"])

    def _find(self, session: str, key: ApiKey, fields: dict[int, str], act: str) -> OrderTrack:
        """The order a cancel, replace or status request names (OrderID(37), else
        OrigClOrdID(41) / ClOrdID(11) of this session, else the account's client order id),
        after the key's right to it is checked."""
        from atlas_oms.service.app import Problem

        node = self.service.node
        order_id: int | None = None
        raw = fields.get(t.ORDER_ID)
        if raw and raw.isdigit():
            order_id = int(raw)
        cl = fields.get(t.ORIG_CL_ORD_ID) if act != "status" else fields.get(t.CL_ORD_ID)
        if order_id is None and cl:
            order_id = self.book.by_cl.get((session, cl))
            if order_id is None:
                account = self._account(key, fields)
                view = node.find_order(account, None, cl) if node.account(account) else None
                order_id = view.order_id if view is not None else None
        owner = node.order_owner(order_id) if order_id is not None else None
        if owner is None and order_id is not None:  # archived (finished, past the retention)
            archived = node.get_order(order_id)
            owner = archived.account_id if archived is not None else None
        if order_id is None or owner is None:
            raise Refusal("UNKNOWN_ORDER", f"no order {raw or cl!r}")
        try:
            if act == "cancel":
                self.service.require_cancel(key, owner)
            elif act == "modify":
                self.service.require_trading(key, owner, "modify orders")
            else:
                self.service.require_account(key, owner)
        except Problem as exc:
            if exc.reason == "UNKNOWN_ACCOUNT":  # no probing: someone else's order is unknown
                raise Refusal("UNKNOWN_ORDER", f"no order {raw or cl!r}") from None
            raise Refusal(exc.reason, exc.detail) from None
        track = self.tracks.get(order_id)
        if track is None:  # an order placed by REST (or before): adopted by this session
            view = node.order(order_id)
            track = OrderTrack.of_view(view, view.client_order_id or str(order_id), node.seq)
            self._adopt(session, track)
            if view.status in t.TERMINAL:  # asked about a finished order: forgotten again later
                self.ended.setdefault(order_id, view.ts_last)
        return track

    def _adopt(self, session: str, track: OrderTrack) -> None:
        """An order placed elsewhere (REST, or before) that this session now handles: its
        reports go to the session, across restarts too."""
        self.tracks[track.order_id] = track
        self.book.remember(session, track.cl_ord_id, track.order_id)
        self.book.persist(session, track.cl_ord_id, track.order_id)

    async def _cancel(self, session: str, key: ApiKey, fields: dict[int, str]) -> str:
        return await self._change(session, key, fields, "F")

    async def _replace(self, session: str, key: ApiKey, fields: dict[int, str]) -> str:
        return await self._change(session, key, fields, "G")

    async def _change(self, session: str, key: ApiKey, fields: dict[int, str], kind: str) -> str:
        node = self.service.node
        cl = fields.get(t.CL_ORD_ID, "")
        track: OrderTrack | None = None
        before: tuple[str, str] | None = None
        try:
            # The order first (read only), so that a rate-limited request's reject still shows
            # it as it is (OrdStatus, OrigClOrdID); nothing is applied before the guard.
            track = self._find(session, key, fields, "cancel" if kind == "F" else "modify")
            self._guard(key)
            self._fresh(session, track, cl)
            before = track.pending
            track.pending = (cl, kind)
            if kind == "F":
                node.cancel(track.account_id, track.order_id)
            else:
                t.same_order(track, fields)
                qty = t.decimal_of(fields, t.ORDER_QTY, "OrderQty")
                price = t.decimal_of(fields, t.PRICE, "Price")
                stop = t.decimal_of(fields, t.STOP_PX, "StopPx")
                node.modify(
                    track.account_id,
                    track.order_id,
                    qty=qty if qty != track.qty else None,
                    price=price if price != track.price else None,
                    trigger_price=stop if stop != track.stop_px else None,
                )
        except (Refusal, FixInvalid, CommandRefused) as exc:
            reason, text = _why(exc)
            self._detail[session] = text
            if track is not None:
                track.pending = before
            await self.service.durable()
            self.send(
                session,
                "9",
                t.cancel_reject(
                    track,
                    cl,
                    kind,
                    reason,
                    text,
                    orig_cl_ord_id=fields.get(t.ORIG_CL_ORD_ID),
                    order_id=fields.get(t.ORDER_ID),
                    ts=self._now(),
                ),
            )
            return reason
        self.book.remember(session, cl, track.order_id)
        self.book.persist(session, cl, track.order_id)
        await self.service.durable()
        return "ok"

    def _fresh(self, session: str, track: OrderTrack, cl: str) -> None:
        """A cancel or replace must carry a new ClOrdID (FIX 4.4: unique per session and
        day): one this session used (kept while the orders it named are kept), or that is a
        client order id of the account at the node (which remembers them across restarts, past
        the gateway's retention), is refused as a duplicate (CxlRejReason 6)."""
        if not cl:
            raise Refusal("INVALID_FIELD", "ClOrdID(11) is required")
        used = self.book.by_cl.get((session, cl))
        if used is None:
            view = self.service.node.find_order(track.account_id, None, cl)
            used = view.order_id if view is not None else None
        if used is not None:
            raise Refusal(
                "DUPLICATE_CLIENT_ORDER_ID",
                f"ClOrdID {cl!r} was already used (order {used}): a cancel or replace needs a "
                "new one",
            )

    async def _status(self, session: str, key: ApiKey, fields: dict[int, str]) -> str:
        req = fields.get(790)
        try:
            self._guard(key)
            track = self._find(session, key, fields, "status")
        except (Refusal, FixInvalid) as exc:
            reason, text = _why(exc)
            self._detail[session] = text
            out = t.rejected_order(fields, self._exec_id(), reason, text, self._now())
            out = [
                (150, "I") if tag == 150 else (103, "5") if tag == 103 else (tag, v)
                for tag, v in out
            ]
            if req:
                out.append((790, req))
            self.send(session, "8", out)
            return reason
        self.send(session, "8", t.status_report(track, self._exec_id(), self._now(), req))
        return "ok"

    async def _mass_cancel(self, session: str, key: ApiKey, fields: dict[int, str]) -> str:
        node = self.service.node
        kind = fields.get(t.MASS_CANCEL_REQUEST_TYPE, "")
        answer: t.Fields = [
            (t.CL_ORD_ID, fields.get(t.CL_ORD_ID, "NONE")),
            (t.ORDER_ID, "NONE"),
            (t.MASS_CANCEL_REQUEST_TYPE, kind or "7"),
        ]
        from atlas_oms.service.app import Problem

        try:
            self._guard(key)
            if kind not in ("1", "7"):
                raise Refusal(
                    "UNSUPPORTED_MASS_CANCEL",
                    f"MassCancelRequestType(530)={kind!r}: supported 1 by symbol, 7 all",
                )
            account = self._account(key, fields)
            self.service.require_cancel(key, account)
        except (Refusal, Problem) as exc:
            reason, text = _why(exc)
            self._detail[session] = text
            self.send(
                session,
                "r",
                [
                    *answer,
                    (t.MASS_CANCEL_RESPONSE, "0"),
                    (t.MASS_CANCEL_REJECT_REASON, "99" if kind in ("1", "7") else "0"),
                    (t.TEXT, f"{reason}: {text}"),
                ],
            )
            return reason
        symbol = fields.get(t.SYMBOL) if kind == "1" else None
        canceled = 0
        for view in node.orders(account, open_only=True):
            if symbol is not None and view.symbol != symbol:
                continue
            if view.order_id not in self.tracks:
                self._adopt(
                    session,
                    OrderTrack.of_view(view, view.client_order_id or str(view.order_id), node.seq),
                )
            try:
                node.cancel(account, view.order_id)
                canceled += 1
            except CommandRefused:
                continue
        await self.service.durable()
        self.send(
            session,
            "r",
            answer
            + [(t.MASS_CANCEL_RESPONSE, kind), (t.TOTAL_AFFECTED_ORDERS, str(canceled))]
            + ([(t.SYMBOL, symbol)] if symbol else [])
            + [(t.TEXT, f"account {account}")],
        )
        return "ok"

    def _business_reject(
        self, msg_type: str, fields: dict[int, str], reason: str, text: str
    ) -> t.Fields:
        ref = fields.get(t.CL_ORD_ID)
        out: t.Fields = [(372, msg_type), (380, "0"), (t.TEXT, f"{reason}: {text}")]
        if ref:
            out.insert(1, (379, ref))
        return out


def _why(exc: Exception) -> tuple[str, str]:
    from atlas_oms.service.app import Problem

    if isinstance(exc, Refusal | FixInvalid):
        return exc.reason, exc.text
    if isinstance(exc, Problem):
        return exc.reason, exc.detail
    if isinstance(exc, CommandRefused):
        return exc.reason, exc.message
    return "INTERNAL_ERROR", str(exc)


__all__ = ["SUPPORTED", "FixGateway", "SessionBook"]
