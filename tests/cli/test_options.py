"""The shared options (``atlas_oms.cli.options``): numbers through ``parse_decimal``, enum
choices, ``KEY=VALUE`` pairs, scopes."""

from __future__ import annotations

import argparse
from decimal import Decimal

import pytest

from atlas_oms.cli.options import (
    UsageError,
    by,
    choice,
    convert_fields,
    decimal_arg,
    decimal_text,
    parse_pairs,
    scope_name,
    scope_of,
)
from atlas_oms.model.enums import Side
from atlas_oms.model.risk import BreakerConfig


@pytest.mark.parametrize(
    ("text", "value"),
    [("1.50", Decimal("1.50")), ("-3", Decimal(-3)), ("1e3", Decimal("1E+3")), (" 2 ", Decimal(2))],
)
def test_a_decimal_argument_is_exact(text: str, value: Decimal) -> None:
    parsed = decimal_arg(text)
    assert parsed == value and str(parsed) == str(value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lots", "not a number: 'lots'"),
        ("1,5", "not a number: '1,5'"),
        ("", "not a number: ''"),
        ("nan", "not a finite number: 'nan'"),
        ("-Infinity", "not a finite number: '-Infinity'"),
        ("sNaN", "not a finite number: 'sNaN'"),
    ],
)
def test_a_bad_decimal_argument_is_refused_in_words(text: str, message: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        decimal_arg(text)
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        decimal_text(text)


def test_a_decimal_text_is_sent_as_typed() -> None:
    assert decimal_text("0.10") == "0.10"


def test_a_choice_takes_any_case() -> None:
    side = choice(Side)
    assert side("buy") == "BUY"
    with pytest.raises(argparse.ArgumentTypeError, match="'hold': one of BUY, SELL"):
        side("hold")


def test_pairs_and_fields() -> None:
    assert parse_pairs(["a=1", " b = none ", "c=NULL"], "--set") == {"a": "1", "b": None, "c": None}
    with pytest.raises(UsageError, match="--set 'a': write KEY=VALUE"):
        parse_pairs(["a"], "--set")
    config = convert_fields({"cooldown_minutes": "5"}, BreakerConfig, "breaker setting")
    assert config.cooldown_minutes == 5
    with pytest.raises(UsageError, match="unknown breaker setting 'cool'"):
        convert_fields({"cool": "5"}, BreakerConfig, "breaker setting")


def test_scopes() -> None:
    assert scope_of(argparse.Namespace(scope="global", scope_id="")) == ("global", "")
    assert scope_of(argparse.Namespace(scope="account", scope_id="bob")) == ("account", "bob")
    with pytest.raises(UsageError, match="the account scope needs an id: account ID"):
        scope_of(argparse.Namespace(scope="account", scope_id=None))
    assert scope_name("global", "") == "global" and scope_name("account", "bob") == "account bob"
    assert by("ops", "") == "by ops" and by("ops", "drill") == "by ops: drill"
