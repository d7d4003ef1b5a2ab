"""Regenerate BTCUSDT-1m-sample.csv: a SYNTHETIC seeded random walk (not market data).

python examples/data/make_sample.py
"""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

START_MS = 1_704_067_200_000  # 2024-01-01 00:00 UTC
BARS = 3_000
CENT = Decimal("0.01")


def main() -> None:
    rng = random.Random(14)
    price = Decimal(42_000)
    lines = ["timestamp,open,high,low,close,volume"]
    for i in range(BARS):
        o = price
        # a walk of 6 steps inside the minute, 0.05% each, with a slow drift cycle
        path = [o]
        for _ in range(6):
            step = Decimal(str(round(rng.gauss(0, 0.0005), 6)))
            path.append((path[-1] * (1 + step)).quantize(CENT))
        c = path[-1]
        h, lo = max(path), min(path)
        vol = Decimal(str(round(rng.uniform(1, 25), 3)))
        lines.append(f"{START_MS + i * 60_000},{o},{h},{lo},{c},{vol}")
        price = c
    out = Path(__file__).with_name("BTCUSDT-1m-sample.csv")
    out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
