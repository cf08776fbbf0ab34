"""Kiln's command line: thin click commands over the library.

The ``kiln`` executable runs :func:`kiln.cli.main.main`.
"""
