"""The README's "Binance dialect" section works as written for a newcomer: its shell lines make
the ccxt configs with ``atlas binance ccxt`` from the first keys file, and its spot and USDⓈ-M
snippets, run as they are in the folder holding those files, trade on a real ``atlas serve``."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
from tests.service.serving import Served, free_port

README = Path(__file__).resolve().parents[2] / "README.md"


def section() -> str:
    text = README.read_text()
    start = text.index("### The Binance dialect")
    return text[start : text.index("\n## ", start)]


def test_the_readme_commands_and_snippets_trade_on_atlas(tmp_path: Path) -> None:
    part = section()
    shell = re.search(r"```bash\n(.*?)```", part, re.S)
    snippets = re.findall(r"```py\n(.*?)```", part, re.S)
    assert shell is not None and len(snippets) == 2
    port = free_port()
    data = tmp_path / "atlas-data"
    served = Served(data, market_maker=True, env={"ATLAS_BINANCE_PORT": str(port)})
    try:
        served.start()
        bin_dir = Path(sys.executable).parent
        script = shell.group(1).replace(".venv/bin/", f"{bin_dir}/")
        # The README's commands assume `make run`'s port 8001; here the port is a free one.
        script = script.replace(" > binance-", f" --url http://127.0.0.1:{port} > binance-")
        subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, check=True)
        assert (tmp_path / "binance-spot.json").exists()
        assert (tmp_path / "binance-usdm.json").exists()
        for number, code in enumerate(snippets):
            run = subprocess.run(
                [sys.executable, "-c", code],
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=120,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
            assert run.returncode == 0, (number, run.stdout, run.stderr[-3000:])
        trader = served.keys()["trader"]
        orders = httpx.get(
            f"{served.url}/v1/orders", params={"account_id": "desk"}, headers=trader
        ).json()
        rows = orders["orders"] if isinstance(orders, dict) else orders
        filled = {(o["symbol"], o["status"]) for o in rows}
        assert ("BTC/USDT", "FILLED") in filled  # the spot market order
        assert ("BTC/USDT:USDT", "FILLED") in filled  # the USDⓈ-M market order
    finally:
        with contextlib.suppress(Exception):
            served.stop()
        served.ensure_stopped()
