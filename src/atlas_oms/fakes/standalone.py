"""What every standalone fake shares (``python -m atlas_oms.fakes.<venue>``): the command line
(``--port``, ``--accounts FILE``, ``--house-quotes`` with ``--mid``/``--depth``), the accounts
file (JSON: a list of objects, or ``{"accounts": [...]}``) and the serving loop, which prints one
JSON line first (the fake's URLs and the ``venues:`` entries of ``accounts.yaml`` that point
Atlas at it), then serves until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any


def parser(venue: str, doc: str | None, *, mid: str, depth: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"python -m atlas_oms.fakes.{venue}", description=doc)
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    p.add_argument("--accounts", help="JSON file with the accounts")
    p.add_argument(
        "--house-quotes", action="store_true", help="rest house liquidity on every instrument"
    )
    p.add_argument("--mid", default=mid, help=f"mid price for --house-quotes (default {mid})")
    p.add_argument(
        "--depth", default=depth, help=f"base quantity per side for --house-quotes ({depth})"
    )
    return p


def read_accounts(path: str | None) -> list[dict[str, Any]]:
    """The account objects of ``path`` (none without a file)."""
    if not path:
        return []
    data: Any = json.loads(Path(path).read_text())
    if isinstance(data, dict):
        data = data.get("accounts", [])
    if not isinstance(data, list) or not all(isinstance(a, dict) for a in data):
        raise SystemExit(f"{path}: expected a JSON list of account objects")
    return data


def amounts(raw: Any) -> dict[str, Decimal]:
    """``{"USDT": "1000"}`` with exact decimals (numbers read as their text)."""
    return {str(k): Decimal(str(v)) for k, v in (raw or {}).items()}


def serve(
    start: Callable[[], Awaitable[dict[str, Any]]], stop: Callable[[], Awaitable[None]]
) -> int:
    """Run ``start`` (returns the JSON printed first), then serve until interrupted."""

    async def run() -> None:
        urls = await start()
        print(json.dumps(urls), flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await stop()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        return 0
    return 0
