"""The FIX 4.4 session layer: QuickFIX's acceptor (the ``quickfix-ssl`` wheel) in front of
:class:`~atlas_oms.fix.gateway.FixGateway`.

QuickFIX does Logon, heartbeats and TestRequests, sequence numbers (its FileStore under
``<data_dir>/fix/store`` keeps them and every message sent, across restarts), ResendRequest
(application messages resent with PossDupFlag=Y and OrigSendingTime; admin messages as a
SequenceReset-GapFill), SequenceReset, Logout and session-level Rejects (3) of malformed messages
(checked against the FIX 4.4 data dictionary). Its callbacks run on its own threads: the logon
check reads the key store only; every application message is handed to the node's event loop
(``loop.call_soon_threadsafe``) and the node is touched there only.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

try:
    import quickfix as fix
except ImportError as exc:  # pragma: no cover - the wheel is a dependency where it exists
    raise ImportError(
        "ATLAS_FIX_PORT needs QuickFIX's Python binding: pip install quickfix-ssl "
        "(wheels for CPython 3.10/3.11 on linux x86_64)"
    ) from exc

from atlas_oms.fix.gateway import FixGateway
from atlas_oms.fix.listener import narrow_listener
from atlas_oms.fix.translate import Fields

if TYPE_CHECKING:
    from atlas_oms.service.app import Service
    from atlas_oms.service.stream import StreamHub

log = logging.getLogger("atlas.fix")

SOH = "\x01"


def spec_path() -> Path:
    """QuickFIX's FIX 4.4 data dictionary, as the wheel installs it (``<prefix>/share``)."""
    for prefix in (sys.prefix, sys.base_prefix):
        path = Path(prefix) / "share" / "quickfix" / "FIX44.xml"
        if path.exists():
            return path
    raise FileNotFoundError("FIX44.xml: install quickfix-ssl (it ships the data dictionaries)")


def session_config(*, host: str, port: int, comp_id: str, clients: list[str], folder: Path) -> str:
    """The acceptor's QuickFIX settings: one session per client CompID."""
    lines = [
        "[DEFAULT]",
        "ConnectionType=acceptor",
        f"SocketAcceptHost={host}",
        f"SocketAcceptPort={port}",
        "SocketReuseAddress=Y",
        # An order's answers go out back to back (a cancel's Pending Cancel, then its Canceled):
        # with Nagle on, the second waited for the client's delayed ACK, ~40 ms (docs/notes/bench17.md).
        "SocketNodelay=Y",
        f"FileStorePath={folder / 'store'}",
        "StartTime=00:00:00",
        "EndTime=00:00:00",
        "UseDataDictionary=Y",
        f"DataDictionary={spec_path()}",
        "ValidateUserDefinedFields=N",
        "AllowUnknownMsgFields=Y",
        "BeginString=FIX.4.4",
        f"SenderCompID={comp_id}",
        "ResetOnLogon=N",
        "ResetOnLogout=N",
        "ResetOnDisconnect=N",
        "PersistMessages=Y",
    ]
    for client in clients:
        lines += ["", "[SESSION]", f"TargetCompID={client}"]
    return "\n".join(lines) + "\n"


def fields_of(message: fix.Message) -> dict[int, str]:
    """A message's body and header fields as tag -> value (no repeating groups needed here)."""
    out: dict[int, str] = {}
    for part in message.toString().split(SOH):
        tag, sep, value = part.partition("=")
        if sep and tag.isdigit():
            out.setdefault(int(tag), value)
    return out


_F = TypeVar("_F", bound=Callable[..., None])


def never_raises(callback: _F) -> _F:
    """A QuickFIX callback that logs its own error instead of raising it: with this wheel a
    Python exception escaping a callback aborts the whole process (``atlas serve`` with it)."""

    @functools.wraps(callback)
    def guarded(*args: Any) -> None:
        try:
            callback(*args)
        except Exception:
            log.exception("FIX callback %s failed (the message is not taken)", callback.__name__)

    return cast(_F, guarded)


class Bridge(fix.Application):
    """QuickFIX's callbacks (on its threads) to the gateway (on the loop)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, gateway: FixGateway) -> None:
        super().__init__()
        self.loop = loop
        self.gateway = gateway
        self.ids: dict[str, Any] = {}
        #: Sessions whose last Logon was refused (being logged out).
        self.refused: set[str] = set()

    @never_raises
    def onCreate(self, session_id: Any) -> None:
        self.ids[session_id.toString()] = session_id

    @never_raises
    def onLogon(self, session_id: Any) -> None:
        name = session_id.toString()
        if name not in self.refused:
            self.loop.call_soon_threadsafe(self.gateway.logged_on, name)

    @never_raises
    def onLogout(self, session_id: Any) -> None:
        name = session_id.toString()
        if name in self.refused:
            self.refused.discard(name)
            fix.Session.lookupSession(session_id).logon()  # enabled again for the next Logon
            return
        self.loop.call_soon_threadsafe(self.gateway.logged_out, name)

    def toAdmin(self, message: Any, session_id: Any) -> None:
        return None

    @never_raises
    def fromAdmin(self, message: Any, session_id: Any) -> None:
        msg_type = fix.MsgType()
        message.getHeader().getField(msg_type)
        if msg_type.getValue() != fix.MsgType_Logon:
            return
        fields = fields_of(message)
        name = session_id.toString()
        why = self.gateway.check_logon(name, fields.get(553), fields.get(554))
        if why is not None:
            # Raising RejectLogon here aborts the process with this wheel (its SWIG director
            # does not hand a Python exception back to QuickFIX as its C++ one). Instead the
            # session is disabled with the reason: QuickFIX answers the Logon, then sends
            # Logout(58=why) on its next timer tick (within a second); nothing the client
            # sends meanwhile is taken (the gateway knows no key for the session), and
            # onLogout enables the session again for the next attempt.
            self.gateway.keys.pop(name, None)
            self.refused.add(name)
            fix.Session.lookupSession(session_id).logout(why)
            self.loop.call_soon_threadsafe(self.gateway.refused_logon, name, why)

    def toApp(self, message: Any, session_id: Any) -> None:
        return None

    @never_raises
    def fromApp(self, message: Any, session_id: Any) -> None:
        msg_type = fix.MsgType()
        message.getHeader().getField(msg_type)
        value = msg_type.getValue()
        # Never raise here: this wheel's SWIG director does not turn a Python exception of
        # fromApp into QuickFIX's (an UnsupportedMessageType raised here aborts the process).
        # An unsupported type is answered by the gateway: BusinessMessageReject(j), reason 3.
        self.loop.call_soon_threadsafe(
            self.gateway.receive, session_id.toString(), value, fields_of(message)
        )


class Acceptor:
    """QuickFIX's SocketAcceptor around one gateway; ``send`` is the gateway's way out."""

    def __init__(self, service: Service, folder: Path, clients: list[str]) -> None:
        settings = service.settings
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        port = settings.fix_port
        assert port is not None
        config = folder / "acceptor.cfg"
        config.write_text(
            session_config(
                host=settings.fix_host,
                port=port,
                comp_id=settings.fix_comp_id,
                clients=clients,
                folder=folder,
            )
        )
        self.gateway = FixGateway(service, folder, self.send)
        self.bridge: Bridge | None = None
        self._config = config
        self._acceptor: Any = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self.bridge = Bridge(loop, self.gateway)
        qf_settings = fix.SessionSettings(str(self._config))
        self._acceptor = fix.SocketAcceptor(
            self.bridge,
            fix.FileStoreFactory(qf_settings),
            qf_settings,
            fix.ScreenLogFactory(False, False, False),
        )
        self._acceptor.start()

    def stop(self) -> None:
        if self._acceptor is not None:
            self._acceptor.stop()
            self._acceptor = None

    def send(self, session: str, msg_type: str, fields: Fields) -> None:
        """Send one application message to a session (stored and sequenced by QuickFIX even
        while the client is away: its ResendRequest gets it after the next Logon)."""
        assert self.bridge is not None
        session_id = self.bridge.ids.get(session)
        if session_id is None:
            log.warning("fix: no session %s for a %s message", session, msg_type)
            return
        message = fix.Message()
        message.getHeader().setField(fix.MsgType(msg_type))
        for tag, value in fields:
            message.setField(tag, value)
        try:
            fix.Session.sendToTarget(message, session_id)
        except fix.SessionNotFound:
            log.warning("fix: session %s not found", session)


def _reinstall_signal_handlers() -> None:
    """Starting QuickFIX's acceptor inside ``atlas serve`` leaves SIGINT at its default action
    at the C level (measured: /proc's SigCgt loses SIGINT; Python's table still shows uvicorn's
    handler), so a Ctrl-C would kill the process instead of draining it. Set the handlers Python
    knows again (on the main thread, where uvicorn runs the loop)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGINT, signal.SIGTERM):
        handler = signal.getsignal(sig)
        if callable(handler):
            signal.signal(sig, handler)


async def serve_fix(service: Service, hub: StreamHub) -> None:
    """The FIX acceptor as a task of the live runtime: runs until cancelled."""
    settings = service.settings
    clients = [c.strip() for c in settings.fix_sessions.split(",") if c.strip()]
    acceptor = Acceptor(service, settings.data_dir / "fix", clients)
    hub.on_durable(acceptor.gateway.on_durable)
    loop = asyncio.get_running_loop()
    await asyncio.to_thread(acceptor.start, loop)
    # QuickFIX listens on every interface: keep it on ATLAS_FIX_HOST (fix/listener.py).
    assert settings.fix_port is not None
    await asyncio.to_thread(narrow_listener, settings.fix_port, settings.fix_host)
    _reinstall_signal_handlers()
    log.info(
        "fix acceptor listening",
        extra={"port": settings.fix_port, "sessions": clients, "comp_id": settings.fix_comp_id},
    )
    try:
        await asyncio.Event().wait()
    finally:
        acceptor.gateway.stop()
        with contextlib.suppress(Exception):
            await asyncio.shield(asyncio.to_thread(acceptor.stop))


__all__ = ["Acceptor", "Bridge", "serve_fix", "session_config"]
