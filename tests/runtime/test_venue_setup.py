"""accounts.yaml to a trading node: accounts opened (parents first, hedge mode, limits), each
venue account's adapter built with its key from the encrypted key file, and a key rotated while
the node runs reaching the adapter (it signs with the new key and reconnects its stream)."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from atlas_oms.fakes.binance import AccountConfig, FakeBinance
from atlas_oms.model.enums import OrderStatus, PositionMode
from atlas_oms.model.risk import Scope
from atlas_oms.runtime.gateway import GatewayConfig
from atlas_oms.runtime.node import Node
from atlas_oms.runtime.venue_setup import open_venue_accounts, plan_venues, setup_venues
from atlas_oms.venues.accounts import parse_accounts
from atlas_oms.venues.credentials import KeyStore

D = Decimal
KEY, SECRET = "k" * 64, "s" * 64
NEW_KEY, NEW_SECRET = "n" * 64, "t" * 64
MASTER = b"m" * 32

YAML = """
accounts:
  binance:
    main: {type: main, spot_enabled: true}
    trend:
      type: sub
      parent: main
      futures_enabled: true
      position_mode: hedge
      max_position_usdt: 50000
account_routing:
  default: main
"""


def test_the_file_opens_its_accounts_parents_first_with_hedge_mode_and_limits() -> None:
    node = Node.in_memory()
    config = parse_accounts(YAML)
    opened = open_venue_accounts(node, config)
    assert opened == ["binance_main", "binance_spot_main", "binance_futures_trend"]
    trend = node.account("binance_futures_trend")
    assert trend is not None
    assert (trend.parent_id, trend.position_mode) == ("binance_main", PositionMode.HEDGE)
    limits = node.risk_limits(Scope.ACCOUNT, "binance_futures_trend")
    assert limits is not None and limits.max_position_notional == D(50000)
    # A second start opens nothing and journals nothing.
    seq = node.seq
    assert open_venue_accounts(node, config) == []
    assert node.seq == seq


def wait_until(check: Callable[[], bool], timeout: float = 10.0) -> Callable[[], object]:
    async def waiter() -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out: {check}")
            await asyncio.sleep(0.02)

    return waiter


def test_a_rotated_key_reaches_the_running_adapter_without_a_restart(
    tmp_path: Path, monkeypatch: object
) -> None:
    fake = FakeBinance(
        [AccountConfig(name="desk", api_key=KEY, secret=SECRET, spot={"USDT": D("10000")})]
    )

    async def main() -> None:
        await fake.start()
        accounts = tmp_path / "accounts.yaml"
        accounts.write_text(
            "accounts:\n  binance:\n    main: {type: main, spot_enabled: true}\n"
            "account_routing: {default: main}\n"
            f"venues:\n  binance: {{rest_url: '{fake.http}', ws_url: '{fake.ws}/ws', "
            f"ws_api_url: '{fake.ws}/ws-api/v3', timeout_ms: 2000}}\n"
        )
        store = KeyStore(tmp_path / "venue-keys.json", MASTER)
        store.set("binance_spot_main", KEY, SECRET)
        master = tmp_path / "master.key"
        master.write_text(base64.b64encode(MASTER).decode())
        master.chmod(0o600)
        plan = plan_venues(accounts, keys_path=tmp_path / "venue-keys.json", master_key_file=master)
        node = Node.in_memory()
        setup = setup_venues(
            node,
            plan.config,
            plan.sources,
            data_dir=tmp_path,
            gateway_config=GatewayConfig(stream_wait_s=0.2, visibility_s=1.0),
            market_data=False,
            keys_poll_s=0.05,
        )
        setup.gateway.start()
        watchers = [asyncio.create_task(w()) for _, w in setup.watchers]
        try:
            session = setup.gateway.session("binance", "binance_spot_main")
            await wait_until(lambda: session.health().tradable)()
            reconciled = len(node.reconciliation_reports(latest=False))
            assert reconciled >= 1
            # The venue issues a new key and revokes the old one; the desk rotates it in Atlas.
            acct = fake.venue.accounts["desk"]
            fake.venue.by_key.pop(KEY)
            acct.cfg = dataclasses.replace(acct.cfg, api_key=NEW_KEY, secret=NEW_SECRET)
            fake.venue.by_key[NEW_KEY] = acct
            store.rotate("binance_spot_main", NEW_KEY, NEW_SECRET)
            # The stream reconnects under the new key: a gap, reconciled before trading again.
            await wait_until(lambda: len(node.reconciliation_reports(latest=False)) > reconciled)()
            await wait_until(lambda: session.health().tradable)()
            view = node.submit("binance_spot_main", "BTC/USDT", "BUY", "LIMIT", "0.01", "50000")
            await wait_until(
                lambda: (
                    (v := node.get_order(view.order_id)) is not None
                    and v.status is OrderStatus.ACCEPTED
                )
            )()
            assert [o.status for o in fake.venue.orders.values()] == ["NEW"]
        finally:
            for task in watchers:
                task.cancel()
            await setup.gateway.stop()
            setup.close()
            await fake.stop()

    asyncio.run(asyncio.wait_for(main(), 30))
