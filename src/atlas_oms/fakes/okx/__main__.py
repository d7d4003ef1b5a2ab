"""Run the fake OKX (v5, one unified account per key: spot and SWAP) standalone:
``python -m atlas_oms.fakes.okx --port N --accounts FILE [--house-quotes]``.

FILE is JSON: a list of accounts, each ``{"name", "api_key", "secret", "passphrase", "cash":
{ccy: amount}, "hedge"}``. With ``--house-quotes`` the house rests a bid and an ask ten ticks
around ``--mid`` on every instrument (``BTC-USDT``, ``BTC-USDT-SWAP``; ``--depth`` in BTC, so
``depth / ctVal`` contracts on the SWAP). The first line printed is JSON: ``http``, ``ws`` and
the ``venues:`` entry for accounts.yaml.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import Any

from atlas_oms.fakes.okx.server import FakeOkx
from atlas_oms.fakes.okx.venue import INSTRUMENTS, Account
from atlas_oms.fakes.standalone import amounts, parser, read_accounts, serve


def main(argv: list[str] | None = None) -> int:
    args = parser("okx", __doc__, mid="50000", depth="100").parse_args(argv)
    accounts = [
        Account(
            name=str(a["name"]),
            api_key=str(a["api_key"]),
            secret=str(a["secret"]),
            passphrase=str(a["passphrase"]),
            cash=amounts(a.get("cash")),
            hedge=bool(a.get("hedge", False)),
        )
        for a in read_accounts(args.accounts)
    ]
    fake = FakeOkx(accounts)

    async def start() -> dict[str, Any]:
        await fake.start(port=args.port)
        if args.house_quotes:
            mid, depth = Decimal(args.mid), Decimal(args.depth)
            for inst_id, inst in INSTRUMENTS.items():
                gap, size = inst.tick * 10, depth / inst.ct_val
                fake.venue.house_quote(inst_id, "buy", mid - gap, size)
                fake.venue.house_quote(inst_id, "sell", mid + gap, size)
        ep = {"rest_url": fake.http, "ws_url": fake.ws}
        return {"http": fake.http, "ws": fake.ws, "venues": {"okx": ep}}

    return serve(start, fake.stop)


if __name__ == "__main__":
    sys.exit(main())
