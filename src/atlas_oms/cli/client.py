"""The HTTP client of a running ``atlas serve``: one request method, the REST API's calls, and
two errors (the server said no: :class:`ApiProblem`; no server: :class:`Unreachable`).

:class:`AtlasClient` is the layer under ``atlas order``, ``positions``, ``balances`` and
``kill --url`` (:mod:`atlas_oms.cli.on_server` runs them) and can be used on its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

DEFAULT_URL = "http://127.0.0.1:8000"
#: Exit codes: a refusal or bad usage (2, as the offline commands), an unreachable server (3).
EXIT_REFUSED = 2
EXIT_UNREACHABLE = 3

__all__ = [
    "DEFAULT_URL",
    "EXIT_REFUSED",
    "EXIT_UNREACHABLE",
    "ApiProblem",
    "AtlasClient",
    "Reply",
    "Unreachable",
]


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
        """Close the connection pool."""
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
        """Submit one order (the body's fields are SubmitOrder's)."""
        return self.request("POST", "/v1/orders", json=order)

    def order(self, account_id: str, order_id: int) -> Reply:
        """One order of the account."""
        return self.request("GET", f"/v1/orders/{order_id}", params={"account_id": account_id})

    def modify(self, account_id: str, order_id: int, **changes: str | None) -> Reply:
        """Change an open order's quantity, price or trigger price (None keeps it)."""
        body = {"account_id": account_id, **{k: v for k, v in changes.items() if v is not None}}
        return self.request("PATCH", f"/v1/orders/{order_id}", json=body)

    def cancel(self, account_id: str, order_id: int) -> Reply:
        """Cancel one order."""
        return self.request("DELETE", f"/v1/orders/{order_id}", params={"account_id": account_id})

    def cancel_all(self, account_id: str, symbol: str | None = None) -> Reply:
        """Cancel the account's open orders (of one symbol, or all)."""
        body: dict[str, Any] = {"account_id": account_id}
        if symbol is not None:
            body["symbol"] = symbol
        return self.request("POST", "/v1/orders/cancel-all", json=body)

    def orders(self, account_id: str, **filters: Any) -> Reply:
        """A page of the account's orders; ``filters`` are the query's parameters."""
        return self.request("GET", "/v1/orders", params={"account_id": account_id, **filters})

    def positions(self, account_id: str) -> Reply:
        """The account's open positions."""
        return self.request("GET", "/v1/positions", params={"account_id": account_id})

    def balances(self, account_id: str) -> Reply:
        """The account's balances."""
        return self.request("GET", "/v1/balances", params={"account_id": account_id})

    def kill(self, scope: str, scope_id: str, reason: str, *, flatten: bool = False) -> Reply:
        """Trip a kill switch (the key is the actor)."""
        body = {"scope": scope, "scope_id": scope_id, "reason": reason, "flatten": flatten}
        return self.request("POST", "/v1/risk/kill", json=body)

    def reset_kill(self, scope: str, scope_id: str, reason: str) -> Reply:
        """Reset a kill switch (the key is the actor)."""
        body = {"scope": scope, "scope_id": scope_id, "reason": reason}
        return self.request("POST", "/v1/risk/kill/reset", json=body)


def _param(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
