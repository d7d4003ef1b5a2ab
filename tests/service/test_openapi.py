"""The OpenAPI document (service/openapi.py) says what the API does: every route's typed answers,
its security and every error status it can answer, each a problem document."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from openapi_spec_validator import validate

from atlas_oms import Instrument, Node
from atlas_oms.service.app import create_app, principal
from atlas_oms.service.keys import KeyStore
from atlas_oms.service.settings import ServiceSettings

SPOT = "BTC/USDT"
ERRORS = {400, 401, 403, 404, 409, 422, 429, 503}
#: Routes anyone may call: health, metrics, the documents.
PUBLIC = {"/health", "/metrics", "/openapi.json", "/docs", "/redoc"}


def world(node: Node) -> None:
    node.add_instrument(Instrument.spot(SPOT, tick_size="0.01", lot_size="0.0001"))
    for account in ("alice", "bob"):
        node.open_account(account)
        node.deposit(account, "USDT", "100000")
        node.deposit(account, "BTC", "10")
    node.update_prices(SPOT, last="30000")


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str], dict[str, Any]]]:
    keys = KeyStore(tmp_path / "keys.json")
    tokens = {
        "alice": keys.issue(("trader",), ("alice",)).token,
        "risk": keys.issue(("risk",)).token,
    }
    settings = ServiceSettings(data_dir=tmp_path, rate_limit_per_s=1000)
    app = create_app(settings, node=Node.in_memory(), keys=keys, setup=world)
    with TestClient(app) as client:
        yield client, tokens, client.get("/openapi.json").json()


def routes(client: TestClient) -> Iterator[tuple[APIRoute, str]]:
    for route in client.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, APIRoute) and route.include_in_schema:
            for method in sorted(route.methods):
                yield route, method


def secured(route: APIRoute) -> bool:
    stack = [route.dependant]
    while stack:
        d = stack.pop()
        if d.call is principal:
            return True
        stack.extend(d.dependencies)
    return False


def statuses_in_code(route: APIRoute) -> set[int]:
    """Error statuses the endpoint's own code can answer: a role check (403), an account or
    order check (404), and every ``Problem(<status>, …)`` it raises."""
    source = inspect.getsource(route.endpoint)
    found = {int(s) for s in re.findall(r"Problem\(\s*(\d{3})", source)}
    if "_role(" in source:
        found.add(403)
    if "require_account(" in source or "_owned(" in source:
        found.add(404)
    return found


def test_every_route_has_a_typed_success_answer_its_security_and_every_error_status(
    env: tuple[TestClient, dict[str, str], dict[str, Any]],
) -> None:
    client, _, doc = env
    missing: list[str] = []
    walked = 0
    for route, method in routes(client):
        walked += 1
        name = f"{method} {route.path_format}"
        op = doc["paths"].get(route.path_format, {}).get(method.lower())
        if op is None:
            missing.append(f"{name}: not in the document")
            continue
        responses = op["responses"]
        ok = {int(s): r for s, r in responses.items() if 200 <= int(s) < 300}
        typed = [
            media
            for r in ok.values()
            for media, body in r.get("content", {}).items()
            if body.get("schema") not in (None, {}, {"type": "string"})
            or not media.startswith("application/json")
        ]
        if not typed:
            missing.append(f"{name}: no typed 2xx answer")
        if secured(route):
            if not op.get("security") or route.path_format in PUBLIC:
                missing.append(f"{name}: no security requirement")
        elif route.path_format not in PUBLIC:
            missing.append(f"{name}: not authenticated and not listed as public")
        errors = {int(s) for s in responses if int(s) >= 400}
        want = statuses_in_code(route) | {503}
        if secured(route):
            want |= {401, 429}
        if op.get("parameters") or op.get("requestBody"):
            want.add(400)
        if want - errors:
            missing.append(f"{name}: error statuses {sorted(want - errors)} undocumented")
        for status in errors:
            content = responses[str(status)].get("content", {})
            if list(content) != ["application/problem+json"]:
                missing.append(f"{name}: {status} is not a problem document")
            elif status not in ERRORS:
                missing.append(f"{name}: {status} is not a status this API answers")
    assert walked > 30
    assert not missing, "\n".join(missing)


def test_validation_errors_are_documented_as_400_never_422(
    env: tuple[TestClient, dict[str, str], dict[str, Any]],
) -> None:
    client, tokens, doc = env
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    problem = doc["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "reason"}
    op = doc["paths"]["/v1/orders"]["post"]
    assert "INVALID_FIELD" in op["responses"]["400"]["description"]
    r = client.post(
        "/v1/orders", json={"account_id": "alice"}, headers={"X-API-Key": tokens["alice"]}
    )
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    # A denied order is the other 422: a problem document carrying the order.
    denied = op["responses"]["422"]["content"]["application/problem+json"]["schema"]
    assert denied == {"$ref": "#/components/schemas/DeniedOrder"}


def test_security_schemes_are_the_key_headers_and_the_optional_signature(
    env: tuple[TestClient, dict[str, str], dict[str, Any]],
) -> None:
    _, _, doc = env
    schemes = doc["components"]["securitySchemes"]
    assert schemes["ApiKey"] == schemes["ApiKey"] | {"type": "apiKey", "in": "header"}
    assert schemes["ApiKey"]["name"] == "X-API-Key"
    assert schemes["Bearer"]["type"] == "http" and schemes["Bearer"]["scheme"] == "bearer"
    assert schemes["Signature"]["name"] == "X-Atlas-Signature"
    assert schemes["SignatureTimestamp"]["name"] == "X-Atlas-Timestamp"
    security = doc["paths"]["/v1/orders"]["post"]["security"]
    assert {"ApiKey": []} in security and {"Bearer": []} in security
    assert {"ApiKey": [], "Signature": [], "SignatureTimestamp": []} in security
    assert "security" not in doc["paths"]["/health"]["get"]


def test_the_document_is_valid_openapi(
    env: tuple[TestClient, dict[str, str], dict[str, Any]],
) -> None:
    _, _, doc = env
    validate(doc)  # raises on any error


def test_real_answers_match_their_documented_schemas(
    env: tuple[TestClient, dict[str, str], dict[str, Any]],
) -> None:
    client, tokens, doc = env
    alice = {"X-API-Key": tokens["alice"]}
    body = {"account_id": "alice", "symbol": SPOT, "side": "BUY", "qty": "0.5", "price": "29000"}
    placed = client.post("/v1/orders", json=body, headers=alice)
    order_id = placed.json()["order_id"]
    a = {"account_id": "alice"}
    calls = [
        ("post", "/v1/orders", placed),
        (
            "get",
            "/v1/orders/{order_id}",
            client.get(f"/v1/orders/{order_id}", params=a, headers=alice),
        ),
        ("get", "/v1/orders", client.get("/v1/orders", params=a, headers=alice)),
        ("get", "/v1/positions", client.get("/v1/positions", params=a, headers=alice)),
        ("get", "/v1/balances", client.get("/v1/balances", params=a, headers=alice)),
        ("get", "/v1/me", client.get("/v1/me", headers=alice)),
        ("get", "/v1/accounts/{account_id}", client.get("/v1/accounts/alice", headers=alice)),
        ("get", "/v1/book/{symbol}", client.get(f"/v1/book/{SPOT}", headers=alice)),
        ("get", "/v1/instruments", client.get("/v1/instruments", headers=alice)),
        ("get", "/v1/risk/status", client.get("/v1/risk/status", params=a, headers=alice)),
        ("get", "/health", client.get("/health")),
        ("get", "/v1/orders/{order_id}", client.get("/v1/orders/999", params=a, headers=alice)),
        (
            "get",
            "/v1/orders",
            client.get("/v1/orders", params={"account_id": "bob"}, headers=alice),
        ),
        ("post", "/v1/risk/kill", client.post("/v1/risk/kill", json={}, headers=alice)),
        ("get", "/v1/me", client.get("/v1/me")),
    ]
    for method, path, r in calls:
        responses = doc["paths"][path][method]["responses"]
        assert str(r.status_code) in responses, f"{method} {path} answered {r.status_code}"
        media = r.headers["content-type"].split(";")[0]
        schema = responses[str(r.status_code)]["content"][media]["schema"]
        jsonschema.Draft202012Validator({**schema, "components": doc["components"]}).validate(
            r.json()
        )
