"""US-equities buying power (MRG-4): cash accounts, Reg T margin accounts, pattern day traders.

An account's ``equity_type`` decides how its equity orders are paid for:

* ``CASH`` pays only with *settled* cash. A sale's proceeds settle T+1 (the next New York
  business day; weekends are skipped, exchange holidays are not modelled). Until then they are
  in the balance but cannot pay for a buy. A sell may not exceed the shares held (no short sale).
  Buys and sells lock funds and shares as spot orders do.
* ``MARGIN`` is Reg T: an order locks nothing; instead every increase of the account's exposure
  (positions and open orders, valued in the order's currency) needs initial margin out of the
  account's excess equity: 50% overnight (2:1 buying power), 25% intraday for a pattern day
  trader with at least $25,000 of equity (4:1). Cash may go negative (a margin loan) and a sell
  beyond the shares held opens a short.

The formulas, with their sources, are in ``docs/RISK.md`` ("US equities buying power").

Everything here is a pure function of the fold's data and the message's ``ts``: settlement happens
by time (an entry whose settlement instant is at or before ``ts`` counts as settled), so a replay
decides exactly as the live engine did. The only state this part adds is :class:`~atlas_oms.core.equities.book.EquityBook`'s
unsettled proceeds, changed by fills folded in ``state/booking.py``; its index of live orders is
derived.

Modules: ``settlement`` (trade date, T+1, the regular session), ``book`` (unsettled proceeds),
``buying_power`` (the figures), ``checks`` (the pre-trade refusals).
"""
