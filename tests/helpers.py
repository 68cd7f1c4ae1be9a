"""Small helpers shared by the CLI tests."""

from __future__ import annotations

import os
from typing import Any, NoReturn

import pytest
import typer

from ketscreen.cli import app


def commands() -> dict[str, Any]:
    """The registered sub-commands by name (Typer's click group, without importing click)."""
    group = typer.main.get_command(app)
    found: dict[str, Any] = group.commands  # type: ignore[attr-defined]
    return found


def unavailable(message: str) -> NoReturn:
    """A tool a test needs is missing (a browser, node, Java): fail when CI is set, since
    CI installs them and a skip there would hide a lost test; otherwise skip, saying what
    to install, never in silence."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)
