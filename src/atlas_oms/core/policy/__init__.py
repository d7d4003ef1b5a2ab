"""Seed 001's execution policy: how the OMS executes a strategy's trade intent.

This package will hold the managed-execution policy of seed 001 (entry repricing, brackets without
OCA, tranches, trailing stop maintenance, stop-market fallback, forced close, multi-cycle trades,
pre-market rules, slippage control). It is pure, like the rest of the core: it reads no clock
and no file.

Its pieces so far (issue 13):

* :mod:`~.trade` and :mod:`~.trade_state`: the managed trade's first slice (intent, entry with
  repricing and abandon, bracket without OCA, section 9.1 fill handling, the section 5.2
  re-protection), driven by the engine after each message and by ``AdvanceTime`` deadlines;

* :mod:`~.params`: every parameter of seed 001 §16 (and the numbers of the seed's "Normativ"
  tables that §16 makes configurable), with the seed's names and defaults, in one immutable
  settings object; :mod:`~.sources` parses a parameter file's text (YAML or ``.properties``);
* :mod:`~.bars`, :mod:`~.indicators`, :mod:`~.stops`: 1-minute bars, ATR, EMA and the last higher
  low, and the §10.2 trailing-stop formulas (the stop never loosens);
* :mod:`~.tranches`, :mod:`~.slippage`, :mod:`~.repricing`: the §6 scale-out table, the §14
  slippage escalation and the §8.2 repricing degradation, as pure decision functions.
"""
