"""The demo's derivatives chapter: margin tiers, isolated and cross margin, a liquidation that goes
through the book, the insurance fund and ADL; then the money is counted."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from atlas_oms.cli.demo.story import Story
from atlas_oms.cli.futures_report import case_text, liquidation_cases, positions_table, tiers_table
from atlas_oms.cli.tables import fmt, grouped, money, price, render
from atlas_oms.model.instrument import Instrument
from atlas_oms.model.margin import tiers_from_rows

__all__ = ["ETH_BRACKETS", "ETH_PERP", "derivatives_chapter"]

ETH_PERP = "ETH/USDT:USDT"
#: Binance's ETHUSDT leverage brackets, as in examples/binance_leverage_brackets.json: notional
#: floor, cap, maintenance margin rate, maintenance amount ("cum") and maximum leverage.
ETH_BRACKETS = (
    (0, 10_000, "0.005", 0, 100),
    (10_000, 100_000, "0.0065", 15, 75),
    (100_000, 500_000, "0.01", 365, 50),
    (500_000, 1_000_000, "0.02", 5_365, 25),
    (1_000_000, 2_000_000, "0.05", 35_365, 10),
    (2_000_000, 5_000_000, "0.1", 135_365, 5),
    (5_000_000, 10_000_000, "0.125", 260_365, 4),
    (10_000_000, 20_000_000, "0.15", 510_365, 3),
    (20_000_000, 50_000_000, "0.25", 2_510_365, 2),
    (50_000_000, 100_000_000, "0.5", 15_010_365, 1),
)
#: What each account of the chapter pays in, in USDT.
DEPOSITS = {"mm-eth": 200_000, "carol": 1_000, "dave": 5_000, "erin": 2_000}


def _venue(story: Story) -> Decimal:
    """List the perpetual with its tiers, open and fund the accounts; return the fund's seed."""
    n = story.node
    story.step(f"ops: list {ETH_PERP} and set its margin tiers (Binance's ETHUSDT brackets)")
    n.add_instrument(
        Instrument.perpetual(
            ETH_PERP, tick_size="0.01", lot_size="0.001", maker_fee="0.0002", taker_fee="0.0005"
        )
    )
    tiers = tiers_from_rows(ETH_BRACKETS)
    n.set_margin_tiers(ETH_PERP, tiers, actor="ops", reason="Binance ETHUSDT brackets")
    print(tiers_table(tiers[:4]))
    story.note(f"(and {len(tiers) - 4} more tiers, up to {grouped(tiers[-1].cap)} USDT at 1x)")
    story.step("accounts: mm-eth (sub-account of mm), carol, dave and erin; an insurance fund")
    n.open_account("mm-eth", parent_id="mm", name="Market maker, ETH perpetual desk")
    for account in ("carol", "dave", "erin"):
        n.open_account(account, name=account.capitalize())
    for account, amount in DEPOSITS.items():
        n.deposit(account, "USDT", amount)
    story.note("deposit USDT: " + ", ".join(f"{a} {v:,}" for a, v in DEPOSITS.items()))
    seed = Decimal(100)
    n.deposit_insurance_fund("USDT", seed, actor="ops", reason="seed the USDT fund")
    story.note(f"ops: the USDT insurance fund starts with {fmt(seed)}")
    return seed


def _positions(story: Story, ticks: dict[str, Decimal]) -> str:
    views = [v for a in DEPOSITS for v in story.node.positions(a) if v.symbol == ETH_PERP]
    return positions_table(views, ticks)


def _trades(story: Story) -> None:
    n = story.node
    story.step(f"carol: ISOLATED margin on {ETH_PERP}, then leverage 150x")
    n.set_margin_mode("carol", ETH_PERP, "ISOLATED")
    story.refused(lambda: n.set_leverage("carol", ETH_PERP, 150))
    story.step("leverage: carol 50x (isolated); dave 10x, erin 20x, mm-eth 10x (cross)")
    for account, leverage in (("carol", 50), ("dave", 10), ("erin", 20), ("mm-eth", 10)):
        n.set_leverage(account, ETH_PERP, leverage)
    story.step("mark 3,000; mm-eth offers 7 @ 3,000 and bids 4 @ 2,945, 2 @ 2,938, 20 @ 2,800")
    n.update_prices(ETH_PERP, last="3000", mark="3000")
    n.sell("mm-eth", ETH_PERP, "7", "3000")
    for qty, px in (("4", "2945"), ("2", "2938"), ("20", "2800")):
        n.buy("mm-eth", ETH_PERP, qty, px)
    story.step("erin: SELL 8 ETH/USDT:USDT LIMIT 3,000 (joins the offer)")
    story.note(f"-> {story.outcome(n.sell('erin', ETH_PERP, '8', '3000'))}")
    story.step("carol: BUY 10 MARKET (30,000 USDT of notional: 600 of margin at 50x)")
    story.note(f"-> {story.outcome(n.buy('carol', ETH_PERP, '10'))}")
    story.step("dave: BUY 5 MARKET")
    story.note(f"-> {story.outcome(n.buy('dave', ETH_PERP, '5'))}")


def _liquidation(story: Story) -> None:
    n = story.node
    inst = n.instrument(ETH_PERP)
    ticks = {ETH_PERP: inst.tick_size} if inst is not None else {}
    print(_positions(story, ticks))
    carol = n.position("carol", ETH_PERP)
    liq = price(carol.liquidation_price if carol else None, ticks.get(ETH_PERP))
    story.step(f"market data: ETH/USDT:USDT mark drops to 2,950 (carol's liquidation price {liq})")
    for case in liquidation_cases(n.update_prices(ETH_PERP, mark="2950")):
        print(case_text(case, ticks))
    story.note("-> 4 sold into mm-eth's bid above carol's bankruptcy price (the surplus to the")
    story.note("   fund), 2 below it (the fund pays the difference), 4 deleveraged against erin,")
    story.note("   the short ranked first by profit x leverage")
    print(_positions(story, ticks))


def _conservation(story: Story, seed: Decimal) -> None:
    """What came in equals wallets + unrealized P&L + insurance fund + fees: nothing is made
    or lost by a liquidation."""
    n = story.node
    rows: list[list[Any]] = []
    total_in = Decimal(seed)
    total_now = Decimal(0)
    fees = Decimal(0)
    for account, amount in DEPOSITS.items():
        wallet = n.balance(account, "USDT").total
        upnl = sum(
            (p.unrealized_pnl for p in n.positions(account) if p.symbol == ETH_PERP), Decimal(0)
        )
        fees += sum((f.fee for f in n.fills(account) if f.symbol == ETH_PERP), Decimal(0))
        equity = wallet + upnl
        cells = [money(v, group=True) for v in (wallet, upnl, equity)]
        rows.append([account, grouped(Decimal(amount)), *cells])
        total_in += amount
        total_now += equity
    fund = n.insurance_fund("USDT")
    rows.append(
        ["insurance fund", grouped(seed), money(fund, group=True), "", money(fund, group=True)]
    )
    rows.append(["fees to the venue", "", "", "", money(fees, group=True)])
    total_now += fund + fees
    rows.append(["total", grouped(total_in), "", "", money(total_now, group=True)])
    story.section("Derivatives venue: where the USDT is (equity = wallet + unrealized P&L)")
    print(render(["", "paid in", "wallet", "unreal. P&L", "equity"], rows, align="lrrrr"))
    verdict = "conserved" if total_now == total_in else f"off by {fmt(total_now - total_in)}"
    story.note(
        f"-> {grouped(total_in)} USDT in, {money(total_now, group=True)} accounted for: {verdict}"
    )


def derivatives_chapter(story: Story) -> None:
    """Play the derivatives chapter, then count the USDT."""
    story.section("Derivatives venue: margin tiers, isolated and cross margin, a liquidation")
    seed = _venue(story)
    _trades(story)
    _liquidation(story)
    _conservation(story, seed)
