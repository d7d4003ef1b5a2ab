"""Run the fake Upbit (KRW markets) standalone:
``python -m atlas_oms.fakes.upbit --port N --accounts FILE [--house-quotes]``.

FILE is JSON: a list of accounts, each ``{"name", "access_key", "secret", "balances":
{currency: amount}}``. With ``--house-quotes`` the house rests a bid and an ask 10,000 KRW
around ``--mid`` on every market (``KRW-BTC``, ``KRW-ETH``) so market orders fill. The first
line printed is JSON: ``http``, ``ws`` and the ``venues:`` entry for accounts.yaml.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import Any

from atlas_oms.fakes.standalone import amounts, parser, read_accounts, serve
from atlas_oms.fakes.upbit.server import FakeUpbit
from atlas_oms.fakes.upbit.venue import Account

#: Ten price units of the >= 2,000,000 KRW band (1,000 KRW): on tick for BTC-sized prices.
GAP = Decimal(10_000)


def main(argv: list[str] | None = None) -> int:
    args = parser("upbit", __doc__, mid="90000000", depth="10").parse_args(argv)
    accounts = [
        Account(
            name=str(a["name"]),
            access_key=str(a.get("access_key") or a["api_key"]),
            secret=str(a["secret"]),
            balances={c: [v, Decimal(0)] for c, v in amounts(a.get("balances")).items()},
        )
        for a in read_accounts(args.accounts)
    ]
    fake = FakeUpbit(accounts)

    async def start() -> dict[str, Any]:
        await fake.start(port=args.port)
        if args.house_quotes:
            mid, depth = Decimal(args.mid), Decimal(args.depth)
            for market in fake.venue.markets:
                fake.venue.house[(market, "bid", mid - GAP)] = depth
                fake.venue.house[(market, "ask", mid + GAP)] = depth
        ep = {"rest_url": fake.http, "ws_url": fake.ws}
        return {"http": fake.http, "ws": fake.ws, "venues": {"upbit": ep}}

    return serve(start, fake.stop)


if __name__ == "__main__":
    sys.exit(main())
