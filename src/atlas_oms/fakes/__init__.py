"""Fake venues for tests and benchmarks: real servers on 127.0.0.1 speaking a venue's wire format.

Each fake is built on Atlas's own matching engine (``atlas_oms.matching``) and may import only
``atlas_oms.model``, ``atlas_oms.matching`` and aiohttp. Nothing in ``core``, ``runtime`` or
``service`` imports a fake; benchmarks, the CLI and tests do.
"""
