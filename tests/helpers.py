"""Small helpers shared by the CLI tests."""

from __future__ import annotations

from typing import Any

import typer

from ketscreen.cli import app


def commands() -> dict[str, Any]:
    """The registered sub-commands by name (Typer's click group, without importing click)."""
    group = typer.main.get_command(app)
    found: dict[str, Any] = group.commands  # type: ignore[attr-defined]
    return found
