"""Settings for the whole suite.

Hypothesis's per-example deadline (200 ms by default) measures the machine's load, not the code:
on a busy two-core CI machine a SQLite journal's example can take longer and fail a property test
that holds. Speed is proven by ``atlas bench``, never by test timing, so no example has a deadline.
"""

from __future__ import annotations

from hypothesis import settings

settings.register_profile("atlas", deadline=None, print_blob=True)
settings.load_profile("atlas")
