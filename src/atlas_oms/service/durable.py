"""Answer only what is durable, refuse writes while the journal cannot take them, and say so on
``/health``.

:class:`DurableAnswers` is a pure ASGI middleware around every HTTP request:

* **writes** (POST, PUT, PATCH, DELETE) while the node is unavailable (its journal refuses
  commits, or it is stopping) are answered ``503`` with the reason code (``JOURNAL_UNAVAILABLE``,
  ``NODE_STOPPING``) and a sentence, before anything is processed;
* **every answer** (reads, refusals, problem documents, the blotter's data) is held back at its
  first byte until the journal holds everything the node had processed when the answer was
  computed: a kill -9 after an answer cannot take back what it showed. An endpoint that already
  waited (:meth:`Service.durable` after computing its answer) is not held twice, and nothing
  waits when nothing is uncommitted. An answer whose commit does not come within
  ``commit_wait_s`` is replaced by a ``503``: ``COMMIT_OUTCOME_UNKNOWN`` for a write (it was
  processed; query the order), ``JOURNAL_UNAVAILABLE`` for a read.

Pages that show no node state (``/``, ``/static``, ``/docs``, the OpenAPI document) and
``/health`` and ``/metrics`` (operations: they must answer while the journal is down) are not
held. ``/health`` shows the committed seq, never an uncommitted one.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from atlas_oms.runtime.live import JOURNAL_UNAVAILABLE, CommitTimeout
from atlas_oms.service.app import ANSWER, Answer, Service, problem_response

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Paths answered without waiting for the journal (exact, or a prefix when ending in "/").
NOT_HELD = ("/health", "/metrics", "/", "/static/", "/docs", "/openapi.json", "/redoc")
COMMIT_OUTCOME_UNKNOWN = "COMMIT_OUTCOME_UNKNOWN"


def _not_held(path: str) -> bool:
    return any(path == p or (p.endswith("/") and p != "/" and path.startswith(p)) for p in NOT_HELD)


def commit_timeout_response(method: str) -> Any:
    """The 503 of an answer whose commit did not come in time."""
    if method in WRITES:
        response = problem_response(
            503,
            COMMIT_OUTCOME_UNKNOWN,
            "the request was processed but the journal did not save it in time: its outcome "
            "is unknown; query the order (or the account) once /health answers ok",
        )
    else:
        response = problem_response(
            503,
            JOURNAL_UNAVAILABLE,
            "the journal has not saved the state this answer would show; retry once /health "
            "answers ok",
        )
    response.headers["Retry-After"] = "1"
    return response


class DurableAnswers:
    """The middleware (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _not_held(scope["path"]):
            await self.app(scope, receive, send)
            return
        service: Service | None = getattr(scope["app"].state, "service", None)
        if service is None:
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        down = service.unavailable
        if down is not None and method in WRITES:
            response = problem_response(503, down[0], down[1])
            response.headers["Retry-After"] = "1"
            await response(scope, receive, send)
            return
        answer = Answer()
        token = ANSWER.set(answer)
        replaced = False
        committer = service.committer
        node = service.node

        async def held(message: Message) -> None:
            nonlocal replaced
            if replaced:
                return  # the app's own answer, superseded by a 503
            if (
                message["type"] == "http.response.start"
                and not answer.covered
                and not answer.timed_out
                and committer.dirty
            ):
                try:
                    await committer.wait(node.seq, service.settings.commit_wait_s)
                except CommitTimeout:  # never a hang
                    replaced = True
                    await commit_timeout_response(method)(scope, receive, send)
                    return
            await send(message)

        try:
            await self.app(scope, receive, held)
        finally:
            ANSWER.reset(token)


def health(service: Service) -> Any:
    """``/health``: ``ok`` (200), ``degraded`` (200: serving, but the journal was repaired or
    damaged at start) or ``unavailable`` (503: writes refused, with the reason)."""
    from atlas_oms.service.app import JSON

    node = service.node
    body: dict[str, Any] = {
        "status": "ok",
        "seq": service.committer.committed_seq,
        "venues": sorted(node.venues),
    }
    report = getattr(node.journal, "recovery", None)
    if report is not None and not report.clean:
        body["status"] = "degraded"
        body["journal"] = {
            "reason": report.reason,
            "detail": report.detail,
            "lost_from_seq": report.lost_from_seq,
            "lost_to_seq": report.lost_to_seq,
            "lost_events": report.lost_events,
            "lost_chunks": report.lost_chunks,
            "discarded_records": report.discarded_records,
            "discarded_bytes": report.discarded_bytes,
            "kept_at": report.kept_at,
            "last_seq": report.last_seq,
        }
    repaired = getattr(node, "repaired", None)
    if repaired is not None:  # started on a damaged journal on purpose (--repair-journal)
        body["status"] = "degraded"
        body["repaired"] = {
            "seq": repaired.seq,
            "reason": repaired.reason,
            "lost_from_seq": repaired.lost_from_seq,
            "lost_to_seq": repaired.lost_to_seq,
            "lost_events": repaired.lost_events,
            "kept_at": repaired.kept_at,
        }
    down = service.unavailable
    if down is not None:
        body["status"] = "unavailable"
        body["reason"], body["detail"] = down
        since = service.committer.unavailable_since
        if since is not None:
            body["unavailable_for_s"] = round(time.time() - since, 3)
        return JSON(body, 503)
    return JSON(body)


__all__ = ["COMMIT_OUTCOME_UNKNOWN", "DurableAnswers", "commit_timeout_response", "health"]
