"""The standalone fakes (``python -m atlas_oms.fakes.<venue>``) a person runs to try the desk by
hand: each takes ``--port``/``--accounts``/``--house-quotes``, prints its URLs and the
``venues:`` entries of accounts.yaml as JSON on its first line, and serves the accounts of the
file (a signed request with their key is answered; the house's liquidity shows in the public
ticker where the venue has one)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from atlas_oms.runtime.venue_setup import build_adapter
from atlas_oms.venues.accounts import VenueEndpoints
from atlas_oms.venues.credentials import Credentials

D = Decimal

ACCOUNTS = {
    "bybit": [{"name": "desk", "api_key": "bk", "secret": "bs", "wallet": {"USDT": "1000"}}],
    "okx": [
        {"name": "desk", "api_key": "ok", "secret": "os", "passphrase": "op", "cash": {"USDT": 5}}
    ],
    "upbit": [{"name": "desk", "access_key": "uk", "secret": "us", "balances": {"KRW": "1e6"}}],
    "alpaca": [{"name": "desk", "api_key": "ak", "secret": "as", "cash": "1000"}],
}
#: The venue whose adapter reads each fake, and the asset the desk's balance shows.
CASES = {"bybit": ("bybit", "USDT"), "okx": ("okx", "USDT"), "upbit": ("upbit", "KRW")}


@contextmanager
def standalone(venue: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    accounts = tmp_path / f"{venue}.json"
    accounts.write_text(json.dumps(ACCOUNTS[venue]))
    args = [sys.executable, "-m", f"atlas_oms.fakes.{venue}", "--accounts", str(accounts)]
    proc = subprocess.Popen(
        [*args, "--house-quotes"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else ""
        yield json.loads(line)
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.parametrize("venue", sorted(CASES))
def test_a_standalone_fake_prints_its_venues_entry_and_serves_its_accounts(
    venue: str, tmp_path: Path
) -> None:
    real_venue, asset = CASES[venue]
    raw = ACCOUNTS[venue][0]
    with standalone(venue, tmp_path) as first:
        ep = VenueEndpoints(**first["venues"][real_venue])
        key = str(raw.get("api_key") or raw.get("access_key"))
        creds = Credentials.of("desk", key, str(raw["secret"]), raw.get("passphrase"))

        async def main() -> None:
            adapter = build_adapter(real_venue, "desk", ep, creds, lambda _cid: None)
            adapter.price_poll_s = 0.05
            try:
                listed = await adapter.instruments()
                symbol = "BTC/KRW" if venue == "upbit" else "BTC/USDT"
                assert symbol in {vi.instrument.symbol for vi in listed}
                balances = {b.asset: b.total for b in await adapter.balances()}
                assert balances[asset] == D(str(next(iter(_money(raw).values()))))
                gen = adapter.prices([symbol])
                async with asyncio.timeout(10):
                    tick = await anext(gen)
                await gen.aclose()
                assert tick.last is not None or tick.bid is not None
            finally:
                await adapter.close()

        asyncio.run(main())


def _money(raw: dict[str, Any]) -> dict[str, Any]:
    return dict(raw.get("wallet") or raw.get("cash") or raw.get("balances") or {})


def test_the_standalone_alpaca_fake_answers_its_key_and_refuses_another(tmp_path: Path) -> None:
    with standalone("alpaca", tmp_path) as first:
        entry = first["venues"]["alpaca"]
        assert entry["ws_url"].endswith("/stream")
        ok = httpx.get(
            f"{entry['rest_url']}/v2/account",
            headers={"APCA-API-KEY-ID": "ak", "APCA-API-SECRET-KEY": "as"},
        )
        assert ok.status_code == 200 and D(ok.json()["cash"]) == D(1000), ok.text
        refused = httpx.get(
            f"{entry['rest_url']}/v2/account",
            headers={"APCA-API-KEY-ID": "ak", "APCA-API-SECRET-KEY": "wrong"},
        )
        assert refused.status_code in (401, 403)
