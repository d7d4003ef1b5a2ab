"""Venue API keys at rest: an encrypted file, rotatable per account while Atlas runs (VEN-8).

**The file** (``DATA_DIR/venue-keys.json``, mode 0600, replaced atomically under a lock file)
holds, per Atlas account id, numbered versions; each version is the JSON of the key, secret and
passphrase encrypted with AES-256-GCM (``cryptography``'s AESGCM), a fresh random 96-bit nonce per
entry, and the Atlas account id as associated data: an entry copied under another account id
does not decrypt. Beside it, in clear: version numbers, times and a fingerprint (the first 12 hex
digits of SHA-256 of the API key), never a key byte.

**The master key** (32 bytes) comes from ``ATLAS_MASTER_KEY`` (base64) or from a key file holding
the base64 text, which must belong to the user running Atlas and be readable by them only
(``chmod 600``): any group or world permission is refused (:func:`master_key`). A wrong master
key is the typed :class:`CredentialsError` ``CANNOT_DECRYPT`` ("wrong master key or the entry
belongs to another account"), never a traceback carrying key material.

**Rotation** (:meth:`KeyStore.rotate`): the new version is current at once (a running gateway
reconnects the account with it); the previous version is kept, encrypted, until
:meth:`KeyStore.confirm` (the venue accepted the new key: drop the old) or
:meth:`KeyStore.rollback` (it did not: the previous version is current again). Only one
unconfirmed previous version is kept; rotating again replaces it.

**Without a restart**: another process (``atlas venues keys rotate``) changes the file; a store
notices on its next :meth:`~KeyStore.get` or :meth:`~KeyStore.refresh` (the file's mtime, size and
inode changed) and calls every :meth:`~KeyStore.on_rotate` subscriber with a :class:`KeyChange`
per account whose current version changed; :meth:`KeyStore.watch` polls for a running node.

:class:`Credentials` never shows its secrets: repr, str and pickling mask or refuse them; the
values are ``SecretStr`` (``.get_secret_value()`` where a request is signed).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import stat
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import SecretStr

__all__ = [
    "MASTER_KEY_ENV",
    "MASTER_KEY_FILE_ENV",
    "CredentialSource",
    "Credentials",
    "CredentialsError",
    "KeyChange",
    "KeyInfo",
    "KeyStore",
    "Keyring",
    "fingerprint",
    "master_key",
    "new_master_key_file",
]

MASTER_KEY_ENV = "ATLAS_MASTER_KEY"
MASTER_KEY_FILE_ENV = "ATLAS_MASTER_KEY_FILE"
FORMAT = 1
_AAD_PREFIX = b"atlas-venue-key:"


class CredentialsError(Exception):
    """A key cannot be had: ``reason`` is a code (``CANNOT_DECRYPT``, ``NO_KEY``,
    ``NO_MASTER_KEY``, ``MASTER_KEY_INVALID``, ``MASTER_KEY_FILE_UNSAFE``, ``STORE_DAMAGED``,
    ``NOTHING_TO_CONFIRM``, ``VAULT_*``); the message is one sentence, never a secret."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


def fingerprint(api_key: str) -> str:
    """A short, non-reversible name of an API key (12 hex digits of its SHA-256)."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class Credentials:
    """One account's API key; the secrets print as ``**********``."""

    account_id: str
    api_key: SecretStr
    secret: SecretStr
    passphrase: SecretStr | None = None
    version: int = 1

    @classmethod
    def of(
        cls,
        account_id: str,
        api_key: str,
        secret: str,
        passphrase: str | None = None,
        version: int = 1,
    ) -> Credentials:
        return cls(
            account_id,
            SecretStr(api_key),
            SecretStr(secret),
            SecretStr(passphrase) if passphrase is not None else None,
            version,
        )

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.api_key.get_secret_value())

    def __repr__(self) -> str:
        return (
            f"Credentials(account_id={self.account_id!r}, version={self.version}, "
            f"fingerprint={self.fingerprint!r}, api_key=**********, secret=**********)"
        )

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("Credentials are not pickled")


@dataclass(frozen=True, slots=True)
class KeyChange:
    """An account's current key changed: ``version`` None when it was removed."""

    account_id: str
    version: int | None
    kind: Literal["set", "rotated", "confirmed", "rolled_back", "removed"]


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """What :meth:`KeyStore.list` shows: never a key."""

    account_id: str
    version: int
    fingerprint: str
    created_ns: int
    rotated_ns: int | None
    #: A previous version kept until the rotation is confirmed.
    unconfirmed_previous: int | None


Subscriber = Callable[[KeyChange], None]
Changes = list[KeyChange]
KeyInfos = list[KeyInfo]


class CredentialSource(Protocol):
    """Where a gateway gets an account's key: the file store or Vault."""

    def get(self, account_id: str) -> Credentials: ...

    def on_rotate(self, callback: Subscriber) -> Callable[[], None]: ...


class Keyring:
    """Each account's key from its own source (:class:`CredentialSource` itself): what a node
    built from ``accounts.yaml`` hands its gateway (see
    :func:`atlas_oms.venues.accounts.AccountsConfig.keyring`)."""

    def __init__(self, routes: Mapping[str, CredentialSource]) -> None:
        self.routes = dict(routes)

    def get(self, account_id: str) -> Credentials:
        source = self.routes.get(account_id)
        if source is None:
            raise CredentialsError("NO_KEY", f"no key source for account {account_id}")
        return source.get(account_id)

    def on_rotate(self, callback: Subscriber) -> Callable[[], None]:
        """Subscribe to every distinct source; only changes of routed accounts are passed on."""

        def routed(change: KeyChange) -> None:
            if change.account_id in self.routes:
                callback(change)

        sources = list({id(s): s for s in self.routes.values()}.values())
        unsubscribes = [s.on_rotate(routed) for s in sources]

        def unsubscribe() -> None:
            for u in unsubscribes:
                u()

        return unsubscribe


# ---------------------------------------------------------------------------------- master key
def _decode_master(text: str, where: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise CredentialsError(
            "MASTER_KEY_INVALID", f"the master key in {where} is not 32 bytes of base64"
        )
    return raw


def master_key(
    *, env: Mapping[str, str] | None = None, key_file: str | Path | None = None
) -> bytes:
    """The master key: ``key_file`` if given, else ``ATLAS_MASTER_KEY``, else the file named by
    ``ATLAS_MASTER_KEY_FILE``. A key file must be the caller's and mode 0600 or 0400."""
    env = os.environ if env is None else env
    if key_file is None and env.get(MASTER_KEY_ENV):
        return _decode_master(env[MASTER_KEY_ENV], MASTER_KEY_ENV)
    if key_file is None and env.get(MASTER_KEY_FILE_ENV):
        key_file = env[MASTER_KEY_FILE_ENV]
    if key_file is None:
        raise CredentialsError(
            "NO_MASTER_KEY",
            f"no master key: set {MASTER_KEY_ENV} (base64 of 32 bytes) or {MASTER_KEY_FILE_ENV}",
        )
    path = Path(key_file)
    try:
        st = path.stat()
    except OSError as exc:
        raise CredentialsError(
            "NO_MASTER_KEY", f"master key file {path}: {exc.strerror or 'cannot be read'}"
        ) from None
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        raise CredentialsError(
            "MASTER_KEY_FILE_UNSAFE", f"master key file {path} belongs to another user"
        )
    if st.st_mode & 0o077:
        raise CredentialsError(
            "MASTER_KEY_FILE_UNSAFE",
            f"master key file {path} is readable by others (mode {stat.S_IMODE(st.st_mode):04o}): "
            f"run chmod 600 {path}",
        )
    return _decode_master(path.read_text(), str(path))


def new_master_key_file(path: str | Path) -> Path:
    """Write a fresh random master key (base64) to a new file, mode 0600; refuse to overwrite."""
    p = Path(path)
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
    return p


# --------------------------------------------------------------------------------- the store
def _aad(account_id: str) -> bytes:
    return _AAD_PREFIX + account_id.encode()


def _now_ns() -> int:
    return time.time_ns()


@dataclass
class _Snapshot:
    signature: tuple[int, ...] | None = None
    entries: dict[str, Any] = field(default_factory=dict)


class KeyStore:
    """The encrypted key file (:class:`CredentialSource`)."""

    def __init__(self, path: str | Path, key: bytes, *, clock: Callable[[], int] = _now_ns) -> None:
        if len(key) != 32:
            raise CredentialsError("MASTER_KEY_INVALID", "the master key must be 32 bytes")
        self.path = Path(path)
        self._aes = AESGCM(key)
        self._clock = clock
        self._subscribers: list[Subscriber] = []
        self._snap = _Snapshot()
        self.refresh()

    def __repr__(self) -> str:
        return f"KeyStore({str(self.path)!r})"

    # ---------------------------------------------------------------- reading and watching
    def _signature(self) -> tuple[int, ...] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)

    def _read(self) -> dict[str, Any]:
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return {}
        try:
            data = json.loads(text)
            entries = data["entries"]
            if data.get("format") != FORMAT or not isinstance(entries, dict):
                raise ValueError
        except (ValueError, KeyError, TypeError):
            raise CredentialsError(
                "STORE_DAMAGED", f"key file {self.path} is not an Atlas venue key file"
            ) from None
        return entries

    def refresh(self) -> Changes:
        """Re-read the file if it changed; notify subscribers of each changed account."""
        signature = self._signature()
        if signature == self._snap.signature and signature is not None:
            return []
        entries = self._read()
        before = self._snap.entries
        self._snap = _Snapshot(signature, entries)
        changes: Changes = []
        if before or signature is not None:
            for account_id in sorted(set(before) | set(entries)):
                old, new = before.get(account_id), entries.get(account_id)
                if old == new:
                    continue
                changes.append(_change(account_id, old, new))
        self._notify(changes)
        return changes

    def on_rotate(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(KeyChange)`` whenever an account's current key changes; returns the
        unsubscribe function."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    def _notify(self, changes: Changes) -> None:
        for change in changes:
            for callback in list(self._subscribers):
                callback(change)

    async def watch(self, interval_s: float = 1.0) -> None:
        """Poll the file every ``interval_s`` until cancelled (a running node's task)."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                self.refresh()
            except CredentialsError:
                continue  # a damaged file keeps the keys last read; the next write repairs it

    # ------------------------------------------------------------------------------- reads
    def get(self, account_id: str) -> Credentials:
        """The account's current key, decrypted."""
        self.refresh()
        entry = self._snap.entries.get(account_id)
        if entry is None:
            raise CredentialsError("NO_KEY", f"no API key for account {account_id}")
        return self._decrypt(account_id, entry["current"])

    def _decrypt(self, account_id: str, version: dict[str, Any]) -> Credentials:
        try:
            nonce = base64.b64decode(version["nonce"])
            sealed = base64.b64decode(version["ciphertext"])
            plain = self._aes.decrypt(nonce, sealed, _aad(account_id))
        except (InvalidTag, KeyError, ValueError, TypeError):
            raise CredentialsError(
                "CANNOT_DECRYPT",
                f"cannot decrypt the API key of {account_id}: wrong master key or the entry "
                "belongs to another account",
            ) from None
        fields = json.loads(plain)
        return Credentials.of(
            account_id, fields["api_key"], fields["secret"], fields.get("passphrase"),
            int(version["version"]),
        )  # fmt: skip

    def list(self) -> KeyInfos:
        """Every account's key: versions, times, fingerprint."""
        self.refresh()
        out: KeyInfos = []
        for account_id, entry in sorted(self._snap.entries.items()):
            current = entry["current"]
            previous = entry.get("previous")
            out.append(
                KeyInfo(
                    account_id=account_id,
                    version=int(current["version"]),
                    fingerprint=current["fingerprint"],
                    created_ns=int(entry["created_ns"]),
                    rotated_ns=entry.get("rotated_ns"),
                    unconfirmed_previous=int(previous["version"]) if previous else None,
                )
            )
        return out

    def check(self) -> dict[str, str | None]:
        """Decrypt every current key: account id -> None (ok) or the error's sentence."""
        out: dict[str, str | None] = {}
        for info in self.list():
            try:
                self.get(info.account_id)
                out[info.account_id] = None
            except CredentialsError as exc:
                out[info.account_id] = str(exc)
        return out

    # ------------------------------------------------------------------------------ writes
    def _seal(
        self, account_id: str, version: int, api_key: str, secret: str, passphrase: str | None
    ) -> dict[str, Any]:
        if not api_key or not secret:
            raise CredentialsError("KEY_INVALID", "an API key and its secret may not be empty")
        plain = {"api_key": api_key, "secret": secret}
        if passphrase is not None:
            plain["passphrase"] = passphrase
        nonce = secrets.token_bytes(12)
        sealed = self._aes.encrypt(nonce, json.dumps(plain).encode(), _aad(account_id))
        return {
            "version": version,
            "created_ns": self._clock(),
            "fingerprint": fingerprint(api_key),
            "nonce": base64.b64encode(nonce).decode(),
            "ciphertext": base64.b64encode(sealed).decode(),
        }

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        """Read-modify-write under an exclusive lock; the file replaced atomically (0600)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            entries = self._read()
            yield entries
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            wfd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(wfd, "w") as f:
                json.dump({"format": FORMAT, "entries": entries}, f, indent=1, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        self.refresh()

    def set(self, account_id: str, api_key: str, secret: str, passphrase: str | None = None) -> int:
        """Store an account's first key (or replace it outright: no previous kept). Returns the
        version."""
        with self._locked() as entries:
            old = entries.get(account_id)
            version = _next_version(old)
            now = self._clock()
            entries[account_id] = {
                "created_ns": now,
                "rotated_ns": None,
                "last_version": version,
                "current": self._seal(account_id, version, api_key, secret, passphrase),
            }
        return version

    def rotate(
        self, account_id: str, api_key: str, secret: str, passphrase: str | None = None
    ) -> int:
        """A new key, current at once; the previous kept until :meth:`confirm`."""
        with self._locked() as entries:
            old = entries.get(account_id)
            if old is None:
                raise CredentialsError("NO_KEY", f"no API key for account {account_id} to rotate")
            version = _next_version(old)
            old["previous"] = old["current"]
            old["current"] = self._seal(account_id, version, api_key, secret, passphrase)
            old["rotated_ns"] = self._clock()
            old["last_version"] = version
        return version

    def confirm(self, account_id: str) -> int:
        """The new key works: forget the previous one. Returns the current version."""
        with self._locked() as entries:
            entry = entries.get(account_id)
            if entry is None or not entry.get("previous"):
                raise CredentialsError(
                    "NOTHING_TO_CONFIRM", f"account {account_id} has no rotation to confirm"
                )
            entry["previous"] = None
            return int(entry["current"]["version"])

    def rollback(self, account_id: str) -> int:
        """The new key does not work: the previous one is current again. Returns its version."""
        with self._locked() as entries:
            entry = entries.get(account_id)
            if entry is None or not entry.get("previous"):
                raise CredentialsError(
                    "NOTHING_TO_CONFIRM", f"account {account_id} has no rotation to roll back"
                )
            entry["current"], entry["previous"] = entry["previous"], None
            return int(entry["current"]["version"])

    def remove(self, account_id: str) -> None:
        with self._locked() as entries:
            if entries.pop(account_id, None) is None:
                raise CredentialsError("NO_KEY", f"no API key for account {account_id}")


def _next_version(entry: dict[str, Any] | None) -> int:
    if entry is None:
        return 1
    versions = [entry["current"]["version"], entry.get("last_version", 0)]
    if entry.get("previous"):
        versions.append(entry["previous"]["version"])
    return int(max(versions)) + 1


def _change(account_id: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> KeyChange:
    if new is None:
        return KeyChange(account_id, None, "removed")
    version = int(new["current"]["version"])
    if old is None:
        return KeyChange(account_id, version, "set")
    old_version = int(old["current"]["version"])
    if version == old_version:
        return KeyChange(account_id, version, "confirmed")
    if version < old_version:
        return KeyChange(account_id, version, "rolled_back")
    return KeyChange(account_id, version, "rotated" if new.get("previous") else "set")
