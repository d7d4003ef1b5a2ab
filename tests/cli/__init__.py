"""Tests of the ``atlas`` command (``atlas_oms.cli``), one module per command module."""
