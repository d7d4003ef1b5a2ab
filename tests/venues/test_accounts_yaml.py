"""``accounts.yaml``: seed 002's example resolves to the documented Atlas accounts and routing;
every mistake is refused naming the file, the line and the key."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from atlas_oms.venues.accounts import (
    DEFAULT_VENUES,
    AccountsConfigError,
    CredentialRef,
    RoutingError,
    load_accounts,
    parse_accounts,
)

SEED = Path(__file__).resolve().parents[2] / "examples" / "accounts.yaml"

SMALL = """\
accounts:
  binance:
    main:
      type: main
      spot_enabled: true
      futures_enabled: true
    sub_a:
      type: sub
      parent: main
      futures_enabled: true
      strategy: alpha
      max_leverage: 5
account_routing:
  default: main
"""


def refused(text: str) -> AccountsConfigError:
    with pytest.raises(AccountsConfigError) as info:
        parse_accounts(text, source="conf/accounts.yaml")
    return info.value


def test_seed_002_example_resolves_to_one_atlas_account_per_enabled_market() -> None:
    config = load_accounts(SEED)
    got = {a.account_id: (a.parent_id, a.venue, a.market, a.name) for a in config.accounts}
    assert got == {
        "binance_spot_main": (None, "binance", "spot", "main"),
        "binance_spot_sub_spot_arb": ("binance_spot_main", "binance", "spot", "sub_spot_arb"),
        "binance_futures_sub_futures_trend": (
            "binance_main",
            "binanceusdm",
            "futures",
            "sub_futures_trend",
        ),
        "binance_spot_sub_market_making": (
            "binance_spot_main",
            "binance",
            "spot",
            "sub_market_making",
        ),
    }
    # main trades no futures: the futures sub hangs under an umbrella account without a venue
    assert [u.account_id for u in config.umbrellas] == ["binance_main"]
    opened = [account for account, _ in config.opening_order()]
    assert opened.index("binance_main") < opened.index("binance_futures_sub_futures_trend")
    assert opened.index("binance_spot_main") < opened.index("binance_spot_sub_spot_arb")


def test_seed_002_keys_limits_and_endpoints() -> None:
    config = load_accounts(SEED)
    trend = config.account("binance_futures_sub_futures_trend")
    assert trend.credentials == CredentialRef("vault", "exchanges/binance_sub_futures_trend")
    assert trend.max_leverage == Decimal(10)
    assert trend.max_position_usdt == Decimal(50000)
    assert trend.risk_limits is not None
    assert trend.risk_limits.max_position_notional == Decimal(50000)
    assert trend.strategy == "trend_following"
    assert trend.position_mode == "one_way"
    assert trend.endpoints.rest_url == "https://fapi.binance.com"
    assert trend.endpoints.ws_url == "wss://fstream.binance.com/ws"
    arb = config.account("binance_spot_sub_spot_arb")
    assert arb.max_balance_usdt == Decimal(10000)
    assert arb.risk_limits is None  # max_balance_usdt has no RiskLimits field
    assert arb.endpoints.ws_api_url == "wss://ws-api.binance.com:443/ws-api/v3"
    rules = config.routing.balance_rules
    assert (rules.min_main_balance, rules.max_sub_balance) == (Decimal(100000), Decimal(50000))
    assert config.routing.rebalance.enabled and config.routing.rebalance.time == "00:00 UTC"


def test_seed_002_routing_table() -> None:
    config = load_accounts(SEED)
    assert config.route("arbitrage", "spot") == "binance_spot_sub_spot_arb"
    assert config.route("market_making", "spot") == "binance_spot_sub_market_making"
    assert config.route("trend_following", "futures") == "binance_futures_sub_futures_trend"
    assert config.route(None, "spot") == "binance_spot_main"


def test_routing_refuses_an_unknown_strategy_and_a_disabled_market() -> None:
    config = load_accounts(SEED)
    with pytest.raises(RoutingError) as info:
        config.route("scalping", "spot")
    assert info.value.reason == "UNKNOWN_STRATEGY" and "scalping" in str(info.value)
    with pytest.raises(RoutingError) as info:
        config.route("trend_following", "spot")
    assert info.value.reason == "MARKET_DISABLED"
    assert "sub_futures_trend" in str(info.value) and "spot_enabled" in str(info.value)
    with pytest.raises(RoutingError) as info:
        config.route(None, "futures")  # the default account trades spot only
    assert info.value.reason == "MARKET_DISABLED"


def test_an_accounts_own_strategy_routes_without_a_routing_entry() -> None:
    config = parse_accounts(SMALL)
    assert config.route("alpha", "futures") == "binance_futures_sub_a"
    # main trades both markets: the sub's parent is main's account of the same market
    assert config.account("binance_futures_sub_a").parent_id == "binance_futures_main"
    assert config.umbrellas == ()


def test_file_store_is_the_default_key_source_and_market_placeholder_for_vault() -> None:
    config = parse_accounts(SMALL)
    assert config.account("binance_spot_main").credentials == CredentialRef(
        "file", "binance_spot_main"
    )
    text = SMALL.replace(
        "type: main\n", "type: main\n      api_key_vault_path: binance_{market}_main\n", 1
    )
    config = parse_accounts(text)
    assert config.account("binance_futures_main").credentials.path == (
        "exchanges/binance_futures_main"
    )


def test_venues_section_overrides_base_urls_field_by_field() -> None:
    text = SMALL + (
        "venues:\n  binanceusdm:\n    rest_url: http://127.0.0.1:9000\n"
        "    ws_url: ws://127.0.0.1:9000/ws\n    recv_window_ms: 3000\n"
    )
    config = parse_accounts(text)
    ep = config.account("binance_futures_main").endpoints
    assert (ep.rest_url, ep.ws_url, ep.recv_window_ms) == (
        "http://127.0.0.1:9000",
        "ws://127.0.0.1:9000/ws",
        3000,
    )
    assert ep.timeout_ms == DEFAULT_VENUES["binanceusdm"].timeout_ms
    assert config.account("binance_spot_main").endpoints == DEFAULT_VENUES["binance"]


@pytest.mark.parametrize(
    ("edit", "key", "line", "words"),
    [
        (("parent: main", "parent: mian"), "accounts.binance.sub_a.parent", 9, "no account 'mian'"),
        (("type: sub", "type: side"), "accounts.binance.sub_a.type", 8, "'main' or 'sub'"),
        (("max_leverage: 5", "max_leverage: five"), "accounts.binance.sub_a.max_leverage", 12,
         "not a number"),
        (("max_leverage: 5", "max_leverage: -5"), "accounts.binance.sub_a.max_leverage", 12,
         "zero or more"),
        (("strategy: alpha", "strategy: alpha\n      colour: red"), "accounts.binance.sub_a.colour",
         12, "unknown key"),
        (("default: main", "default: nobody"), "account_routing.default", 14, "no account"),
        (("futures_enabled: true\n    sub_a", "futures_enabled: yes please\n    sub_a"),
         "accounts.binance.main.futures_enabled", 6, "boolean"),
        (("      parent: main\n", ""), "accounts.binance.sub_a.parent", 7, "required"),
        (("spot_enabled: true\n      futures_enabled: true", "spot_enabled: false"),
         "accounts.binance.main", 3, "enables no market"),
    ],
)  # fmt: skip
def test_each_validation_error_names_the_file_the_line_and_the_key(
    edit: tuple[str, str], key: str, line: int, words: str
) -> None:
    text = SMALL.replace(*edit, 1)
    assert text != SMALL
    error = refused(text)
    assert [p.key for p in error.problems] == [key], str(error)
    assert error.problems[0].line == line
    assert words in error.problems[0].message
    assert str(error).startswith(f"conf/accounts.yaml:{line}: {key}: ")


def test_a_parent_that_is_not_main_and_a_routing_target_that_does_not_exist() -> None:
    text = SMALL + "    sub_b:\n      type: sub\n      parent: sub_a\n      spot_enabled: true\n"
    text = text.replace("account_routing:\n  default: main\n", "")
    text += "account_routing:\n  default: main\n  strategies:\n    beta: ghost\n"
    error = refused(text)
    keys = {p.key: p.message for p in error.problems}
    assert keys == {
        "accounts.binance.sub_b.parent": "'sub_a' is not a main account",
        "account_routing.strategies.beta": "no account 'ghost'",
    }


def test_a_duplicate_key_is_refused_not_silently_overwritten() -> None:
    text = SMALL.replace(
        "    sub_a:", "    main:\n      type: main\n      spot_enabled: true\n    sub_a:"
    )
    error = refused(text)
    assert error.problems[0].key == "accounts.binance.main"
    assert error.problems[0].message == "duplicate key" and error.problems[0].line == 7


def test_two_accounts_making_one_atlas_id_are_refused() -> None:
    # the umbrella of main "futures_x" would be binance_futures_x, the futures account of "x"
    text = """\
accounts:
  binance:
    futures_x:
      type: main
      spot_enabled: true
    x:
      type: main
      futures_enabled: true
    y:
      type: sub
      parent: futures_x
      futures_enabled: true
account_routing:
  default: x
"""
    error = refused(text)
    assert any("binance_futures_x" in p.message for p in error.problems), str(error)


def test_other_mistakes_each_named() -> None:
    cases = {
        SMALL.replace("binance:", "kraken:", 1): "no venue trades this exchange",
        SMALL.replace("max_leverage: 5", "max_leverage: 5\n      spot_enabled: true").replace(
            "      futures_enabled: true\n      strategy", "      strategy"
        ): "futures only",
        SMALL + "venues:\n  kraken:\n    rest_url: https://x\n": "unknown venue",
        SMALL + "venues:\n  binance:\n    rest_url: ftp://x\n": "URL",
        SMALL.replace("default: main", "default: main\n  rebalance:\n    time: noon"): "00:00 UTC",
    }
    for text, words in cases.items():
        error = refused(text)
        assert words in str(error), str(error)


def test_a_sub_balance_above_the_balance_rule_is_refused() -> None:
    text = SMALL.replace("max_leverage: 5", "max_leverage: 5\n      max_balance_usdt: 60000")
    text += "  balance_rules:\n    max_sub_balance: 50000\n"
    error = refused(text)
    assert error.problems[0].key == "accounts.binance.sub_a.max_balance_usdt"


def test_a_yaml_syntax_error_and_a_missing_file_name_the_file(tmp_path: Path) -> None:
    error = refused("accounts: [\n")
    assert str(error).startswith("conf/accounts.yaml:")
    with pytest.raises(AccountsConfigError) as info:
        load_accounts(tmp_path / "nope.yaml")
    assert str(tmp_path / "nope.yaml") in str(info.value)
