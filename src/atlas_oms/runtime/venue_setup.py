"""A node's external venues from ``accounts.yaml``: the Atlas accounts, the adapters with their
keys, and the gateway that drives them.

:func:`setup_venues` is what ``atlas serve`` (and the tests that run a node against a fake venue)
call once the node is open:

1. every Atlas account the file names is opened if the journal does not have it yet (parents
   first; a futures account in ``position_mode: hedge`` opens in hedge mode), and an account's
   ``max_position_usdt`` becomes its account-scope ``max_position_notional`` when it differs;
2. each venue account's key is read from where the file says it is (the encrypted key file or
   Vault) and an adapter is built for its venue (``binance``: spot, ``binanceusdm``: USDⓈ-M);
3. a :class:`~atlas_oms.runtime.gateway.Gateway` gets every adapter, with client order ids
   prefixed by the data directory's node tag (``node-tag`` file, made once);
4. a key rotation (the file or Vault) reaches the running adapter: it signs with the new key from
   the next request on and reconnects its stream (a listenKey belongs to the old key), which the
   gateway treats as a gap: reconcile, then trade again.

Nothing here trades: the gateway's tasks do, once :meth:`Gateway.attach` gave them to the
node's :class:`~atlas_oms.runtime.live.LiveRuntime`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from atlas_oms.core.ports import VenueAdapter
from atlas_oms.model.enums import PositionMode
from atlas_oms.model.risk import Scope
from atlas_oms.runtime.gateway import Gateway, GatewayConfig, decode, node_tag, prefix_for
from atlas_oms.runtime.gateway.qualified import qualified
from atlas_oms.runtime.node import Node
from atlas_oms.runtime.order_routing import OrderRouting
from atlas_oms.venues.accounts import (
    DEFAULT_VENUES,
    AccountsConfig,
    AccountsConfigError,
    ConfigProblem,
    VenueAccountConfig,
    VenueEndpoints,
    load_accounts,
)
from atlas_oms.venues.binance import BinanceEndpoints, BinanceSpotAdapter, BinanceUsdmAdapter
from atlas_oms.venues.credentials import (
    Credentials,
    CredentialsError,
    CredentialSource,
    KeyChange,
    KeyStore,
    master_key,
)
from atlas_oms.venues.vault import VaultSource

log = logging.getLogger("atlas.venues")

#: The adapter class of each venue Atlas can trade on.
ADAPTERS: dict[str, type[BinanceSpotAdapter] | type[BinanceUsdmAdapter]] = {
    "binance": BinanceSpotAdapter,
    "binanceusdm": BinanceUsdmAdapter,
}

#: Every venue ``accounts.yaml`` can trade on (:func:`make_adapter` builds each).
VENUES = ("binance", "binanceusdm", "bybit", "bybitlinear", "okx", "upbit", "alpaca")

#: Who opens venue accounts and sets their limits (the audit trail names it).
ACTOR = "accounts.yaml"
#: A paper venue's market data adapter reads public data only: it has no key.
_NO_KEY = Credentials(
    account_id="paper", api_key=SecretStr(""), secret=SecretStr(""), passphrase=SecretStr("")
)


@dataclass
class VenueSetup:
    config: AccountsConfig
    gateway: Gateway
    keys: CredentialSource
    adapters: dict[str, Any] = field(default_factory=dict)
    #: (name, coroutine function) of the tasks that watch the key sources for rotations.
    watchers: list[tuple[str, Callable[[], Any]]] = field(default_factory=list)
    #: Stops the rotation subscription (set by :func:`setup_venues`).
    unsubscribe: Callable[[], None] | None = None
    #: Rebalancing of the file's main and sub-accounts (runtime/rebalance.py).
    rebalancer: Any = None
    #: Where new orders go: failover and a strategy's accounts (runtime/order_routing.py).
    routing: Any = None

    def close(self) -> None:
        if self.unsubscribe is not None:
            self.unsubscribe()
            self.unsubscribe = None

    async def aclose(self) -> None:
        """Stop listening for rotations and close every adapter's client (after the gateway's
        tasks have stopped)."""
        self.close()
        for adapter in self.adapters.values():
            try:
                await adapter.close()
            except Exception as exc:  # closing: said, never raised
                log.warning("closing the adapter of %s failed: %s", adapter.account_id, exc)


@dataclass(frozen=True)
class KeySources:
    """Where the venue keys of a node are: the encrypted file (None when no account keeps its
    key there) and Vault (None when no account's key is in Vault)."""

    file: KeyStore | None
    vault: VaultSource | None


def key_sources(
    config: AccountsConfig,
    *,
    keys_path: Path,
    master_key_file: Path | None = None,
    vault_mount: str = "secret",
) -> KeySources:
    """Open the key sources ``config`` needs (the master key and Vault's address and token come
    from the environment: ``ATLAS_MASTER_KEY``/``ATLAS_MASTER_KEY_FILE``, ``VAULT_ADDR``,
    ``VAULT_TOKEN``). A source that is needed but cannot be opened raises
    :class:`~atlas_oms.venues.credentials.CredentialsError` with its reason."""
    sources = {a.credentials.source for a in config.accounts}
    file = KeyStore(keys_path, master_key(key_file=master_key_file)) if "file" in sources else None
    vault = (
        VaultSource(mount=vault_mount, paths=config.vault_paths()) if "vault" in sources else None
    )
    return KeySources(file=file, vault=vault)


@dataclass(frozen=True)
class VenuePlan:
    """An ``accounts.yaml`` checked before anything starts: the resolved accounts and the key
    sources, every venue account's key readable."""

    config: AccountsConfig
    sources: KeySources
    #: The recorded feeds of the paper venues that replay one (paper venue -> feed), read and
    #: checked (:func:`atlas_oms.runtime.paper_replay.load_feeds`).
    feeds: Mapping[str, Any] = field(default_factory=dict)

    def trader_accounts(self) -> tuple[str, ...]:
        """The top accounts of the file (a trader key on them trades their sub-accounts)."""
        return tuple(a for a, parent in self.config.opening_order() if parent is None)


def plan_venues(
    accounts_file: Path,
    *,
    keys_path: Path,
    master_key_file: Path | None = None,
    vault_mount: str = "secret",
) -> VenuePlan:
    """Load ``accounts_file`` and open its key sources, reading every venue account's key once.
    Raises :class:`~atlas_oms.venues.accounts.AccountsConfigError` or
    :class:`~atlas_oms.venues.credentials.CredentialsError` when the file is wrong or a key
    cannot be read, or a paper account's recorded feed cannot be used: a node in front of real
    venues never starts half-configured."""
    from atlas_oms.runtime.paper_replay import load_feeds

    config = load_accounts(accounts_file)
    sources = key_sources(
        config, keys_path=keys_path, master_key_file=master_key_file, vault_mount=vault_mount
    )
    keyring = config.keyring(sources.file, sources.vault)
    for account in config.accounts:
        creds = keyring.get(account.account_id)  # raises, naming the account, when it cannot
        if account.venue == "okx" and creds.passphrase is None:
            raise CredentialsError(
                "NO_PASSPHRASE",
                f"the OKX key of {account.account_id} has no passphrase (OKX signs with one: "
                "atlas venues keys set ... --passphrase-env VAR)",
            )
    feeds = load_feeds(config, str(accounts_file))
    for acc in config.paper:
        why = NO_PUBLIC_DATA.get(acc.real_venue)
        if why is not None and acc.venue not in feeds:
            key = f"accounts.{acc.exchange}.{acc.name}.mode"
            raise AccountsConfigError(
                str(accounts_file),
                [ConfigProblem(key, f"a paper account on {acc.real_venue} needs a feed: {why}")],
            )
    return VenuePlan(config=config, sources=sources, feeds=feeds)


def open_venue_accounts(node: Node, config: AccountsConfig) -> list[str]:
    """Open the accounts the file names that the journal does not hold; return their ids."""
    opened: list[str] = []
    by_id = {a.account_id: a for a in config.accounts + config.paper}
    for account_id, parent_id in config.opening_order():
        if node.account(account_id) is not None:
            continue
        acc = by_id.get(account_id)
        mode = (
            PositionMode.HEDGE
            if acc is not None and acc.position_mode == "hedge"
            else PositionMode.NETTING
        )
        name = f"{acc.exchange} {acc.market} {acc.name}" if acc is not None else account_id
        node.open_account(account_id, parent_id=parent_id, position_mode=mode, name=name)
        opened.append(account_id)
        if acc is not None and acc.mode == "paper":  # a paper account's money, once
            for asset, amount in acc.paper_balances.items():
                node.deposit(account_id, asset, amount)
    for acc in config.accounts + config.paper:
        limits = acc.risk_limits
        if limits is not None and node.risk_limits(Scope.ACCOUNT, acc.account_id) != limits:
            node.set_limits(
                Scope.ACCOUNT,
                acc.account_id,
                limits,
                actor=ACTOR,
                reason="max_position_usdt in accounts.yaml",
            )
    return opened


def make_adapter(
    acc: VenueAccountConfig,
    creds: Credentials,
    decode_client_id: Callable[[str], int | None],
    *,
    venue: str | None = None,
) -> Any:
    """The adapter of one venue account (``venue``, default ``acc.venue``, one of
    :data:`VENUES`)."""
    return build_adapter(venue or acc.venue, acc.account_id, acc.endpoints, creds, decode_client_id)


def build_adapter(
    venue: str,
    account_id: str,
    ep: VenueEndpoints,
    creds: Credentials,
    decode_client_id: Callable[[str], int | None],
) -> Any:
    """The adapter of ``venue`` for ``account_id`` at the endpoints ``ep`` with ``creds``."""
    key, secret = creds.api_key.get_secret_value(), creds.secret.get_secret_value()
    if venue == "alpaca":
        from atlas_oms.venues.alpaca import AlpacaAdapter

        return AlpacaAdapter(
            account_id=account_id,
            api_key=key,
            secret=secret,
            decode_client_id=decode_client_id,
            paper="paper-api." in ep.rest_url,
            base_url=ep.rest_url,
            stream_url=ep.ws_url,
            timeout_ms=ep.timeout_ms,
            data_url=ep.data_url,
        )
    if venue in ("bybit", "bybitlinear"):
        from atlas_oms.venues.bybit import BybitEndpoints, BybitLinearAdapter, BybitSpotAdapter

        bybit = BybitSpotAdapter if venue == "bybit" else BybitLinearAdapter
        return bybit(
            account_id=account_id,
            api_key=key,
            secret=secret,
            decode_client_id=decode_client_id,
            endpoints=BybitEndpoints(rest_url=ep.rest_url, ws_url=ep.ws_url),
            recv_window_ms=ep.recv_window_ms,
            timeout_ms=ep.timeout_ms,
        )
    if venue == "okx":
        from atlas_oms.venues.okx import OkxAdapter

        if creds.passphrase is None:  # plan_venues refuses it first; a direct caller too
            raise CredentialsError(
                "NO_PASSPHRASE", f"the OKX key of {account_id} has no passphrase"
            )
        return OkxAdapter(
            account_id=account_id,
            api_key=key,
            secret=secret,
            passphrase=creds.passphrase.get_secret_value(),
            decode_client_id=decode_client_id,
            rest_url=ep.rest_url,
            ws_url=ep.ws_url,
            timeout_ms=ep.timeout_ms,
        )
    if venue == "upbit":
        from atlas_oms.venues.upbit import UpbitAdapter

        return UpbitAdapter(
            account_id=account_id,
            api_key=key,
            secret=secret,
            decode_client_id=decode_client_id,
            rest_url=ep.rest_url,
            ws_url=ep.ws_url,
            timeout_ms=ep.timeout_ms,
        )
    cls = ADAPTERS.get(venue)
    if cls is None:
        raise ValueError(f"no adapter for venue {venue!r} (known: {', '.join(VENUES)})")
    return cls(
        account_id=account_id,
        api_key=key,
        secret=secret,
        decode_client_id=decode_client_id,
        endpoints=BinanceEndpoints(
            rest_url=ep.rest_url, ws_url=ep.ws_url, ws_api_url=ep.ws_api_url or ""
        ),
        recv_window_ms=ep.recv_window_ms,
        timeout_ms=ep.timeout_ms,
    )


#: The WebSocket path of each venue under its host (a ``rest_url`` without a ``ws_url``).
_WS_PATHS = {
    "binance": "/ws",
    "binanceusdm": "/ws",
    "bybit": "",
    "bybitlinear": "",
    "okx": "/ws/v5",
    "upbit": "/websocket/v1",
}
#: Venues whose adapter has no public market data (a paper account there needs a ``feed``).
NO_PUBLIC_DATA = {
    "alpaca": "Alpaca's market data (data.alpaca.markets) needs an account's key: "
    "a paper account has none",
}


def public_adapter(
    venue: str, *, rest_url: str | None = None, ws_url: str | None = None, timeout_ms: int = 10_000
) -> Any:
    """An adapter of ``venue`` (one of :data:`VENUES`) that reads its public market data only
    (instruments, book ticker, trades, marks): no key. ``rest_url``/``ws_url``: another host
    than the venue's own (a testnet, the fake); ``ws_url`` defaults to ``rest_url``'s host with
    ``ws`` and the venue's WebSocket path. A venue without public data in Atlas
    (:data:`NO_PUBLIC_DATA`) or an unknown one raises ``ValueError`` saying so."""
    if venue in NO_PUBLIC_DATA:
        raise ValueError(f"no public market data for {venue}: {NO_PUBLIC_DATA[venue]}")
    if venue not in _WS_PATHS:
        known = ", ".join(v for v in VENUES if v not in NO_PUBLIC_DATA)
        raise ValueError(f"no adapter for venue {venue!r} (known: {known})")
    ep = DEFAULT_VENUES[venue]
    if rest_url:
        rest_url = rest_url.rstrip("/")
        if not ws_url:
            ws_url = "ws" + rest_url.removeprefix("http") + _WS_PATHS[venue]
        ep = VenueEndpoints(rest_url=rest_url, ws_url=ws_url)
    elif ws_url:
        ep = ep.model_copy(update={"ws_url": ws_url})
    if venue in ("binance", "binanceusdm") and rest_url:
        ep = ep.model_copy(update={"ws_api_url": None})
    ep = ep.model_copy(update={"timeout_ms": timeout_ms})
    return build_adapter(venue, "paper", ep, _NO_KEY, lambda _client_order_id: None)


def setup_paper(
    node: Node,
    config: AccountsConfig,
    gateway_config: GatewayConfig | None = None,
    feeds: Mapping[str, Any] | None = None,
) -> list[tuple[str, Callable[[], Any]]]:
    """The paper venues of the file's paper accounts (``paper-binance``...): each a simulated
    venue registered with the node (its resting orders restored), fed by its own public-data
    adapter of the real venue (no key), or by the recorded feed its accounts name (``feeds``:
    read by :func:`plan_venues`; None: read here), listing and following only the accounts'
    ``symbols`` when they all name some. Returns the feed tasks (name, coroutine function)."""
    from atlas_oms.runtime.paper import PaperFeed, attach_paper, run_paper
    from atlas_oms.runtime.paper_replay import load_feeds, run_recorded
    from atlas_oms.simulation.config import FillConfig
    from atlas_oms.simulation.venue import SimulatedVenue

    every_s = gateway_config.price_every_s if gateway_config is not None else 0.25
    if feeds is None:
        feeds = load_feeds(config)
    tasks: list[tuple[str, Callable[[], Any]]] = []
    for venue_name in sorted({a.venue for a in config.paper}):
        accs = [a for a in config.paper if a.venue == venue_name]
        acc = accs[0]
        # The symbols the venue's paper accounts name (any account naming none: all of them).
        only = None if any(not a.symbols for a in accs) else {s for a in accs for s in a.symbols}
        venue = attach_paper(node, SimulatedVenue(name=venue_name, config=FillConfig()))
        feed = PaperFeed(node, venue, every_s=every_s, only=only)
        recorded = feeds.get(venue_name)
        if recorded is not None:

            async def replay(feed: PaperFeed = feed, recorded: Any = recorded) -> None:
                await run_recorded(feed, recorded)
                await asyncio.Event().wait()  # a feed without a loop ended: its market stays

            tasks.append((f"paper-feed-{venue_name}", replay))
            continue
        source = make_adapter(acc, _NO_KEY, lambda _client_order_id: None, venue=acc.real_venue)

        def run(feed: PaperFeed = feed, source: Any = source) -> Any:
            return run_paper(feed, source)

        tasks.append((f"paper-feed-{venue_name}", run))
    return tasks


def setup_venues(
    node: Node,
    config: AccountsConfig,
    sources: KeySources,
    *,
    data_dir: Path,
    gateway_config: GatewayConfig | None = None,
    market_data: bool = True,
    keys_poll_s: float = 1.0,
    vault_poll_s: float = 30.0,
    feeds: Mapping[str, Any] | None = None,
) -> VenueSetup:
    """Open the file's accounts, build every adapter with its key and the gateway over them
    (``feeds``: the paper venues' recorded feeds, :attr:`VenuePlan.feeds`)."""
    keys = config.keyring(sources.file, sources.vault)
    open_venue_accounts(node, config)
    tag = node_tag(data_dir / "node-tag")
    prefix = prefix_for(tag)

    def decode_client_id(client_order_id: str) -> int | None:
        return decode(prefix, client_order_id)

    adapters: dict[str, Any] = {}
    for acc in config.accounts:
        adapter = make_adapter(acc, keys.get(acc.account_id), decode_client_id)
        # a venue whose unified symbols another venue also lists: its own (BTC/USDT@bybit)
        adapters[acc.account_id] = qualified(adapter, acc.endpoints.symbol_suffix)
    venue_adapters: list[VenueAdapter] = list(adapters.values())
    gateway = Gateway(
        node,
        venue_adapters,
        tag=tag,
        config=gateway_config,
        market_data=market_data,
        max_leverage={
            a.account_id: a.max_leverage for a in config.accounts if a.max_leverage is not None
        },
    )
    setup = VenueSetup(config=config, gateway=gateway, keys=keys, adapters=adapters)
    setup.routing = OrderRouting.build(node, config, gateway)
    if config.failover:  # a venue going down or coming back is journaled without orders
        setup.watchers.append(("failover-check", setup.routing.run_checks))

    def rotated(change: KeyChange) -> None:
        adapter = adapters.get(change.account_id)
        if adapter is None:
            return
        try:
            creds = keys.get(change.account_id)
        except Exception as exc:  # a removed key: the adapter keeps the one it has
            log.error("venue key of %s changed but cannot be read: %s", change.account_id, exc)
            return
        passphrase = creds.passphrase.get_secret_value() if creds.passphrase else None
        adapter.rotate_credentials(
            creds.api_key.get_secret_value(),
            creds.secret.get_secret_value(),
            passphrase=passphrase,
        )
        log.warning("venue key of %s rotated: reconnecting its stream", change.account_id)

    setup.unsubscribe = keys.on_rotate(rotated)
    from atlas_oms.runtime.rebalance import Rebalancer, run_schedule

    def tradable(venue: str, account_id: str) -> bool:
        try:
            return gateway.session(venue, account_id).tradable
        except KeyError:
            return False

    rebalancer = setup.rebalancer = Rebalancer(
        node,
        config,
        adapters,
        id_prefix=f"{prefix}-",
        reconcile=gateway.reconcile,
        tradable=tradable,
    )
    if config.routing.rebalance.enabled:  # account_routing.rebalance: at its times
        setup.watchers.append(("rebalance", lambda: run_schedule(rebalancer)))
    for name, task in setup_paper(node, config, gateway_config, feeds):
        setup.watchers.append((name, task))
    file, vault = sources.file, sources.vault
    if file is not None:
        setup.watchers.append(("venue-keys", lambda: file.watch(keys_poll_s)))
    if vault is not None:
        setup.watchers.append(("venue-keys-vault", lambda: vault.watch(vault_poll_s)))
    return setup
