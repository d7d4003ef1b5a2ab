"""Run the fake Binance standalone: ``python -m atlas_oms.fakes.binance --port N --accounts FILE``.

FILE is JSON: a list of accounts, each ``{"name", "api_key", "secret", "spot": {asset:
amount}, "futures": {asset: amount}, "hedge_mode", "bnb_fees"}``. With ``--house-quotes``, the
house rests a bid and an ask around ``--mid`` on every symbol so market orders can fill. It prints
the ``urls['api']`` override for ccxt as JSON on its first line, then serves until interrupted.
``--limits JSON`` overrides fields of :class:`~atlas_oms.fakes.binance.config.Limits` (e.g.
``'{"orders_per_10s": 1000000}'`` for a benchmark).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from decimal import Decimal

from atlas_oms.fakes.binance.config import SPOT, USDM, Limits, load_accounts
from atlas_oms.fakes.binance.server import FakeBinance


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m atlas_oms.fakes.binance", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--accounts", help="JSON file with the accounts")
    parser.add_argument(
        "--house-quotes", action="store_true", help="rest house liquidity on every symbol"
    )
    parser.add_argument("--mid", default="50000", help="mid price for --house-quotes")
    parser.add_argument("--depth", default="100", help="quantity per side for --house-quotes")
    parser.add_argument(
        "--limits", help='JSON object of Limits fields, e.g. {"orders_per_10s": 1e6}'
    )
    args = parser.parse_args(argv)
    accounts = load_accounts(args.accounts) if args.accounts else []
    limits = Limits(**json.loads(args.limits)) if args.limits else None

    async def serve() -> None:
        fake = FakeBinance(accounts, limits=limits)
        await fake.start(port=args.port)
        if args.house_quotes:
            mid = Decimal(args.mid)
            for market in (SPOT, USDM):
                for symbol, spec in fake.venue.symbols[market].items():
                    gap = spec.tick * 10
                    fake.venue.house_quote(market, symbol, "BUY", mid - gap, args.depth)
                    fake.venue.house_quote(market, symbol, "SELL", mid + gap, args.depth)
        print(json.dumps({"http": fake.http, "ws": fake.ws, "urls": fake.ccxt_urls()}), flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await fake.stop()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
