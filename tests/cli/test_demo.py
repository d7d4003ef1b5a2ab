"""``atlas demo``: the scripted session tells its story, the same way every run."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

from atlas_oms.cli import main

DIGEST = re.compile(r"digest: ([0-9a-f]{64})")


def row(text: str, first: str) -> list[str]:
    """The cells of the table row whose first cell is ``first``."""
    for line in text.splitlines():
        cells = line.split()
        if cells and cells[0] == first:
            return cells
    raise AssertionError(f"no row {first!r} in:\n{text}")


def test_demo_prints_the_blotter_fills_positions_and_balances(demo_run: tuple[Path, str]) -> None:
    path, text = demo_run
    for heading in ("== Blotter", "== Fills", "== Positions", "== Balances"):
        assert heading in text
    for reason in (
        "PRICE_NOT_ON_TICK",
        "INSUFFICIENT_BALANCE",
        "POST_ONLY_WOULD_TAKE",
        "FOK_NOT_FILLABLE",
        "IOC_REMAINDER",
        "ORDER_NOT_LIVE",
    ):
        assert reason in text, reason
    assert "TRAILING_STOP_MARKET" in text and "STOP_LIMIT" in text
    assert f"replay it: atlas replay {path}" in text
    assert "E-" not in text and "E+" not in text  # Decimals printed without exponents


def test_demo_shows_the_risk_controls(demo_run: tuple[Path, str]) -> None:
    _, text = demo_run
    risk = text[text.index("== Risk controls") :]
    # limits: one denial of each, with its reason and sentence
    assert "ORDER_QTY_TOO_LARGE: quantity 5 is above the order limit 1" in risk
    assert "PRICE_OUTSIDE_BAND: limit price 63000 is more than 1% from the reference" in risk
    assert "TOO_MANY_OPEN_ORDERS: account bob already has 3 open orders (the limit)" in risk
    # REDUCING: the increasing order is refused, the reducing one fills
    assert "TRADING_REDUCING: account bob may only reduce exposure" in risk
    reducing = risk[risk.index("TRADING_REDUCING") :]
    assert "FILLED, filled 0.5 @ avg 64005" in reducing.split("ACTIVE again")[0]
    # the circuit breaker trips on the second losing round trip, and its report is printed
    assert "consecutive losses 1, breaker CLOSED" in risk
    assert "consecutive losses 2, breaker OPEN" in risk
    assert "CIRCUIT_BREAKER_OPEN: the account bob circuit breaker is open" in risk
    assert "refused BREAKER_COOLING_DOWN" in risk
    for line in ("state               OPEN", "consecutive losses  2 of 2", "may reset at"):
        assert line in risk, line
    # the kill switch cancels bob's two resting bids, blocks him, and is reset with a reason
    assert risk.count("CANCELED [KILL_SWITCH]") == 2
    assert "KILL_SWITCH_ACTIVE: the account bob kill switch is active" in risk
    assert "refused INVALID_FIELD: resetting a kill switch needs a reason" in risk
    # the audit trail's tail ends with the reset
    tail = risk[risk.index("Audit trail of bob") :].splitlines()
    assert tail[1].split()[:3] == ["seq", "time", "event"]
    events = [line.split()[3] for line in tail[3:] if line.strip() and line.split()[0].isdigit()]
    assert len(events) == 12 and events[-1] == "KillSwitchReset"
    assert {"KillSwitchTripped", "OrderCanceled", "CommandRejected"} <= set(events)


def test_demo_prints_the_derivatives_section(demo_run: tuple[Path, str]) -> None:
    _, text = demo_run
    section = text[text.index("== Derivatives venue") :]
    assert "tier 2          10,000    100,000       75x" in section
    assert "refused LEVERAGE_TOO_HIGH: leverage 150x is above ETH/USDT:USDT's maximum 100x" in (
        section
    )
    carol = row(section, "carol")
    assert carol[5:] == ["0", "ISOLATED", "50x", "600", "30%", "2957.73", "2940"]
    assert "liquidation #1: carol ISOLATED" in section
    assert row(section, "BOOK")[-2:] == ["book:", "mm-eth"]
    assert row(section, "ADL")[-2:] == ["1:", "erin"]
    assert "-> 208,100 USDT in, 208,100 accounted for: conserved" in section
    assert row(section, "total")[1:] == ["208,100", "208,100"]
    assert text.index("== Derivatives venue") > text.index("Audit trail of bob")


def test_demo_runs_on_its_own_clock(demo_run: tuple[Path, str]) -> None:
    _, text = demo_run
    stamps = re.findall(r"^(\d\d:\d\d:\d\d)  ", text, flags=re.M)
    assert stamps[0] == "14:30:01" and stamps == sorted(stamps)


def test_demo_starts_fresh_over_an_existing_journal(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    outputs = []
    for _ in range(2):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["demo", "--journal", str(path)]) == 0
        outputs.append(out.getvalue())
    assert DIGEST.findall(outputs[0])[-1] == DIGEST.findall(outputs[1])[-1]
    assert outputs[0] == outputs[1]
