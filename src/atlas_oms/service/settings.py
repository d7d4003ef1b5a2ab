"""Service settings: every knob named and defaulted here, overridable by ``ATLAS_*`` variables."""

from __future__ import annotations

import secrets
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from atlas_oms.runtime.gateway.config import GatewayConfig

if TYPE_CHECKING:
    from atlas_oms.service.market_maker import MarketConfig


class ServiceSettings(BaseSettings):
    """What ``atlas serve`` runs with. Environment variables ``ATLAS_<NAME>`` override each one."""

    model_config = SettingsConfigDict(env_prefix="ATLAS_", extra="ignore")

    #: Folder for the journal, the key store and the first keys.
    data_dir: Path = Path("atlas-data")
    #: Journal file name inside ``data_dir`` (SQLite).
    journal: str = "atlas.db"
    host: str = "127.0.0.1"
    port: int = 8000
    #: JSON file of instruments to list on first start (None: the built-in set).
    instruments_file: Path | None = None
    #: Quote around each instrument's reference price with a built-in market maker (False:
    #: no maker, as ``market="off"``).
    market_maker: bool = True
    #: The built-in exchange's market (see atlas_oms.service.market_maker): ``walk`` (a seeded
    #: random walk), ``file`` (``market_file`` replayed in a loop) or ``off`` (no maker at all).
    market: Literal["walk", "file", "off"] = "walk"
    #: The walk's seed (None: drawn at start and logged, so that a run can be replayed).
    market_seed: int | None = None
    #: The walk's annualised volatility (0.8 = 80 % a year).
    market_volatility: float = 0.8
    #: Best bid to best ask of the maker's quotes, as a fraction of the price (5 bp).
    market_spread: Decimal = Decimal("0.0005")
    #: A CSV of prices or OHLCV bars (ccxt's rows) for ``market="file"``.
    market_file: Path | None = None
    #: The market moves one step this often (seconds).
    market_every_s: float = 1.0
    #: Levels a side of the maker's book, each ``market_level_notional`` (quote currency).
    market_depth: int = Field(default=10, ge=1, le=100)
    market_level_notional: Decimal = Decimal(50_000)
    #: Requests a key may make per second (token bucket; burst = 2 s worth).
    rate_limit_per_s: float = 200.0
    #: A signed request's timestamp may be this far from the server's clock (ms).
    signature_window_ms: int = 30_000
    #: TLS: both files to serve HTTPS.
    tls_cert: Path | None = None
    tls_key: Path | None = None
    #: gRPC API (src/atlas_oms/grpc_api, docs/notes/grpc.md): its port (None: off), host, TLS
    #: certificate and key (default: ``tls_cert``/``tls_key``) and the CA of the client
    #: certificates (mTLS: a certificate's common name is the API key id it calls as).
    grpc_port: int | None = None
    grpc_host: str = "127.0.0.1"
    grpc_tls_cert: Path | None = None
    grpc_tls_key: Path | None = None
    grpc_client_ca: Path | None = None
    #: Durable batches a gRPC stream may fall behind by before it is ended (RESOURCE_EXHAUSTED
    #: ``SLOW_CONSUMER``).
    grpc_stream_queue: int = Field(default=4096, ge=1)
    #: FIX 4.4 gateway (atlas_oms/fix): the acceptor's port (None: off), host, its own
    #: SenderCompID and the client CompIDs it accepts (comma-separated, one session each; a
    #: session belongs to the API key of its first Logon). Its store is ``<data_dir>/fix``.
    fix_port: int | None = None
    fix_host: str = "127.0.0.1"
    fix_comp_id: str = "ATLAS"
    fix_sessions: str = "CLIENT"
    #: WebSocket: messages waiting for one client before it is closed as too slow (4408).
    ws_queue_size: int = 1024
    #: WebSocket: seconds a client has to send its key when the URL carries none.
    ws_auth_timeout_s: float = 10.0
    #: Decimal places of money in each asset on the API (``{"USD": 2}``; JSON in the variable);
    #: an asset not named here: see :mod:`atlas_oms.service.numbers`.
    asset_places: dict[str, int] = Field(default_factory=dict)
    #: Group commit: the journal takes what was processed every this many milliseconds.
    commit_every_ms: float = 2.0
    #: An answer waits at most this long for the journal's commit, then is answered 503
    #: (a write: COMMIT_OUTCOME_UNKNOWN, query the order; a read: JOURNAL_UNAVAILABLE).
    commit_wait_s: float = 2.0
    #: A failing commit is retried after this long, doubling up to ``journal_retry_max_s``...
    journal_retry_initial_s: float = 0.05
    journal_retry_max_s: float = 2.0
    #: ...and the node stops (exit code 1) once the journal has failed for this long.
    journal_retry_limit_s: float = 60.0
    #: The clock task ticks at least this often (and exactly at each deadline of the engine).
    clock_interval_s: float = 1.0
    #: SIGTERM/SIGINT: in-flight requests get this long to finish before they are cancelled.
    shutdown_timeout_s: float = 3.0
    #: Start on a damaged journal (events lost: a cut WAL, a flipped byte) by recording the loss
    #: as a ``JournalRepaired`` event above everything ever written (``--repair-journal``).
    #: Without it ``atlas serve`` refuses to start on one (exit code 65).
    repair_journal: bool = False
    #: Memory: a terminal order leaves memory this many seconds after its last change (it stays
    #: in the journal, where every history read finds it); None keeps every order in memory.
    order_retention_s: float | None = 3600.0
    #: A client order id stays an idempotency key this many seconds after its order was submitted
    #: (24 h, as brokers do); None keeps them all.
    client_id_retention_s: float | None = 86400.0
    #: Seconds an idle HTTP connection stays open. Longer than the clients' own idle limits
    #: (httpx 5 s, aiohttp 15 s; requests keeps its connections forever): a client that reuses
    #: a connection the server has just closed gets an error instead of an answer (nginx: 75 s).
    keep_alive_s: int = 75
    #: Log level of the structured JSON log.
    log_level: str = "INFO"
    #: Access log: one JSON line per HTTP request and per WebSocket session (method, path with its
    #: secrets redacted, status, duration_ms, key_id, client) at INFO on logger ``atlas.access``.
    access_log: bool = True
    #: Seed 001's execution-policy parameters (YAML or ``.properties``, see
    #: atlas_oms.runtime.policy_params): at start, when they differ from those the journal has in
    #: force, they are put in force (journaled, actor ``config``). A wrong file: exit code 78.
    policy_params_file: Path | None = None
    #: Venues: ``accounts.yaml``, the venue accounts to trade on (see atlas_oms.venues.accounts).
    accounts_file: Path | None = None
    #: Venue API keys: the master key file of the encrypted key file (``venue_keys_path``); without
    #: it the key is ``ATLAS_MASTER_KEY`` (base64 of 32 bytes). See atlas_oms.venues.credentials.
    master_key_file: Path | None = None
    #: Venue API keys in Vault KV v2: the mount (address and token: ``VAULT_ADDR``, ``VAULT_TOKEN``).
    vault_mount: str = "secret"
    #: Venue API keys are checked for a rotation this often (the file; Vault: ``vault_poll_s``).
    venue_keys_poll_s: float = 1.0
    vault_poll_s: float = 30.0
    #: US equities (runtime/us_markets.py): a CSV of corporate actions (``action_id,symbol,
    #: kind,ratio,amount``), applied at start and whenever the file changes (actor
    #: ``feed:<name>``); the calendar and close-equity task wakes at least this often.
    corporate_feed: Path | None = None
    us_markets_every_s: float = 30.0

    #: Venue gateway (see atlas_oms.runtime.gateway.config): after an unknown outcome, wait this
    #: long for the stream before querying; "not found" means "not visible yet" this long.
    venue_stream_wait_s: float = 3.0
    venue_visibility_s: float = 30.0
    #: At restart an order journaled but unknown to the venue is sent again (same client order
    #: id) when younger than this; older, it ends REJECTED NOT_SENT.
    venue_resend_max_age_s: float = 60.0
    #: Periodic reconciliation, and reconciliation when the private stream is silent this long.
    venue_reconcile_every_s: float = 60.0
    venue_silent_after_s: float = 60.0
    #: No new orders while the venue clock is further off than this (half Binance's recvWindow).
    venue_max_clock_offset_s: float = 2.5
    #: Market data: at most one price update per symbol this often.
    venue_price_every_s: float = 0.25
    #: Consolidated market data (issue 16, MD-1; runtime/market/, docs/notes/cbook.md): levels
    #: kept per venue book, age after which a venue book is stale (0: never), quote conversions
    #: (JSON ``{"KRW/USDT": "0.00068", "USDT/USD": "1"}``), reference quote per base asset
    #: (``{"BTC": "USDT"}``), spread levels in bps per unified symbol or ``*``
    #: (``{"*": ["0", "10"]}``), spread hysteresis, the rolling VWAP/TWAP windows, how often the
    #: built-in exchange's book is re-read for the spread monitor, and the WebSocket push throttle.
    md_depth: int = Field(default=10, ge=1, le=100)
    md_stale_ms: int = Field(default=5_000, ge=0)
    md_rates: dict[str, Decimal] = {}
    md_reference: dict[str, str] = {}
    md_spread_levels_bps: dict[str, list[Decimal]] = {}
    md_spread_hysteresis_bps: Decimal = Decimal(1)
    md_windows_s: list[int] = [60, 300]
    md_sim_every_ms: int = Field(default=50, ge=1)
    md_push_every_ms: int = Field(default=250, ge=10)
    #: Arbitrage watcher (issue 16 §2; runtime/market/arbitrage.py, docs/notes/wire.md): on by
    #: default (cheap, debounced: journals ``ArbitrageDetected`` when an opportunity appears,
    #: moves or ends); the edge after both taker fees it needs in bps; the strategy whose
    #: accounts and fee tiers count and an extra account (the built-in exchange's legs);
    #: auto-execution of both legs as a paired order, OFF by default, at most ``max_qty`` base
    #: units per pair (JSON ``{"BTC/USDT": "0.1"}`` or ``{"*": ...}``; no entry: not executed).
    md_arbitrage: bool = True
    md_arbitrage_bps: Decimal = Field(default=Decimal(5), ge=0)
    md_arbitrage_strategy: str | None = None
    md_arbitrage_account: str | None = None
    md_arbitrage_auto: bool = False
    md_arbitrage_max_qty: dict[str, Decimal] = {}
    #: Atlas as a Binance-compatible venue (issue 17 §3, atlas_oms/binance_api): its own port
    #: (None: off), host, request weight per minute per IP, new orders per 10 s and per day per
    #: account (Binance's -1003 / -1015 beyond them).
    binance_port: int | None = None
    binance_host: str = "127.0.0.1"
    binance_weight_per_minute: int = Field(default=6000, ge=1)
    binance_orders_per_10s: int = Field(default=100, ge=1)
    binance_orders_per_day: int = Field(default=200_000, ge=1)

    def market_config(self) -> MarketConfig:
        """The built-in market maker's settings (``mode="off"`` without a maker)."""
        from atlas_oms.service.market_maker import MarketConfig  # only serve needs it

        seed = self.market_seed if self.market_seed is not None else secrets.randbelow(1 << 31)
        return MarketConfig(
            mode=self.market if self.market_maker else "off",
            seed=seed,
            volatility=self.market_volatility,
            spread=self.market_spread,
            file=self.market_file,
            every_s=self.market_every_s,
            depth=self.market_depth,
            level_notional=self.market_level_notional,
        )

    def gateway_config(self) -> GatewayConfig:
        """The venue gateway's knobs from these settings."""
        return GatewayConfig(
            stream_wait_s=self.venue_stream_wait_s,
            visibility_s=self.venue_visibility_s,
            resend_max_age_s=self.venue_resend_max_age_s,
            reconcile_every_s=self.venue_reconcile_every_s,
            silent_after_s=self.venue_silent_after_s,
            max_clock_offset_s=self.venue_max_clock_offset_s,
            price_every_s=self.venue_price_every_s,
        )

    @property
    def journal_path(self) -> Path:
        return self.data_dir / self.journal

    @property
    def keys_path(self) -> Path:
        return self.data_dir / "api-keys.json"

    @property
    def venue_keys_path(self) -> Path:
        """The encrypted venue API key file."""
        return self.data_dir / "venue-keys.json"
