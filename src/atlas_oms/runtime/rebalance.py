"""Rebalancing main and sub-accounts from ``accounts.yaml`` (seed 002 §10.5, issue 15 §2):
``account_routing.balance_rules`` (``min_main_balance``, ``max_sub_balance``, ``asset``), each
sub's ``max_balance_usdt`` and ``email``, and ``account_routing.rebalance`` (the schedule).

A run (:meth:`Rebalancer.run`: ``POST /v1/rebalance``, ``atlas rebalance``, or the schedule):

1. **In-doubt transfers first.** A transfer planned for a venue that was neither booked nor
   settled (an ``UNKNOWN`` answer, or a stop between the plan and the venue's answer) is looked
   up in the venue's transfer history by its id (Binance ``clientTranId``): found, it is booked;
   not there, it is noted ``NOT_DONE``. While one stays in doubt the run plans nothing (it could
   move the same money twice).
2. **The plan** is the core's decision (``PlanRebalance`` -> ``RebalancePlanned``,
   :mod:`atlas_oms.core.rebalance`) from Atlas's balances, which follow each venue's at every
   reconciliation. It is made durable before any venue is called.
3. **Each transfer**, in the plan's order: an account trading at a venue with a sub-account
   transfer API (the main account's adapter, i.e. the master key; Binance: the sub's ``email``;
   Bybit: the ``uid`` of the sub and of its main) is moved there first and booked (``TransferFunds`` with the transfer id and the
   venue's ``tranId``) only once the venue confirmed it; a refusal is noted ``REFUSED``; no answer
   is noted ``UNKNOWN`` and looked up at once (then at the next run). Paper accounts are moved in
   Atlas only. A transfer id is never booked twice.

Accounts left out (in the plan's notes): a sub whose main does not trade its market (its Atlas
parent is an umbrella account, another account tree), a live Binance sub without ``email`` or
Bybit sub without ``uid`` (or whose main has none), a venue whose adapter has no ``transfer``
(OKX, Upbit, Alpaca: not yet), a paper sub of a live main or the reverse.

:func:`next_run_ns` and :func:`run_schedule` run it at ``schedule`` (``hourly``: at the minute of
``time``; ``daily``: at ``time`` UTC; ``weekly``: Mondays at ``time`` UTC) on an injected clock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import msgspec

from atlas_oms.core import rebalance as core_rebalance
from atlas_oms.model import commands as c
from atlas_oms.model import events as ev
from atlas_oms.model.rebalance import (
    NoteVenueTransfer,
    PlannedTransfer,
    PlanRebalance,
    RebalanceAccount,
    VenueTransfer,
    VenueTransferResult,
)
from atlas_oms.runtime.node import CommandRefused, Node
from atlas_oms.venues.accounts import AccountsConfig, VenueAccountConfig

log = logging.getLogger("atlas.rebalance")

NS = 1_000_000_000
DAY_NS = 86_400 * NS
#: The venue's account type of each (exchange, market) in universal transfers.
ACCOUNT_TYPES = {
    ("binance", "spot"): "SPOT",
    ("binance", "futures"): "USDT_FUTURE",
    ("bybit", "spot"): "UNIFIED",  # one Unified Trading Account wallet
    ("bybit", "futures"): "UNIFIED",
}
#: Statuses after which a planned venue transfer is settled (nothing left to find out).
SETTLED = frozenset({"REFUSED", "NOT_DONE", "BOOK_REFUSED"})
#: How far before its plan a transfer is looked for in the venue's history (clock skew).
LOOKBACK_MS = 60_000


class TransferLine(msgspec.Struct, kw_only=True):
    """One transfer of a run and what became of it: ``BOOKED`` (moved and booked), ``REFUSED``,
    ``UNKNOWN`` (in doubt: the next run looks it up), ``NOT_DONE``, ``BOOK_REFUSED``, ``PLANNED``
    (a dry run)."""

    transfer_id: str
    from_account: str
    to_account: str
    asset: str
    amount: Decimal
    rule: str
    path: str
    outcome: str
    venue_transfer_id: str = ""
    message: str = ""
    detail: str = ""


class RunReport(msgspec.Struct, kw_only=True):
    """A run's answer: ``run_id`` (the ``RebalancePlanned`` seq; 0 for a dry run or a run that
    did not plan), ``status`` (``done``, ``nothing to do``, ``in doubt``, ``dry run``)."""

    run_id: int
    status: str
    trigger: str
    asset: str
    transfers: list[TransferLine] = msgspec.field(default_factory=list)
    notes: list[str] = msgspec.field(default_factory=list)
    resolved: list[TransferLine] = msgspec.field(default_factory=list)
    in_doubt: list[str] = msgspec.field(default_factory=list)


@dataclass
class _Planned:
    transfer: PlannedTransfer
    asset: str
    ts_ms: int
    run_id: int


@dataclass
class Rebalancer:
    """Runs rebalancing for a node over the accounts of one ``accounts.yaml``. ``adapters``:
    Atlas account id -> its venue adapter (the main account's serves its subs' transfers).
    ``durable``: awaits the journal's commit (the service's); None: commits nothing itself."""

    node: Node
    config: AccountsConfig
    adapters: Mapping[str, Any] = field(default_factory=dict)
    id_prefix: str = "atlas-"
    durable: Callable[[], Awaitable[None]] | None = None
    #: ``reconcile(venue, account_id)``: a reconciliation of each venue account a run moved
    #: money of, once the run is booked (the gateway's); None: none.
    reconcile: Callable[[str, str], Awaitable[Any]] | None = None
    #: ``tradable(venue, account_id)``: whether the venue account is connected and reconciled
    #: (its Atlas balances are the venue's); one that is not is left out of the run. None: all.
    tradable: Callable[[str, str], bool] | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _planned: dict[str, _Planned] | None = None
    _done: set[str] = field(default_factory=set)

    # ------------------------------------------------------------------ the accounts
    def _by_id(self) -> dict[str, VenueAccountConfig]:
        return {a.account_id: a for a in self.config.accounts + self.config.paper}

    def accounts(self) -> tuple[RebalanceAccount, ...]:
        """What the rules apply to, each main and sub of the file (see the module doc)."""
        rules = self.config.routing.balance_rules
        by_id = self._by_id()
        out: list[RebalanceAccount] = []
        for acc in by_id.values():
            if acc.type == "main":
                out.append(
                    RebalanceAccount(account_id=acc.account_id, role="main", path=self._path(acc))
                )
                continue
            cap, cap_rule = rules.max_sub_balance, "max_sub_balance"
            if acc.max_balance_usdt is not None:
                cap, cap_rule = acc.max_balance_usdt, "max_balance_usdt"
            main = by_id.get(acc.parent_id or "")
            out.append(
                RebalanceAccount(
                    account_id=acc.account_id,
                    role="sub",
                    main_id=acc.parent_id,
                    cap=cap,
                    cap_rule=cap_rule,
                    path=self._path(acc),
                    skip=self._skip(acc, main),
                )
            )
        return tuple(sorted(out, key=lambda a: a.account_id))

    @staticmethod
    def _path(acc: VenueAccountConfig) -> Any:
        return "atlas" if acc.mode == "paper" else "venue"

    def _skip(self, sub: VenueAccountConfig, main: VenueAccountConfig | None) -> str:
        if main is None:
            return (
                f"its main account does not trade {sub.market} (its parent {sub.parent_id} is an "
                "umbrella account: another account tree)"
            )
        if (sub.mode == "paper") != (main.mode == "paper"):
            return f"it is {sub.mode} and its main {main.account_id} is {main.mode}"
        if sub.mode == "paper":
            return ""
        for acc in (sub, main):
            if self.tradable is not None and not self.tradable(acc.venue, acc.account_id):
                return f"{acc.account_id} is not tradable now (its balances may not be the venue's)"
        adapter = self.adapters.get(main.account_id)
        if adapter is None or not hasattr(adapter, "transfer"):
            return f"Atlas has no sub-account transfer for {main.venue} yet"
        if (sub.exchange, sub.market) not in ACCOUNT_TYPES:
            return f"Atlas has no sub-account transfer for {main.venue} yet"
        if sub.exchange == "bybit":
            if not (sub.uid and main.uid):
                return "no uid in accounts.yaml for it or its main (Bybit names members by UID)"
        elif not sub.email:
            return "no email in accounts.yaml (the venue names sub-accounts by email)"
        return ""

    def _command(self, trigger: str, actor: str) -> PlanRebalance:
        rules = self.config.routing.balance_rules
        return PlanRebalance(
            ts=self.node.clock.now(),
            asset=rules.asset,
            min_main_balance=rules.min_main_balance,
            max_sub_balance=rules.max_sub_balance,
            accounts=self.accounts(),
            trigger=trigger,
            actor=actor,
            id_prefix=self.id_prefix,
        )

    # ------------------------------------------------------------------ a dry run
    def dry_run(self, trigger: str = "manual") -> RunReport:
        """The plan a run would make now (same decision, nothing journaled or moved)."""
        cmd = self._command(trigger, "")
        state = self.node.engine.state
        known = [a for a in cmd.accounts if a.account_id in state.accounts]
        holdings = core_rebalance.holdings_of(state, known, cmd.asset, cmd.ts)
        transfers, notes = core_rebalance.plan(
            known, holdings, min_main_balance=cmd.min_main_balance, new_id=lambda n: f"dry-{n}"
        )
        return RunReport(
            run_id=0,
            status="dry run",
            trigger=trigger,
            asset=cmd.asset,
            transfers=[self._line(t, cmd.asset, "PLANNED") for t in transfers],
            notes=notes,
            in_doubt=sorted(self._in_doubt()),
        )

    # ------------------------------------------------------------------ a run
    async def run(self, *, trigger: str = "manual", actor: str = "") -> RunReport:
        """One run (see the module doc); runs never overlap."""
        async with self._lock:
            return await self._run(trigger, actor)

    async def _run(self, trigger: str, actor: str) -> RunReport:
        asset = self.config.routing.balance_rules.asset
        resolved = await self._resolve_in_doubt()
        left = sorted(self._in_doubt())
        if left:
            await self._commit()
            return RunReport(
                run_id=0,
                status="in doubt",
                trigger=trigger,
                asset=asset,
                resolved=resolved,
                in_doubt=left,
                notes=[
                    "transfers in doubt: nothing planned until the venue tells what became of them"
                ],
            )
        events = self._process(self._command(trigger, actor))
        planned = next((e for e in events if isinstance(e, ev.RebalancePlanned)), None)
        if planned is None:
            refused = next((e for e in events if isinstance(e, ev.CommandRejected)), None)
            raise CommandRefused(
                refused.reason if refused else "REBALANCE_FAILED",
                refused.message if refused else "the plan was not made",
            )
        await self._commit()  # the ids are journaled before any venue sees them
        lines = []
        for t in planned.transfers:
            lines.append(await self._carry_out(t, planned.asset))
        await self._commit()
        await self._reconcile([*lines, *resolved])
        return RunReport(
            run_id=planned.seq,
            status="done" if planned.transfers else "nothing to do",
            trigger=trigger,
            asset=planned.asset,
            transfers=lines,
            notes=list(planned.notes),
            resolved=resolved,
            in_doubt=sorted(self._in_doubt()),
        )

    async def _carry_out(self, t: PlannedTransfer, asset: str) -> TransferLine:
        if t.path == "atlas":
            return self._book(t, asset, "")
        adapter, vt = self._venue_transfer(t, asset)
        answer = await adapter.transfer(vt)
        if answer.status == "DONE":
            return self._book(t, asset, answer.venue_transfer_id)
        if answer.status == "REFUSED":
            return self._note(t, asset, "REFUSED", answer)
        self._note(t, asset, "UNKNOWN", answer)
        await self._commit()
        entry = self._index().get(t.transfer_id)
        return await self._look_up(t, asset, entry.ts_ms if entry else self._now_ms())

    async def _look_up(self, t: PlannedTransfer, asset: str, planned_ms: int) -> TransferLine:
        adapter, vt = self._venue_transfer(t, asset)
        try:
            found: VenueTransferResult = await adapter.transfer_status(vt, planned_ms - LOOKBACK_MS)
        except Exception as exc:  # the venue cannot tell now: the next run asks again
            log.warning("transfer %s still in doubt: %s", t.transfer_id, exc)
            return self._line(t, asset, "UNKNOWN", message=str(exc))
        if found.status == "DONE":
            return self._book(t, asset, found.venue_transfer_id)
        if found.status == "NOT_FOUND":
            return self._note(t, asset, "NOT_DONE", found)
        return self._line(t, asset, "UNKNOWN", message=found.message)

    async def _resolve_in_doubt(self) -> list[TransferLine]:
        out: list[TransferLine] = []
        index = self._index()
        for tid in sorted(self._in_doubt()):
            entry = index[tid]
            out.append(await self._look_up(entry.transfer, entry.asset, entry.ts_ms))
        return out

    def _venue_transfer(self, t: PlannedTransfer, asset: str) -> tuple[Any, VenueTransfer]:
        by_id = self._by_id()
        src, dst = by_id[t.account_id], by_id[t.to_account_id]
        main = dst if dst.type == "main" else src
        adapter = self.adapters[main.account_id]
        return adapter, VenueTransfer(
            transfer_id=t.transfer_id,
            asset=asset,
            amount=t.amount,
            from_email="" if src.type == "main" else (src.email or ""),
            to_email="" if dst.type == "main" else (dst.email or ""),
            from_type=ACCOUNT_TYPES[(src.exchange, src.market)],
            to_type=ACCOUNT_TYPES[(dst.exchange, dst.market)],
            from_uid=src.uid or "",
            to_uid=dst.uid or "",
        )

    # ------------------------------------------------------------------ journal
    def _book(self, t: PlannedTransfer, asset: str, venue_id: str) -> TransferLine:
        if t.transfer_id in self._done:  # never twice
            return self._line(t, asset, "BOOKED", venue_id, message="booked before")
        events = self._process(
            c.TransferFunds(
                ts=self.node.clock.now(),
                account_id=t.account_id,
                to_account_id=t.to_account_id,
                asset=asset,
                amount=t.amount,
                reason=f"rebalance: {t.rule}",
                transfer_id=t.transfer_id,
                venue_transfer_id=venue_id,
            )
        )
        refused = next((e for e in events if isinstance(e, ev.CommandRejected)), None)
        if refused is None:
            return self._line(t, asset, "BOOKED", venue_id)
        if t.path == "atlas":
            return self._line(t, asset, "REFUSED", message=refused.message)
        answer = VenueTransferResult(
            status="DONE",
            venue_transfer_id=venue_id,
            reason=refused.reason,
            message=refused.message,
        )
        return self._note(t, asset, "BOOK_REFUSED", answer)

    def _note(
        self, t: PlannedTransfer, asset: str, status: Any, answer: VenueTransferResult
    ) -> TransferLine:
        by_id = self._by_id()
        self._process(
            NoteVenueTransfer(
                ts=self.node.clock.now(),
                transfer_id=t.transfer_id,
                account_id=t.account_id,
                to_account_id=t.to_account_id,
                asset=asset,
                amount=t.amount,
                status=status,
                reason=answer.reason,
                message=answer.message,
                venue=by_id[t.account_id].venue,
                venue_transfer_id=answer.venue_transfer_id,
            )
        )
        return self._line(t, asset, status, answer.venue_transfer_id, message=answer.message)

    def _process(self, message: Any) -> list[Any]:
        index = self._index()
        events = self.node.process(message)
        for e in events:
            self._track(index, e)
        return events

    def _index(self) -> dict[str, _Planned]:
        """Planned venue transfers not settled, from the journal once, then from what runs do."""
        if self._planned is None:
            index: dict[str, _Planned] = {}
            for e in self.node.events():
                self._track(index, e)
            self._planned = index
        return self._planned

    def _track(self, index: dict[str, _Planned], e: Any) -> None:
        if isinstance(e, ev.RebalancePlanned):
            for t in e.transfers:
                if t.path == "venue":
                    index[t.transfer_id] = _Planned(t, e.asset, e.ts_event // 1_000_000, e.seq)
        elif isinstance(e, ev.FundsTransferred) and e.transfer_id:
            self._done.add(e.transfer_id)
            index.pop(e.transfer_id, None)
        elif isinstance(e, ev.VenueTransferNoted) and e.status in SETTLED:
            index.pop(e.transfer_id, None)

    def _in_doubt(self) -> set[str]:
        return set(self._index())

    async def _reconcile(self, lines: list[TransferLine]) -> None:
        """Reconcile the venue accounts whose money moved at the venue: a reconciliation that
        read their balances before a transfer and booked them after it is corrected at once."""
        if self.reconcile is None:
            return
        by_id = self._by_id()
        moved = sorted(
            {
                (by_id[a].venue, a)
                for line in lines
                if line.path == "venue" and line.outcome == "BOOKED"
                for a in (line.from_account, line.to_account)
            }
        )
        for venue, account_id in moved:
            try:
                await self.reconcile(venue, account_id)
            except Exception as exc:  # its periodic reconciliation comes anyway
                log.warning(
                    "reconciling %s/%s after rebalancing failed: %s", venue, account_id, exc
                )

    async def _commit(self) -> None:
        if self.durable is not None:
            await self.durable()

    def _now_ms(self) -> int:
        return self.node.clock.now() // 1_000_000

    @staticmethod
    def _line(
        t: PlannedTransfer, asset: str, outcome: str, venue_id: str = "", *, message: str = ""
    ) -> TransferLine:
        return TransferLine(
            transfer_id=t.transfer_id,
            from_account=t.account_id,
            to_account=t.to_account_id,
            asset=asset,
            amount=t.amount,
            rule=t.rule,
            path=t.path,
            outcome=outcome,
            venue_transfer_id=venue_id,
            message=message,
            detail=t.detail,
        )


# ---------------------------------------------------------------------- the schedule
_WEEKDAY_MONDAY = 0


def next_run_ns(now_ns: int, schedule: str, time: str) -> int:
    """The first scheduled time strictly after ``now_ns`` (ns since the epoch, UTC):
    ``hourly`` at ``time``'s minute past each hour, ``daily`` at ``time``, ``weekly`` on Mondays
    at ``time`` (``time``: ``"HH:MM UTC"``)."""
    hh, mm = (int(x) for x in time.split()[0].split(":"))
    if schedule == "hourly":
        hour_ns = 3600 * NS
        base = now_ns - now_ns % hour_ns + mm * 60 * NS
        return base if base > now_ns else base + hour_ns
    day_start = now_ns - now_ns % DAY_NS
    at = day_start + (hh * 3600 + mm * 60) * NS
    if schedule == "daily":
        return at if at > now_ns else at + DAY_NS
    if schedule != "weekly":
        raise ValueError(f"unknown schedule {schedule!r}: hourly, daily or weekly")
    weekday = (now_ns // DAY_NS + 3) % 7  # 1970-01-01 was a Thursday (3 with Monday = 0)
    at -= ((weekday - _WEEKDAY_MONDAY) % 7) * DAY_NS
    while at <= now_ns:
        at += 7 * DAY_NS
    return at


async def run_schedule(
    rebalancer: Rebalancer,
    *,
    now_ns: Callable[[], int] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    runs: int | None = None,
) -> None:
    """Run ``rebalancer`` at ``account_routing.rebalance``'s times (forever, or ``runs``
    times). A run that fails is logged; the schedule goes on."""
    settings = rebalancer.config.routing.rebalance
    clock = now_ns or rebalancer.node.clock.now
    done = 0
    while runs is None or done < runs:
        now = clock()
        due = next_run_ns(now, settings.schedule, settings.time)
        while (now := clock()) < due:
            await sleep(min((due - now) / NS, 60.0))
        try:
            report = await rebalancer.run(trigger="schedule", actor=f"schedule {settings.schedule}")
            log.info(
                "rebalance run %s (%s): %d transfer(s)",
                report.run_id,
                report.status,
                len(report.transfers),
            )
        except Exception as exc:
            log.error("the scheduled rebalance failed: %s", exc)
        done += 1
