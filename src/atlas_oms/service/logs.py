"""The server's log: one JSON object per line on stderr, with every secret redacted.

Everything that logs in ``atlas serve`` goes through :class:`JsonFormatter`: Atlas's own
structlog lines, uvicorn's start-up, shutdown and WebSocket lines, Python warnings, tracebacks
(a field, ``exception``, never loose lines), and the access log (:class:`AccessLog`).

Before a line is written, :func:`redact_value` removes secrets from its message and from every
field, however they got there:

- query parameters named ``token``, ``key``, ``api_key``, ``apikey``, ``secret``, ``signature``,
  ``access_token`` (``/v1/ws?token=…`` becomes ``/v1/ws?token=***``);
- the values of the ``Authorization``, ``X-API-Key`` and ``X-Atlas-Signature`` headers, however
  they are written (``Authorization: Bearer …``, ``'x-api-key': '…'``, ``(b'x-api-key', b'…')``);
- anything shaped like one of our API keys, ``ak_<12 hex>.<secret>`` (see
  :mod:`atlas_oms.service.keys`): the secret becomes ``***``, the key id (not a secret) stays;
- the whole value of a field named like a secret (``token``, ``secret``, ``authorization``…);
- venues' secrets: ``listenKey``/``apiKey``/``api_secret``/``passphrase`` query parameters and
  quoted pairs (``"listenKey": "…"``, ``'secret': '…'``), the venues' key and signature headers
  (``X-MBX-APIKEY``, ``X-Vault-Token``, OKX's ``OK-ACCESS-*``, Bybit's ``X-BAPI-*``, Alpaca's
  ``APCA-API-*``), a listenKey in a stream URL (``…/ws/<listenKey>``), and any token shaped like a
  venue API key or listenKey (48 or more letters and digits mixing upper case, lower case and
  digits: hex digests, ids and numbers never mix all three).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import traceback
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any

MASK = "***"

#: Query parameters whose values are secrets.
SECRET_PARAMS = (
    "token",
    "key",
    "api_key",
    "apikey",
    "api-key",
    "secret",
    "signature",
    "access_token",
    "listenkey",
    "listen_key",
    "api_secret",
    "apisecret",
    "secret_key",
    "passphrase",
)
#: Headers whose values are secrets.
SECRET_HEADERS = (
    "authorization",
    "x-api-key",
    "x-atlas-signature",
    "x-mbx-apikey",
    "x-vault-token",
    "ok-access-key",
    "ok-access-sign",
    "ok-access-passphrase",
    "x-bapi-api-key",
    "x-bapi-sign",
    "apca-api-key-id",
    "apca-api-secret-key",
)
#: Log fields whose whole value is a secret.
SECRET_FIELDS = frozenset(
    {
        *SECRET_PARAMS,
        *SECRET_HEADERS,
        *(h.replace("-", "_") for h in SECRET_HEADERS),
        "password",
        "master_key",
        "vault_token",
    }
)

_QUERY = re.compile(
    r"(?i)((?:^|[?&;\s])(?:" + "|".join(re.escape(p) for p in SECRET_PARAMS) + r")=)[^&#\s\"'\\]*"
)
_HEADER = re.compile(
    r"(?i)\b(" + "|".join(re.escape(h) for h in SECRET_HEADERS) + r")"
    r"([\"']?\s*(?:[:=]|,\s*b?)\s*[\"']?)(?:(?:bearer|basic|token)\s+)?[^\s\"',;)}\]]+"
)
#: A key token ``ak_<key_id hex>.<secret>`` (keys.py: ``secrets.token_urlsafe(24)``).
_TOKEN = re.compile(r"\b(ak_[0-9a-fA-F]{6,32})\.[A-Za-z0-9_\-]{4,}")
#: A quoted secret pair in JSON or a Python repr: ``"listenKey": "…"``, ``'secret': '…'``.
_PAIR = re.compile(
    r"(?i)([\"'](?:" + "|".join(re.escape(p) for p in (*SECRET_PARAMS, "apikey", "api_key")) + r")"
    r"[\"']\s*:\s*[\"'])[^\"']*"
)
#: A listenKey in a user-data stream URL (Binance futures: ``wss://fstream…/ws/<listenKey>``).
_STREAM = re.compile(r"(/ws/)[A-Za-z0-9]{32,}")
#: A venue API key, secret or listenKey: 48+ letters and digits mixing upper, lower and digits.
_LONG = re.compile(
    r"(?<![A-Za-z0-9])(?=[A-Za-z0-9]*[a-z])(?=[A-Za-z0-9]*[A-Z])"
    r"(?=[A-Za-z0-9]*[0-9])[A-Za-z0-9]{48,}(?![A-Za-z0-9])"
)


def redact(text: str) -> str:
    """``text`` with every secret it holds replaced by ``***``."""
    if "=" in text:
        text = _QUERY.sub(r"\1" + MASK, text)
    if "ak_" in text:
        text = _TOKEN.sub(r"\1." + MASK, text)
    lowered = text.lower()
    if any(h in lowered for h in SECRET_HEADERS):
        text = _HEADER.sub(r"\1\2" + MASK, text)
    if ":" in text and ("'" in text or '"' in text):
        text = _PAIR.sub(r"\1" + MASK, text)
    if "/ws/" in text:
        text = _STREAM.sub(r"\1" + MASK, text)
    if len(text) >= 48:
        text = _LONG.sub(MASK, text)
    return text


def redact_value(value: Any, name: str = "") -> Any:
    """A log field's value with its secrets redacted (recursively through dicts and lists)."""
    if name and name.lower() in SECRET_FIELDS and value is not None:
        return MASK
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    if isinstance(value, bytes):
        return redact(value.decode("utf-8", "replace"))
    return value


#: The attributes every LogRecord has: anything else on a record is a field passed in ``extra``.
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "color_message",
    "taskName",
}


class JsonFormatter(logging.Formatter):
    """Each record as one JSON object: ``timestamp``, ``level``, ``logger``, ``event`` and its
    fields, secrets redacted. A message that already is a JSON object (a structlog line rendered
    by its own JSONRenderer) is merged in, not nested; a traceback is the ``exception`` field."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        out: dict[str, Any] = {}
        if message.startswith("{") and message.endswith("}"):
            try:
                parsed = json.loads(message)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                out = parsed
        if not out:
            out["event"] = message
        out.setdefault("level", record.levelname.lower())
        out.setdefault("logger", record.name)
        out.setdefault(
            "timestamp",
            datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z"),
        )
        for name, value in record.__dict__.items():
            if name not in _RECORD_ATTRS and not name.startswith("_"):
                out.setdefault(name, value)
        if record.exc_info:
            out["exception"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        elif record.exc_text:
            out["exception"] = record.exc_text
        if record.stack_info:
            out["stack"] = record.stack_info
        clean = {k: redact_value(v, k) for k, v in out.items()}
        return json.dumps(clean, default=str, ensure_ascii=False)


class StderrHandler(logging.StreamHandler[Any]):
    """A handler on whatever ``sys.stderr`` is when a record is written (not when the handler was
    made: tests and embedding applications replace it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


def log_config(level: str, *, root: bool = True) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` (uvicorn's ``log_config``) writing JSON lines to stderr.

    ``root``: the whole process logs this way (``atlas serve``). Without it only uvicorn's
    loggers do, without propagating to the host's handlers (a server embedded in another program,
    or in tests: BackgroundServer); Atlas's loggers are then left to the host."""
    level = level.upper()
    handler = {"class": f"{__name__}.StderrHandler", "formatter": "json"}
    loggers: dict[str, Any] = {
        "uvicorn": {"level": level, "handlers": [] if root else ["stderr"], "propagate": root},
        "uvicorn.error": {"level": level, "handlers": [], "propagate": True},
        "uvicorn.access": {"level": level, "handlers": [], "propagate": True},
        "uvicorn.asgi": {"level": level, "handlers": [], "propagate": True},
    }
    if root:
        loggers["atlas"] = {"level": level, "handlers": [], "propagate": True}
    config: dict[str, Any] = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {"stderr": handler},
        "loggers": loggers,
    }
    if root:
        config["root"] = {"level": level, "handlers": ["stderr"]}
    return config


def log_uncaught() -> None:
    """Python warnings and uncaught exceptions (main thread and others) as JSON lines too."""
    logging.captureWarnings(True)
    crash = logging.getLogger("atlas.crash")

    def hook(kind: type[BaseException], exc: BaseException, tb: Any) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        crash.critical("uncaught exception", exc_info=(kind, exc, tb))

    sys.excepthook = hook

    import threading

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit or args.exc_value is None:
            return
        crash.critical(
            "uncaught exception in a thread",
            exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
            extra={"in_thread": getattr(args.thread, "name", None)},
        )

    threading.excepthook = thread_hook


# ---------------------------------------------------------------------------------- access log
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

access = logging.getLogger("atlas.access")


def path_of(scope: Scope) -> str:
    """The request's path with its query, secrets redacted."""
    path = scope.get("path", "")
    query = scope.get("query_string", b"")
    if query:
        path = f"{path}?{query.decode('latin-1')}"
    return redact(path)


class AccessLog:
    """An ASGI middleware writing one INFO line per HTTP request (``event: "request"``: method,
    path with its query redacted, status, duration_ms, key_id, client) and per WebSocket session
    (``event: "websocket"``: the same, with ``status`` 101 once accepted and the ``close_code``),
    after the answer. Nothing is done while INFO is off for ``atlas.access``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket") or not access.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        state = scope.setdefault("state", {})  # request.state: the route records key_id there
        seen: dict[str, Any] = {"status": None, "close_code": None}

        async def watch(message: Message) -> None:
            t = message["type"]
            if t == "http.response.start":
                seen["status"] = message["status"]
            elif t == "websocket.accept":
                seen["status"] = 101
            elif t == "websocket.close":
                seen["close_code"] = message.get("code", 1000)
                if seen["status"] is None:
                    seen["status"] = 403  # closed before the upgrade was accepted
            elif t == "websocket.http.response.start":
                seen["status"] = message["status"]
            await send(message)

        failed = False
        try:
            await self.app(scope, receive, watch)
        except BaseException:
            failed = True
            raise
        finally:
            client = scope.get("client")
            fields: dict[str, Any] = {
                "method": scope.get("method", "GET") if kind == "http" else "WS",
                "path": path_of(scope),
                "status": seen["status"]
                if seen["status"] is not None
                else (500 if failed else None),
                "duration_ms": round((time.perf_counter() - start) * 1000, 3),
                "key_id": state.get("key_id"),
                "client": f"{client[0]}:{client[1]}" if client else None,
            }
            if kind == "websocket":
                fields["close_code"] = seen["close_code"]
            access.info("request" if kind == "http" else "websocket", extra=fields)


__all__ = [
    "MASK",
    "AccessLog",
    "JsonFormatter",
    "StderrHandler",
    "log_config",
    "log_uncaught",
    "redact",
    "redact_value",
]
