"""Seed 001's execution policy: how the OMS executes a strategy's trade intent.

This package will hold the managed-execution policy of seed 001 (entry repricing, brackets without
OCA, tranches, trailing stop maintenance, stop-market fallback, forced close, multi-cycle trades,
pre-market rules, slippage control). It is pure, like the rest of the core: it imports only
:mod:`atlas_oms.model`, reads no clock and no file.

Its first piece is :mod:`~atlas_oms.core.policy.params`: every parameter of seed 001 §16 (and the
numbers of the seed's "Normativ" tables that §16 makes configurable), with the seed's names and
defaults, in one immutable settings object; :mod:`~atlas_oms.core.policy.sources` parses a
parameter file's text (YAML or Java-style ``.properties``).
"""
