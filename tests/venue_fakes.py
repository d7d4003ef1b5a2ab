"""Setup the end-to-end tests over the venue fakes share (issues 15 and 16): the Binance and Bybit
spot fakes with one funded ``desk`` account each, the encrypted key file of an accounts.yaml's
venue accounts, a wait on a condition inside an event loop, and an event loop in a thread that
serves fakes to a test that drives a real ``atlas serve`` subprocess."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import threading
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol, TypeVar

from atlas_oms.fakes.binance import AccountConfig as BinanceAccount
from atlas_oms.fakes.binance import FakeBinance
from atlas_oms.fakes.bybit import AccountConfig as BybitAccount
from atlas_oms.fakes.bybit import FakeBybit

D = Decimal
T = TypeVar("T")
TF = TypeVar("TF", bound="FakesThread")


def spot_fakes(binance: tuple[str, str], bybit: tuple[str, str]) -> tuple[FakeBinance, FakeBybit]:
    """The Binance and Bybit fakes, each with a spot account ``desk`` (key, secret as given)
    holding 100000 USDT and 1 BTC."""
    return (
        FakeBinance(
            [
                BinanceAccount(
                    name="desk",
                    api_key=binance[0],
                    secret=binance[1],
                    spot={"USDT": D("100000"), "BTC": D("1")},
                )
            ]
        ),
        FakeBybit(
            [
                BybitAccount(
                    name="desk",
                    api_key=bybit[0],
                    secret=bybit[1],
                    wallet={"USDT": D("100000"), "BTC": D("1")},
                )
            ]
        ),
    )


def write_keys(tmp_path: Path, master: bytes, keys: dict[str, tuple[str, str]]) -> Path:
    """The encrypted key file ``tmp_path/venue-keys.json`` (Atlas account -> key, secret) and
    its master key file (mode 600), whose path is returned."""
    from atlas_oms.venues.credentials import KeyStore

    store = KeyStore(tmp_path / "venue-keys.json", master)
    for account, (key, secret) in keys.items():
        store.set(account, key, secret)
    path = tmp_path / "master.key"
    path.write_text(base64.b64encode(master).decode())
    path.chmod(0o600)
    return path


async def until(check: Callable[[], Any], timeout: float = 15.0, what: str = "") -> Any:
    """The first true value of ``check()``, polled in the running loop; fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        await asyncio.sleep(0.02)


class Fake(Protocol):
    async def start(self) -> Any: ...
    async def stop(self) -> Any: ...


class FakesThread:
    """Fakes served by one event loop in a thread of the test process (their state stays
    readable and their servers can stop and start again on the same port). A subclass lists its
    fakes in ``all`` and quotes their books in ``seed``."""

    all: Sequence[Fake] = ()

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 20) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        async def inside() -> T:
            return fn(*args)

        return self.run(inside())

    def seed(self) -> None:
        """Quote the fakes' books (in the fakes' loop, once they listen)."""

    def start(self) -> None:
        self.thread.start()

        async def start_all() -> None:
            for fake in self.all:
                await fake.start()
            self.seed()

        self.run(start_all())

    def stop(self) -> None:
        async def stop_all() -> None:
            for fake in self.all:
                with contextlib.suppress(Exception):  # stopping: the next one still stops
                    await fake.stop()

        try:
            self.run(stop_all())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)


@contextlib.contextmanager
def serving(fakes: TF) -> Iterator[TF]:
    """``fakes`` started for the ``with`` block, stopped after it (a test's fixture)."""
    fakes.start()
    try:
        yield fakes
    finally:
        fakes.stop()


def wait_for(check: Callable[[], Any], timeout: float, what: str = "", every: float = 0.1) -> Any:
    """The first true value of ``check()``, polled from the test's thread every ``every``
    seconds; fails after ``timeout`` with the last value seen."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what or check}: last {last!r}")
