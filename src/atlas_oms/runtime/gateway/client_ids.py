"""Client order ids Atlas sends to venues: ``f"{prefix}{order_id}"`` with prefix ``"at" + tag + "x"``.

The tag (6 characters ``[a-z0-9]``) is made once per data directory and kept in a small file, so a
restarted node recognises its own orders at the venue, and two nodes trading one venue account
do not take each other's orders for their own. Letters and digits only, at most 32 characters:
fits Binance, OKX, Bybit and Upbit.
"""

from __future__ import annotations

import os
import re
import secrets
import string
from pathlib import Path

TAG_FILE = "venue-tag"
TAG_LENGTH = 6
_ALPHABET = string.ascii_lowercase + string.digits
_TAG = re.compile(r"[a-z0-9]{6}")
MAX_LENGTH = 32


def new_tag() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(TAG_LENGTH))


def node_tag(directory: str | os.PathLike[str]) -> str:
    """The node's tag for ``directory`` (its data directory): read from ``venue-tag`` there, or
    made and written (mode 0600) the first time."""
    path = Path(directory) / TAG_FILE
    try:
        tag = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        tag = ""
    if tag:
        if not _TAG.fullmatch(tag):
            raise ValueError(f"{path} holds {tag!r}, not a tag of 6 characters [a-z0-9]")
        return tag
    Path(directory).mkdir(parents=True, exist_ok=True)
    tag = new_tag()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(tag + "\n")
    return tag


def prefix_for(tag: str) -> str:
    if not _TAG.fullmatch(tag):
        raise ValueError(f"a node tag is 6 characters [a-z0-9], not {tag!r}")
    return f"at{tag}x"


def encode(prefix: str, order_id: int) -> str:
    cid = f"{prefix}{order_id}"
    if len(cid) > MAX_LENGTH:
        raise ValueError(f"client order id {cid} is longer than {MAX_LENGTH} characters")
    return cid


def decode(prefix: str, client_order_id: str | None) -> int | None:
    """The Atlas order id in ``client_order_id`` if this node (``prefix``) made it, else None."""
    if not client_order_id or not client_order_id.startswith(prefix):
        return None
    digits = client_order_id[len(prefix) :]
    if not digits.isascii() or not digits.isdigit() or digits.startswith("0"):
        return None
    return int(digits)
