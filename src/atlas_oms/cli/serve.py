"""``atlas serve``: run the node behind the REST + WebSocket API (:mod:`atlas_oms.service`)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from atlas_oms.cli.context import Context
from atlas_oms.cli.exit_codes import EXIT_CONFIG, EXIT_JOURNAL_DAMAGED, EXIT_JOURNAL_LOCKED

__all__ = ["add_parser", "cmd_serve"]

#: The options that override a ServiceSettings field of the same name when given.
_OVERRIDES = (
    "data_dir",
    "host",
    "port",
    "instruments_file",
    "tls_cert",
    "tls_key",
    "accounts_file",
    "policy_params_file",
    "market",
    "market_seed",
    "market_file",
    "market_every_s",
    "grpc_port",
    "fix_port",
    "binance_port",
)


def cmd_serve(args: argparse.Namespace, ctx: Context) -> int:
    """Serve until stopped; ``ATLAS_*`` environment variables set what the options do not."""
    from atlas_oms.service.market_maker import MarketFileError
    from atlas_oms.service.server import serve  # here: only this command needs the web stack
    from atlas_oms.service.settings import ServiceSettings

    overrides: dict[str, Any] = {}
    for name in _OVERRIDES:
        value = getattr(args, name)
        if value is not None:
            overrides[name] = value
    if args.no_market_maker:
        overrides["market_maker"] = False
    if args.repair_journal:
        overrides["repair_journal"] = True
    try:
        return serve(ServiceSettings(**overrides))
    except MarketFileError as exc:
        print(f"atlas serve: {exc}", file=sys.stderr)
        return EXIT_CONFIG


def add_parser(sub: Any) -> None:
    """``atlas serve``."""
    srv = sub.add_parser(
        "serve",
        help="run Atlas: the REST + WebSocket API on its embedded defaults (127.0.0.1:8000)",
        description="Starts the engine on a SQLite journal in the data folder with the built-in "
        "exchange and market maker; resumes from the journal on restart. First start writes the "
        "first API keys to DATA_DIR/first-keys.txt. ATLAS_* environment variables set the rest. "
        f"One server per data folder: a second one exits with code {EXIT_JOURNAL_LOCKED} and "
        f"writes nothing. A damaged journal (events lost) stops the start with code "
        f"{EXIT_JOURNAL_DAMAGED} and the lost seq range, unless --repair-journal. A wrong "
        f"accounts.yaml or an unreadable venue key stops the start with code {EXIT_CONFIG}.",
    )
    srv.add_argument("--data-dir", metavar="DIR", help="journal and keys folder (atlas-data)")
    srv.add_argument("--host", metavar="HOST", help="address to listen on (127.0.0.1)")
    srv.add_argument("--port", type=int, metavar="PORT", help="port (8000)")
    srv.add_argument("--instruments-file", metavar="FILE", help="instruments JSON (first start)")
    srv.add_argument(
        "--grpc-port", type=int, metavar="PORT", help="also serve the gRPC API on PORT (off)"
    )
    srv.add_argument(
        "--fix-port", type=int, metavar="PORT", help="also run the FIX 4.4 acceptor on PORT (off)"
    )
    srv.add_argument(
        "--binance-port",
        type=int,
        metavar="PORT",
        help="also speak Binance's spot and USD-M dialect on PORT (off)",
    )
    srv.add_argument("--tls-cert", metavar="FILE", help="TLS certificate (with --tls-key)")
    srv.add_argument("--tls-key", metavar="FILE", help="TLS private key")
    srv.add_argument(
        "--accounts-file",
        metavar="FILE",
        help="accounts.yaml: trade on the venue accounts it names (Binance spot and USDⓈ-M), "
        "keys from the encrypted key file (ATLAS_MASTER_KEY) or Vault (ATLAS_ACCOUNTS_FILE)",
    )
    srv.add_argument(
        "--policy-params-file",
        metavar="FILE",
        help="seed 001's execution-policy parameters (YAML or .properties), put in force at "
        "start when they differ from the journal's (ATLAS_POLICY_PARAMS_FILE); wrong: exit 78",
    )
    srv.add_argument("--no-market-maker", action="store_true", help="do not quote (--market off)")
    srv.add_argument(
        "--market",
        choices=("walk", "file", "off"),
        help="the built-in market: a seeded random walk (default), a recorded file replayed in "
        "a loop, or off (ATLAS_MARKET; volatility, spread, depth: ATLAS_MARKET_*)",
    )
    srv.add_argument("--market-seed", type=int, metavar="N", help="the walk's seed (random)")
    srv.add_argument(
        "--market-file", metavar="CSV", help="prices or OHLCV bars (ccxt rows) for --market file"
    )
    srv.add_argument(
        "--market-every-s", type=float, metavar="S", help="seconds between market steps (1)"
    )
    srv.add_argument(
        "--repair-journal",
        action="store_true",
        help="start on a damaged journal: record the loss (a JournalRepaired event above every "
        "seq ever written) and carry on; ATLAS_REPAIR_JOURNAL=1 does the same",
    )
    srv.set_defaults(func=cmd_serve)
