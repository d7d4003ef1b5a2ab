"""``atlas serve`` rebalancing a Binance master and two sub-accounts (the fake Binance, real ccxt
clients, real signatures): accounts.yaml's ``min_main_balance`` / ``max_sub_balance`` /
``max_balance_usdt`` are broken at the venue; ``POST /v1/rebalance`` (and ``atlas rebalance``)
moves the money at the venue through the master key's universal transfer and books the same
transfers in Atlas, with the rule in each account's audit trail; an unanswered transfer is
resolved from the venue's history and booked once; the second run does nothing."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from tests.service.serving import Served
from tests.service.test_serve_venues import atlas_balances, tradable, wait_for

from atlas_oms.fakes.binance import AccountConfig, FakeBinance
from atlas_oms.venues.credentials import KeyStore

D = Decimal
MASTER = base64.b64encode(b"r" * 32).decode()
KEYS = {
    "binance_spot_main": ("mainkey" + "0" * 57, "mainsecret" + "0" * 54),
    "binance_spot_sub_a": ("subakey" + "0" * 57, "subasecret" + "0" * 54),
    "binance_spot_sub_b": ("subbkey" + "0" * 57, "subbsecret" + "0" * 54),
}
MAIN, SUB_A, SUB_B = KEYS


@pytest.fixture
def fake() -> Iterator[FakeBinance]:
    def account(atlas_id: str, name: str, usdt: str, **kw: str) -> AccountConfig:
        key, secret = KEYS[atlas_id]
        return AccountConfig(name, key, secret, spot={"USDT": D(usdt)}, **kw)  # type: ignore[arg-type]

    venue = FakeBinance(
        [
            account(MAIN, "main", "1000", email="main@desk.test"),
            account(SUB_A, "arb", "1500", email="a@desk.test", master="main"),
            account(SUB_B, "mm", "2600", email="b@desk.test", master="main"),
        ]
    )
    with venue.running_in_thread() as running:
        yield running


def write_config(fake: FakeBinance, data: Path) -> dict[str, str]:
    data.mkdir(parents=True, exist_ok=True)
    accounts = data.parent / "accounts.yaml"
    accounts.write_text(
        f"""
accounts:
  binance:
    main: {{type: main, spot_enabled: true}}
    sub_a:
      type: sub
      parent: main
      spot_enabled: true
      email: a@desk.test
      strategy: arbitrage
      max_balance_usdt: 1000
    sub_b: {{type: sub, parent: main, spot_enabled: true, email: b@desk.test}}
account_routing:
  default: main
  balance_rules: {{min_main_balance: 5000, max_sub_balance: 2000}}
  rebalance: {{enabled: false, schedule: daily, time: "00:00 UTC"}}
venues:
  binance:
    rest_url: "{fake.http}"
    ws_url: "{fake.ws}/ws"
    ws_api_url: "{fake.ws}/ws-api/v3"
    timeout_ms: 2000
"""
    )
    store = KeyStore(data / "venue-keys.json", base64.b64decode(MASTER))
    for account_id, (key, secret) in KEYS.items():
        store.set(account_id, key, secret)
    return {
        "ATLAS_ACCOUNTS_FILE": str(accounts),
        "ATLAS_MASTER_KEY": MASTER,
        "ATLAS_VENUE_STREAM_WAIT_S": "0.5",
    }


def venue_usdt(fake: FakeBinance) -> dict[str, Decimal]:
    return fake.call(lambda: {n: a.free("USDT") for n, a in fake.venue.accounts.items()})


def usdt(served: Served, account: str) -> Decimal:
    return atlas_balances(served, account).get("USDT", D(0))


def test_rebalance_moves_money_at_the_venue_and_in_atlas_once_and_the_second_run_does_nothing(
    tmp_path: Path, fake: FakeBinance
) -> None:
    data = tmp_path / "data"
    served = Served(data, env=write_config(fake, data)).start()
    try:
        for account in KEYS:
            wait_for(lambda a=account: tradable(served, a), what=f"{account} tradable")
        wait_for(lambda: usdt(served, SUB_B) == D(2600), what="the venue's balances in Atlas")
        admin = served.keys()["admin"]
        url = f"{served.url}/v1/rebalance"
        # a trader key may not; a risk key may see the plan
        assert httpx.post(url, json={}, headers=served.keys()["trader"]).status_code == 403
        dry = httpx.post(url, json={"dry_run": True}, headers=served.keys()["risk"])
        assert dry.status_code == 200, dry.text
        assert [
            (t["from_account"], D(t["amount"]), t["rule"]) for t in dry.json()["transfers"]
        ] == [
            (SUB_A, D(500), "max_balance_usdt"),
            (SUB_B, D(600), "max_sub_balance"),
            (SUB_B, D(2000), "min_main_balance"),
            (SUB_A, D(900), "min_main_balance"),
        ]
        assert venue_usdt(fake)["main"] == D(1000)  # a dry run moves nothing

        # the first transfer's answer is lost (HTTP 503 -1007 after the venue moved it)
        fake.call(lambda: setattr(fake.faults, "fail_transfers_after_commit", 1))
        r = httpx.post(url, json={}, headers=admin, timeout=30)
        assert r.status_code == 200, r.text
        report = r.json()
        assert report["status"] == "done"
        assert [t["outcome"] for t in report["transfers"]] == ["BOOKED"] * 4
        assert all(t["venue_transfer_id"] for t in report["transfers"])
        assert venue_usdt(fake) == {"main": D(5000), "arb": D(100), "mm": D(0)}
        assert (usdt(served, MAIN), usdt(served, SUB_A), usdt(served, SUB_B)) == (
            D(5000),
            D(100),
            D(0),
        )
        transfers = httpx.get(
            f"{served.url}/v1/transfers", params={"account_id": MAIN}, headers=admin
        ).json()
        ids = [t["transfer_id"] for t in transfers]
        assert sorted(ids) == sorted(t["transfer_id"] for t in report["transfers"])  # each once
        first = report["transfers"][0]["transfer_id"]
        trail = httpx.get(f"{served.url}/v1/audit/{SUB_A}", headers=admin).json()
        kinds = [
            (e["event"], e["detail"].get("transfer_id"), e["detail"].get("status")) for e in trail
        ]
        assert ("RebalancePlanned", None, None) in kinds
        assert ("VenueTransferNoted", first, "UNKNOWN") in kinds
        assert [k for k in kinds if k[0] == "FundsTransferred" and k[1] == first]
        booked = [e for e in trail if e["event"] == "FundsTransferred"]
        assert {e["detail"]["reason"] for e in booked} == {
            "rebalance: max_balance_usdt",
            "rebalance: min_main_balance",
        }

        # the second run: everything within bounds (the main is at its minimum, subs drained)
        again = httpx.post(url, json={}, headers=admin, timeout=30).json()
        assert (again["status"], again["transfers"]) == ("nothing to do", [])
        # and from the CLI against the running server
        env = {**os.environ, "ATLAS_URL": served.url, "ATLAS_KEY": admin["X-API-Key"]}
        out = subprocess.run(
            [sys.executable, "-m", "atlas_oms.cli", "rebalance", "--dry-run"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        assert "nothing to do" in out.stdout or "no transfers" in out.stdout
        assert venue_usdt(fake) == {"main": D(5000), "arb": D(100), "mm": D(0)}
    finally:
        served.stop()
