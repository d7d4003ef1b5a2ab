"""Parent orders: the execution-algorithm framework (issue 16 §2-§3, VEN-5, VEN-6).

* ``state.py``: the parent's state (``state.algos``) and the fold of the ``Algo*`` events.
* ``schedule.py``: pure planning (TWAP/VWAP slices, seeded draws, iceberg display sizes).
* ``children.py``: placing, pricing and canceling child orders (ordinary orders).
* ``algo.py``: the handlers (submit, pause, resume, cancel, route) and the engine hooks (timer,
  child events, deadlines).
* ``report.py``: the execution report (pure function of the state).

docs/notes/algo.md describes the behaviour and the decisions taken.
"""
