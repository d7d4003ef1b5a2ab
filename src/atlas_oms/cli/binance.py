"""``atlas binance key KEY_ID [--account A]``: the Binance-dialect credentials of an Atlas key
(Atlas as a Binance-compatible venue, ``ATLAS_BINANCE_PORT``): ``apiKey`` = the key id (with
``@ACCOUNT`` for another of its accounts), ``secret`` = derived from the server secret in the
data folder. Offline: reads ``DATA_DIR/api-keys.json`` and ``DATA_DIR/binance-api.key`` (created
by the first ``atlas serve``, or here)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from atlas_oms.binance_api.keys import credential, server_secret
from atlas_oms.cli.context import Context
from atlas_oms.fakes.binance.urls import ccxt_config
from atlas_oms.service.keys import KeyStore
from atlas_oms.service.settings import ServiceSettings

__all__ = ["add_parser", "cmd_ccxt", "cmd_key"]


def _pair(args: argparse.Namespace) -> dict[str, Any] | None:
    """``{"apiKey", "secret", "account"}`` of ``args.key_id`` (None, said on stderr: no key)."""
    settings = ServiceSettings()
    data_dir: Path = args.data_dir or settings.data_dir
    keys = KeyStore(data_dir / "api-keys.json")
    key = keys.keys.get(args.key_id)
    if key is None:
        print(f"no key {args.key_id} in {data_dir / 'api-keys.json'}", file=sys.stderr)
        return None
    account = args.account  # the server checks the key's right to it at each request
    found = credential(keys, server_secret(data_dir), args.key_id, account)
    assert found is not None
    acts_for = account or (key.accounts[0] if key.accounts else None)
    return {"apiKey": found.api_key, "secret": found.secret, "account": acts_for}


def cmd_key(args: argparse.Namespace, ctx: Context) -> int:
    """Print ``{"apiKey", "secret", "account"}`` of a key (exit 1: no such key)."""
    pair = _pair(args)
    if pair is None:
        return 1
    print(json.dumps(pair))
    return 0


def cmd_ccxt(args: argparse.Namespace, ctx: Context) -> int:
    """Print a whole ccxt ``binance`` constructor config (JSON) for a key against the dialect's
    URL: the key pair, every ``urls.api`` entry pointed at Atlas, and the market's options. A bot
    in another environment (freqtrade's ``ccxt_config``, a script) pastes it as it is."""
    pair = _pair(args)
    if pair is None:
        return 1
    http = args.url.rstrip("/")
    ws = "ws" + http[4:] if http.startswith("http") else http
    config = ccxt_config(args.market, pair["apiKey"], pair["secret"], http, ws)
    if args.market == "usdm":
        config["options"]["defaultType"] = "future"
    print(json.dumps(config, indent=2))
    return 0


def add_parser(sub: Any) -> None:
    """``atlas binance key``."""
    group = sub.add_parser("binance", help="Atlas as a Binance-compatible venue")
    actions = group.add_subparsers(dest="binance_command", metavar="ACTION", required=True)
    key = actions.add_parser(
        "key", help="print a key's Binance apiKey and secret (JSON; the secret: keep it safe)"
    )
    key.add_argument("key_id", metavar="KEY_ID", help="the Atlas key id (ak_...)")
    key.add_argument(
        "--account", metavar="ACCOUNT", help="act for this account of the key (default: its first)"
    )
    key.add_argument(
        "--data-dir", type=Path, metavar="DIR", help="the data folder (default: ATLAS_DATA_DIR)"
    )
    key.set_defaults(func=cmd_key)
    cfg = actions.add_parser(
        "ccxt",
        help="print a ccxt binance config (JSON) for a key against Atlas's Binance dialect",
    )
    cfg.add_argument("key_id", metavar="KEY_ID", help="the Atlas key id (ak_...)")
    cfg.add_argument(
        "--account", metavar="ACCOUNT", help="act for this account of the key (default: its first)"
    )
    cfg.add_argument("--market", choices=("spot", "usdm"), default="spot", help="spot or USDⓈ-M")
    cfg.add_argument(
        "--url",
        default="http://127.0.0.1:8001",
        metavar="URL",
        help="the dialect's base URL (ATLAS_BINANCE_PORT; default http://127.0.0.1:8001)",
    )
    cfg.add_argument(
        "--data-dir", type=Path, metavar="DIR", help="the data folder (default: ATLAS_DATA_DIR)"
    )
    cfg.set_defaults(func=cmd_ccxt)
