"""Command-line interface: thin Typer commands over the core and io layers.

Each command module registers itself on `app`; heavy imports happen inside the
command functions so that start-up stays fast.
"""

from __future__ import annotations

from ketscreen.cli import authoring, export, info, sessions_cmd  # noqa: F401  (register commands)
from ketscreen.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    app(prog_name="ketscreen")
