"""The dialect's route table: a :class:`Route` is (method, path, weight, security, handler);
a handler takes the checked :class:`Call` and returns a JSON-able answer (Decimals become exact
strings) or an aiohttp response (a WebSocket)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from atlas_oms.binance_api.server import Dialect
    from atlas_oms.service.keys import ApiKey


class Security(StrEnum):
    """Binance's endpoint security types. NONE: public. MARKET_DATA and USER_STREAM: the
    ``X-MBX-APIKEY`` header (no signature). USER_DATA and TRADE: the key and a valid signature
    and timestamp; TRADE also needs the right to trade for the account."""

    NONE = "NONE"
    MARKET_DATA = "MARKET_DATA"
    USER_STREAM = "USER_STREAM"
    USER_DATA = "USER_DATA"
    TRADE = "TRADE"

    @property
    def keyed(self) -> bool:
        return self is not Security.NONE

    @property
    def signed(self) -> bool:
        return self in (Security.USER_DATA, Security.TRADE)


@dataclass
class Call:
    """One checked request: its merged params (the query wins over the body), and for a keyed
    route the Atlas key and the account it acts for."""

    dialect: Dialect
    request: web.Request
    params: dict[str, str]
    #: The raw form body (signed with the query string).
    raw_body: str = ""
    key: ApiKey | None = None
    account: str | None = None
    #: Extra response headers (the order-count headers of an accepted order).
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def account_id(self) -> str:
        """The account of a keyed call (the route's security guarantees one)."""
        assert self.account is not None
        return self.account

    @property
    def api_key(self) -> ApiKey:
        assert self.key is not None
        return self.key


Handler = Callable[[Call], Awaitable[Any]]


@dataclass(frozen=True)
class Route:
    method: str  # GET POST PUT DELETE; "WS" for a WebSocket endpoint (no weight, no auth)
    path: str
    weight: int
    security: Security
    handler: Handler
    #: The weight when the request has no ``symbol`` (openOrders: 80 instead of 6).
    weight_without_symbol: int | None = None

    @property
    def name(self) -> str:
        """The metrics' and audit's method label: ``GET /api/v3/depth``."""
        return f"{self.method} {self.path}"


#: A module's routes for a dialect: ``spot_routes(dialect)``, ``futures_routes(dialect)``.
RouteProvider = Callable[["Dialect"], list[Route]]

__all__ = ["Call", "Handler", "Route", "RouteProvider", "Security"]
