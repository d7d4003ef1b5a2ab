"""The dialect's API keys: nothing new is stored.

A Binance client signs with a secret the server must know, while the Atlas key store keeps only
salted hashes. So the dialect's credential is derived: the **apiKey is the Atlas key id**
(``ak_1a2b3c4d5e6f``), optionally with ``@<account>`` to act for another of the key's accounts
(``ak_1a2b3c4d5e6f@desk-algo``; without it the key's first account), and the **secret is
``hex(HMAC-SHA256(server_secret, apiKey))``**, where ``server_secret`` is 32 random bytes kept
owner-only in ``<data_dir>/binance-api.key``. Revoking the Atlas key revokes its Binance
credentials at once; rotating the server secret file revokes them all.
``atlas keys binance <key_id> [--account A]`` prints a pair.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path

from atlas_oms.service.app import trade_id_secret
from atlas_oms.service.keys import ApiKey, KeyStore

SECRET_FILE = "binance-api.key"


def server_secret(data_dir: Path | None) -> bytes:
    """The server secret (created on first use, owner-only; random without a data_dir)."""
    return trade_id_secret(data_dir / SECRET_FILE if data_dir is not None else None)


def derived_secret(secret: bytes, api_key: str) -> str:
    """The Binance secret of ``api_key`` (``<key_id>`` or ``<key_id>@<account>``)."""
    return hmac.new(secret, api_key.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class BinanceCredential:
    api_key: str
    secret: str
    key: ApiKey
    account: str | None


def credential(
    keys: KeyStore, secret: bytes, key_id: str, account: str | None = None
) -> BinanceCredential | None:
    """The Binance pair of an Atlas key (None: no such key)."""
    key = keys.keys.get(key_id)
    if key is None:
        return None
    api_key = key_id if account is None else f"{key_id}@{account}"
    return BinanceCredential(api_key, derived_secret(secret, api_key), key, account)


def resolve(keys: KeyStore, api_key: str) -> tuple[ApiKey, str | None] | None:
    """The Atlas key behind a Binance apiKey and the account it names (None: the key's first
    account); None when the key does not exist (or was revoked)."""
    key_id, _, account = api_key.partition("@")
    key = keys.keys.get(key_id)
    if key is None:
        return None
    if account:
        return key, account
    return key, key.accounts[0] if key.accounts else None


def add_first_pairs(path: Path, keys: KeyStore, data_dir: Path) -> None:
    """First start: give each trader line of ``first-keys.txt`` its Binance pair
    (``"binance": {"apiKey": .., "secret": ..}``), so the demo trader can point ccxt at Atlas."""
    secret = server_secret(data_dir)
    lines = []
    for line in path.read_text().splitlines():
        entry = json.loads(line)
        key_id = str(entry.get("token", "")).partition(".")[0]
        if "trader" in entry.get("roles", ()) and key_id in keys.keys:
            entry["binance"] = {"apiKey": key_id, "secret": derived_secret(secret, key_id)}
        lines.append(json.dumps(entry))
    path.write_text("\n".join(lines) + "\n")
    os.chmod(path, 0o600)


__all__ = [
    "BinanceCredential",
    "add_first_pairs",
    "credential",
    "derived_secret",
    "resolve",
    "server_secret",
]
