"""Settings in tests: set variables as an operator would, then install what a fresh process would read."""
from __future__ import annotations

import pytest

from engine import config
from engine.config import Settings


def environment(monkeypatch: pytest.MonkeyPatch, **variables: str) -> Settings:
    """Set ``variables`` in the environment and install the settings read from it now.

    The root conftest puts the previous settings back after the test (monkeypatch the variables).
    """
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    current = config.load_settings()
    config.use(current)
    return current
