"""Helpers of the command-line tests: the small journals they act on (written with the library on
a manual clock that starts at :data:`T0`; the commands then run on an injected clock, so every
time is exact), a way to run ``atlas`` and read what it printed, and a running server's handle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from atlas_oms import Instrument, ManualClock, Node
from atlas_oms.cli import main
from atlas_oms.store.reference import load_brackets

#: When the journals start: 2026-01-01 00:00:00 UTC.
T0 = 1_767_225_600_000_000_000
SECOND = 1_000_000_000
MINUTE = 60 * SECOND

ETH = "ETH/USD"
BRACKETS = Path(__file__).resolve().parents[2] / "examples" / "binance_leverage_brackets.json"
PERP = "ETH/USDT:USDT"
BTC_PERP = "BTC/USDT:USDT"
SPOT = "ETH/USDT"
VENUE_DEPOSITS = {"mm": 200_000, "carol": 1_000, "dave": 5_000, "erin": 2_000}


def spot_journal(path: Path, start_ns: int = T0) -> tuple[int, int]:
    """alice, bob and a market maker mm on ETH/USD (last 2000, mm quotes 1990/2010); alice has two
    bids resting. Return the ids of alice's resting bids."""
    node = Node.open(str(path), clock=ManualClock(start_ns))
    node.add_instrument(Instrument.spot(ETH, tick_size="0.01", lot_size="0.01"))
    for account in ("mm", "alice", "bob"):
        node.open_account(account)
        node.deposit(account, "USD", 1_000_000)
        node.deposit(account, "ETH", 100)
    node.update_prices(ETH, last="2000")
    node.buy("mm", ETH, "50", "1990")
    node.sell("mm", ETH, "50", "2010")
    first = node.buy("alice", ETH, "1", "1980").order_id
    second = node.buy("alice", ETH, "1", "1985").order_id
    node.close()
    return first, second


def trip_breaker(path: Path, start_ns: int) -> None:
    """A breaker on alice that trips on one losing trade, then a losing round trip at
    ``start_ns``."""
    node = Node.open(str(path), clock=ManualClock(start_ns))
    node.set_limits("account", "alice", actor="ops", breaker={"max_consecutive_losses": 1})
    node.buy("alice", ETH, "1", "2010")
    node.sell("alice", ETH, "1", "1990")
    report = node.breaker_status("account", "alice")
    assert report is not None and report["state"] == "OPEN"
    node.close()


def desk_journal(path: Path) -> None:
    """desk with a sub-account desk.a and a grandchild desk.a.1, and another account; USDT."""
    node = Node.open(str(path), clock=ManualClock(T0))
    for account, parent in (
        ("desk", None),
        ("desk.a", "desk"),
        ("desk.a.1", "desk.a"),
        ("other", None),
    ):
        node.open_account(account, parent_id=parent)
    node.deposit("desk", "USDT", 10_000)
    node.deposit("other", "USDT", 500)
    node.close()


def venue_journal(path: Path) -> None:
    """An ETH perpetual with Binance's ETHUSDT tiers: mm offers 7 @ 3000 and bids 4 @ 2945,
    2 @ 2938, 20 @ 2800; erin (cross 20x) sells 8 @ 3000; carol (isolated 50x) buys 10 and dave
    (cross 10x) 5 at market. The USDT insurance fund holds 100."""
    node = Node.open(str(path), clock=ManualClock(T0))
    tiers = load_brackets(BRACKETS)["ETHUSDT"]
    node.add_instrument(
        Instrument.perpetual(
            PERP,
            tick_size="0.01",
            lot_size="0.001",
            maker_fee="0.0002",
            taker_fee="0.0005",
            margin_tiers=tiers,
        )
    )
    node.add_instrument(Instrument.perpetual(BTC_PERP, tick_size="0.1", lot_size="0.001"))
    node.add_instrument(Instrument.spot(SPOT, tick_size="0.01", lot_size="0.001"))
    for account, amount in VENUE_DEPOSITS.items():
        node.open_account(account)
        node.deposit(account, "USDT", amount)
    node.deposit_insurance_fund("USDT", 100, actor="ops", reason="seed")
    node.set_margin_mode("carol", PERP, "ISOLATED")
    for account, leverage in (("carol", 50), ("dave", 10), ("erin", 20), ("mm", 10)):
        node.set_leverage(account, PERP, leverage)
    node.update_prices(PERP, last="3000", mark="3000")
    node.sell("mm", PERP, "7", "3000")
    for qty, px in (("4", "2945"), ("2", "2938"), ("20", "2800")):
        node.buy("mm", PERP, qty, px)
    node.sell("erin", PERP, "8", "3000")
    node.buy("carol", PERP, "10")
    node.buy("dave", PERP, "5")
    node.close()


def row(text: str, first: str) -> list[str]:
    """The cells of the table row whose first cell is ``first``."""
    for line in text.splitlines():
        cells = line.split()
        if cells and cells[0] == first:
            return cells
    raise AssertionError(f"no row {first!r} in:\n{text}")


def run_main(argv: list[str], capsys: Any, **kwargs: Any) -> tuple[int, str, str]:
    """``main(argv)``: the exit code (argparse's too), stdout and stderr; never a traceback."""
    try:
        code = main(argv, **kwargs)
    except SystemExit as exc:  # argparse refuses the command line
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err


class Live:
    """A running server, its first keys (admin, risk, the desk trader) and a way to run ``atlas``."""

    def __init__(self, url: str, tokens: dict[str, str], capsys: Any) -> None:
        self.url = url
        self.tokens = tokens
        self.capsys = capsys

    def run(self, *args: str, key: str | None = "trader") -> tuple[int, str, str]:
        """``atlas ARGS --url URL [--key KEY]``."""
        argv = [*args, "--url", self.url]
        if key is not None:
            argv += ["--key", self.tokens[key]]
        return run_main(argv, self.capsys)

    def admin(self, method: str, path: str, **kw: Any) -> Any:
        """A request with the admin key; its JSON body."""
        return self.call("admin", method, path, **kw)

    def call(self, who: str, method: str, path: str, **kw: Any) -> Any:
        """A request with one of the keys; its JSON body."""
        headers = {"X-API-Key": self.tokens[who]}
        r = httpx.request(method, self.url + path, headers=headers, **kw)
        assert r.status_code < 300, r.text
        return r.json()

    def maker(self, method: str, path: str, **kw: Any) -> Any:
        """A request with a trader key of the market maker's account (issued by the admin the
        first time: the admin key itself does not trade)."""
        if "maker" not in self.tokens:
            issued = self.admin(
                "POST", "/v1/keys", json={"roles": ["trader"], "accounts": ["maker"]}
            )
            self.tokens["maker"] = issued["token"]
        return self.call("maker", method, path, **kw)


def futures_runner(journal: Path, capsys: Any, now: int) -> Any:
    """A runner of ``atlas futures ARGS --journal JOURNAL`` at ``now``: (exit code, stdout,
    stderr) per call (the futures test modules' ``run`` fixture)."""

    def runner(*args: str) -> tuple[int, str, str]:
        argv = ["futures", *args, "--journal", str(journal)]
        return run_main(argv, capsys, clock=ManualClock(now))

    return runner


def journaled(path: Path, kind: type, now: int) -> list[Any]:
    """The journal's events of one type."""
    with Node.open(str(path), clock=ManualClock(now)) as node:
        return [e for e in node.events() if isinstance(e, kind)]
