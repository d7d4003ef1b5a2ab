"""Rate limits per venue scope: weight and order counts from the venue's headers, waits instead of
excess, 429 Retry-After shared by the scope's accounts, 418 pauses the venue."""

from __future__ import annotations

import asyncio

from gw_world import buy, running, until
from scripted import ScriptedAdapter, Step

from atlas_oms.model import reports as rep
from atlas_oms.model.venue import NoteOutcomeUnknown, SetVenueStatus
from atlas_oms.runtime.gateway.ratelimit import (
    Limits,
    RateLimiter,
    alpaca,
    binance_spot,
    binance_usdm,
    bybit,
    default_specs,
)


class FakeTime:
    def __init__(self, t: float = 1_000_020.0) -> None:
        self.t = t
        self.slept: list[float] = []

    def now(self) -> float:
        return self.t

    async def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.t += s


def test_weight_from_the_header_makes_the_next_request_wait_for_the_next_minute() -> None:
    async def main() -> None:
        clock = FakeTime()
        limiter = RateLimiter(
            "binance", binance_spot(weight_1m=100), now=clock.now, sleep=clock.sleep
        )
        await limiter.before_request("A", 10, False)
        limiter.on_response("A", 200, {"X-MBX-USED-WEIGHT-1M": "95"})  # other programs on this IP
        assert limiter.budget("A")["weight_1m"] == 5
        await limiter.before_request("B", 10, False)  # another account, same IP: shares it
        assert clock.slept and clock.t >= 1_000_080.0  # waited for the next minute, never exceeded
        assert limiter.budget("B")["weight_1m"] == 90

    asyncio.run(main())


def test_order_counts_are_per_account() -> None:
    async def main() -> None:
        clock = FakeTime()
        limiter = RateLimiter(
            "binance", binance_spot(orders_10s=2), now=clock.now, sleep=clock.sleep
        )
        await limiter.before_request("A", 1, True)
        await limiter.before_request("A", 1, True)
        await limiter.before_request("B", 1, True)  # B's own count
        assert not clock.slept
        await limiter.before_request("A", 1, True)
        assert clock.slept  # A waited for its 10 s window
        limiter.on_response("A", 200, {"x-mbx-order-count-10s": "1"})
        assert limiter.budget("A")["orders_10s"] == 1

    asyncio.run(main())


def test_usdm_scope_has_its_own_limits() -> None:
    spec = binance_usdm()
    assert {w.name: w.limit for w in spec.windows} == {"weight_1m": 2400, "orders_1m": 1200}
    limits = Limits({"binance": binance_spot(), "binanceusdm": spec})
    assert limits.scope("binance") is not limits.scope("binanceusdm")
    assert limits.scope("binance") is limits.scope("binance")


def test_429_pauses_for_retry_after() -> None:
    async def main() -> None:
        clock = FakeTime()
        limiter = RateLimiter("binance", binance_spot(), now=clock.now, sleep=clock.sleep)
        limiter.on_response("A", 429, {"Retry-After": "7"})
        start = clock.t
        await limiter.before_request("B", 1, False)
        assert clock.t - start >= 7

    asyncio.run(main())


def test_429_retry_after_is_honoured_by_every_account_of_the_scope() -> None:
    async def main() -> None:
        a, b = ScriptedAdapter(account_id="A"), ScriptedAdapter(account_id="B")
        async with running([a, b], node=_node_with_b()) as (gateway, rec, _):
            a.place_script.append(
                Step(
                    kind="unknown",
                    reason="RATE_LIMITED",
                    status=429,
                    headers={"Retry-After": "0.3"},
                )
            )
            loop = asyncio.get_running_loop()
            buy(rec, account="A")
            await until(lambda: rec.of(NoteOutcomeUnknown))
            assert rec.of(NoteOutcomeUnknown)[0].reason == "RATE_LIMITED"  # unknown, not failed
            paused_at = loop.time()
            assert gateway.health()[1].rate_limit_paused_s > 0.1  # B sees the pause too
            buy(rec, account="B")
            await until(lambda: b.places())
            assert loop.time() - paused_at >= 0.25  # B's order waited for Retry-After
            assert not [r for r in rec.of(rep.VenueRejected) if r.reason == "RATE_LIMITED"]

    asyncio.run(main())


def test_418_pauses_the_whole_venue_until_retry_after() -> None:
    async def main() -> None:
        a, b = ScriptedAdapter(account_id="A"), ScriptedAdapter(account_id="B")
        async with running([a, b], node=_node_with_b()) as (gateway, rec, _):
            a.place_script.append(
                Step(
                    kind="unknown",
                    reason="RATE_LIMITED",
                    status=418,
                    headers={"Retry-After": "0.3"},
                )
            )
            buy(rec, account="A")
            sessions = gateway.sessions
            await until(lambda: sessions[("binance", "B")].status == (False, "BANNED"))
            assert sessions[("binance", "A")].status == (False, "BANNED")
            banned = [m for m in rec.of(SetVenueStatus) if m.reason == "BANNED"]
            assert "418" in banned[0].message
            await until(lambda: all(s.tradable for s in sessions.values()))

    asyncio.run(main())


def _node_with_b():  # type: ignore[no-untyped-def]
    from gw_world import new_node

    node = new_node()
    node.open_account("B")
    node.deposit("B", "USDT", 1_000_000)
    return node


def test_bybit_10006_headers_pause_the_scope_until_the_reset_timestamp() -> None:
    """Bybit answers its per-UID limit in HTTP 200 (retCode 10006) with X-Bapi-Limit-Status 0 and
    the reset ahead in X-Bapi-Limit-Reset-Timestamp (ms): the next request waits until then."""

    async def main() -> None:
        clock = FakeTime()
        limiter = RateLimiter("bybit", bybit(), now=clock.now, sleep=clock.sleep)
        await limiter.before_request("A", 1, True)
        reset_ms = int((clock.t + 0.4) * 1000)
        headers = {
            "X-Bapi-Limit-Status": "0",
            "X-Bapi-Limit": "10",
            "X-Bapi-Limit-Reset-Timestamp": str(reset_ms),
        }
        limiter.on_response("A", 200, headers)
        assert limiter.pause_reason.startswith("limit used up at bybit")
        assert abs(limiter.paused_for() - 0.4) < 0.002
        await limiter.before_request("B", 1, False)  # the scope's other accounts wait too
        assert clock.t >= reset_ms / 1000 and limiter.waits == 1

    asyncio.run(main())


def test_bybit_last_request_of_the_budget_does_not_pause() -> None:
    """Remaining 0 with the reset at the current time (Bybit: not exceeded) and any remaining
    above 0: no pause. A reset far ahead (a venue clock far off) is capped."""
    clock = FakeTime()
    limiter = RateLimiter("bybit", bybit(), now=clock.now, sleep=clock.sleep)
    now_ms = str(int(clock.t * 1000))
    limiter.on_response(
        "A", 200, {"x-bapi-limit-status": "0", "x-bapi-limit-reset-timestamp": now_ms}
    )
    limiter.on_response(
        "A", 200, {"x-bapi-limit-status": "3", "x-bapi-limit-reset-timestamp": "9" * 13}
    )
    assert limiter.paused_for() == 0 and not limiter.pause_reason
    far = str(int((clock.t + 3600) * 1000))
    limiter.on_response("A", 200, {"x-bapi-limit-status": "0", "x-bapi-limit-reset-timestamp": far})
    assert limiter.paused_for() == bybit().max_reset_pause_s


def _alpaca_headers(limit: int, remaining: int, reset_s: float) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(int(reset_s)),
    }


def test_alpaca_budget_follows_the_rate_limit_headers_per_account() -> None:
    """Alpaca: 200 requests a minute per account; every answer says the limit, what is left and
    when the window resets (epoch seconds). The budget is the venue's, not our count."""
    clock = FakeTime()
    assert default_specs()["alpaca"] == alpaca()
    limiter = RateLimiter("alpaca", alpaca(), now=clock.now, sleep=clock.sleep)
    assert limiter.budget("A") == {"requests_1m": 200}
    limiter.on_response("A", 200, _alpaca_headers(200, 150, clock.t + 30))
    assert limiter.budget("A") == {"requests_1m": 150}
    assert limiter.budget("B") == {"requests_1m": 200}  # metered per account
    # a larger allowance on this account: the venue's limit wins
    limiter.on_response("B", 200, _alpaca_headers(1000, 990, clock.t + 30))
    assert limiter.budget("B") == {"requests_1m": 990}
    assert limiter.paused_for() == 0


def test_alpaca_last_request_of_the_window_waits_for_the_reset_header() -> None:
    async def main() -> None:
        clock = FakeTime(1_000_000.0)
        limiter = RateLimiter("alpaca", alpaca(), now=clock.now, sleep=clock.sleep)
        await limiter.before_request("A", 1, True)
        # nothing left, the window resets in 7 s (not at our calendar minute)
        limiter.on_response("A", 200, _alpaca_headers(200, 0, clock.t + 7))
        assert limiter.budget("A") == {"requests_1m": 0}
        assert limiter.pause_reason.startswith("limit used up at alpaca")
        await limiter.before_request("A", 1, False)
        assert clock.t == 1_000_007.0 and limiter.waits == 1  # waited exactly until the reset
        assert limiter.budget("A") == {"requests_1m": 199}

    asyncio.run(main())


def test_alpaca_429_pauses_until_x_ratelimit_reset() -> None:
    """A 429 with only the reset header (the adapter also turns it into Retry-After) pauses
    every account of the scope until the reset; a reset far ahead is capped."""

    async def main() -> None:
        clock = FakeTime(1_000_000.0)
        limiter = RateLimiter("alpaca", alpaca(), now=clock.now, sleep=clock.sleep)
        limiter.on_response("A", 429, _alpaca_headers(200, 0, clock.t + 12))
        assert 11.9 < limiter.paused_for() <= 12
        await limiter.before_request("B", 1, True)
        assert clock.t >= 1_000_012.0
        limiter.on_response("A", 429, _alpaca_headers(200, 0, clock.t + 3600))
        assert limiter.paused_for() == alpaca().max_reset_pause_s

    asyncio.run(main())
