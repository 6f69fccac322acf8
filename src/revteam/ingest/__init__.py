"""Imports that lose nothing: read, map, validate every row, then write all-or-nothing.

``service.run_import`` is the one entry point used by the CLI, the web import page and the API.
"""
