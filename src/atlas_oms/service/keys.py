"""API keys: per-account keys with roles, stored hashed, with optional HMAC request signatures.

A key is ``<key_id>.<secret>``. The store keeps ``key_id``, a random salt and
``sha256(salt + secret)``, never the secret. Roles: ``trader`` (trades for its own accounts and
their sub-accounts), ``risk`` (limits, trading states, kill switch, cancels, market data in, every
account's view; never places orders), ``admin`` (accounts, keys and everything ``risk`` does;
places orders only with the trader role too). The rules are in :mod:`atlas_oms.service.access`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

import msgspec

ROLES = ("trader", "risk", "admin")


class ApiKey(msgspec.Struct, frozen=True, kw_only=True):
    key_id: str
    salt: str
    digest: str
    roles: tuple[str, ...]
    #: Accounts a trader key acts for (their sub-accounts included).
    accounts: tuple[str, ...] = ()
    label: str = ""
    #: Refuse this key's requests unless they carry a valid HMAC signature.
    require_signature: bool = False

    def has(self, role: str) -> bool:
        return role in self.roles or "admin" in self.roles


class IssuedKey(msgspec.Struct, frozen=True, kw_only=True):
    """A new key with its secret: shown once, never stored."""

    key: ApiKey
    token: str


def _digest(salt: str, secret: str) -> str:
    return hashlib.sha256((salt + secret).encode()).hexdigest()


class KeyStore:
    """The keys, in memory and (optionally) in a JSON file of hashes."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.keys: dict[str, ApiKey] = {}
        if path is not None and path.exists():
            for key in msgspec.json.decode(path.read_bytes(), type=list[ApiKey]):
                self.keys[key.key_id] = key

    def issue(
        self,
        roles: tuple[str, ...],
        accounts: tuple[str, ...] = (),
        label: str = "",
        require_signature: bool = False,
    ) -> IssuedKey:
        bad = [r for r in roles if r not in ROLES]
        if bad or not roles:
            raise ValueError(f"roles must be some of {ROLES}, got {roles}")
        key_id = "ak_" + secrets.token_hex(6)
        secret = secrets.token_urlsafe(24)
        salt = secrets.token_hex(8)
        key = ApiKey(
            key_id=key_id,
            salt=salt,
            digest=_digest(salt, secret),
            roles=tuple(roles),
            accounts=tuple(accounts),
            label=label,
            require_signature=require_signature,
        )
        self.keys[key_id] = key
        self.save()
        return IssuedKey(key=key, token=f"{key_id}.{secret}")

    def revoke(self, key_id: str) -> bool:
        """Remove a key; its token stops working at once. False if there was no such key."""
        if self.keys.pop(key_id, None) is None:
            return False
        self.save()
        return True

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_bytes(msgspec.json.encode(sorted(self.keys.values(), key=lambda k: k.key_id)))
        os.chmod(tmp, 0o600)
        tmp.replace(self.path)

    def verify(self, token: str) -> tuple[ApiKey, str] | None:
        """The key a token belongs to and its secret, or None (constant-time compare)."""
        key_id, _, secret = token.partition(".")
        key = self.keys.get(key_id)
        if key is None or not secret:
            return None
        if not hmac.compare_digest(key.digest, _digest(key.salt, secret)):
            return None
        return key, secret


def signature(secret: str, timestamp: str, method: str, path: str, body: bytes) -> str:
    """HMAC-SHA256 over ``timestamp + METHOD + path?query + body``, hex."""
    message = timestamp.encode() + method.upper().encode() + path.encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def write_first_keys(path: Path, issued: list[IssuedKey]) -> None:
    """Write newly issued secrets once to a file only the owner can read (never to the log)."""
    lines = [
        json.dumps({"token": k.token, "roles": list(k.key.roles), "accounts": list(k.key.accounts)})
        for k in issued
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    os.chmod(path, 0o600)
