"""In-process gRPC test servers: the REST app with ``grpc_port`` set, served by uvicorn in a
thread (service/server.py BackgroundServer), and the real grpcio client stubs."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc

from atlas_oms import Instrument, Node
from atlas_oms.grpc_api.gen.atlas.v1 import market_data_pb2_grpc as market_rpc
from atlas_oms.grpc_api.gen.atlas.v1 import orders_pb2_grpc as orders_rpc
from atlas_oms.grpc_api.gen.atlas.v1 import portfolio_pb2_grpc as portfolio_rpc
from atlas_oms.grpc_api.gen.atlas.v1 import risk_pb2_grpc as risk_rpc
from atlas_oms.service.app import create_app
from atlas_oms.service.keys import KeyStore
from atlas_oms.service.server import BackgroundServer
from atlas_oms.service.settings import ServiceSettings

SPOT = "BTC/USDT"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def world(node: Node) -> None:
    node.add_instrument(Instrument.spot(SPOT, tick_size="0.01", lot_size="0.0001"))
    node.open_account("alice")
    node.open_account("alice-sub", parent_id="alice")
    node.open_account("bob")
    for account in ("alice", "bob"):
        node.deposit(account, "USDT", "1000000")
        node.deposit(account, "BTC", "100")
    node.update_prices(SPOT, last="30000")


@dataclass
class Stubs:
    channel: grpc.Channel
    orders: orders_rpc.OrdersStub = field(init=False)
    positions: portfolio_rpc.PositionsStub = field(init=False)
    balances: portfolio_rpc.BalancesStub = field(init=False)
    accounts: portfolio_rpc.AccountsStub = field(init=False)
    market: market_rpc.MarketDataStub = field(init=False)
    risk: risk_rpc.RiskStub = field(init=False)

    def __post_init__(self) -> None:
        self.orders = orders_rpc.OrdersStub(self.channel)
        self.positions = portfolio_rpc.PositionsStub(self.channel)
        self.balances = portfolio_rpc.BalancesStub(self.channel)
        self.accounts = portfolio_rpc.AccountsStub(self.channel)
        self.market = market_rpc.MarketDataStub(self.channel)
        self.risk = risk_rpc.RiskStub(self.channel)


@dataclass
class Env:
    node: Node
    tokens: dict[str, str]
    target: str
    url: str
    stubs: Stubs
    server: Any

    def md(self, who: str) -> tuple[tuple[str, str], ...]:
        """The call metadata of ``who``'s key."""
        return (("x-api-key", self.tokens[who]),)


@contextmanager
def grpc_env(
    tmp_path: Path, *, secure: grpc.ChannelCredentials | None = None, **settings: Any
) -> Iterator[Env]:
    """A node (alice, alice-sub, bob; BTC/USDT) served over REST and gRPC on free ports."""
    keys = KeyStore(tmp_path / "keys.json")
    tokens = {
        "alice": keys.issue(("trader",), ("alice",), label="alice desk").token,
        "bob": keys.issue(("trader",), ("bob",)).token,
        "risk": keys.issue(("risk",)).token,
        "signed": keys.issue(("trader",), ("bob",), require_signature=True).token,
    }
    port = free_port()
    settings.setdefault("rate_limit_per_s", 100_000)
    config = ServiceSettings(
        data_dir=tmp_path, grpc_port=port, market_maker=False, market="off", **settings
    )
    node = Node.in_memory()
    app = create_app(config, node=node, keys=keys, setup=world)
    target = f"127.0.0.1:{port}"
    try:
        with BackgroundServer(app) as server:
            channel = (
                grpc.insecure_channel(target)
                if secure is None
                else grpc.secure_channel(
                    target, secure, options=(("grpc.ssl_target_name_override", "localhost"),)
                )
            )
            grpc.channel_ready_future(channel).result(timeout=20)
            with channel:
                yield Env(node, tokens, target, server.url, Stubs(channel), server)
    finally:
        node.close()
