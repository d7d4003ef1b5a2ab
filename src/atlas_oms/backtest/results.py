"""One account's run, as the statistics and the HTML report take it.

The runner (backtest or paper) builds one :class:`AccountRun` per account from its records
(``backtest/records.py``) and hands a mapping ``{account_id: AccountRun}`` to
``stats.summarize_runs`` and ``report.write_report``. Nothing here computes anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import msgspec

from atlas_oms.backtest.records import EquityPoint, FillRecord, TradeRecord


class AccountRun(msgspec.Struct, frozen=True, kw_only=True):
    """What one account did in a run.

    - ``strategy``: the strategy's name (the per-strategy statistics group accounts by it);
    - ``starting_capital``: the account's equity before the first bar (quote asset); the base of
      total P&L and the first peak of the drawdown;
    - ``fills`` / ``trades`` / ``equity``: the run's records, in time order; ``equity`` is
      sampled once per bar (the statistics assume a regular interval);
    - ``params``: free-form run parameters shown in the report (symbol, interval, fill model...).
    """

    strategy: str
    starting_capital: Decimal
    fills: tuple[FillRecord, ...] = ()
    trades: tuple[TradeRecord, ...] = ()
    equity: tuple[EquityPoint, ...] = ()
    params: Mapping[str, str] = {}
