"""The ``atlas`` command as a client of a running ``atlas serve``: orders, positions, balances and
the kill switch over the REST API.

The server and the key come from ``--url`` / ``--key`` or the environment (``ATLAS_URL``,
``ATLAS_KEY``); the URL defaults to ``http://127.0.0.1:8000``. Output is a readable table, or with
``--json`` the server's JSON exactly as it came (numbers stay exact strings). A problem document
from the server is printed as ``REASON: detail`` on stderr with exit code 2; a server that cannot be
reached is one sentence on stderr with exit code 3.

:class:`AtlasClient` is the small HTTP layer under the commands and can be used on its own.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from atlas_oms.model.enums import OrderStatus, OrderType, PositionSide, TimeInForce
from atlas_oms.tables import render

if TYPE_CHECKING:
    import httpx

DEFAULT_URL = "http://127.0.0.1:8000"
#: Exit codes: a refusal or bad usage (2, as the offline commands), an unreachable server (3).
EXIT_REFUSED = 2
EXIT_UNREACHABLE = 3

__all__ = ["DEFAULT_URL", "ApiProblem", "AtlasClient", "Reply", "Unreachable", "add_parsers"]


class ApiProblem(Exception):
    """A non-2xx answer: the problem document's reason and detail, and the body as it came."""

    def __init__(self, status: int, reason: str, detail: str, text: str, body: Any = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.status = status
        self.reason = reason
        self.detail = detail
        self.text = text
        self.body = body


class Unreachable(Exception):
    """No answer from the server (refused connection, timeout, bad URL)."""


class Reply:
    """A 2xx answer: the status, the body's text exactly as sent, and its parsed value."""

    __slots__ = ("data", "status", "text")

    def __init__(self, status: int, text: str, data: Any) -> None:
        self.status = status
        self.text = text
        self.data = data


class AtlasClient:
    """Requests to one Atlas server with one API key (``X-API-Key: <key_id>.<secret>``)."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        key: str | None = None,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        import httpx  # here: every ``atlas`` command imports this module, few talk to a server

        self.url = url.rstrip("/")
        #: The public half of the key: the actor the server journals.
        self.key_id = (key or "").partition(".")[0]
        headers = {"User-Agent": "atlas-cli"}
        if key:
            headers["X-API-Key"] = key
        self._http = httpx.Client(
            base_url=self.url, headers=headers, timeout=timeout, transport=transport
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AtlasClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ transport
    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
    ) -> Reply:
        """Send one request; a 2xx is a :class:`Reply`, anything else raises."""
        import httpx

        if params:
            params = {k: _param(v) for k, v in params.items() if v is not None}
        try:
            r = self._http.request(method, path, params=params, json=json)
        except httpx.InvalidURL as exc:
            raise Unreachable(f"the server URL {self.url!r} is not valid: {exc}") from None
        except httpx.TimeoutException:
            raise Unreachable(f"the Atlas server at {self.url} did not answer in time") from None
        except httpx.HTTPError as exc:
            why = str(exc) or type(exc).__name__
            raise Unreachable(f"cannot reach the Atlas server at {self.url} ({why})") from None
        text = r.text
        try:
            data = r.json() if text else None
        except ValueError:
            data = None
        if r.is_success:
            return Reply(r.status_code, text, data)
        if isinstance(data, dict) and isinstance(data.get("reason"), str):
            raise ApiProblem(r.status_code, data["reason"], str(data.get("detail", "")), text, data)
        first = text.strip().splitlines()[0] if text.strip() else r.reason_phrase
        raise ApiProblem(r.status_code, f"HTTP_{r.status_code}", first, text, data)

    # ------------------------------------------------------------------ the API
    def submit(self, order: dict[str, Any]) -> Reply:
        return self.request("POST", "/v1/orders", json=order)

    def order(self, account_id: str, order_id: int) -> Reply:
        return self.request("GET", f"/v1/orders/{order_id}", params={"account_id": account_id})

    def modify(self, account_id: str, order_id: int, **changes: str | None) -> Reply:
        body = {"account_id": account_id, **{k: v for k, v in changes.items() if v is not None}}
        return self.request("PATCH", f"/v1/orders/{order_id}", json=body)

    def cancel(self, account_id: str, order_id: int) -> Reply:
        return self.request("DELETE", f"/v1/orders/{order_id}", params={"account_id": account_id})

    def cancel_all(self, account_id: str, symbol: str | None = None) -> Reply:
        body: dict[str, Any] = {"account_id": account_id}
        if symbol is not None:
            body["symbol"] = symbol
        return self.request("POST", "/v1/orders/cancel-all", json=body)

    def orders(self, account_id: str, **filters: Any) -> Reply:
        return self.request("GET", "/v1/orders", params={"account_id": account_id, **filters})

    def positions(self, account_id: str) -> Reply:
        return self.request("GET", "/v1/positions", params={"account_id": account_id})

    def balances(self, account_id: str) -> Reply:
        return self.request("GET", "/v1/balances", params={"account_id": account_id})

    def kill(self, scope: str, scope_id: str, reason: str, *, flatten: bool = False) -> Reply:
        body = {"scope": scope, "scope_id": scope_id, "reason": reason, "flatten": flatten}
        return self.request("POST", "/v1/risk/kill", json=body)

    def reset_kill(self, scope: str, scope_id: str, reason: str) -> Reply:
        body = {"scope": scope, "scope_id": scope_id, "reason": reason}
        return self.request("POST", "/v1/risk/kill/reset", json=body)


def _param(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


# ---------------------------------------------------------------------------------- the commands
class Usage(Exception):
    """A command line the server need not see (no key, no account): a sentence, exit code 2."""


def wants_server(args: argparse.Namespace) -> bool:
    """Whether a command that also works on a journal (``atlas kill``) should go to a server:
    ``--url`` or ``--key`` given, or ``ATLAS_URL`` / ``ATLAS_KEY`` set and no ``--journal``."""
    if args.url is not None or args.key is not None:
        return True
    if args.journal is not None:
        return False
    return bool(os.environ.get("ATLAS_URL") or os.environ.get("ATLAS_KEY"))


def connect(args: argparse.Namespace) -> AtlasClient:
    url = args.url or os.environ.get("ATLAS_URL") or DEFAULT_URL
    key = (args.key or os.environ.get("ATLAS_KEY") or "").strip()
    if not key:
        raise Usage("no API key: pass --key KEY_ID.SECRET or set ATLAS_KEY")
    return AtlasClient(url, key, timeout=args.timeout)


def run_online(args: argparse.Namespace, action: Any) -> int:
    """Connect, do ``action(client)``, and turn refusals and network trouble into exit codes."""
    try:
        with connect(args) as client:
            return int(action(client))
    except Usage as exc:
        print(f"{_who(args)}: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except ApiProblem as exc:
        if getattr(args, "json", False) and exc.text:
            print(exc.text)
        print(f"{exc.reason}: {exc.detail}", file=sys.stderr)
        order = exc.body.get("order") if isinstance(exc.body, dict) else None
        if isinstance(order, dict) and "order_id" in order:
            print(f"order #{order['order_id']} is {order.get('status')}", file=sys.stderr)
        return EXIT_REFUSED
    except Unreachable as exc:
        print(f"{_who(args)}: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE


def _who(args: argparse.Namespace) -> str:
    action = getattr(args, f"{args.command}_command", None)
    return f"atlas {args.command}" + (f" {action}" if action else "")


def _account(args: argparse.Namespace) -> str:
    account = args.account or os.environ.get("ATLAS_ACCOUNT")
    if not account:
        raise Usage("which account? pass --account ID or set ATLAS_ACCOUNT")
    return str(account)


def _show(args: argparse.Namespace, reply: Reply, table: str) -> int:
    print(reply.text if args.json else table)
    return 0


def _num(value: Any) -> Any:
    """A number string as a Decimal (the table trims it); anything else as it is."""
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return value
    return value


def _cell(value: Any) -> Any:
    return "" if value is None else _num(value)


ORDER_HEADERS = [
    "id",
    "account",
    "symbol",
    "side",
    "type",
    "qty",
    "price",
    "filled",
    "avg px",
    "status",
    "reason",
    "client id",
]


def orders_table(orders: Sequence[dict[str, Any]]) -> str:
    rows = [
        [
            o["order_id"],
            o["account_id"],
            o["symbol"],
            o["side"],
            o["order_type"],
            _cell(o["qty"]),
            _cell(o["price"] if o["price"] is not None else o.get("trigger_price")),
            _cell(o["cum_qty"]),
            _cell(o["avg_px"]),
            o["status"],
            _cell(o["reason"]),
            _cell(o["client_order_id"]),
        ]
        for o in orders
    ]
    return render(ORDER_HEADERS, rows, align="rlllrrrrrlll")


def positions_table(positions: Sequence[dict[str, Any]]) -> str:
    headers = ["symbol", "side", "qty", "avg entry", "mark", "unrealized", "realized", "fees"]
    headers += ["liq. price"]
    rows = [
        [
            p["symbol"],
            p["position_side"],
            _cell(p["qty"]),
            _cell(p["avg_entry_px"]),
            _cell(p["mark_px"]),
            _cell(p["unrealized_pnl"]),
            _cell(p["realized_pnl"]),
            _cell(p["fees"]),
            _cell(p.get("liquidation_price")),
        ]
        for p in positions
    ]
    return render(headers, rows, align="llrrrrrrr")


def balances_table(balances: Sequence[dict[str, Any]]) -> str:
    rows = [[b["asset"], _cell(b["total"]), _cell(b["locked"]), _cell(b["free"])] for b in balances]
    return render(["asset", "total", "locked", "free"], rows, align="lrrr")


def cmd_submit(args: argparse.Namespace) -> int:
    def action(client: AtlasClient) -> int:
        order: dict[str, Any] = {
            "account_id": _account(args),
            "symbol": args.symbol,
            "side": args.side,
            "qty": args.qty,
        }
        kind = args.type or ("LIMIT" if args.price is not None else "MARKET")
        order["order_type"] = kind
        optional = {
            "price": args.price,
            "trigger_price": args.trigger_price,
            "tif": args.tif,
            "client_order_id": args.client_id,
            "tag": args.tag,
            "position_side": args.position_side,
        }
        order.update({k: v for k, v in optional.items() if v is not None})
        if args.post_only:
            order["post_only"] = True
        if args.reduce_only:
            order["reduce_only"] = True
        reply = client.submit(order)
        o = reply.data
        note = " (a retry: the original order with this client id)" if reply.status == 200 else ""
        return _show(
            args, reply, f"order #{o['order_id']} {o['status']}{note}\n" + orders_table([o])
        )

    return run_online(args, action)


def cmd_get(args: argparse.Namespace) -> int:
    def action(client: AtlasClient) -> int:
        reply = client.order(_account(args), args.order_id)
        return _show(args, reply, orders_table([reply.data]))

    return run_online(args, action)


def cmd_modify(args: argparse.Namespace) -> int:
    def action(client: AtlasClient) -> int:
        if args.qty is None and args.price is None and args.trigger_price is None:
            raise Usage("nothing to change: pass --qty, --price or --trigger-price")
        reply = client.modify(
            _account(args),
            args.order_id,
            qty=args.qty,
            price=args.price,
            trigger_price=args.trigger_price,
        )
        o = reply.data
        return _show(args, reply, f"order #{o['order_id']} modified\n" + orders_table([o]))

    return run_online(args, action)


def cmd_cancel(args: argparse.Namespace) -> int:
    def action(client: AtlasClient) -> int:
        reply = client.cancel(_account(args), args.order_id)
        o = reply.data
        return _show(args, reply, f"order #{o['order_id']} {o['status']}\n" + orders_table([o]))

    return run_online(args, action)


def cmd_cancel_all(args: argparse.Namespace) -> int:
    def action(client: AtlasClient) -> int:
        account = _account(args)
        reply = client.cancel_all(account, args.symbol)
        canceled, refused = reply.data["canceled"], reply.data["refused"]
        where = f"account {account}" + (f", {args.symbol}" if args.symbol else "")
        lines = [f"{where}: {len(canceled) or 'no'} open order(s) canceled"]
        if canceled:
            lines.append("canceled: " + ", ".join(f"#{i}" for i in canceled))
        lines += [f"not canceled: #{r['order_id']}: {r['reason']}" for r in refused]
        return _show(args, reply, "\n".join(lines))

    return run_online(args, action)


def cmd_list(args: argparse.Namespace) -> int:
    def action(client: AtlasClient) -> int:
        reply = client.orders(
            _account(args),
            status=args.status,
            symbol=args.symbol,
            open_only=True if args.open else None,
            after=args.after or None,
            limit=args.limit,
        )
        page = reply.data
        _show(args, reply, orders_table(page["orders"]))
        if page["next_after"] is not None and not args.json:
            print(f"more orders: add --after {page['next_after']}", file=sys.stderr)
        return 0

    return run_online(args, action)


def cmd_positions(args: argparse.Namespace) -> int:
    def action(client: AtlasClient) -> int:
        reply = client.positions(_account(args))
        return _show(args, reply, positions_table(reply.data))

    return run_online(args, action)


def cmd_balances(args: argparse.Namespace) -> int:
    def action(client: AtlasClient) -> int:
        reply = client.balances(_account(args))
        return _show(args, reply, balances_table(reply.data))

    return run_online(args, action)


def kill_online(args: argparse.Namespace) -> int:
    """``atlas kill`` against a server: the kill switch endpoints, the key is the actor."""

    def action(client: AtlasClient) -> int:
        if args.actor is not None:
            raise Usage(
                "on a server the API key is the actor (journaled as its key id): drop --actor"
            )
        if args.reset and args.flatten:
            raise Usage("--reset and --flatten do not go together")
        scope, scope_id = args.scope, args.scope_id or ""
        if scope != "global" and not scope_id:
            raise Usage(f"the {scope} scope needs an id: {scope} ID")
        name = "global" if scope == "global" else f"{scope} {scope_id}"
        by = f"by {client.key_id} on {client.url}: {args.reason}"
        if args.reset:
            reply = client.reset_kill(scope, scope_id, args.reason)
            return _show(args, reply, f"kill switch of {name} reset {by}")
        reply = client.kill(scope, scope_id, args.reason, flatten=args.flatten)
        data = reply.data
        lines = [f"kill switch of {name} tripped {by}"]
        canceled = data.get("canceled", [])
        lines.append(f"open orders canceled: {len(canceled) or 'none'}")
        if canceled:
            lines.append("canceled: " + ", ".join(f"#{i}" for i in canceled))
        if data.get("pending_cancel"):
            ids = ", ".join(f"#{i}" for i in data["pending_cancel"])
            lines.append(f"cancels sent, not yet confirmed: {ids}")
        if args.flatten:
            flat = data.get("flatten_orders", [])
            lines.append(f"flattening orders: {', '.join(f'#{i}' for i in flat) or 'none'}")
        return _show(args, reply, "\n".join(lines))

    return run_online(args, action)


# ---------------------------------------------------------------------------------- the parsers
def _exact(text: str) -> str:
    """An exact decimal from the command line, sent as typed (argparse type)."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value.is_finite():
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return text


def _choice(values: Sequence[str]) -> Any:
    def parse(text: str) -> str:
        up = text.upper()
        if up not in values:
            raise argparse.ArgumentTypeError(f"{text!r}: one of {', '.join(values)}")
        return up

    return parse


def server_options(parser: argparse.ArgumentParser, *, with_json: bool = True) -> None:
    group = parser.add_argument_group("server")
    group.add_argument(
        "--url", metavar="URL", help=f"the Atlas server (ATLAS_URL, default {DEFAULT_URL})"
    )
    group.add_argument("--key", metavar="KEY", help="API key KEY_ID.SECRET (ATLAS_KEY)")
    group.add_argument(
        "--timeout", type=float, default=10.0, metavar="S", help="seconds to wait (10)"
    )
    if with_json:
        parser.add_argument(
            "--json", action="store_true", help="print the server's JSON as it came"
        )


def _account_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--account", "-a", metavar="ID", help="the account (ATLAS_ACCOUNT)")


def add_parsers(sub: Any, help_of: Any) -> None:
    """``atlas order ...``, ``atlas positions`` and ``atlas balances`` (online only)."""
    order = sub.add_parser("order", help="orders on a running Atlas server (atlas serve)")
    order.set_defaults(func=lambda args: help_of(order))
    osub = order.add_subparsers(dest="order_command", metavar="ACTION")

    submit = osub.add_parser(
        "submit",
        help="submit an order: SYMBOL SIDE QTY [PRICE]",
        description="A price makes a LIMIT order, no price a MARKET order, unless --type says.",
    )
    submit.add_argument("symbol", metavar="SYMBOL")
    submit.add_argument("side", type=_choice(("BUY", "SELL")), metavar="SIDE", help="buy or sell")
    submit.add_argument("qty", type=_exact, metavar="QTY")
    submit.add_argument("price", type=_exact, nargs="?", metavar="PRICE")
    _account_option(submit)
    submit.add_argument("--type", type=_choice(tuple(OrderType)), metavar="TYPE")
    submit.add_argument("--tif", type=_choice(tuple(TimeInForce)), metavar="TIF")
    submit.add_argument("--trigger-price", type=_exact, metavar="PX")
    submit.add_argument("--client-id", metavar="ID", help="idempotency key (client_order_id)")
    submit.add_argument("--tag", metavar="TAG", help="strategy tag")
    submit.add_argument("--position-side", type=_choice(tuple(PositionSide)), metavar="SIDE")
    submit.add_argument("--post-only", action="store_true")
    submit.add_argument("--reduce-only", action="store_true")
    server_options(submit)
    submit.set_defaults(func=cmd_submit)

    get = osub.add_parser("get", help="one order")
    get.add_argument("order_id", type=int, metavar="ORDER_ID")
    _account_option(get)
    server_options(get)
    get.set_defaults(func=cmd_get)

    modify = osub.add_parser("modify", help="change an open order's quantity or price")
    modify.add_argument("order_id", type=int, metavar="ORDER_ID")
    _account_option(modify)
    modify.add_argument("--qty", type=_exact, metavar="QTY")
    modify.add_argument("--price", type=_exact, metavar="PX")
    modify.add_argument("--trigger-price", type=_exact, metavar="PX")
    server_options(modify)
    modify.set_defaults(func=cmd_modify)

    cancel = osub.add_parser("cancel", help="cancel an open order")
    cancel.add_argument("order_id", type=int, metavar="ORDER_ID")
    _account_option(cancel)
    server_options(cancel)
    cancel.set_defaults(func=cmd_cancel)

    cancel_all = osub.add_parser("cancel-all", help="cancel an account's open orders")
    _account_option(cancel_all)
    cancel_all.add_argument("--symbol", metavar="SYMBOL", help="only this instrument's")
    server_options(cancel_all)
    cancel_all.set_defaults(func=cmd_cancel_all)

    listing = osub.add_parser("list", help="an account's orders, oldest first, a page at a time")
    _account_option(listing)
    listing.add_argument("--status", type=_choice(tuple(OrderStatus)), metavar="STATUS")
    listing.add_argument("--symbol", metavar="SYMBOL")
    listing.add_argument("--open", action="store_true", help="only live orders")
    listing.add_argument("--after", type=int, default=0, metavar="ID", help="orders after id ID")
    listing.add_argument("--limit", type=int, default=100, metavar="N", help="page size (100)")
    server_options(listing)
    listing.set_defaults(func=cmd_list)

    positions = sub.add_parser("positions", help="an account's open positions (on a server)")
    _account_option(positions)
    server_options(positions)
    positions.set_defaults(func=cmd_positions)

    balances = sub.add_parser("balances", help="an account's balances (on a server)")
    _account_option(balances)
    server_options(balances)
    balances.set_defaults(func=cmd_balances)
