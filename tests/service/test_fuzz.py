"""Fuzzing the REST API from its own OpenAPI document (schemathesis strategies, run in-process).

Every operation of ``/openapi.json`` gets requests that fit the schema and requests that do not,
sent with one of two trader keys (alice: alice and her sub-account alice-algo; bob: bob). The
account ids and order ids in the requests are often replaced by real ones, the other trader's
included, so that the cross-account paths are walked rather than only random strings. For every
answer:

* no 5xx (the test client re-raises the app's exceptions, so a crash fails with its traceback);
* an error is a problem document (``application/problem+json`` with a ``reason``);
* nothing of the other trader's comes back: no object with their ``account_id``, no id of one of
  their orders (``order_id``, or inside a venue, trade or execution id), and no 2xx body that names
  their accounts at all.

Examples are limited so that the file runs in well under 30 s on 2 cores.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode

from atlas_oms import Instrument, Node
from atlas_oms.service.app import create_app
from atlas_oms.service.keys import KeyStore
from atlas_oms.service.settings import ServiceSettings

SPOT = "BTC/USDT"
ACCOUNTS = {"alice": ("alice", "alice-algo"), "bob": ("bob",)}
OTHER = {"alice": "bob", "bob": "alice"}
#: An id inside a venue, trade or execution id (``sim-12``, ``sim-12x7-M``).
VENUE_IDS = re.compile(r"sim-(\d+)(?:x(\d+))?")


def world(node: Node) -> None:
    """Alice and bob trade with each other: resting orders, fills, positions on both sides."""
    node.add_instrument(Instrument.spot(SPOT, tick_size="0.01", lot_size="0.0001"))
    node.open_account("alice")
    node.open_account("alice-algo", parent_id="alice")
    node.open_account("bob")
    for account in ("alice", "alice-algo", "bob"):
        node.deposit(account, "USDT", "1000000")
        node.deposit(account, "BTC", "100")
    node.update_prices(SPOT, last="30000")
    node.sell("bob", SPOT, "1", "30010")
    node.buy("alice", SPOT, "0.5", "30010")  # alice's fill against bob's resting order
    node.sell("alice-algo", SPOT, "1", "30020")
    node.buy("bob", SPOT, "0.25", "30020")  # bob's fill against alice-algo's
    node.buy("alice", SPOT, "1", "29990")
    node.buy("bob", SPOT, "1", "29980")


def _schema_app() -> Any:
    keys = KeyStore()
    return create_app(ServiceSettings(), node=Node.in_memory(), keys=keys)


# The document is the app's own (the same for every app); its routes don't need the service.
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", _schema_app())
CASES = st.one_of(
    SCHEMA.as_strategy(GenerationMode.POSITIVE), SCHEMA.as_strategy(GenerationMode.NEGATIVE)
)


class Api:
    def __init__(self, client: TestClient, node: Node, tokens: dict[str, str]) -> None:
        self.client = client
        self.node = node
        self.tokens = tokens

    def order_ids(self, who: str) -> set[int]:
        mine = ACCOUNTS[who]
        return {i for i, o in self.node.engine.state.orders.items() if o.account_id in mine}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    keys = KeyStore()
    tokens = {
        "alice": keys.issue(("trader",), ("alice",)).token,
        "bob": keys.issue(("trader",), ("bob",)).token,
    }
    node = Node.in_memory()
    settings_ = ServiceSettings(data_dir=tmp, rate_limit_per_s=1_000_000)
    app = create_app(settings_, node=node, keys=keys, setup=world)
    with TestClient(app) as client:
        yield Api(client, node, tokens)


def _ids_in(value: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair in a JSON value, at any depth; list items under the key ""."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield k, v
            yield from _ids_in(v)
    elif isinstance(value, list):
        for v in value:
            yield "", v
            yield from _ids_in(v)


def leaks(
    body: Any, text: str, ok: bool, other_accounts: tuple[str, ...], other_orders: set[int]
) -> list[str]:
    found = []
    for key, value in _ids_in(body):
        if key == "account_id" and value in other_accounts:
            found.append(f"account_id {value}")
        if key.endswith("order_id") and isinstance(value, int) and value in other_orders:
            found.append(f"{key} {value}")
        if isinstance(value, str):
            for match in VENUE_IDS.finditer(value):
                ids = {int(g) for g in match.groups() if g is not None}
                if ids & other_orders:
                    found.append(f"{key} {value!r} holds an order id of theirs")
    if ok:
        found += [f"names {a}" for a in other_accounts if a in text]
    return found


def _override(case: Any, who: str, data: st.DataObject, api: Api) -> None:
    """Point the case at real accounts and orders: mostly the key's own (so that requests get
    through to the data), often the other trader's, sometimes none at all."""
    mine, theirs = ACCOUNTS[who], ACCOUNTS[OTHER[who]]
    accounts = st.one_of(
        st.sampled_from(mine), st.sampled_from(theirs), st.just("nobody"), st.none()
    )
    # Not drawn from the live state (Hypothesis replays need the same choices every time): the
    # set-up's six orders, and ids the fuzzing's own orders take.
    orders = st.one_of(st.integers(1, 6), st.integers(1, 64))

    def pick(current: Any, choices: st.SearchStrategy[Any]) -> Any:
        chosen = data.draw(choices)
        return current if chosen is None else chosen

    if isinstance(case.query, dict) and "account_id" in case.query:
        case.query["account_id"] = pick(case.query["account_id"], accounts)
    if isinstance(case.path_parameters, dict):
        if "account_id" in case.path_parameters:
            case.path_parameters["account_id"] = pick(case.path_parameters["account_id"], accounts)
        if "order_id" in case.path_parameters:
            choice = st.one_of(orders, st.none())
            case.path_parameters["order_id"] = pick(case.path_parameters["order_id"], choice)
    body = case.body
    if isinstance(body, dict):
        batch = body.get("orders")
        targets = (
            [body] + [o for o in batch if isinstance(o, dict)]
            if isinstance(batch, list)
            else [body]
        )
        for target in targets:
            if "account_id" in target:
                target["account_id"] = pick(target["account_id"], accounts)
            if "symbol" in target:
                target["symbol"] = pick(target["symbol"], st.sampled_from([SPOT, None]))


def _send(api: Api, case: Any, token: str) -> Any:
    kw = case.as_transport_kwargs()
    headers = {k: v for k, v in (kw.get("headers") or {}).items() if k.lower() != "connection"}
    headers["X-API-Key"] = token
    request: dict[str, Any] = {"params": kw.get("params"), "headers": headers}
    if "json" in kw:
        request["json"] = kw["json"]
    elif kw.get("data") is not None:
        data = kw["data"]
        request["content" if isinstance(data, (bytes, str)) else "data"] = data
    return api.client.request(kw["method"], kw["url"], **request)


@settings(
    max_examples=int(__import__("os").environ.get("FUZZ_EXAMPLES", "350")),
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(case=CASES, who=st.sampled_from(["alice", "bob"]), data=st.data())
def test_no_server_error_and_no_cross_account_leak(
    api: Api, case: Any, who: str, data: st.DataObject
) -> None:
    _override(case, who, data, api)
    r = _send(api, case, api.tokens[who])
    where = f"{case.operation.label} as {who}: {r.status_code} {r.text[:300]}"
    assert r.status_code < 500, where
    other = OTHER[who]
    if r.status_code >= 400:
        assert r.headers["content-type"] == "application/problem+json", where
        assert isinstance(r.json().get("reason"), str), where
    try:
        body = r.json()
    except json.JSONDecodeError:
        body = None  # /metrics: text
    found = leaks(body, r.text, r.is_success, ACCOUNTS[other], api.order_ids(other))
    assert not found, f"{where}\nleaks {other}'s data: {found}"


def test_every_read_of_a_keys_own_accounts_holds_nothing_of_the_other_traders(api: Api) -> None:
    """Not left to chance: every GET of the document, for each key and each of its accounts
    (and each order id there is), checked as the fuzzing checks."""
    reads = [op for op in SCHEMA.get_all_operations() if op.ok().method.upper() == "GET"]
    assert len(reads) >= 10
    seen = 0
    for who, accounts in ACCOUNTS.items():
        other = OTHER[who]
        for op in (r.ok() for r in reads):
            names = {p.name for p in op.iter_parameters()}
            for account in accounts:
                for order_id in (
                    sorted(api.node.engine.state.orders) if "order_id" in names else [0]
                ):
                    path = op.path.replace("{account_id}", account).replace(
                        "{order_id}", str(order_id)
                    )
                    path = path.replace("{symbol}", SPOT).replace("{venue}", "sim")
                    params = {"account_id": account} if "account_id" in names else {}
                    if "{account_id}" in op.path:
                        params = {}
                    r = api.client.get(path, params=params, headers={"X-API-Key": api.tokens[who]})
                    assert r.status_code < 500, (path, r.text)
                    body = r.json() if "json" in r.headers["content-type"] else None
                    found = leaks(body, r.text, r.is_success, ACCOUNTS[other], api.order_ids(other))
                    assert not found, (who, path, found)
                    seen += r.is_success
    assert seen > 20
