"""Pure planning of parent orders: TWAP and VWAP schedules, seeded draws, iceberg display sizes.

**Schedule.** ``n`` slices over ``[start, end)``: slice ``k`` is due at ``start + k * step``
(``step = (end - start) / n``, integer ns), so the first slice goes at the start and the last one
``step`` before the end (the window's end is the deadline by which the parent expires). TWAP
sizes are equal (``qty / n`` on the lot grid, the last slice taking the rounding rest); VWAP sizes
follow ``weights`` (``qty * w_k / sum(w)`` on the lot grid, the rest to the last).

**Randomization** (``randomize_pct`` = r, 0-100): every draw comes from
SHA-256 of ``(seed, k, i)`` (slice ``k``'s ``i``-th draw: the core may import no random number
generator, and the draws of a slice depend on nothing but the seed and its number, so a replay
and a restart give the same ones, on every Python).
Its first value u in [-1, 1] moves the size to ``base * (1 + u * r / 100)`` (on the lot grid;
the sizes are then rescaled so they sum to the quantity: the last slice takes the rest and is
never negative); its second value v in [-1, 1] moves the due time by ``v * r / 100 * step / 2``
(less than half a step: slices never swap places). The draws are recorded in
``AlgoSlicesPlanned`` (``size_draw``, ``time_draw``).

**Iceberg display.** The ``n``-th displayed child shows ``display * (1 + u * var / 100)`` (u from
the same kind of generator, seeded with ``seed`` and ``n``), on the lot grid, at least one lot,
at most what is left.
"""

from __future__ import annotations

import hashlib
from decimal import ROUND_DOWN, Decimal

from atlas_oms.core.decimals import ZERO
from atlas_oms.model.events_algos import AlgoSlice

HUNDRED = Decimal(100)
_SCALE = Decimal("0.000001")


def _draw(seed: int, k: int, i: int) -> Decimal:
    digest = hashlib.sha256(f"atlas-algo:{seed}:{k}:{i}".encode()).digest()
    return Decimal(int.from_bytes(digest[:8], "big") % 2_000_001 - 1_000_000) * _SCALE


def _draws(seed: int, k: int) -> tuple[Decimal, Decimal]:
    """Slice ``k``'s two draws in [-1, 1], exact to 6 decimals (Decimal: replay-exact)."""
    return _draw(seed, k, 0), _draw(seed, k, 1)


def on_lot(qty: Decimal, lot: Decimal) -> Decimal:
    """``qty`` rounded down to the lot grid."""
    return (qty / lot).to_integral_value(rounding=ROUND_DOWN) * lot


def plan_slices(
    qty: Decimal,
    start: int,
    end: int,
    lot: Decimal,
    *,
    slices: int = 1,
    weights: tuple[Decimal, ...] = (),
    randomize_pct: Decimal = ZERO,
    seed: int = 0,
) -> tuple[AlgoSlice, ...]:
    """The schedule of a TWAP (equal ``slices``) or VWAP (one slice per weight)."""
    n = len(weights) if weights else slices
    step = (end - start) // n
    total_w = sum(weights, ZERO) if weights else Decimal(n)
    r = randomize_pct / HUNDRED
    bases: list[Decimal] = []
    draws: list[tuple[Decimal, Decimal]] = []
    for k in range(n):
        w = weights[k] if weights else Decimal(1)
        u, v = _draws(seed, k) if r else (ZERO, ZERO)
        draws.append((u, v))
        bases.append(qty * w / total_w * (1 + u * r))
    scale = qty / sum(bases, ZERO) if sum(bases, ZERO) > 0 else ZERO
    sizes: list[Decimal] = []
    left = qty
    for k in range(n):
        size = left if k == n - 1 else min(on_lot(bases[k] * scale, lot), left)
        sizes.append(size)
        left -= size
    out = []
    for k in range(n):
        u, v = draws[k]
        jitter = int(v * r * step / 2) if r else 0
        out.append(AlgoSlice(k, start + k * step + jitter, sizes[k], u, v))
    return tuple(out)


def display_size(
    display: Decimal, variance_pct: Decimal, seed: int, n: int, left: Decimal, lot: Decimal
) -> Decimal:
    """The ``n``-th displayed child's quantity of an iceberg with ``left`` still to do."""
    size = display
    if variance_pct:
        u, _ = _draws(seed, n)
        size = on_lot(display * (1 + u * variance_pct / HUNDRED), lot)
    return min(max(size, lot), left)
