"""End to end: the real ``atlas serve`` process and the web blotter in headless Chromium.

The browser is the system's Chromium (Debian's ``chromium`` package, or ``ATLAS_CHROMIUM``),
driven by Playwright through ``executable_path``; Playwright's own browser download is never used.
Without Playwright or a Chromium the test is skipped, saying which is missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"


def find_chromium() -> str | None:
    candidates = [
        os.environ.get("ATLAS_CHROMIUM"),
        "/usr/lib/chromium/chromium",  # Debian's binary (the /usr/bin script only wraps it)
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
        shutil.which("google-chrome"),
    ]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, base: str, data_dir: Path) -> None:
        self.base = base
        self.tokens: dict[str, str] = {}
        for line in (data_dir / "first-keys.txt").read_text().splitlines():
            entry = json.loads(line)
            self.tokens[entry["roles"][0]] = entry["token"]

    def api(self, method: str, path: str, token: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("X-API-Key", token)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    port = free_port()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    env["ATLAS_LOG_LEVEL"] = "WARNING"
    cmd = [sys.executable, "-m", "atlas_oms.cli", "serve"]
    cmd += ["--data-dir", str(tmp_path / "data"), "--port", str(port)]
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("atlas serve did not start:\n" + (tmp_path / "serve.log").read_text())
            time.sleep(0.1)
        yield Server(base, tmp_path / "data")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()


def install_chromium() -> str:
    """Install Debian's Chromium from the package registry (as CI's root can); say what happened."""
    import shutil

    if shutil.which("apt-get") is None:
        return "no apt-get here"
    if os.geteuid() != 0:
        return "not root, so apt-get cannot install"
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{' '.join(cmd)} failed: {exc}"
        if done.returncode != 0:
            return f"{' '.join(cmd)} exited {done.returncode}: {done.stderr.strip()[-300:]}"
    return "installed with apt-get"


@pytest.fixture
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright is not installed (pip install -e '.[dev]' brings it)")
    path = find_chromium()
    tried = ""
    if path is None:
        tried = install_chromium()
        path = find_chromium()
    if path is None:
        pytest.skip(
            "no Chromium on this machine and it could not be installed "
            f"({tried}): install Debian's package (apt-get install -y chromium) or point "
            "ATLAS_CHROMIUM at a Chromium binary; Playwright's own browser download is not used "
            "(it needs a network this project does not have)"
        )
    with sync_playwright() as p:
        try:
            chromium = p.chromium.launch(executable_path=path, headless=True)
        except Exception as exc:  # a browser that is there but cannot start
            pytest.skip(f"Chromium at {path} does not start: {str(exc).splitlines()[0]}")
        try:
            yield chromium
        finally:
            chromium.close()


def open_blotter(browser: Any, server: Server, token: str) -> Any:
    from playwright.sync_api import expect

    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    page.goto(server.base + "/")
    page.fill("#api-key", token)
    page.click("#key-connect")
    expect(page.locator("#desk")).to_be_visible()
    expect(page.locator("#ws-status")).to_contain_text("live")
    return page


def test_a_trader_submits_modifies_and_cancels_from_the_blotter_and_risk_sees_the_kill_switch(
    browser: Any, server: Server
) -> None:
    from playwright.sync_api import expect

    trader = server.tokens["trader"]
    page = open_blotter(browser, server, trader)
    expect(page.locator("#whoami")).to_contain_text("trader")
    expect(page.locator("#account")).to_have_value("desk")
    expect(page.locator("#kill-box")).to_be_hidden()  # not for a trader key
    expect(page.locator("#balances tbody")).to_contain_text("USDT")

    # Submit from the form; the order shows in the live table.
    page.select_option("#o-symbol", "BTC/USDT")
    page.select_option("#o-side", "BUY")
    page.select_option("#o-type", "LIMIT")
    page.fill("#o-qty", "0.01")
    page.fill("#o-price", "50000")
    page.click("#o-submit")
    expect(page.locator("#message")).to_contain_text("accepted")
    order_id = re.search(r"Order (\d+)", page.inner_text("#message")).group(1)  # type: ignore[union-attr]
    row = page.locator(f'#orders tbody tr[data-order-id="{order_id}"]')
    expect(row).to_contain_text("50000")
    expect(row.locator(".order-status")).to_have_text("ACCEPTED")
    expect(page.locator("#events")).to_contain_text(f"OrderAccepted order {order_id}")

    # An order placed elsewhere (REST, another process) arrives over the WebSocket alone.
    other = server.api(
        "POST",
        "/v1/orders",
        trader,
        {
            "account_id": "desk",
            "symbol": "BTC/USDT",
            "side": "BUY",
            "qty": "0.02",
            "price": "40000",
        },
    )
    other_row = page.locator(f'#orders tbody tr[data-order-id="{other["order_id"]}"]')
    expect(other_row).to_contain_text("40000")
    expect(page.locator("#events")).to_contain_text(f"OrderSubmitted order {other['order_id']}")

    # Modify the price in the row.
    row.locator("button.modify").click()
    row.locator("input.edit-price").fill("50001")
    row.locator("button.save").click()
    expect(page.locator("#message")).to_contain_text(f"Order {order_id} modified")
    expect(row.locator(".order-price")).to_have_text("50001.00")  # at the tick (0.01)
    expect(page.locator("#events")).to_contain_text(f"OrderReplaced order {order_id}")

    # Cancel it: gone from the open orders, listed as cancelled.
    row.locator("button.cancel").click()
    expect(row).to_have_count(0)
    closed = page.locator(f'#closed tbody tr[data-order-id="{order_id}"]')
    expect(closed.locator(".order-status")).to_have_text("CANCELED")
    expect(page.locator("#events")).to_contain_text(f"OrderCanceled order {order_id}")

    # An order the engine refuses: the problem's reason and detail are shown.
    page.fill("#o-qty", "999999")
    page.fill("#o-price", "50000")
    page.click("#o-submit")
    expect(page.locator("#message")).to_contain_text("INSUFFICIENT_BALANCE")
    expect(page.locator("#message")).to_contain_text("free")

    # A risk key sees the kill switch and uses it on the desk; the trader's page learns it live.
    risk = open_blotter(browser, server, server.tokens["risk"])
    expect(risk.locator("#kill-box")).to_be_visible()
    risk.select_option("#account", "desk")
    expect(risk.locator("#orders tbody")).to_contain_text("40000")
    risk.once("dialog", lambda dialog: dialog.accept("e2e drill"))
    risk.click("#kill")
    expect(risk.locator("#risk-summary")).to_contain_text("KILL SWITCH ON")
    expect(page.locator("#risk-summary")).to_contain_text("KILL SWITCH ON")
    expect(page.locator(f'#orders tbody tr[data-order-id="{other["order_id"]}"]')).to_have_count(0)
    page.fill("#o-qty", "0.01")
    page.click("#o-submit")
    expect(page.locator("#message")).to_contain_text("Submitting the order failed")
    risk.once("dialog", lambda dialog: dialog.accept("drill over"))
    risk.click("#kill-reset")
    expect(page.locator("#risk-summary")).to_contain_text("Trading active")
    assert page.errors == [] and risk.errors == []
