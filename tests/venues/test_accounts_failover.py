"""accounts.yaml ``failover:``, ``symbol_suffix`` and a strategy's several accounts: parsed,
resolved, and every mistake named with its file, line and key."""

from __future__ import annotations

import pytest

from atlas_oms.runtime.gateway.failover import ANY, FailoverRule, Route
from atlas_oms.runtime.order_routing import failover_rules
from atlas_oms.venues.accounts import (
    AccountsConfigError,
    FailoverConfig,
    FailoverTarget,
    RoutingError,
    parse_accounts,
)

BASE = """\
accounts:
  binance:
    main: {type: main, spot_enabled: true, futures_enabled: true}
    sub_a: {type: sub, parent: main, spot_enabled: true}
    sub_b: {type: sub, parent: main, spot_enabled: true}
  bybit:
    main: {type: main, spot_enabled: true, futures_enabled: true}
account_routing:
  default: main
  strategies: {mm: [sub_a, sub_b], trend: main}
venues:
  bybit: {symbol_suffix: "@bybit"}
  bybitlinear: {symbol_suffix: "@bybit"}
"""

FAILOVER = """\
failover:
  min_health: 0.7
  check_every_s: 0.5
  rules:
    - account: binance_spot_main
      alternatives: [{account: bybit_spot_main}, {account: binance_spot_sub_a}]
    - account: binance_futures_main
      symbol: BTC/USDT:USDT
      alternatives: [{account: bybit_futures_main}]
"""


def refused(text: str) -> AccountsConfigError:
    with pytest.raises(AccountsConfigError) as info:
        parse_accounts(text, source="accounts.yaml")
    return info.value


def test_failover_rules_resolve_to_venue_accounts_with_symbols_mapped_by_venue() -> None:
    config = parse_accounts(BASE + FAILOVER)
    assert (config.min_health, config.failover_check_s) == (0.7, 0.5)
    assert config.failover == (
        FailoverConfig(
            "binance_spot_main",
            "binance",
            None,
            (
                FailoverTarget("bybit", "bybit_spot_main"),
                FailoverTarget("binance", "binance_spot_sub_a"),
            ),
        ),
        FailoverConfig(
            "binance_futures_main",
            "binanceusdm",
            "BTC/USDT:USDT",
            (FailoverTarget("bybitlinear", "bybit_futures_main"),),
        ),
    )
    # Binance USDⓈ-M BTC/USDT:USDT -> Bybit linear BTC/USDT:USDT, as Bybit is named in Atlas.
    assert failover_rules(config) == [
        FailoverRule(
            "binance_spot_main",
            ANY,
            (Route("bybit", "bybit_spot_main", ANY), Route("binance", "binance_spot_sub_a", ANY)),
        ),
        FailoverRule(
            "binance_futures_main",
            "BTC/USDT:USDT",
            (Route("bybitlinear", "bybit_futures_main", "BTC/USDT:USDT@bybit"),),
        ),
    ]


def test_without_a_failover_section_there_are_no_rules_and_the_default_threshold() -> None:
    config = parse_accounts(BASE)
    assert (config.failover, config.min_health) == ((), 0.5)


def test_a_strategy_of_several_accounts_lists_them_and_routes_to_the_first() -> None:
    config = parse_accounts(BASE)
    assert config.strategy_accounts("mm", "spot", "binance") == [
        "binance_spot_sub_a",
        "binance_spot_sub_b",
    ]
    assert config.route("mm", "spot") == "binance_spot_sub_a"
    # the single-name form still works
    assert config.strategy_accounts("trend", "futures", "binance") == ["binance_futures_main"]
    assert config.route("trend", "futures") == "binance_futures_main"
    with pytest.raises(RoutingError) as info:
        config.strategy_accounts("mm", "futures", "binance")  # neither sub trades futures
    assert info.value.reason == "UNKNOWN_STRATEGY"


@pytest.mark.parametrize(
    ("rules", "key", "line", "words"),
    [
        (
            "    - account: nobody\n      alternatives: [{account: bybit_spot_main}]\n",
            "failover.rules.0.account",
            16,
            "no Atlas account 'nobody'",
        ),
        (
            "    - account: binance_spot_main\n      alternatives: [{account: ghost}]\n",
            "failover.rules.0.alternatives.0.account",
            17,
            "no Atlas account 'ghost'",
        ),
        (
            "    - account: binance_spot_main\n      alternatives: [{account: binance_spot_main}]\n",
            "failover.rules.0.alternatives.0.account",
            17,
            "the primary account itself",
        ),
        (
            "    - account: binance_spot_main\n      alternatives: [{account: bybit_futures_main}]\n",
            "failover.rules.0.alternatives.0.account",
            17,
            "name the symbol",
        ),
        (
            "    - account: binance_spot_main\n      alternatives: []\n",
            "failover.rules.0.alternatives",
            17,
            "names no alternative",
        ),
        (
            "    - account: binance_spot_main\n      alternatives: [{acount: bybit_spot_main}]\n",
            "failover.rules.0.alternatives.0.acount",
            17,
            "unknown key",
        ),
    ],
)
def test_each_failover_mistake_names_the_file_the_line_and_the_key(
    rules: str, key: str, line: int, words: str
) -> None:
    error = refused(BASE + "failover:\n  rules:\n" + rules)
    (problem,) = [p for p in error.problems if p.key == key]
    assert problem.line == line, str(error)
    assert words in problem.message
    assert f"accounts.yaml:{line}: {key}: " in str(error)


def test_other_failover_and_routing_mistakes_each_named() -> None:
    error = refused(BASE + "failover:\n  min_health: 2\n")
    assert [p.key for p in error.problems] == ["failover.min_health"]
    error = refused(BASE.replace("[sub_a, sub_b]", "[sub_a, nope, sub_a]"))
    assert {p.key: p.message for p in error.problems} == {
        "account_routing.strategies.mm.1": "no account 'nope'",
        "account_routing.strategies.mm.2": "'sub_a' is named twice",
    }
    error = refused(
        BASE.replace(
            '{symbol_suffix: "@bybit"}\n  bybitlinear', '{symbol_suffix: "x"}\n  bybitlinear'
        )
    )
    assert [p.key for p in error.problems] == ["venues.bybit.symbol_suffix"]
