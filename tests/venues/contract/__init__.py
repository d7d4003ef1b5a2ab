"""The venue contract suite: one set of specifications every venue adapter must pass."""
