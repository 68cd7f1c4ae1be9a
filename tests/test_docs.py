"""The README documents every command, and its set-up commands refer to real things."""

from __future__ import annotations

import re
from pathlib import Path

from ketscreen.errors import ExitCode
from tests.helpers import commands

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_command_is_documented_in_the_readme() -> None:
    for name in commands():
        assert f"ketscreen {name}" in README, f"README does not mention `ketscreen {name}`"


def test_every_option_is_documented_in_the_readme() -> None:
    """Each option by one of its names (`--output` may be documented as `-o`)."""
    missing = []
    pending = list(commands().items())
    while pending:
        name, command = pending.pop()
        pending.extend((f"{name} {sub}", c) for sub, c in getattr(command, "commands", {}).items())
        for param in command.params:
            if param.param_type_name != "option" or getattr(param, "hidden", False):
                continue
            if not any(re.search(rf"`[^`]*{re.escape(o)}\b", README) for o in param.opts):
                missing.append(f"ketscreen {name} {param.opts[0]}")
    assert missing == []


def test_every_exit_code_is_documented() -> None:
    for code in ExitCode:
        assert re.search(rf"^\| {code.value} \|", README, re.MULTILINE), (
            f"exit code {code.value} undocumented"
        )


def test_setup_has_two_commands_that_point_at_real_files() -> None:
    setup = README.split("## Set up", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", setup, re.DOTALL)
    assert len(blocks) == 2
    assert blocks[0].strip().endswith("ketscreen")
    assert "scripts/check" in blocks[1]
    assert (ROOT / "scripts" / "check").exists()
    assert "bash scripts/check" in (ROOT / ".ci" / "run").read_text()


def test_changelog_has_an_unreleased_section() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## Unreleased" in changelog
    assert re.search(r"\(#\d+\)", changelog)


def test_disclaimer_and_privacy_are_in_the_readme() -> None:
    assert "This is a screening tool, not a diagnosis." in README
    assert "Nothing is written to disk unless you ask for it" in README
