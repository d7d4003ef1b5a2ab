"""The FIX 4.4 order-entry gateway (issue 17 §2): QuickFIX's acceptor for the session layer
(:mod:`atlas_oms.fix.acceptor`), the application on the node's event loop
(:mod:`atlas_oms.fix.gateway`) and the pure FIX <-> Atlas translation
(:mod:`atlas_oms.fix.translate`). See docs/notes/fix.md."""
