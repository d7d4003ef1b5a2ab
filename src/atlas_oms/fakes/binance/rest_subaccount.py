"""The fake Binance's sub-account universal transfer (master key), in the wire format of
``POST /sapi/v1/sub-account/universalTransfer`` and its history ``GET`` (Binance's "Universal
Transfer (For Master Account)" and "Query Universal Transfer History (For Master Account)").

- Signed with the **master's** key (an account whose ``AccountConfig.master`` is None); a
  sub-account's key is refused ``-1002``. ``fromEmail``/``toEmail`` name sub-accounts of that
  master by their ``email`` (absent: the master itself; at least one is required), an email that
  is not one of its subs is ``-9000 This two users are not in parent-child relation.``
- Account types ``SPOT`` and ``USDT_FUTURE`` (others: ``-9000 Unsupported operation``). SPOT
  spends the free balance, USDT_FUTURE the available margin; too little is
  ``-9000 user have no avaliable amount`` (Binance's spelling).
- ``clientTranId`` may not repeat (``-9000 clientTranId is duplicated.``: the code Binance uses
  for this endpoint's business errors; the exact message is the fake's).
- Balances really move between the fake's accounts, and each side's user stream gets its balance
  event (spot ``outboundAccountPosition``, futures ``ACCOUNT_UPDATE``).
- Answer ``{"tranId": N, "clientTranId": "..."}``; the history answers
  ``{"result": [...], "totalCount": n}``, one of ``fromEmail``/``toEmail`` at most (both:
  ``-9000``), neither: transfers from the master; ``clientTranId``, ``startTime``/``endTime``
  (default: the last 7 days), ``page``, ``limit`` (<= 500).
- Fault knobs ``Faults.{fail,drop,delay}_transfers*`` behave as the placement knobs.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from atlas_oms.fakes.binance.config import SPOT, USDM
from atlas_oms.fakes.binance.records import ZERO, Account, VenueError
from atlas_oms.fakes.binance.server_base import ServerBase, _json

TYPES = {"SPOT": SPOT, "USDT_FUTURE": USDM}
WEEK_MS = 7 * 24 * 3600 * 1000


@dataclass
class TransferRecord:
    tran_id: int
    master: str
    from_email: str
    to_email: str
    asset: str
    amount: Decimal
    from_type: str
    to_type: str
    time: int
    client_tran_id: str

    def wire(self) -> dict[str, Any]:
        return {
            "tranId": self.tran_id,
            "fromEmail": self.from_email,
            "toEmail": self.to_email,
            "asset": self.asset,
            "amount": format(self.amount, "f"),
            "createTimeStamp": self.time,
            "fromAccountType": self.from_type,
            "toAccountType": self.to_type,
            "status": "SUCCESS",
            "clientTranId": self.client_tran_id,
        }


def _unsupported(msg: str = "Unsupported operation") -> VenueError:
    return VenueError(-9000, msg)


class SubAccountRest(ServerBase):
    """``/sapi/v1/sub-account/universalTransfer`` (POST and GET)."""

    transfers: list[TransferRecord]

    def _transfers(self) -> list[TransferRecord]:
        if not hasattr(self, "transfers"):
            self.transfers = []
        return self.transfers

    def _master(self, acct: Account) -> Account:
        if acct.cfg.master is not None:
            raise VenueError(-1002, "You are not authorized to execute this request.", 401)
        return acct

    def _by_email(self, master: Account, email: str) -> Account:
        if not email or email == master.cfg.email:
            return master
        for acct in self.venue.accounts.values():
            if acct.cfg.master == master.name and acct.cfg.email == email:
                return acct
        raise _unsupported("This two users are not in parent-child relation.")

    async def _universal_transfer(self, request: web.Request) -> web.StreamResponse:
        acct, params = await self._signed(request)
        master = self._master(acct)
        for name in ("fromAccountType", "toAccountType", "asset", "amount"):
            if not params.get(name):
                raise VenueError(
                    -1102,
                    f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.",
                )
        from_email, to_email = params.get("fromEmail", ""), params.get("toEmail", "")
        if not from_email and not to_email:
            raise VenueError(-1102, "Mandatory parameter 'fromEmail' or 'toEmail' was not sent.")
        from_type, to_type = params["fromAccountType"], params["toAccountType"]
        if from_type not in TYPES or to_type not in TYPES:
            raise _unsupported()
        try:
            amount = Decimal(params["amount"])
        except InvalidOperation:
            raise VenueError(-1100, "Illegal characters found in parameter 'amount'.") from None
        if not amount.is_finite() or amount <= 0:
            raise VenueError(-1100, "Illegal characters found in parameter 'amount'.")
        asset = params["asset"]
        client_id = params.get("clientTranId", "")
        src = self._by_email(master, from_email)
        dst = self._by_email(master, to_email)
        records = self._transfers()

        def commit() -> web.Response:
            if client_id and any(
                r.client_tran_id == client_id and r.master == master.name for r in records
            ):
                raise _unsupported("clientTranId is duplicated.")
            if src is dst and from_type == to_type:
                raise _unsupported()
            have = (
                src.free(asset)
                if TYPES[from_type] == SPOT
                else (
                    self.venue.available_margin(src)
                    if asset == "USDT"
                    else src.wallet.get(asset, ZERO)
                )
            )
            if have < amount:
                raise _unsupported("user have no avaliable amount")
            now = self.venue.now_ms()
            if TYPES[from_type] == SPOT:
                src.add(asset, -amount)
            else:
                src.wallet[asset] = src.wallet.get(asset, ZERO) - amount
            if TYPES[to_type] == SPOT:
                dst.add(asset, amount)
            else:
                dst.wallet[asset] = dst.wallet.get(asset, ZERO) + amount
            record = TransferRecord(
                tran_id=100_000_000 + len(records) + 1,
                master=master.name,
                from_email=src.cfg.email,
                to_email=dst.cfg.email,
                asset=asset,
                amount=amount,
                from_type=from_type,
                to_type=to_type,
                time=now,
                client_tran_id=client_id,
            )
            records.append(record)
            self.venue.balances_changed(TYPES[from_type], src, {asset}, now)
            self.venue.balances_changed(TYPES[to_type], dst, {asset}, now)
            body: dict[str, Any] = {"tranId": record.tran_id}
            if client_id:
                body["clientTranId"] = client_id
            return _json(body)

        return await self._change(request, "transfers", commit)

    async def _universal_transfer_history(self, request: web.Request) -> web.StreamResponse:
        acct, params = await self._signed(request)
        master = self._master(acct)
        from_email, to_email = params.get("fromEmail", ""), params.get("toEmail", "")
        if from_email and to_email:
            raise _unsupported("fromEmail and toEmail cannot be sent together.")
        now = self.venue.now_ms()
        start = int(params["startTime"]) if params.get("startTime") else None
        end = int(params["endTime"]) if params.get("endTime") else None
        if start is None and end is None:
            start, end = now - WEEK_MS, now
        elif start is None:
            start = (end or now) - WEEK_MS
        elif end is None:
            end = start + WEEK_MS
        assert start is not None and end is not None
        if end - start > WEEK_MS:
            raise _unsupported("The time range cannot exceed 7 days.")
        rows = [r for r in self._transfers() if r.master == master.name]
        if to_email:
            rows = [r for r in rows if r.to_email == to_email]
        else:
            rows = [r for r in rows if r.from_email == (from_email or master.cfg.email)]
        if params.get("clientTranId"):
            rows = [r for r in rows if r.client_tran_id == params["clientTranId"]]
        rows = [r for r in rows if start <= r.time <= end]
        rows.sort(key=lambda r: -r.time)
        limit = min(int(params.get("limit", "500")), 500)
        page = max(int(params.get("page", "1")), 1)
        shown = rows[(page - 1) * limit : page * limit]
        return _json({"result": [r.wire() for r in shown], "totalCount": len(rows)})
