"""Shared builders and drivers of the tests (no test module imports another)."""
