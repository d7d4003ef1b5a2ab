"""Sub-account universal transfers (``/sapi/v1/sub-account/universalTransfer``) through the
Binance adapter against the fake (real ccxt client, real sockets, signatures checked): balances
move between the fake's master and sub-accounts, refusals carry Binance's codes, a repeated
``clientTranId`` never moves money twice, and an unanswered transfer is UNKNOWN and resolved from
the master's transfer history."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from urllib.parse import urlencode

import aiohttp

from atlas_oms.fakes.binance import AccountConfig, FakeBinance
from atlas_oms.model.rebalance import VenueTransfer
from atlas_oms.venues.binance import BinanceEndpoints, BinanceSpotAdapter

D = Decimal
MKEY, MSECRET = "masterkey" + "0" * 55, "mastersecret" + "0" * 52
SKEY, SSECRET = "subkey" + "0" * 58, "subsecret" + "0" * 55


def _accounts() -> list[AccountConfig]:
    return [
        AccountConfig("main", MKEY, MSECRET, spot={"USDT": D("1000")}, email="main@desk.test"),
        AccountConfig(
            "arb",
            SKEY,
            SSECRET,
            spot={"USDT": D("500")},
            futures={"USDT": D("300")},
            email="arb@desk.test",
            master="main",
        ),
        AccountConfig("stranger", "k" * 64, "s" * 64, spot={"USDT": D("9")}, email="x@else.test"),
    ]


@asynccontextmanager
async def world(
    key: str = MKEY, secret: str = MSECRET, timeout_ms: int = 1500
) -> AsyncIterator[tuple[FakeBinance, BinanceSpotAdapter]]:
    fake = FakeBinance(_accounts())
    await fake.start()
    adapter = BinanceSpotAdapter(
        account_id="M",
        api_key=key,
        secret=secret,
        decode_client_id=lambda cid: None,
        endpoints=BinanceEndpoints(fake.http, f"{fake.ws}/ws", f"{fake.ws}/ws-api/v3"),
        timeout_ms=timeout_ms,
    )
    try:
        yield fake, adapter
    finally:
        await adapter.close()
        await fake.stop()


def run(main: Callable[[], Awaitable[None]], timeout: float = 15) -> None:
    asyncio.run(asyncio.wait_for(main(), timeout))


def _usdt(fake: FakeBinance, name: str) -> Decimal:
    return fake.venue.accounts[name].free("USDT")


def sub_to_master(tid: str, amount: str, from_type: str = "SPOT") -> VenueTransfer:
    return VenueTransfer(
        transfer_id=tid,
        asset="USDT",
        amount=D(amount),
        from_email="arb@desk.test",
        from_type=from_type,
        to_type="SPOT",
    )


def test_a_transfer_from_a_sub_to_its_master_moves_the_balance_and_returns_the_tran_id() -> None:
    async def main() -> None:
        async with world() as (fake, adapter):
            done = await adapter.transfer(sub_to_master("t-1", "120.5"))
            assert done.status == "DONE" and done.venue_transfer_id.isdigit()
            assert (_usdt(fake, "arb"), _usdt(fake, "main")) == (D("379.5"), D("1120.5"))
            # futures wallet to the master's spot
            done = await adapter.transfer(sub_to_master("t-2", "100", "USDT_FUTURE"))
            assert done.status == "DONE"
            assert fake.venue.accounts["arb"].wallet["USDT"] == D("200")
            assert _usdt(fake, "main") == D("1220.5")

    run(main)


def test_a_repeated_client_tran_id_is_refused_and_moves_nothing() -> None:
    async def main() -> None:
        async with world() as (fake, adapter):
            assert (await adapter.transfer(sub_to_master("same", "10"))).status == "DONE"
            again = await adapter.transfer(sub_to_master("same", "10"))
            assert again.status == "REFUSED" and "-9000" in again.message
            assert _usdt(fake, "arb") == D("490")

    run(main)


def test_refusals_carry_binance_codes_insufficient_not_a_sub_and_a_sub_key() -> None:
    async def main() -> None:
        async with world() as (fake, adapter):
            short = await adapter.transfer(sub_to_master("big", "501"))
            assert short.status == "REFUSED" and short.reason == "INSUFFICIENT_FUNDS"
            stranger = VenueTransfer(
                transfer_id="s", asset="USDT", amount=D(1), from_email="x@else.test"
            )
            refused = await adapter.transfer(stranger)
            assert refused.status == "REFUSED" and "parent-child" in refused.message
            assert _usdt(fake, "stranger") == D("9")
        async with world(SKEY, SSECRET) as (fake, sub_adapter):
            as_sub = await sub_adapter.transfer(sub_to_master("x", "1"))
            assert as_sub.status == "REFUSED" and "-1002" in as_sub.message
            assert _usdt(fake, "arb") == D("500")

    run(main)


def test_the_signature_is_checked_a_wrong_secret_is_refused() -> None:
    async def main() -> None:
        async with world(MKEY, "wrong" + MSECRET[5:]) as (fake, adapter):
            bad = await adapter.transfer(sub_to_master("t", "1"))
            assert bad.status == "REFUSED" and "-1022" in bad.message
            assert _usdt(fake, "arb") == D("500")
        # and a raw request signed by hand with the master's secret passes (the wire format)
        async with world() as (fake, _adapter):
            params = {
                "fromEmail": "arb@desk.test",
                "fromAccountType": "SPOT",
                "toAccountType": "SPOT",
                "asset": "USDT",
                "amount": "5",
                "timestamp": str(int(time.time() * 1000)),
            }
            query = urlencode(params)
            sig = hmac.new(MSECRET.encode(), query.encode(), hashlib.sha256).hexdigest()
            async with (
                aiohttp.ClientSession() as http,
                http.post(
                    f"{fake.http}/sapi/v1/sub-account/universalTransfer",
                    data=f"{query}&signature={sig}",
                    headers={
                        "X-MBX-APIKEY": MKEY,
                        "Content-Type": "application/x-www-form-urlencoded",
                    },
                ) as r,
            ):
                assert r.status == 200, await r.text()
                assert set(await r.json()) == {"tranId"}
            assert _usdt(fake, "main") == D("1005")

    run(main)


def test_an_unanswered_transfer_is_unknown_and_its_history_says_it_was_done_once() -> None:
    async def main() -> None:
        async with world() as (fake, adapter):
            since = int(time.time() * 1000) - 1000
            fake.faults.fail_transfers_after_commit = 1
            t = sub_to_master("lost-1", "50")
            first = await adapter.transfer(t)
            assert first.status == "UNKNOWN"
            found = await adapter.transfer_status(t, since)
            assert found.status == "DONE" and found.venue_transfer_id
            assert _usdt(fake, "arb") == D("450")
            # one that never reached the venue
            fake.faults.fail_transfers_before_commit = 1
            t2 = sub_to_master("lost-2", "50")
            assert (await adapter.transfer(t2)).status == "UNKNOWN"
            assert (await adapter.transfer_status(t2, since)).status == "NOT_FOUND"
            assert _usdt(fake, "arb") == D("450")

    run(main)
