"""The fake Bybit's universal transfer between a master and its sub-accounts (master key), in
the wire format of ``POST /v5/asset/transfer/universal-transfer`` and ``GET
/v5/asset/transfer/query-universal-transfer-list`` (Bybit v5 "Create Universal Transfer", "Get
Universal Transfer Records").

- Body ``transferId`` (a UUID, required), ``coin``, ``amount``, ``fromMemberId``,
  ``toMemberId`` (the master's own UID or one of its subs'), ``fromAccountType``,
  ``toAccountType`` (``UNIFIED`` only here: the fake is a Unified Trading Account).
- Signed with the master's key (a sub's key: ``10005 Permission denied``); a member that is not
  the master or its sub: ``131202 Invalid memberId``; too little available: ``131212
  Insufficient balance``; a repeated ``transferId``: ``131214 TransferId exist``; not a UUID or
  an amount <= 0: ``131203 Request parameter error`` / ``131215 Amount error`` (codes from
  Bybit's asset error table).
- Balances move (each side's ``wallet`` topic is pushed). Answer ``{"transferId", "status":
  "SUCCESS"}``. The list filters by ``transferId``, ``coin``, ``status``; newest first.
- Fault knobs ``fail_transfers_before_commit`` / ``fail_transfers_after_commit`` (``10016``),
  ``drop_transfers``, ``delay_transfers`` on :class:`~atlas_oms.fakes.bybit.server.Faults`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from atlas_oms.fakes.bybit.venue import Account, BybitError, FakeBybitVenue, num


@dataclass
class TransferRecord:
    transfer_id: str
    master: str
    coin: str
    amount: Decimal
    from_member: str
    to_member: str
    from_type: str
    to_type: str
    time: int

    def row(self) -> dict[str, Any]:
        return {
            "transferId": self.transfer_id,
            "coin": self.coin,
            "amount": num(self.amount),
            "fromMemberId": self.from_member,
            "toMemberId": self.to_member,
            "fromAccountType": self.from_type,
            "toAccountType": self.to_type,
            "timestamp": str(self.time),
            "status": "SUCCESS",
        }


class TransferRoutes:
    """Mixed into :class:`~atlas_oms.fakes.bybit.server.FakeBybit`."""

    venue: FakeBybitVenue
    transfers: list[TransferRecord]

    async def _guard(self, request: web.Request, write: bool, body: Any) -> web.StreamResponse:
        raise NotImplementedError

    async def _faulted(self, request: web.Request, prefix: str, commit: Any, answer: Any) -> Any:
        raise NotImplementedError

    def _master_of(self, acct: Account) -> Account:
        if acct.cfg.master is not None:
            raise BybitError(10005, "Permission denied, please check your API key permissions.")
        return acct

    def _member(self, master: Account, uid: str) -> Account:
        for acct in self.venue.accounts.values():
            if acct.cfg.uid == str(uid) and (acct is master or acct.cfg.master == master.cfg.name):
                return acct
        raise BybitError(131202, "Invalid memberId")

    async def _universal_transfer(self, request: web.Request) -> web.StreamResponse:
        async def body(acct: Account, p: dict[str, Any]) -> Any:
            master = self._master_of(acct)
            tid = str(p.get("transferId", ""))
            try:
                uuid.UUID(tid)
            except ValueError:
                raise BybitError(131203, "Request parameter error") from None
            try:
                amount = Decimal(str(p.get("amount", "")))
            except InvalidOperation:
                raise BybitError(131215, "Amount error") from None
            if not amount.is_finite() or amount <= 0:
                raise BybitError(131215, "Amount error")
            types = (str(p.get("fromAccountType", "")), str(p.get("toAccountType", "")))
            if types != ("UNIFIED", "UNIFIED"):
                raise BybitError(131203, "Request parameter error")
            src = self._member(master, str(p.get("fromMemberId", "")))
            dst = self._member(master, str(p.get("toMemberId", "")))
            if src is dst:
                raise BybitError(131211, "fromAccountType can't be the same as toAccountType")
            coin = str(p.get("coin", ""))

            def commit() -> TransferRecord:
                if any(r.transfer_id == tid for r in self.transfers):
                    raise BybitError(131214, "TransferId exist")
                if self.venue.free(src, coin) < amount:
                    raise BybitError(131212, "Insufficient balance")
                src.wallet[coin] = src.wallet.get(coin, Decimal(0)) - amount
                dst.wallet[coin] = dst.wallet.get(coin, Decimal(0)) + amount
                record = TransferRecord(
                    tid,
                    master.cfg.name,
                    coin,
                    amount,
                    src.cfg.uid,
                    dst.cfg.uid,
                    types[0],
                    types[1],
                    self.venue.now_ms(),
                )
                self.transfers.append(record)
                self.venue.wallet_changed(src)
                self.venue.wallet_changed(dst)
                return record

            return await self._faulted(
                request,
                "transfers",
                commit,
                lambda r: {"transferId": r.transfer_id, "status": "SUCCESS"},
            )

        return await self._guard(request, True, body)

    async def _universal_transfer_list(self, request: web.Request) -> web.StreamResponse:
        async def body(acct: Account, p: dict[str, Any]) -> Any:
            master = acct if acct.cfg.master is None else self.venue.accounts[acct.cfg.master]
            rows = [r for r in self.transfers if r.master == master.cfg.name]
            if acct is not master:  # a sub sees its own
                rows = [r for r in rows if acct.cfg.uid in (r.from_member, r.to_member)]
            for key, attr in (("transferId", "transfer_id"), ("coin", "coin")):
                if p.get(key):
                    rows = [r for r in rows if getattr(r, attr) == p[key]]
            if p.get("status") and p["status"] != "SUCCESS":
                rows = []
            limit = min(int(p.get("limit", 20)), 50)
            rows = sorted(rows, key=lambda r: -r.time)[:limit]
            return {"list": [r.row() for r in rows], "nextPageCursor": ""}

        return await self._guard(request, False, body)
