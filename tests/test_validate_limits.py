"""`validate` on hostile questionnaires: every file the loader accepts (up to 1 MiB) is
analysed or refused in bounded time and memory, with our own message (issue #11, point 13)."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ketscreen.cli import app
from ketscreen.errors import QuestionnaireError
from ketscreen.io.questionnaires import parse_questionnaire

MINIMAL = (Path(__file__).parent / "assets" / "questionnaires" / "minimal.yaml").read_text(
    encoding="utf-8"
)
TWO_CHOICES = "          - {code: a, label: A}\n          - {code: b, label: B}\n"
MOOD_TEXT = "        text: How is your mood?\n"
runner = CliRunner()


def many_ways(rule: str, choices: int = 25) -> str:
    """The minimal questionnaire with a multi-select of `choices` codes that `mood`'s skip
    rule looks at."""
    assert TWO_CHOICES in MINIMAL and MOOD_TEXT in MINIMAL
    listed = "".join(f"          - {{code: c{i}, label: C{i}}}\n" for i in range(choices))
    text = MINIMAL.replace(TWO_CHOICES, listed).replace(
        MOOD_TEXT, MOOD_TEXT + f"        enable_when: {rule}\n"
    )
    return text.replace("ways: [a]", "ways: [c3]")


def _limit_memory() -> None:  # pragma: no cover - runs in the child process
    one_gib = 1024**3
    resource.setrlimit(resource.RLIMIT_AS, (one_gib, one_gib))


def test_skip_rule_on_a_25_choice_multi_select_is_analysed_in_bounded_memory(
    tmp_path: Path,
) -> None:
    """Before: every one of the 2**25 combinations was built first (20 s, 4 GB, then
    MemoryError reported as a bug). Now in a process limited to 1 GiB it is analysed."""
    path = tmp_path / "q.yaml"
    path.write_text(many_ways("{item: ways, contains: c3}"), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "ketscreen", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limit_memory,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "unexpected problem" not in done.stderr
    assert f"{path}: OK" in done.stdout


def test_unreachable_rule_on_a_big_multi_select_is_still_found() -> None:
    """The bounded analysis still proves things: a rule that can never hold is reported."""
    rule = "{all: [{item: ways, contains: c7}, {item: ways, answered: false}]}"
    with pytest.raises(QuestionnaireError) as caught:
        parse_questionnaire(many_ways(rule).encode(), "q.yaml")
    assert any(
        str(p).endswith("item mood can never be asked: its enable_when cannot be met")
        for p in caught.value.problems
    )


@pytest.mark.parametrize(
    "rule",
    [
        "{all: [{item: ways, contains: c7}, {item: ways, contains: c20}]}",
        "{all: [{item: ways, answered: true}, {any: [{item: ways, contains: c1}]}]}",
        "{all: [{item: used, equals: 'yes'}, {item: ways, answered: false}]}",
    ],
)
def test_rules_that_can_hold_on_a_big_multi_select_are_accepted(rule: str) -> None:
    questionnaire = parse_questionnaire(many_ways(rule).encode(), "q.yaml")
    assert questionnaire.items["mood"].enable_when is not None


def test_single_choice_rule_needing_an_unnamed_code_is_reachable() -> None:
    """`not_in` every code but one: only the code no rule names makes it hold."""
    codes = ", ".join(f"c{i}" for i in range(24))
    text = many_ways("{item: ways, answered: true}").replace("type: multi", "type: single")
    text = text.replace(
        "        enable_when: {item: ways, answered: true}\n",
        f"        enable_when: {{item: ways, not_in: [{codes}]}}\n",
    ).replace("ways: [c3]", "ways: c24")
    questionnaire = parse_questionnaire(text.encode(), "q.yaml")
    assert questionnaire.items["mood"].enable_when is not None
    every = text.replace(f"not_in: [{codes}]", f"not_in: [{codes}, c24]")
    with pytest.raises(QuestionnaireError) as caught:
        parse_questionnaire(every.encode(), "q.yaml")
    assert any("item mood can never be asked" in str(p) for p in caught.value.problems)


def test_a_5000_digit_weight_is_a_clear_problem_at_its_place(tmp_path: Path) -> None:
    line = '          - {code: "yes", label: "Yes"}'
    assert line in MINIMAL
    weighted = '          - {code: "yes", label: "Yes", weight: ' + "9" * 5000 + "}"
    path = tmp_path / "q.yaml"
    path.write_text(MINIMAL.replace(line, weighted), encoding="utf-8")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    number = MINIMAL.splitlines().index(line) + 1
    column = weighted.index("9") + 1
    assert f"{path}:{number}:{column}: a number of 5000 digits is too long" in result.stderr
    assert "unexpected problem" not in result.stderr


def test_a_long_chain_of_skip_rules_is_validated(tmp_path: Path) -> None:
    """3000 items, each asked only after the one before: bounded work, our own answer."""
    head, tail = MINIMAL.split("scores:", 1)
    items = "".join(
        f"      - id: x{i}\n        type: yes_no\n        short: X\n        text: T\n"
        f"        source: s1\n"
        f"        enable_when: {{item: {'used' if i == 0 else f'x{i - 1}'}, answered: true}}\n"
        for i in range(3000)
    )
    path = tmp_path / "q.yaml"
    path.write_text(head + items + "scores:" + tail, encoding="utf-8")
    assert path.stat().st_size < 1024 * 1024
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.stderr
    assert "3004 items" in result.stdout
