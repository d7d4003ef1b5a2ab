"""A rotated venue key reaches each running adapter (Bybit spot and linear, OKX with its
passphrase, Upbit, Alpaca): the venue revokes the old key and knows only the new one; the
adapter signs with the new key from the next request on and its private stream reconnects and
authenticates with it (a gap, which the gateway reconciles, then STARTED again)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from tests.venues.contract import alpaca, bybit, okx, upbit

from atlas_oms.model.venue import StreamGap

NEW_KEY = "rotatedkey00000000000000000000000000001"
NEW_SECRET = "rotatedsecret000000000000000000000000000001"
NEW_PASSPHRASE = "Rotated-Pass-2"


def revoke_bybit(h: Any) -> None:
    cfg = h.f.venue.accounts[bybit.ACCOUNT].cfg
    cfg.api_key, cfg.secret = NEW_KEY, NEW_SECRET


def revoke_okx(h: Any) -> None:
    venue = h.f.venue
    acct = venue.accounts[okx.ACCOUNT]
    venue.by_key.pop(acct.api_key)
    acct.api_key, acct.secret, acct.passphrase = NEW_KEY, NEW_SECRET, NEW_PASSPHRASE
    venue.by_key[NEW_KEY] = acct


def revoke_upbit(h: Any) -> None:
    acct = h.f.venue.accounts[upbit.ACCOUNT]
    acct.access_key, acct.secret = NEW_KEY, NEW_SECRET


def revoke_alpaca(h: Any) -> None:
    acct = h.f.venue.accounts[alpaca.ACCOUNT]
    acct.api_key, acct.secret = NEW_KEY, NEW_SECRET


CASES: list[tuple[Callable[[], Any], Callable[[Any], None]]] = [
    (bybit.BybitSpotHarness, revoke_bybit),
    (bybit.BybitLinearHarness, revoke_bybit),
    (okx.OkxSpotHarness, revoke_okx),
    (upbit.UpbitHarness, revoke_upbit),
    (alpaca.AlpacaHarness, revoke_alpaca),
]


async def next_gap(facts: AsyncIterator[Any], timeout: float = 5.0) -> StreamGap:
    async with asyncio.timeout(timeout):
        async for fact in facts:
            if isinstance(fact, StreamGap):
                return fact
    raise AssertionError("the stream ended")


@pytest.mark.parametrize(("make", "revoke"), CASES, ids=lambda c: getattr(c, "name", ""))
def test_a_rotated_key_signs_the_next_request_and_reconnects_the_private_stream(
    make: Callable[[], Any], revoke: Callable[[Any], None]
) -> None:
    async def main() -> None:
        h = make()
        await h.start()
        adapter = h.adapter("acc", lambda _cid: None)
        try:
            await adapter.start()
            facts = adapter.facts().__aiter__()
            assert (await next_gap(facts)).reason == "STARTED"
            assert await adapter.balances() is not None
            # The venue issues a new key and revokes the old one: the old key is refused.
            revoke(h)
            with pytest.raises(Exception):  # noqa: B017 - each venue's own refusal
                await adapter.balances()
            adapter.rotate_credentials(NEW_KEY, NEW_SECRET, passphrase=NEW_PASSPHRASE)
            # Signed with the new key from the next request on.
            assert await adapter.balances() is not None
            # The stream authenticated with the old key: dropped (a gap), then up again under
            # the new one (the fake refuses any other).
            lost = await next_gap(facts)
            assert lost.reason in ("KEY_ROTATED", "DISCONNECTED")
            again = await next_gap(facts)
            while again.reason != "STARTED":
                again = await next_gap(facts)
            await facts.aclose()  # type: ignore[attr-defined]
        finally:
            await adapter.close()
            await h.stop()

    asyncio.run(asyncio.wait_for(main(), 30))
