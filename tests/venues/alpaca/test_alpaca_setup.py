"""accounts.yaml: an ``alpaca`` exchange trades on the venue ``alpaca`` (paper URLs unless the
file's ``venues:`` says otherwise), and its adapter is an :class:`AlpacaAdapter`."""

from __future__ import annotations

from atlas_oms.runtime.venue_setup import make_adapter
from atlas_oms.venues.accounts import parse_accounts
from atlas_oms.venues.alpaca import AlpacaAdapter
from atlas_oms.venues.credentials import Credentials

PAPER = """\
accounts:
  alpaca:
    main:
      type: main
      spot_enabled: true
account_routing:
  default: main
"""


def test_an_alpaca_account_is_paper_by_default_and_gets_the_alpaca_adapter() -> None:
    config = parse_accounts(PAPER, source="accounts.yaml")
    (acc,) = [a for a in config.accounts if a.venue == "alpaca"]
    assert acc.endpoints.rest_url == "https://paper-api.alpaca.markets"
    assert acc.endpoints.ws_url == "wss://paper-api.alpaca.markets/stream"
    adapter = make_adapter(acc, Credentials.of(acc.account_id, "PK1", "s1"), lambda _c: None)
    assert isinstance(adapter, AlpacaAdapter)
    assert adapter._client.base_url == "https://paper-api.alpaca.markets"
    assert adapter._client.retries == 0 and adapter._client._retry_codes == []


def test_live_urls_come_from_the_venues_section() -> None:
    text = PAPER + (
        "venues:\n  alpaca:\n    rest_url: https://api.alpaca.markets\n"
        "    ws_url: wss://api.alpaca.markets/stream\n"
    )
    config = parse_accounts(text, source="accounts.yaml")
    (acc,) = [a for a in config.accounts if a.venue == "alpaca"]
    adapter = make_adapter(acc, Credentials.of(acc.account_id, "AK1", "s1"), lambda _c: None)
    assert isinstance(adapter, AlpacaAdapter)
    assert adapter._client.base_url == "https://api.alpaca.markets"
    assert adapter._stream_url == "wss://api.alpaca.markets/stream"
