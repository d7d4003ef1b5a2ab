"""Universal transfers between a Bybit master and its sub-accounts through the Bybit adapter
against the fake (real ccxt client, header HMAC checked): the UIDs' wallets move, the
``transferId`` is a UUID made from Atlas's id (the same every time, so a retry is refused
``131214`` and moves nothing), refusals carry Bybit's asset codes, and an unanswered transfer is
UNKNOWN and resolved from the transfer list."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from decimal import Decimal

from atlas_oms.fakes.bybit import AccountConfig, FakeBybit
from atlas_oms.model.rebalance import VenueTransfer
from atlas_oms.venues.bybit import BybitEndpoints, BybitSpotAdapter

D = Decimal
MKEY, MSECRET = "bybitmasterkey0001", "bybitmastersecret000000000000000001"
SKEY, SSECRET = "bybitsubkey000001", "bybitsubsecret0000000000000000000001"


@asynccontextmanager
async def world(
    key: str = MKEY, secret: str = MSECRET
) -> AsyncIterator[tuple[FakeBybit, BybitSpotAdapter]]:
    fake = FakeBybit(
        [
            AccountConfig("main", MKEY, MSECRET, wallet={"USDT": D("1000")}, uid="1001"),
            AccountConfig(
                "sub", SKEY, SSECRET, wallet={"USDT": D("700")}, uid="2002", master="main"
            ),
            AccountConfig("other", "k" * 18, "s" * 36, wallet={"USDT": D("5")}, uid="3003"),
        ]
    )
    await fake.start()
    adapter = BybitSpotAdapter(
        account_id="M",
        api_key=key,
        secret=secret,
        decode_client_id=lambda cid: None,
        endpoints=BybitEndpoints(fake.http, fake.ws),
        timeout_ms=1500,
    )
    try:
        yield fake, adapter
    finally:
        await adapter.close()
        await fake.stop()


def run(main: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(main(), 15))


def sub_to_main(tid: str, amount: str, from_uid: str = "2002") -> VenueTransfer:
    return VenueTransfer(
        transfer_id=tid,
        asset="USDT",
        amount=D(amount),
        from_uid=from_uid,
        to_uid="1001",
        from_type="UNIFIED",
        to_type="UNIFIED",
    )


def usdt(fake: FakeBybit, name: str) -> Decimal:
    return fake.venue.accounts[name].wallet["USDT"]


def test_a_transfer_moves_the_wallets_under_a_uuid_made_from_the_atlas_id() -> None:
    async def main() -> None:
        async with world() as (fake, adapter):
            done = await adapter.transfer(sub_to_main("at-rb7-1", "200"))
            assert done.status == "DONE"
            assert uuid.UUID(done.venue_transfer_id)
            assert done.venue_transfer_id == BybitSpotAdapter.transfer_uuid("at-rb7-1")
            assert (usdt(fake, "sub"), usdt(fake, "main")) == (D(500), D(1200))
            again = await adapter.transfer(sub_to_main("at-rb7-1", "200"))
            assert again.status == "REFUSED" and again.message.startswith("131214")
            assert usdt(fake, "sub") == D(500)

    run(main)


def test_refusals_carry_bybit_asset_codes() -> None:
    async def main() -> None:
        async with world() as (fake, adapter):
            short = await adapter.transfer(sub_to_main("big", "701"))
            assert (short.status, short.reason) == ("REFUSED", "INSUFFICIENT_FUNDS")
            stranger = await adapter.transfer(sub_to_main("x", "1", from_uid="3003"))
            assert stranger.status == "REFUSED" and stranger.message.startswith("131202")
            assert usdt(fake, "other") == D(5)
        async with world(SKEY, SSECRET) as (fake, as_sub):
            denied = await as_sub.transfer(sub_to_main("y", "1"))
            assert (denied.status, denied.reason) == ("REFUSED", "AUTH")
        async with world(MKEY, "wrong" + MSECRET[5:]) as (fake, bad):
            unsigned = await bad.transfer(sub_to_main("z", "1"))
            assert (unsigned.status, unsigned.reason) == ("REFUSED", "AUTH")
            assert usdt(fake, "sub") == D(700)

    run(main)


def test_an_unanswered_transfer_is_unknown_and_the_list_tells_what_became_of_it() -> None:
    async def main() -> None:
        async with world() as (fake, adapter):
            since = int(time.time() * 1000) - 1000
            fake.faults.fail_transfers_after_commit = 1
            lost = sub_to_main("lost", "100")
            assert (await adapter.transfer(lost)).status == "UNKNOWN"
            assert (await adapter.transfer_status(lost, since)).status == "DONE"
            fake.faults.fail_transfers_before_commit = 1
            never = sub_to_main("never", "100")
            assert (await adapter.transfer(never)).status == "UNKNOWN"
            assert (await adapter.transfer_status(never, since)).status == "NOT_FOUND"
            assert usdt(fake, "sub") == D(600)

    run(main)
