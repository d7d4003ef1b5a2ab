"""Keep the FIX acceptor on the address it was given (``ATLAS_FIX_HOST``, 127.0.0.1 by default).

QuickFIX 1.15's acceptor (the ``quickfix-ssl`` wheel; the 1.16 sdist too) has no
``SocketAcceptHost``: it listens on every interface (0.0.0.0). Right after it starts, its
listening socket is replaced IN PLACE by one bound to the configured address: a fresh socket is
``dup2``'d onto the same file descriptor (QuickFIX's socket monitor knows the listener by its
descriptor number only), then bound and put to listening with the old one's flags. The old
socket is released once QuickFIX's monitor returns from its current wait (at most about a second,
hence the bind retry). Until then, at start only, the port answers on every interface.
"""

from __future__ import annotations

import fcntl
import os
import socket
import time

#: Hosts that mean "every interface": nothing to narrow.
ANY_HOST = ("", "0.0.0.0")


class ListenerError(RuntimeError):
    """The acceptor's listener could not be moved to the configured address."""


def find_listener(port: int) -> int | None:
    """The descriptor of this process's IPv4 TCP socket listening on ``port`` (None: none)."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            probe = socket.socket(fileno=os.dup(fd))
        except OSError:
            continue  # not a socket (or gone)
        try:
            if probe.family != socket.AF_INET or probe.type != socket.SOCK_STREAM:
                continue
            if probe.getsockname()[1] != port:
                continue
            if probe.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
                return fd
        except OSError:
            continue
        finally:
            probe.close()  # the duplicate only
    return None


def narrow_listener(port: int, host: str, *, wait_s: float = 5.0) -> bool:
    """Rebind the listener on ``port`` to ``host`` (an IPv4 address or name); False when the
    host means every interface (nothing to do). Raises :class:`ListenerError` when there is no
    such listener or the address cannot be bound within ``wait_s``."""
    if host in ANY_HOST:
        return False
    address = socket.gethostbyname(host)
    fd = find_listener(port)
    if fd is None:
        raise ListenerError(f"no FIX listener on port {port} to bind to {host}")
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    fresh = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    fresh.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    os.dup2(fresh.fileno(), fd)  # closes QuickFIX's listener; fd is now the fresh socket
    fresh.close()
    sock = socket.socket(fileno=os.dup(fd))
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                sock.bind((address, port))
                break
            except OSError as exc:  # the old listener is held until the monitor's wait ends
                if time.monotonic() > deadline:
                    raise ListenerError(
                        f"could not bind the FIX port to {host}:{port}: {exc}"
                    ) from exc
                time.sleep(0.02)
        sock.listen(128)
    finally:
        sock.close()  # the duplicate only
    fcntl.fcntl(fd, fcntl.F_SETFL, flags)
    return True


__all__ = ["ListenerError", "find_listener", "narrow_listener"]
