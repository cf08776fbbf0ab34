"""Experiment tracking: the explicit client and the fluent API over it.

Import from :mod:`kiln` (``kiln.start_run``, ``kiln.KilnClient``); the
modules here are the implementation: ``client`` (explicit API), ``fluent``
(the functions on :mod:`kiln`), ``active`` (the active-run stack),
``config`` (tracking URI and environment variables) and ``context`` (the
default run tags).
"""
