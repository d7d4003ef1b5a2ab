"""``atlas order submit`` takes every SubmitOrder field a user gives, and sends each in the REST
body under the field's own name.

The first test fails when a field is added to ``SubmitOrder`` (and so to
``user_submit_fields()``) without an ``atlas order submit`` argument to give it.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import httpx
import pytest

from atlas_oms.cli import build_parser
from atlas_oms.cli.orders import SUBMIT_DESTS
from atlas_oms.model.commands import user_submit_fields

from .helpers import run_main

ORDER = {
    "order_id": 7,
    "account_id": "desk",
    "symbol": "BTC/USDT",
    "side": "SELL",
    "order_type": "TRAILING_STOP_LIMIT",
    "qty": "0.5",
    "price": None,
    "trigger_price": "60000",
    "cum_qty": "0",
    "avg_px": None,
    "status": "ACCEPTED",
    "reason": None,
    "client_order_id": None,
}


def subparser(parser: argparse.ArgumentParser, *path: str) -> argparse.ArgumentParser:
    """The parser of ``atlas PATH...`` (e.g. ``order submit``)."""
    for name in path:
        [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        parser = sub.choices[name]
    return parser


def test_every_user_field_of_submit_order_has_an_option() -> None:
    submit = subparser(build_parser(), "order", "submit")
    dests = {action.dest for action in submit._actions}
    missing = [f for f in user_submit_fields() if SUBMIT_DESTS.get(f, f) not in dests]
    assert not missing, f"atlas order submit has no argument for {missing}"


@pytest.fixture
def sent(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[list[dict[str, Any]], Any]:
    """Run ``atlas order submit`` against a fake server; return the bodies it received and the
    runner (its exit code, stdout and stderr)."""
    for name in ("ATLAS_URL", "ATLAS_KEY", "ATLAS_ACCOUNT"):
        monkeypatch.delenv(name, raising=False)
    bodies: list[dict[str, Any]] = []

    def server(request: httpx.Request) -> httpx.Response:
        assert (request.method, request.url.path) == ("POST", "/v1/orders")
        assert request.headers["X-API-Key"] == "ak_desk.secret"
        bodies.append(json.loads(request.content))
        return httpx.Response(201, json=ORDER)

    def run(*args: str) -> tuple[int, str, str]:
        argv = ["order", "submit", *args, "-a", "desk"]
        argv += ["--url", "http://atlas.test", "--key", "ak_desk.secret"]
        return run_main(argv, capsys, transport=httpx.MockTransport(server))

    return bodies, run


def test_the_new_options_reach_the_request_body(sent: tuple[list[dict[str, Any]], Any]) -> None:
    bodies, run = sent
    code, out, err = run(
        "BTC/USDT", "sell", "0.5",
        "--type", "trailing_stop_limit",
        "--trigger-price", "60000",
        "--trigger-type", "mark",
        "--trailing-offset", "0.50",
        "--trailing-offset-type", "percent",
        "--limit-offset", "25.5",
        "--tif", "gtd",
        "--expire-ts", "1767225600000000000",
        "--extended-hours",
        "--market-reason", "forced_close",
    )  # fmt: skip
    assert code == 0, err
    assert out.startswith("order #7 ACCEPTED\n")
    assert bodies == [
        {
            "account_id": "desk",
            "symbol": "BTC/USDT",
            "side": "SELL",
            "order_type": "TRAILING_STOP_LIMIT",
            "qty": "0.5",
            "trigger_price": "60000",
            "trigger_type": "MARK",
            "trailing_offset": "0.50",  # exactly as typed
            "trailing_offset_type": "PERCENT",
            "limit_offset": "25.5",
            "tif": "GTD",
            "expire_ts": 1767225600000000000,
            "extended_hours": True,
            "market_reason": "FORCED_CLOSE",
        }
    ]
    assert set(bodies[0]) <= set(user_submit_fields())


def test_options_not_given_are_not_sent(sent: tuple[list[dict[str, Any]], Any]) -> None:
    bodies, run = sent
    assert run("BTC/USDT", "buy", "0.1", "59000.50")[0] == 0
    assert bodies == [
        {
            "account_id": "desk",
            "symbol": "BTC/USDT",
            "side": "BUY",
            "order_type": "LIMIT",
            "qty": "0.1",
            "price": "59000.50",
        }
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--trailing-offset", "lots"], "not a number: 'lots'"),
        (["--limit-offset", "nan"], "not a finite number: 'nan'"),
        (["--trailing-offset-type", "ticks"], "'ticks': one of PRICE, PERCENT"),
        (["--trigger-type", "index"], "'index': one of LAST, MARK"),
        (["--expire-ts", "soon"], "invalid int value: 'soon'"),
    ],
)
def test_bad_values_are_refused_before_any_request(
    sent: tuple[list[dict[str, Any]], Any], args: list[str], message: str
) -> None:
    bodies, run = sent
    code, out, err = run("BTC/USDT", "sell", "0.5", *args)
    assert (code, out) == (2, "") and message in err
    assert bodies == []


def test_a_display_qty_makes_the_order_an_iceberg(sent: tuple[list[dict[str, Any]], Any]) -> None:
    bodies, run = sent
    code, _, err = run("BTC/USDT", "buy", "1", "59000", "--display-qty", "0.25")
    assert code == 0, err
    assert bodies[0]["display_qty"] == "0.25" and bodies[0]["order_type"] == "LIMIT"
    code, out, err = run("BTC/USDT", "buy", "1", "59000", "--display-qty", "some")
    assert (code, out) == (2, "") and "not a number: 'some'" in err
