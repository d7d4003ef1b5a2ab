"""``account_switch_ns``: choosing the account with budget left for one order among 200
(runtime/gateway/spread.py), switches included: each account has 5 orders left, so every fifth
choice walks to the next account; the accounts share 4 IP scopes. The figure is the mean time of
one choice (and its counting), the median of the rounds."""

from __future__ import annotations

import gc
import statistics
import time
from typing import Any

from atlas_oms.runtime.gateway.spread import BudgetBook

ACCOUNTS = 200
PER_ACCOUNT = 5


def bench_account_switch(quick: bool) -> dict[str, Any]:
    names = [f"acct{i:03d}" for i in range(ACCOUNTS)]
    book = BudgetBook(names, {a: (f"ip{i % 4}",) for i, a in enumerate(names)})
    rounds = 5 if quick else 50
    choices = ACCOUNTS * PER_ACCOUNT
    means: list[float] = []
    switches = 0
    gc.collect()
    gc.freeze()
    try:
        for _ in range(rounds):
            for a in names:
                book.set_account(a, PER_ACCOUNT)
            for s in book.scope_names:
                book.set_scope(s, 1 << 30)
            book.cursor = 0
            pick = book.choose_and_take
            last = None
            start = time.perf_counter_ns()
            for _ in range(choices):
                last = pick()
            means.append((time.perf_counter_ns() - start) / choices)
            assert last == names[-1] and pick() is None  # every budget spent, in turn
            switches += ACCOUNTS - 1
    finally:
        gc.unfreeze()
    return {
        "account_switch_ns": round(statistics.median(means)),
        "account_switch_switches": switches,
        "n": {"account_switch_accounts": ACCOUNTS, "account_switch_choices": choices * rounds},
    }
