"""Consolidated market data (issue 16, MD-1): the latest book of every venue instrument merged per
unified symbol (:mod:`.consolidated`), the built-in exchange's book as one of them
(:mod:`.sim_books`), the cross-venue spread monitor (:mod:`.spread`), rolling VWAP/TWAP of each
venue's trades (:mod:`.trade_stats`), and :class:`~.hub.MarketData` tying them to a node."""
