"""Run the fake Bybit (v5, one Unified Trading Account per key: spot and linear) standalone:
``python -m atlas_oms.fakes.bybit --port N --accounts FILE [--house-quotes]``.

FILE is JSON: a list of accounts, each ``{"name", "api_key", "secret", "wallet": {coin:
amount}, "hedge_mode"}``. With ``--house-quotes`` the house rests a bid and an ask ten ticks
around ``--mid`` on every instrument (spot and linear ``BTCUSDT``) so market orders fill. The
first line printed is JSON: ``http``, ``ws`` and the ``venues:`` entries for accounts.yaml.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import Any

from atlas_oms.fakes.bybit.server import FakeBybit
from atlas_oms.fakes.bybit.venue import SPECS, AccountConfig
from atlas_oms.fakes.standalone import amounts, parser, read_accounts, serve


def main(argv: list[str] | None = None) -> int:
    args = parser("bybit", __doc__, mid="50000", depth="100").parse_args(argv)
    accounts = [
        AccountConfig(
            name=str(a["name"]),
            api_key=str(a["api_key"]),
            secret=str(a["secret"]),
            wallet=amounts(a.get("wallet")),
            hedge_mode=bool(a.get("hedge_mode", False)),
        )
        for a in read_accounts(args.accounts)
    ]
    fake = FakeBybit(accounts)

    async def start() -> dict[str, Any]:
        await fake.start(port=args.port)
        if args.house_quotes:
            if not accounts:
                raise SystemExit("--house-quotes needs an account (the house quotes from it)")
            mid, depth = Decimal(args.mid), Decimal(args.depth)
            for (category, symbol), spec in SPECS.items():
                gap = spec.tick * 10
                fake.venue.house_quote(category, symbol, "Buy", mid - gap, depth)
                fake.venue.house_quote(category, symbol, "Sell", mid + gap, depth)
        ep = {"rest_url": fake.http, "ws_url": fake.ws}
        return {"http": fake.http, "ws": fake.ws, "venues": {"bybit": ep, "bybitlinear": ep}}

    return serve(start, fake.stop)


if __name__ == "__main__":
    sys.exit(main())
