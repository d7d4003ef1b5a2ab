"""``atlas algo`` on a real server (the ``live`` fixture: the desk's trader key, the market
maker's offers put there by the test) and offline on a journal; ``atlas order submit --venue
SMART`` answers where and why the order went."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from atlas_oms import Instrument, ManualClock, Node

from .helpers import T0, Live, run_main

BTC = "BTC/USDT"


def offers(live: Live) -> None:
    for qty, px in (("0.5", "60000"), ("5", "60100")):
        body = {"account_id": "maker", "symbol": BTC, "side": "SELL", "qty": qty, "price": px}
        live.maker("POST", "/v1/orders", json=body)


def test_submit_show_report_list_pause_resume_cancel(live: Live) -> None:
    offers(live)
    code, out, err = live.run(
        "algo", "submit", "twap", BTC, "buy", "1", "-a", "desk", "--id", "tw",
        "--duration-ms", "3600000", "--slices", "4", "--limit", "60200",
    )  # fmt: skip
    assert code == 0, err
    assert out.startswith("parent tw WORKING\n")
    assert "TWAP" in out and "children:" in out and "FILLED" in out
    code, out, _ = live.run("algo", "show", "tw", "--json")
    body = json.loads(out)
    assert body["cum_qty"] == "0.25000" and body["slices_done"] == 1
    code, out, _ = live.run("algo", "report", "tw")
    assert code == 0 and "arrival price" in out and "slippage (bps)" in out and "1/4" in out
    code, out, _ = live.run("algo", "list", "-a", "desk", "--open")
    assert code == 0 and "tw" in out and "WORKING" in out
    assert live.run("algo", "pause", "tw")[1].startswith("parent tw PAUSED")
    assert live.run("algo", "resume", "tw")[1].startswith("parent tw WORKING")
    assert live.run("algo", "cancel", "tw")[1].startswith("parent tw CANCELED")
    code, _, err = live.run("algo", "cancel", "tw")
    assert code == 2 and err.startswith("ORDER_NOT_LIVE")
    code, _, err = live.run("algo", "show", "nope")
    assert code == 2 and err.startswith("UNKNOWN_ALGO")


def test_a_kind_takes_only_its_own_options(live: Live) -> None:
    code, _, err = live.run(
        "algo", "submit", "smart", BTC, "buy", "1", "-a", "desk", "--slices", "4"
    )
    assert code == 2 and "--slices is not an option of a SMART order" in err


def test_a_smart_order_shows_the_rationale(live: Live) -> None:
    offers(live)
    code, out, err = live.run(
        "order", "submit", BTC, "buy", "1", "60200", "-a", "desk", "--venue", "smart",
        "--client-id", "s1",
    )  # fmt: skip
    assert code == 0, err
    assert out.startswith("SMART parent s1 DONE\n")
    assert "seen:" in out and "sent:" in out and "60000" in out
    code, out, _ = live.run(
        "algo", "submit", "smart", BTC, "buy", "0.1", "-a", "desk", "--limit", "59000", "--json"
    )
    body = json.loads(out)
    assert body["status"] == "EXPIRED" and body["routes"][0]["decision"]["seen"][0]["skipped"]


def test_list_show_and_report_offline_on_a_journal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "j.db"
    node = Node.open(str(path), clock=ManualClock(T0))
    node.add_instrument(Instrument.spot(BTC, tick_size="0.1", lot_size="0.01"))
    for acc in ("mm", "t1"):
        node.open_account(acc)
        node.deposit(acc, "USDT", 1_000_000)
        node.deposit(acc, "BTC", 100)
    node.sell("mm", BTC, "0.5", "100")
    node.submit_algo("t1", BTC, "BUY", "0.2", "SMART", algo_id="sm", limit_price="101")
    node.close()
    code, out, err = run_main(["algo", "list", "--journal", str(path)], capsys)
    assert code == 0, err
    assert "sm" in out and "SMART" in out and "DONE" in out
    code, out, _ = run_main(["algo", "show", "sm", "--journal", str(path)], capsys)
    assert code == 0 and "seen:" in out and "sent:" in out
    code, out, _ = run_main(["algo", "report", "sm", "--journal", str(path), "--json"], capsys)
    assert json.loads(out)["filled_qty"] == "0.2"
    code, _, err = run_main(["algo", "show", "x", "--journal", str(path)], capsys)
    assert code == 2 and "no parent order 'x'" in err
