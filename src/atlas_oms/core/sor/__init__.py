"""The smart order router's decisions (issue 16, VEN-5): pure and deterministic.

* :mod:`~.candidates`: the (venue instrument, account) pairs an order may use, with fees, quote
  conversion, filters and capacity from the state;
* :mod:`~.allocate`: the walk of the consolidated book that splits an order across them;
* :mod:`~.route`: :func:`~.route.decide_route` = both, plus the stale-book filter;
* :mod:`~.arbitrage`: crossed venues (a bid above another venue's ask by more than fees).

See ``docs/notes/sor.md``.
"""
