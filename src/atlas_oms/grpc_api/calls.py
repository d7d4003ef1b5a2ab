"""One gRPC call: who is calling (the same keys as REST: ``x-api-key`` or ``authorization:
Bearer`` metadata, or the client certificate's common name under mTLS), the per-key rate limit,
durability of the answer, errors as status codes with the engine's reason code, the access log
line and the ``atlas_interface_*`` metrics (interface ``grpc``)."""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, NoReturn, TypeVar

import grpc
import pydantic

from atlas_oms.runtime.live import JOURNAL_UNAVAILABLE, CommitTimeout
from atlas_oms.runtime.node import CommandRefused
from atlas_oms.service.app import Problem, Service, api_log, refused
from atlas_oms.service.durable import COMMIT_OUTCOME_UNKNOWN
from atlas_oms.service.keys import ApiKey

R = TypeVar("R")
INTERFACE = "grpc"
#: The trailing metadata key carrying the engine's reason code of a refusal.
REASON_KEY = "atlas-reason"

access = logging.getLogger("atlas.access")

_BY_STATUS = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    409: grpc.StatusCode.FAILED_PRECONDITION,
    422: grpc.StatusCode.FAILED_PRECONDITION,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED,
    503: grpc.StatusCode.UNAVAILABLE,
}


def status_code(problem: Problem) -> grpc.StatusCode:
    """REST's status of a refusal as a gRPC code: 400 INVALID_ARGUMENT, 401 UNAUTHENTICATED,
    403 PERMISSION_DENIED, 404 NOT_FOUND, 409/422 (the engine's denials and conflicts)
    FAILED_PRECONDITION (a reused client order id: ALREADY_EXISTS), 429 RESOURCE_EXHAUSTED,
    503 UNAVAILABLE (a commit timeout: the outcome is unknown, never "failed")."""
    if problem.reason == "DUPLICATE_CLIENT_ORDER_ID":
        return grpc.StatusCode.ALREADY_EXISTS
    return _BY_STATUS.get(problem.status, grpc.StatusCode.INTERNAL)


class Denied(Exception):
    """A journaled order the engine denied: answered FAILED_PRECONDITION, with the order."""

    def __init__(self, problem: Problem, trailers: Sequence[tuple[str, str | bytes]]) -> None:
        super().__init__(str(problem))
        self.problem = problem
        self.trailers = tuple(trailers)


def invalid(exc: pydantic.ValidationError) -> Problem:
    """A request that does not parse: REST's ``400 INVALID_FIELD`` with the first error."""
    first: Any = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(x) for x in first.get("loc", ()))
    return Problem(400, "INVALID_FIELD", f"{where}: {first.get('msg', 'invalid')}")


class Calls:
    """The per-call work every servicer shares."""

    def __init__(self, service: Service, *, tls: bool = False, mtls: bool = False) -> None:
        self.service = service
        self.tls = tls or mtls
        self.mtls = mtls

    # ------------------------------------------------------------------ who
    def authenticate(self, context: grpc.aio.ServicerContext) -> ApiKey:
        """The calling key (rate limit counted); :class:`Problem` 401/429 otherwise."""
        if self.tls:
            self.require_tls_1_3(context)
        metadata = {k.lower(): v for k, v in (context.invocation_metadata() or ())}
        token = metadata.get("x-api-key")
        auth = metadata.get("authorization", "")
        if token is None and isinstance(auth, str) and auth.lower().startswith("bearer "):
            token = auth[7:].strip()
        cert = self.certificate_key_id(context)
        keys = self.service.keys
        if token:
            found = keys.verify(str(token))
            if found is None:
                raise Problem(401, "UNAUTHENTICATED", "the API key is not valid")
            key = found[0]
            if cert is not None and cert != key.key_id:
                raise Problem(
                    401, "UNAUTHENTICATED", "the API key and the client certificate differ"
                )
            if key.require_signature and cert is None:
                raise Problem(
                    401,
                    "SIGNATURE_REQUIRED",
                    "this key signs its requests (HMAC over HTTP), which gRPC does not carry: "
                    "call with a client certificate for this key (mTLS), or another key",
                )
        elif cert is not None:
            by_cert = keys.keys.get(cert)
            if by_cert is None:
                raise Problem(401, "UNAUTHENTICATED", "the client certificate names no API key")
            key = by_cert
        else:
            raise Problem(
                401,
                "UNAUTHENTICATED",
                "send an API key: x-api-key or authorization: Bearer metadata",
            )
        self.service.rate_limit(key)
        return key

    def require_tls_1_3(self, context: grpc.aio.ServicerContext) -> None:
        """Refuse a call over a connection that negotiated less than TLS 1.3: grpcio cannot
        pin the handshake's minimum version (BoringSSL also accepts TLS 1.2), so the floor is
        kept here, from the version the connection reports (``ssl_tls_version``)."""
        version = (context.auth_context() or {}).get("ssl_tls_version") or []
        if version and version[0] != b"TLSv1.3":
            raise Problem(
                401,
                "TLS_1_3_REQUIRED",
                f"this connection negotiated {version[0].decode()}: connect with TLS 1.3",
            )

    def certificate_key_id(self, context: grpc.aio.ServicerContext) -> str | None:
        """Under mTLS, the key the client certificate names: its subject's common name."""
        if not self.mtls:
            return None
        names = (context.auth_context() or {}).get("x509_common_name") or []
        return names[0].decode() if names else None

    # ------------------------------------------------------------------ one call
    async def unary(
        self,
        context: grpc.aio.ServicerContext,
        method: str,
        answer: Callable[[ApiKey], R | Awaitable[R]],
        *,
        write: bool = False,
    ) -> R:
        """Authenticate, compute ``answer(key)`` (or await it) on the node's loop, wait until the journal holds
        everything it shows (any answer, as REST's), log and count it; a refusal aborts the
        call with its status code and reason."""
        start = time.perf_counter()
        key: ApiKey | None = None
        trailers: tuple[tuple[str, str | bytes], ...] = ()
        try:
            key = self.authenticate(context)
            down = self.service.unavailable
            if write and down is not None:
                raise Problem(503, down[0], down[1])
            computed = answer(key)
            result: R = await computed if inspect.isawaitable(computed) else computed
            await self.service.durable()
            self.done(context, method, "ok", start, key)
            return result
        except Denied as exc:
            problem, trailers = exc.problem, exc.trailers
        except Problem as exc:
            problem = exc
        except CommandRefused as exc:
            problem = refused(exc)
        except pydantic.ValidationError as exc:
            problem = invalid(exc)
        except CommitTimeout:
            problem = self.timeout(write)
        if problem.status != 503 and key is not None:
            try:  # a refusal can have journaled something (a denied order): durable first
                await self.service.durable()
            except CommitTimeout:
                problem, trailers = self.timeout(write), ()
        await self.abort(context, method, problem, start, key, trailers)

    def timeout(self, write: bool) -> Problem:
        if write:
            return Problem(
                503,
                COMMIT_OUTCOME_UNKNOWN,
                "the request was processed but the journal did not save it in time: its outcome "
                "is unknown; query the order (or the account)",
            )
        return Problem(
            503, JOURNAL_UNAVAILABLE, "the journal has not saved the state this answer would show"
        )

    async def abort(
        self,
        context: grpc.aio.ServicerContext,
        method: str,
        problem: Problem,
        start: float,
        key: ApiKey | None,
        trailers: Sequence[tuple[str, str | bytes]] = (),
    ) -> NoReturn:
        """End the call with ``problem``: its code, ``REASON: sentence`` as details, the reason
        in the ``atlas-reason`` trailer; logged (key id, never the secret) and counted."""
        api_log.info(
            "refused",
            interface=INTERFACE,
            method=method,
            status=problem.status,
            reason=problem.reason,
            detail=problem.detail,
            key_id=key.key_id if key is not None else None,
        )
        self.done(context, method, problem.reason, start, key)
        context.set_trailing_metadata(((REASON_KEY, problem.reason), *trailers))
        await context.abort(status_code(problem), f"{problem.reason}: {problem.detail}")
        raise AssertionError("abort returned")  # pragma: no cover - abort raises

    def done(
        self,
        context: grpc.aio.ServicerContext,
        method: str,
        outcome: str,
        start: float,
        key: ApiKey | None,
        peer: str | None = None,
    ) -> None:
        """The access log line and the metrics of one call (or one stream, when it ends).
        ``peer``: the client's address read while the call was alive (a stream the client
        cancelled must not ask its call again: grpcio's aio server crashed on that, SIGSEGV)."""
        duration = time.perf_counter() - start
        metrics = self.service.metrics
        metrics.api_requests.labels(INTERFACE, method, outcome).inc()
        metrics.api_latency.labels(INTERFACE).observe(duration)
        if access.isEnabledFor(logging.INFO):
            access.info(
                "grpc",
                extra={
                    "interface": INTERFACE,
                    "method": method,
                    "outcome": outcome,
                    "duration_ms": round(duration * 1000, 3),
                    "key_id": key.key_id if key is not None else None,
                    "client": peer if peer is not None else context.peer(),
                },
            )


__all__ = ["REASON_KEY", "Calls", "Denied", "invalid", "status_code"]
