"""The fake's answers have exactly the keys of the documented samples in
``atlas_oms/fakes/binance/fixtures`` (each names the documentation page it imitates)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp

import atlas_oms.fakes.binance as fake_pkg

from .support import KEY, client, close, run, running, settle, ws_api_subscribe

FIXTURES = Path(fake_pkg.__file__).parent / "fixtures"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())["body"]


def same_keys(doc: Any, ours: Any, path: str = "$") -> list[str]:
    """Differences in key sets between a documented sample and our answer, recursively."""
    if isinstance(doc, dict) and isinstance(ours, dict):
        out = []
        if set(doc) != set(ours):
            out.append(
                f"{path}: missing {sorted(set(doc) - set(ours))}, extra {sorted(set(ours) - set(doc))}"
            )
        for key in set(doc) & set(ours):
            out.extend(same_keys(doc[key], ours[key], f"{path}.{key}"))
        return out
    if (
        isinstance(doc, list)
        and isinstance(ours, list)
        and doc
        and ours
        and isinstance(doc[0], dict)
        and doc[0]
    ):
        return same_keys(doc[0], ours[0], f"{path}[0]")
    return []


def test_every_fixture_names_the_page_it_imitates() -> None:
    files = sorted(FIXTURES.glob("*.json"))
    assert len(files) >= 25
    for path in files:
        data = json.loads(path.read_text())
        assert data["_source"].startswith("https://"), path.name
        assert "body" in data, path.name


def test_spot_answers_and_events_have_the_documented_keys() -> None:
    async def main() -> None:
        async with running() as fake:
            events: list[dict[str, Any]] = []
            market: dict[str, dict[str, Any]] = {}
            fake.venue.user_listeners.append(lambda m, a, e: events.append(e))
            fake.venue.market_listeners.append(
                lambda m, s, p: market.setdefault(f"{m}:{s.split('@')[1]}", p)
            )
            fake.venue.house_quote("spot", "BTCUSDT", "SELL", "50000", "1")
            ex = client(fake, "spot")
            got: dict[str, Any] = {}
            got["spot_exchange_info"] = await ex.publicGetExchangeInfo()
            base = {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "quantity": "0.01",
            }
            got["spot_new_order_full"] = await ex.privatePostOrder(
                {**base, "price": "50000", "newOrderRespType": "FULL"}
            )
            got["spot_new_order_result"] = await ex.privatePostOrder(
                {**base, "price": "40000", "newOrderRespType": "RESULT"}
            )
            got["spot_new_order_ack"] = await ex.privatePostOrder(
                {**base, "price": "40000", "newOrderRespType": "ACK", "newClientOrderId": "k1"}
            )
            got["spot_query_order"] = await ex.privateGetOrder(
                {"symbol": "BTCUSDT", "origClientOrderId": "k1"}
            )
            got["spot_amend_keep_priority"] = await ex.request(
                "order/amend/keepPriority",
                ["private"],
                "PUT",
                {"symbol": "BTCUSDT", "origClientOrderId": "k1", "newQty": "0.005"},
            )
            got["spot_cancel_order"] = await ex.privateDeleteOrder(
                {"symbol": "BTCUSDT", "origClientOrderId": "k1"}
            )
            got["spot_account"] = await ex.privateGetAccount()
            got["spot_my_trades"] = await ex.privateGetMyTrades({"symbol": "BTCUSDT"})
            got["spot_execution_report"] = {
                "subscriptionId": 0,
                "event": next(e for e in events if e.get("x") == "TRADE"),
            }
            got["spot_outbound_account_position"] = {
                "subscriptionId": 0,
                "event": next(e for e in events if e["e"] == "outboundAccountPosition"),
            }
            got["spot_book_ticker"] = market["spot:bookTicker"]
            got["spot_trade"] = market["spot:trade"]
            got["spot_agg_trade"] = market["spot:aggTrade"]
            async with (
                aiohttp.ClientSession() as http,
                http.ws_connect(f"{fake.ws}/ws-api/v3") as ws,
            ):
                answer = await ws_api_subscribe(ws)
                assert set(answer.pop("rateLimits")[0]) >= {
                    "rateLimitType",
                    "interval",
                    "limit",
                    "count",
                }
                got["spot_ws_api_subscribe_signature"] = answer
                bad = await ws_api_subscribe(ws, secret="wrong")
                assert bad["status"] == 400 and bad["error"] == {
                    "code": -1022,
                    "msg": "Signature for this request is not valid.",
                }
            problems = {name: same_keys(fixture(name), answer) for name, answer in got.items()}
            assert {k: v for k, v in problems.items() if v} == {}
            await close(ex)

    run(main)


def test_futures_answers_and_events_have_the_documented_keys() -> None:
    async def main() -> None:
        async with running() as fake:
            events: list[dict[str, Any]] = []
            market: dict[str, dict[str, Any]] = {}
            fake.venue.user_listeners.append(lambda m, a, e: events.append(e))
            fake.venue.market_listeners.append(
                lambda m, s, p: market.setdefault(f"{m}:{s.split('@')[1]}", p)
            )
            fake.venue.house_quote("usdm", "BTCUSDT", "SELL", "50000", "1")
            fake.venue.set_mark_price("BTCUSDT", "50000")
            ex = client(fake, "usdm")
            got: dict[str, Any] = {}
            base = {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "quantity": "0.01",
            }
            got["usdm_new_order"] = await ex.fapiPrivatePostOrder(
                {**base, "price": "50000", "newOrderRespType": "RESULT"}
            )
            await ex.fapiPrivatePostOrder({**base, "price": "40000", "newClientOrderId": "q1"})
            got["usdm_query_order"] = await ex.fapiPrivateGetOrder(
                {"symbol": "BTCUSDT", "origClientOrderId": "q1"}
            )
            got["usdm_user_trades"] = await ex.fapiPrivateGetUserTrades({"symbol": "BTCUSDT"})
            got["usdm_position_risk_v3"] = await ex.fapiPrivateV3GetPositionRisk()
            got["usdm_account_v3"] = await ex.fapiPrivateV3GetAccount()
            got["usdm_balance"] = await ex.fapiPrivateV2GetBalance()
            got["usdm_leverage_bracket"] = await ex.fapiPrivateGetLeverageBracket()
            got["usdm_listen_key"] = await ex.fapiPrivatePostListenKey()
            got["usdm_order_trade_update"] = next(
                e for e in events if e.get("o", {}).get("x") == "TRADE"
            )
            got["usdm_account_update"] = next(e for e in events if e["e"] == "ACCOUNT_UPDATE")
            got["usdm_mark_price_update"] = market["usdm:markPrice"]
            got["usdm_book_ticker"] = market["usdm:bookTicker"]
            async with aiohttp.ClientSession() as http:
                key = got["usdm_listen_key"]["listenKey"]
                async with http.ws_connect(f"{fake.ws}/fstream/private/ws?listenKey={key}") as ws:
                    await settle(0.05)
                    fake.expire_listen_key("alice")
                    got["usdm_listen_key_expired"] = await ws.receive_json(timeout=1)
            problems = {name: same_keys(fixture(name), answer) for name, answer in got.items()}
            assert {k: v for k, v in problems.items() if v} == {}
            assert KEY
            await close(ex)

    run(main)
