"""Venue API keys from HashiCorp Vault, KV version 2, through ``hvac`` (seed 002, Phase 9).

Each account's key is a KV v2 secret at ``<mount>/exchanges/{exchange}_{market}_{account}``
(``secret/exchanges/binance_spot_main``; the Atlas account id is exactly that name), or at
``exchanges/<api_key_vault_path>`` when ``accounts.yaml`` names one
(:class:`~atlas_oms.venues.accounts.CredentialRef`), with the fields ``api_key``, ``api_secret``
and optionally ``passphrase``. Authentication is a token (``X-Vault-Token``); the address, token
and mount are arguments or ``VAULT_ADDR``, ``VAULT_TOKEN`` (and ``VAULT_MOUNT``, default
``secret``).

:class:`VaultSource` has the file store's interface (:class:`~atlas_oms.venues.credentials.
CredentialSource`): :meth:`~VaultSource.get` reads the current version every time (no secret is
cached), so a rotation (a new version written in Vault) is used by the next connection;
:meth:`~VaultSource.poll` (or the :meth:`~VaultSource.watch` task) reads each known account's
metadata and tells :meth:`~VaultSource.on_rotate` subscribers of every new current version, so a
running gateway reconnects that account. Errors are :class:`~atlas_oms.venues.credentials.
CredentialsError` (``VAULT_NOT_FOUND``, ``VAULT_FORBIDDEN``, ``VAULT_UNAVAILABLE``,
``VAULT_FIELDS``), one sentence without the token or any secret.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping
from typing import Any

import hvac
import hvac.exceptions
import requests

from atlas_oms.venues.credentials import Credentials, CredentialsError, KeyChange, Subscriber

__all__ = ["VAULT_ADDR_ENV", "VAULT_MOUNT_ENV", "VAULT_TOKEN_ENV", "VaultSource"]

VAULT_ADDR_ENV = "VAULT_ADDR"
VAULT_TOKEN_ENV = "VAULT_TOKEN"
VAULT_MOUNT_ENV = "VAULT_MOUNT"


class VaultSource:
    """API keys read from Vault KV v2 (:class:`~atlas_oms.venues.credentials.CredentialSource`).

    ``paths`` maps an Atlas account id to its path inside the mount (default
    ``exchanges/<account id>``)."""

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        mount: str | None = None,
        paths: Mapping[str, str] | None = None,
        timeout_s: float = 5.0,
        env: Mapping[str, str] | None = None,
    ) -> None:
        env = os.environ if env is None else env
        url = url or env.get(VAULT_ADDR_ENV)
        token = token or env.get(VAULT_TOKEN_ENV)
        if not url or not token:
            raise CredentialsError(
                "VAULT_UNAVAILABLE",
                f"Vault needs an address and a token ({VAULT_ADDR_ENV}, {VAULT_TOKEN_ENV})",
            )
        self.url = url
        self.mount = mount or env.get(VAULT_MOUNT_ENV) or "secret"
        self.paths = dict(paths or {})
        self._client = hvac.Client(url=url, token=token, timeout=timeout_s)
        self._versions: dict[str, int] = {}
        self._subscribers: list[Subscriber] = []

    def __repr__(self) -> str:
        return f"VaultSource({self.url!r}, mount={self.mount!r})"

    def path_of(self, account_id: str) -> str:
        return self.paths.get(account_id, f"exchanges/{account_id}")

    def _call(self, account_id: str, read: Callable[[], Any]) -> Any:
        where = f"{self.mount}/{self.path_of(account_id)}"
        try:
            return read()
        except hvac.exceptions.InvalidPath:
            raise CredentialsError(
                "VAULT_NOT_FOUND", f"no API key for {account_id} in Vault at {where}"
            ) from None
        except (hvac.exceptions.Forbidden, hvac.exceptions.Unauthorized):
            raise CredentialsError(
                "VAULT_FORBIDDEN", f"Vault refused the token for {where} (permission denied)"
            ) from None
        except (hvac.exceptions.VaultError, requests.RequestException, OSError) as exc:
            raise CredentialsError(
                "VAULT_UNAVAILABLE",
                f"Vault at {self.url} could not be read for {account_id} ({type(exc).__name__})",
            ) from None

    def get(self, account_id: str) -> Credentials:
        """The account's current key in Vault."""
        answer = self._call(
            account_id,
            lambda: self._client.secrets.kv.v2.read_secret_version(
                path=self.path_of(account_id),
                mount_point=self.mount,
                raise_on_deleted_version=True,
            ),
        )
        try:
            data = answer["data"]["data"]
            version = int(answer["data"]["metadata"]["version"])
            api_key, secret = str(data["api_key"]), str(data["api_secret"])
        except (KeyError, TypeError, ValueError):
            raise CredentialsError(
                "VAULT_FIELDS",
                f"the Vault secret of {account_id} lacks api_key or api_secret",
            ) from None
        passphrase = data.get("passphrase")
        creds = Credentials.of(
            account_id, api_key, secret, str(passphrase) if passphrase else None, version
        )
        self._seen(account_id, version)
        return creds

    def current_version(self, account_id: str) -> int:
        """The current version number of the account's secret (metadata only: no secret read)."""
        answer = self._call(
            account_id,
            lambda: self._client.secrets.kv.v2.read_secret_metadata(
                path=self.path_of(account_id), mount_point=self.mount
            ),
        )
        try:
            return int(answer["data"]["current_version"])
        except (KeyError, TypeError, ValueError):
            raise CredentialsError(
                "VAULT_FIELDS", f"Vault's metadata of {account_id} has no current_version"
            ) from None

    def on_rotate(self, callback: Subscriber) -> Callable[[], None]:
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    def _seen(self, account_id: str, version: int) -> None:
        before = self._versions.get(account_id)
        self._versions[account_id] = version
        if before is not None and before != version:
            change = KeyChange(
                account_id, version, "rotated" if version > before else "rolled_back"
            )
            for callback in list(self._subscribers):
                callback(change)

    def poll(self) -> list[KeyChange]:
        """Check every account read so far for a new version; notify and return the changes."""
        changes: list[KeyChange] = []

        def collect(change: KeyChange) -> None:
            changes.append(change)

        unsubscribe = self.on_rotate(collect)
        try:
            for account_id in list(self._versions):
                self._seen(account_id, self.current_version(account_id))
        finally:
            unsubscribe()
        return changes

    async def watch(self, interval_s: float = 30.0) -> None:
        """Poll every ``interval_s`` in a worker thread until cancelled; a failed poll is retried
        at the next interval."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                await asyncio.to_thread(self.poll)
            except CredentialsError:
                continue
