"""Run the fake Alpaca (trading API and ``trade_updates`` stream; AAPL listed) standalone:
``python -m atlas_oms.fakes.alpaca --port N --accounts FILE [--house-quotes]``.

FILE is JSON: a list of accounts, each ``{"name", "api_key", "secret", "cash"}``. ``--mid`` is
the last price (market orders fill there); with ``--house-quotes`` the house also rests a bid
and an ask 5 cents around it on every asset. The first line printed is JSON: ``http``,
``stream_url`` and the ``venues:`` entry for accounts.yaml.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import Any

from atlas_oms.fakes.alpaca.server import FakeAlpaca
from atlas_oms.fakes.alpaca.venue import Account, HouseQuote
from atlas_oms.fakes.standalone import parser, read_accounts, serve

GAP = Decimal("0.05")


def main(argv: list[str] | None = None) -> int:
    args = parser("alpaca", __doc__, mid="150", depth="1000").parse_args(argv)
    accounts = [
        Account(
            name=str(a["name"]),
            api_key=str(a["api_key"]),
            secret=str(a["secret"]),
            cash=Decimal(str(a.get("cash", "0"))),
        )
        for a in read_accounts(args.accounts)
    ]
    mid = Decimal(args.mid)
    fake = FakeAlpaca(accounts, last_price=mid)

    async def start() -> dict[str, Any]:
        await fake.start(port=args.port)
        if args.house_quotes:
            depth = Decimal(args.depth)
            for symbol in fake.venue.assets:
                fake.venue.house[symbol] = [
                    HouseQuote("buy", depth, mid - GAP),
                    HouseQuote("sell", depth, mid + GAP),
                ]
        ep = {"rest_url": fake.http, "ws_url": fake.stream_url, "data_url": fake.http}
        return {"http": fake.http, "stream_url": fake.stream_url, "venues": {"alpaca": ep}}

    return serve(start, fake.stop)


if __name__ == "__main__":
    sys.exit(main())
