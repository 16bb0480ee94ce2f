"""Shared builders and drivers of the test suite (no tests here; test modules import from here only)."""
