"""Scaffolding the venue order-book tests share (issue 16, ``VenueBooks``): a fake venue on
127.0.0.1 and the real adapter talking to it for one test, a book level, and waiting for the
first streamed book a test wants."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from atlas_oms.model.route_book import BookLevel, VenueBook


class Fake(Protocol):
    async def start(self) -> Any: ...
    async def stop(self) -> Any: ...


class Adapter(Protocol):
    async def start(self) -> Any: ...
    async def close(self) -> Any: ...


F = TypeVar("F", bound=Fake)
A = TypeVar("A", bound=Adapter)
T = TypeVar("T")


def run_books(
    fake: F,
    adapter: Callable[[F], A],
    test: Callable[[F, A], Awaitable[T]],
    *,
    start: bool = True,
    timeout: float = 15,
) -> T:
    """Start ``fake``, build its adapter (``adapter(fake)``, after the fake listens), start the
    adapter unless ``start`` is false, run ``test(fake, adapter)`` and close both, all within
    ``timeout`` seconds."""

    async def main() -> T:
        await fake.start()
        a = adapter(fake)
        try:
            if start:
                await a.start()
            return await test(fake, a)
        finally:
            await a.close()
            await fake.stop()

    return asyncio.run(asyncio.wait_for(main(), timeout))


def lv(px: str, qty: str) -> BookLevel:
    return BookLevel(Decimal(px), Decimal(qty))


async def until(
    books: AsyncIterator[VenueBook], want: Callable[[VenueBook], bool], timeout: float = 3.0
) -> VenueBook:
    """The first book from ``books`` that ``want`` accepts, within ``timeout`` seconds."""
    async with asyncio.timeout(timeout):
        while True:
            book = await anext(books)
            if want(book):
                return book
