"""``accounts.yaml``: which Atlas account trades on which venue account, with which keys and limits,
and which account a strategy's orders go to (seed 002, "멀티계좌 설정 예시"; REQUIREMENTS VEN-4).

The file::

    accounts:
      binance:                          # an exchange
        main:                           # an account name on that exchange
          type: main                    # main | sub
          api_key_vault_path: binance_main
          spot_enabled: true
          futures_enabled: false
        sub_futures_trend:
          type: sub
          parent: main                  # a main account of the same exchange
          futures_enabled: true
          strategy: trend_following
          max_leverage: 10
          max_position_usdt: 50000
          position_mode: one_way        # futures only: one_way (default) | hedge (Atlas's addition)
    account_routing:
      default: main
      strategies: {trend_following: sub_futures_trend}
      balance_rules: {min_main_balance: 100000, max_sub_balance: 50000}
      rebalance: {enabled: true, schedule: daily, time: "00:00 UTC"}
    venues:                             # optional: where each venue is (tests, testnets)
      binanceusdm: {rest_url: "http://127.0.0.1:8081", ws_url: "ws://127.0.0.1:8081/ws"}
    fees:                               # optional: an Atlas account's fee tier per venue
      binance_spot_main: {binance: {maker: "0.0002", taker: "0.0004"}}

Resolution (:func:`load_accounts` -> :class:`AccountsConfig`):

- **One Atlas account per enabled market.** Each (exchange, account name, market) with
  ``<market>_enabled: true`` becomes the Atlas account ``{exchange}_{market}_{name}`` (market is
  ``spot`` or ``futures``: seed 002's Vault naming ``{exchange}_{market}_{account}``), trading on
  the venue ``binance`` (spot) or ``binanceusdm`` (USDⓈ-M futures). An account that enables no
  market is an error (it would trade nowhere).
- **Parents.** A main account has no Atlas parent. A sub account's Atlas parent is its main
  account's account *of the same market* when the main enables that market; otherwise an
  *umbrella* account ``{exchange}_{main name}`` is opened (no venue session, no keys) and is the
  parent. So ``sub_futures_trend`` under a spot-only ``main`` has parent ``binance_main``.
- **Keys.** ``api_key_vault_path`` set: the keys are in Vault, KV v2, at
  ``exchanges/{api_key_vault_path}`` in the configured mount (``{market}`` in the value is
  replaced by the market, so ``binance_{market}_main`` gives seed 002's per-market paths). Not
  set: the keys are in Atlas's encrypted file (:mod:`atlas_oms.venues.credentials`) under the
  Atlas account id. The same key then serves every market of the account (Binance keys are per
  account, not per market).
- **Routing.** :meth:`AccountsConfig.route` ``(strategy, market)``: ``None`` (no strategy) goes to
  ``account_routing.default``; a strategy goes to ``account_routing.strategies[strategy]``, or
  else to the one account whose own ``strategy:`` names it; any other strategy is refused
  (:class:`RoutingError` ``UNKNOWN_STRATEGY``: an unknown strategy never trades silently on the
  main account's money). The chosen account must enable the market (``MARKET_DISABLED``).
  With several exchanges, the account is looked up on ``exchange=`` when given, else on the
  first exchange (in file order) that has an account of that name.
- **Limits.** ``max_position_usdt`` -> :class:`~atlas_oms.model.risk.RiskLimits`
  ``max_position_notional`` at account scope (per instrument, in the quote currency: exact for
  USDT-quoted instruments). ``max_leverage`` has no RiskLimits field (Atlas caps leverage per
  instrument by its margin tiers): it is carried on :class:`VenueAccountConfig` for the node to
  refuse a higher ``SetLeverage`` and for the gateway to set on the venue; it applies to futures
  only. ``max_balance_usdt`` and ``balance_rules`` have no RiskLimits field either: they bound
  transfers and rebalancing (:mod:`atlas_oms.runtime.rebalance`, with ``rebalance`` and a
  sub's ``email``), and are checked for consistency (``max_balance_usdt`` <= ``max_sub_balance``).
- **Validation** (every problem names the file, the line and the key): unknown keys, wrong
  types, a negative limit, a duplicate key, a sub without a parent or whose parent is missing or
  is not main, a main with a parent, a routing target (default or strategy) that does not exist,
  two accounts claiming one strategy, an exchange without known venues, two Atlas ids alike,
  an unknown venue under ``venues:``.

The file's sections have modules of their own, and every name is importable from here:
``accounts_base.py`` (markets, the venue of each market, the strict model base),
``accounts_endpoints.py`` (``venues:``), ``accounts_routing.py`` (``account_routing:`` and the
routing of strategies), ``accounts_failover.py`` (``failover:``), ``accounts_fees.py``
(``fees:``) and ``accounts_paper.py`` (paper accounts' feeds).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import StrictBool, ValidationError, field_validator

from atlas_oms.model.risk import RiskLimits
from atlas_oms.venues.accounts_base import MARKET_VENUES as MARKET_VENUES
from atlas_oms.venues.accounts_base import MARKETS as MARKETS
from atlas_oms.venues.accounts_base import Market as Market
from atlas_oms.venues.accounts_base import _decimal, _Strict
from atlas_oms.venues.accounts_endpoints import DEFAULT_VENUES as DEFAULT_VENUES
from atlas_oms.venues.accounts_endpoints import VenueEndpoints as VenueEndpoints
from atlas_oms.venues.accounts_failover import FailoverAlternativeEntry as FailoverAlternativeEntry
from atlas_oms.venues.accounts_failover import FailoverConfig as FailoverConfig
from atlas_oms.venues.accounts_failover import FailoverRuleEntry as FailoverRuleEntry
from atlas_oms.venues.accounts_failover import FailoverSection as FailoverSection
from atlas_oms.venues.accounts_failover import FailoverTarget as FailoverTarget
from atlas_oms.venues.accounts_failover import _failover
from atlas_oms.venues.accounts_fees import FeeEntry as FeeEntry
from atlas_oms.venues.accounts_paper import _feed_of, _same_feed
from atlas_oms.venues.accounts_routing import BalanceRules as BalanceRules
from atlas_oms.venues.accounts_routing import Rebalance as Rebalance
from atlas_oms.venues.accounts_routing import Routing as Routing
from atlas_oms.venues.accounts_routing import RoutingError as RoutingError
from atlas_oms.venues.accounts_routing import StrategyRouting
from atlas_oms.venues.credentials import CredentialsError, CredentialSource, Keyring

__all__ = [
    "DEFAULT_VENUES",
    "MARKETS",
    "MARKET_VENUES",
    "AccountsConfig",
    "AccountsConfigError",
    "ConfigProblem",
    "CredentialRef",
    "FailoverConfig",
    "FailoverTarget",
    "Market",
    "RoutingError",
    "UmbrellaAccount",
    "VenueAccountConfig",
    "VenueEndpoints",
    "load_accounts",
    "parse_accounts",
]

_NAME = re.compile(r"^[a-z0-9][a-z0-9_]*$")
_EXCHANGE = re.compile(r"^[a-z0-9]+$")


# ------------------------------------------------------------------------------- the file's models


class AccountEntry(_Strict):
    """One account of an exchange, as written."""

    type: Literal["main", "sub"]
    parent: str | None = None
    api_key_vault_path: str | None = None
    spot_enabled: StrictBool = False
    futures_enabled: StrictBool = False
    strategy: str | None = None
    max_balance_usdt: Decimal | None = None
    max_leverage: Decimal | None = None
    max_position_usdt: Decimal | None = None
    position_mode: Literal["one_way", "hedge"] = "one_way"
    #: A sub-account's login email: how the master's key names it in sub-account transfers
    #: (Binance ``fromEmail``/``toEmail``), needed to rebalance it at the venue.
    email: str | None = None
    #: The account's UID (Bybit's universal transfer names master and subs by it).
    uid: str | None = None
    #: ``paper``: the account trades on the simulated venue ``paper-<venue>`` against the real
    #: venue's public market data (no key needed); ``live`` (default): on the venue itself.
    mode: Literal["live", "paper"] = "live"
    #: A paper account's starting money, deposited once when the account is opened.
    paper_balances: dict[str, Decimal] = {}
    #: A paper account's instruments (unified: ``BTC/USDT``): the paper venue lists and
    #: subscribes only these (empty: every instrument of the real venue).
    symbols: list[str] = []
    #: A paper account's recorded feed (``atlas paper --record``'s JSON lines, its instruments in
    #: ``FEED.instruments.json``), relative to the accounts file's folder: the paper venue replays
    #: it instead of following the real venue (no adapter, no network).
    feed: str | None = None
    #: The feed's playback speed: 1 real time (the recording's gaps), 2 twice as fast, 0 as fast
    #: as the loop goes.
    feed_speed: float | None = None
    #: Replay the feed in a loop (default true) or stop at its end (the last prices stay).
    feed_loop: StrictBool | None = None

    _numbers = field_validator(
        "max_balance_usdt", "max_leverage", "max_position_usdt", mode="before"
    )(_decimal)

    @field_validator("max_leverage")
    @classmethod
    def _leverage(cls, value: Decimal | None) -> Decimal | None:
        if value is not None and value < 1:
            raise ValueError("must be at least 1")
        return value

    @field_validator("api_key_vault_path")
    @classmethod
    def _vault_path(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or value.startswith("/") or ".." in value):
            raise ValueError("must be a relative path under exchanges/, without '..'")
        return value


class AccountsFile(_Strict):
    accounts: dict[str, dict[str, AccountEntry]]
    account_routing: Routing
    venues: dict[str, dict[str, Any]] = {}
    failover: FailoverSection = FailoverSection()
    #: Per Atlas account id, per venue: the account's fee tier (issue 16: the consolidated
    #: book's fee-adjusted prices; without one, the instrument's fees).
    fees: dict[str, dict[str, FeeEntry]] = {}


# ------------------------------------------------------------------------------ resolved accounts
@dataclass(frozen=True, slots=True)
class CredentialRef:
    """Where an account's API key is: ``vault`` (``path`` inside the KV v2 mount) or ``file``
    (Atlas's encrypted key file, entry ``path`` = the Atlas account id)."""

    source: Literal["vault", "file"]
    path: str


@dataclass(frozen=True, slots=True)
class VenueAccountConfig:
    """One Atlas account trading on one venue account: what the node opens and starts a session
    for."""

    account_id: str
    parent_id: str | None
    venue: str
    exchange: str
    market: Market
    name: str
    type: Literal["main", "sub"]
    strategy: str | None
    credentials: CredentialRef
    endpoints: VenueEndpoints
    max_balance_usdt: Decimal | None = None
    max_leverage: Decimal | None = None
    max_position_usdt: Decimal | None = None
    #: Futures: the position mode the account must be in (the gateway checks it at start).
    position_mode: Literal["one_way", "hedge"] = "one_way"
    #: ``paper``: trades on ``venue`` = ``paper-<real venue>`` (see atlas_oms.runtime.paper).
    mode: Literal["live", "paper"] = "live"
    real_venue: str = ""
    paper_balances: Mapping[str, Decimal] = field(default_factory=dict)
    #: A paper account's instruments (empty: all the real venue's).
    symbols: tuple[str, ...] = ()
    #: A paper account's recorded feed (resolved against the accounts file's folder; None: the
    #: real venue's public market data), its playback speed and whether it loops.
    feed: Path | None = None
    feed_speed: float = 1.0
    feed_loop: bool = True
    #: A sub-account's login email (sub-account transfers name it), None when not given.
    email: str | None = None
    #: The account's UID (Bybit transfers name it), None when not given.
    uid: str | None = None

    @property
    def risk_limits(self) -> RiskLimits | None:
        """The account-scope Atlas risk limits this account's settings map to (None: none)."""
        if self.max_position_usdt is None:
            return None
        return RiskLimits(max_position_notional=self.max_position_usdt)


@dataclass(frozen=True, slots=True)
class UmbrellaAccount:
    """An Atlas account with no venue session: the parent of a main account's subs in a market
    the main account does not trade."""

    account_id: str
    exchange: str
    name: str


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    key: str
    message: str
    line: int | None = None


class AccountsConfigError(ValueError):
    """``accounts.yaml`` is wrong: every problem with the file, its line and key."""

    reason = "ACCOUNTS_CONFIG_INVALID"

    def __init__(self, source: str, problems: Sequence[ConfigProblem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        lines = [
            f"{source}{f':{p.line}' if p.line else ''}: {p.key}: {p.message}" for p in problems
        ]
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class AccountsConfig(StrategyRouting):
    """The resolved configuration: venue accounts, umbrella accounts, routing and endpoints."""

    accounts: tuple[VenueAccountConfig, ...]
    umbrellas: tuple[UmbrellaAccount, ...]
    routing: Routing
    venues: Mapping[str, VenueEndpoints]
    entries: Mapping[str, Mapping[str, AccountEntry]] = field(repr=False)
    #: Paper accounts (``mode: paper``): opened like the others, no key, no venue session.
    paper: tuple[VenueAccountConfig, ...] = ()
    #: ``failover:``: the rules, the health threshold and how often routes are checked.
    failover: tuple[FailoverConfig, ...] = ()
    min_health: float = 0.5
    failover_check_s: float = 1.0
    #: ``fees:``: Atlas account id -> venue -> its fee tier.
    fees: Mapping[str, Mapping[str, FeeEntry]] = field(default_factory=dict)

    def account(self, account_id: str) -> VenueAccountConfig:
        for acc in self.accounts + self.paper:
            if acc.account_id == account_id:
                return acc
        raise KeyError(account_id)

    def opening_order(self) -> list[tuple[str, str | None]]:
        """(account id, parent id) for every Atlas account to open, parents first."""
        out: list[tuple[str, str | None]] = [(u.account_id, None) for u in self.umbrellas]
        every = self.accounts + self.paper
        out += [(a.account_id, a.parent_id) for a in every if a.type == "main"]
        out += [(a.account_id, a.parent_id) for a in every if a.type == "sub"]
        return out

    def keyring(
        self, file_store: CredentialSource | None, vault: CredentialSource | None
    ) -> Keyring:
        """Each venue account's key from where this file says it is: the encrypted file or
        Vault (a source needed but not given is :class:`CredentialsError` ``NO_KEY_SOURCE``)."""
        routes: dict[str, CredentialSource] = {}
        for acc in self.accounts:
            source = vault if acc.credentials.source == "vault" else file_store
            if source is None:
                raise CredentialsError(
                    "NO_KEY_SOURCE",
                    f"{acc.account_id}'s key is in {acc.credentials.source}, which is not "
                    "configured",
                )
            routes[acc.account_id] = source
        return Keyring(routes)

    def vault_paths(self) -> dict[str, str]:
        """Atlas account id -> KV v2 path, for :class:`~atlas_oms.venues.vault.VaultSource`."""
        return {
            a.account_id: a.credentials.path
            for a in self.accounts
            if a.credentials.source == "vault"
        }


# ------------------------------------------------------------------------------------- loading
def load_accounts(path: str | Path) -> AccountsConfig:
    """Read, validate and resolve an ``accounts.yaml``; :class:`AccountsConfigError` if wrong.
    Paths in it (a paper account's ``feed``) are relative to the file's folder."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise AccountsConfigError(
            str(p), [ConfigProblem("(file)", exc.strerror or str(exc))]
        ) from None
    return parse_accounts(text, source=str(p), base=p.parent)


def parse_accounts(
    text: str, *, source: str = "accounts.yaml", base: Path | None = None
) -> AccountsConfig:
    """:func:`load_accounts` on the file's text (``source`` names it in errors; ``base``: the
    folder its relative paths start from, default the working directory)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        what = getattr(exc, "problem", None) or str(exc)
        raise AccountsConfigError(source, [ConfigProblem("(yaml)", str(what), line)]) from None
    lines: dict[tuple[str, ...], int] = {}
    problems: list[ConfigProblem] = []
    if root is not None:
        _walk(root, (), lines, problems)
    if problems:
        raise AccountsConfigError(source, problems)
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise AccountsConfigError(source, [ConfigProblem("(file)", "must be a mapping")])
    try:
        parsed = AccountsFile.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(str(x) for x in err["loc"])
            # dict[str, AccountEntry] etc. add no model-name segments; a Literal's adds none
            problems.append(ConfigProblem(".".join(loc), _message(err), _line_of(lines, loc)))
        raise AccountsConfigError(source, problems) from None
    return _resolve(parsed, source, lines, base or Path())


def _message(err: Any) -> str:
    msg = str(err["msg"])
    if err["type"] == "extra_forbidden":
        return "unknown key"
    if err["type"] == "missing":
        return "required"
    return msg.removeprefix("Value error, ")


def _walk(
    node: yaml.Node,
    path: tuple[str, ...],
    lines: dict[tuple[str, ...], int],
    problems: list[ConfigProblem],
) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                problems.append(
                    ConfigProblem(
                        ".".join((*path, key)), "duplicate key", key_node.start_mark.line + 1
                    )
                )
            seen.add(key)
            _walk(value_node, (*path, key), lines, problems)
            lines[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, str(i)), lines, problems)


def _line_of(lines: Mapping[tuple[str, ...], int], loc: tuple[str, ...]) -> int | None:
    for n in range(len(loc), -1, -1):
        if loc[:n] in lines:
            return lines[loc[:n]]
    return None


def _resolve(
    parsed: AccountsFile, source: str, lines: Mapping[tuple[str, ...], int], base: Path
) -> AccountsConfig:
    problems: list[ConfigProblem] = []

    def problem(loc: Iterable[str], message: str) -> None:
        key = tuple(loc)
        problems.append(ConfigProblem(".".join(key), message, _line_of(lines, key)))

    venues = dict(DEFAULT_VENUES)
    for venue, overrides in parsed.venues.items():
        if venue not in DEFAULT_VENUES:
            problem(("venues", venue), f"unknown venue (known: {', '.join(DEFAULT_VENUES)})")
            continue
        try:
            merged = {**DEFAULT_VENUES[venue].model_dump(), **(overrides or {})}
            venues[venue] = VenueEndpoints.model_validate(merged)
        except ValidationError as exc:
            for err in exc.errors():
                loc = ("venues", venue, *(str(x) for x in err["loc"]))
                problem(loc, _message(err))

    rules = parsed.account_routing.balance_rules
    accounts: list[VenueAccountConfig] = []
    paper: list[VenueAccountConfig] = []
    umbrellas: dict[str, UmbrellaAccount] = {}
    ids: dict[str, tuple[str, ...]] = {}
    claimed: dict[str, tuple[str, str]] = {}
    for exchange, named in parsed.accounts.items():
        where_ex = ("accounts", exchange)
        if not _EXCHANGE.match(exchange):
            problem(where_ex, "an exchange name is lowercase letters and digits")
            continue
        if not any(ex == exchange for ex, _ in MARKET_VENUES):
            known = sorted({ex for ex, _ in MARKET_VENUES})
            problem(where_ex, f"no venue trades this exchange (known: {', '.join(known)})")
            continue
        for name, entry in named.items():
            where = (*where_ex, name)
            if not _NAME.match(name):
                problem(where, "an account name is lowercase letters, digits and '_'")
                continue
            markets = [m for m in MARKETS if getattr(entry, f"{m}_enabled")]
            if not markets:
                problem(where, "enables no market (set spot_enabled or futures_enabled)")
            if entry.type == "main" and entry.parent is not None:
                problem((*where, "parent"), "a main account has no parent")
            parent_entry: AccountEntry | None = None
            if entry.type == "sub":
                if entry.parent is None:
                    problem((*where, "parent"), "required for a sub account")
                elif entry.parent not in named:
                    problem((*where, "parent"), f"no account {entry.parent!r} on {exchange}")
                elif named[entry.parent].type != "main":
                    problem((*where, "parent"), f"{entry.parent!r} is not a main account")
                else:
                    parent_entry = named[entry.parent]
            if entry.max_leverage is not None and not entry.futures_enabled:
                problem((*where, "max_leverage"), "applies to futures only (futures_enabled)")
            if entry.position_mode != "one_way" and not entry.futures_enabled:
                problem((*where, "position_mode"), "applies to futures only (futures_enabled)")
            if entry.paper_balances and entry.mode != "paper":
                problem((*where, "paper_balances"), "applies to paper accounts only (mode: paper)")
            if entry.mode == "paper" and entry.api_key_vault_path is not None:
                problem((*where, "api_key_vault_path"), "a paper account has no key")
            if entry.symbols and entry.mode != "paper":
                problem((*where, "symbols"), "applies to paper accounts only (mode: paper)")
            feed = _feed_of(entry, where, base, problem)
            cap, bal = rules.max_sub_balance, entry.max_balance_usdt
            if entry.type == "sub" and cap is not None and bal is not None and bal > cap:
                problem(
                    (*where, "max_balance_usdt"),
                    f"{bal} is above account_routing.balance_rules.max_sub_balance {cap}",
                )
            if entry.strategy is not None:
                other = claimed.get(entry.strategy)
                routed = parsed.account_routing.strategies.get(entry.strategy)
                if other is not None and other[0] == exchange:
                    problem(
                        (*where, "strategy"),
                        f"{entry.strategy!r} is also the strategy of {other[1]}",
                    )
                elif routed is not None and name not in (
                    [routed] if isinstance(routed, str) else routed
                ):
                    problem(
                        (*where, "strategy"),
                        f"{entry.strategy!r} is routed to {routed} in account_routing.strategies",
                    )
                claimed.setdefault(entry.strategy, (exchange, name))
            for market in markets:
                account_id = f"{exchange}_{market}_{name}"
                parent_id: str | None = None
                if parent_entry is not None and entry.parent is not None:
                    if getattr(parent_entry, f"{market}_enabled"):
                        parent_id = f"{exchange}_{market}_{entry.parent}"
                    else:
                        parent_id = f"{exchange}_{entry.parent}"
                        umbrellas.setdefault(
                            parent_id, UmbrellaAccount(parent_id, exchange, entry.parent)
                        )
                if entry.api_key_vault_path is not None:
                    ref = CredentialRef(
                        "vault", "exchanges/" + entry.api_key_vault_path.replace("{market}", market)
                    )
                else:
                    ref = CredentialRef("file", account_id)
                venue = real_venue = MARKET_VENUES[(exchange, market)]
                if entry.mode == "paper":
                    venue = f"paper-{real_venue}"
                if account_id in ids:
                    problem(
                        where,
                        f"Atlas account id {account_id} is also made by {'.'.join(ids[account_id])}",
                    )
                ids[account_id] = where
                (paper if entry.mode == "paper" else accounts).append(
                    VenueAccountConfig(
                        account_id=account_id,
                        parent_id=parent_id,
                        venue=venue,
                        exchange=exchange,
                        market=market,
                        name=name,
                        type=entry.type,
                        strategy=entry.strategy,
                        credentials=ref,
                        endpoints=venues[real_venue],
                        max_balance_usdt=entry.max_balance_usdt,
                        max_leverage=entry.max_leverage if market == "futures" else None,
                        max_position_usdt=entry.max_position_usdt,
                        position_mode=entry.position_mode,
                        mode=entry.mode,
                        real_venue=real_venue,
                        paper_balances=dict(entry.paper_balances),
                        symbols=tuple(entry.symbols),
                        feed=feed,
                        feed_speed=1.0 if entry.feed_speed is None else entry.feed_speed,
                        feed_loop=True if entry.feed_loop is None else entry.feed_loop,
                        email=entry.email,
                        uid=entry.uid,
                    )
                )
    _same_feed(paper, ids, problem)
    for umbrella in umbrellas.values():
        if umbrella.account_id in ids:
            problem(
                ids[umbrella.account_id],
                f"Atlas account id {umbrella.account_id} is also the umbrella of "
                f"{umbrella.exchange} account {umbrella.name}",
            )

    routing = parsed.account_routing
    names = {name for named in parsed.accounts.values() for name in named}
    if routing.default not in names:
        problem(("account_routing", "default"), f"no account {routing.default!r}")
    for strategy, target in routing.strategies.items():
        targets = [target] if isinstance(target, str) else target
        where_s = ("account_routing", "strategies", strategy)
        if not targets:
            problem(where_s, "names no account")
        for i, name in enumerate(targets):
            if name not in names:
                problem(
                    where_s if isinstance(target, str) else (*where_s, str(i)),
                    f"no account {name!r}",
                )
            elif targets.index(name) != i:
                problem((*where_s, str(i)), f"{name!r} is named twice")
    failover = _failover(parsed.failover, accounts + paper, problem)
    if problems:
        raise AccountsConfigError(source, problems)
    entries = {ex: dict(named) for ex, named in parsed.accounts.items()}
    return AccountsConfig(
        tuple(accounts),
        tuple(umbrellas.values()),
        routing,
        venues,
        entries,
        tuple(paper),
        failover,
        parsed.failover.min_health,
        parsed.failover.check_every_s,
        parsed.fees,
    )
