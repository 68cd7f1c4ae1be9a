"""Each questionnaire schema rule, broken on purpose, reported at its file:line:column."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ketscreen.cli import app
from ketscreen.errors import QuestionnaireError
from ketscreen.io.questionnaires import builtin_path, load_questionnaire, parse_questionnaire

runner = CliRunner()
ORIGINAL = builtin_path(version="1.0.0").read_text(encoding="utf-8")  # schema mechanics


def mutate(old: str, new: str, count: int = 1) -> str:
    assert ORIGINAL.count(old) >= count, f"fixture text not found: {old!r}"
    return ORIGINAL.replace(old, new, count)


def location(text: str, line_text: str, token: str) -> str:
    """'line:column' of `token` on the first line containing `line_text`."""
    for number, line in enumerate(text.splitlines(), start=1):
        if line_text in line:
            return f"{number}:{line.index(token) + 1}"
    raise AssertionError(f"{line_text!r} not in text")


def problems_of(text: str) -> list[str]:
    with pytest.raises(QuestionnaireError) as caught:
        parse_questionnaire(text.encode(), "q.yaml")
    return [str(p) for p in caught.value.problems]


# (name, old, new, line marker, token, message)
CASES = [
    (
        "unknown key",
        "        short: Ketamine use in the past 12 months",
        "        shortt: Ketamine use in the past 12 months",
        "shortt:",
        "shortt",
        "unknown key 'shortt' in an item; allowed: allow_decline, choices, criterion, "
        "enable_when, help, id, required, short, source, text, time_frame, type",
    ),
    (
        "dangling item reference",
        'enable_when: {item: use_12m, equals: "yes"}\n        time_frame: past 3 months',
        'enable_when: {item: use_1m, equals: "yes"}\n        time_frame: past 3 months',
        "use_1m",
        "use_1m",
        "condition refers to 'use_1m', which is not an item asked before this point",
    ),
    (
        "forward reference",
        'enable_when: {item: use_12m, equals: "yes"}\n        time_frame: past 3 months',
        'enable_when: {item: readiness, equals: "ready"}\n        time_frame: past 3 months',
        "item: readiness, equals",
        "readiness",
        "condition refers to 'readiness', which is not an item asked before this point",
    ),
    (
        "unknown code in a condition",
        'enable_when: {item: use_12m, equals: "yes"}\n        time_frame: past 3 months',
        'enable_when: {item: use_12m, equals: "maybe"}\n        time_frame: past 3 months',
        '"maybe"',
        '"maybe"',
        "use_12m has no code 'maybe'; codes are yes, prescribed_only, no",
    ),
    (
        "contains on a single item",
        "when: {item: routes, contains: inject}",
        "when: {item: use_12m, contains: inject}",
        "item: use_12m, contains",
        "{item: use_12m",
        "contains: only works with multi-select items; use_12m is single",
    ),
    (
        "band gap",
        "range: [2, 3]",
        "range: [3, 3]",
        "- id: mild",
        "id:",
        "bands leave a gap: no band covers 2 to 2",
    ),
    (
        "band overlap",
        "range: [4, 5]",
        "range: [3, 5]",
        "- id: moderate",
        "id:",
        "bands overlap: band moderate starts at 3, inside another",
    ),
    (
        "band past the maximum",
        "range: [6, 10]",
        "range: [6, 12]",
        "- id: severe",
        "id:",
        "band severe goes up to 12, past the highest possible score 10",
    ),
    (
        "unknown flag level",
        "{id: use_alone, level: harm_reduction",
        "{id: use_alone, level: mild",
        "{id: use_alone, level: mild",
        "mild",
        "flag use_alone: level must be one of "
        "emergency, crisis, urgent, see_doctor, harm_reduction",
    ),
    (
        "flag names an unknown item",
        "{id: k_hole, level: harm_reduction, item: k_hole,",
        "{id: k_hole, level: harm_reduction, item: k_holes,",
        "item: k_holes",
        "k_holes",
        "flag k_hole names an unknown item 'k_holes'",
    ),
    (
        "unknown source",
        "        source: [seed001]\n\n  - id: signs",
        "        source: [seed009]\n\n  - id: signs",
        "[seed009]",
        "seed009",
        "item routes names an unknown source 'seed009'",
    ),
    (
        "version is a number",
        "version: 1.0.0",
        "version: 1.0",
        "version: 1.0",
        "1.0",
        "questionnaire.version must be text; put numbers such as versions in quotes",
    ),
    (
        "id not lower-case ASCII",
        "      - id: craving\n",
        "      - id: Craving\n",
        "- id: Craving",
        "Craving",
        "item id 'Craving' must be lower-case ASCII letters, digits and _, starting with a letter",
    ),
    (
        "yes_no with other codes",
        "        time_frame: past 3 months\n        short: How often used",
        "        time_frame: past 3 months\n        short: How often used",
        "",
        "",
        "",
    ),
    (
        "declined is reserved",
        '{code: other, label: "Another way"}',
        '{code: declined, label: "Another way"}',
        "code: declined",
        "declined",
        "'declined' is reserved; use allow_decline",
    ),
    (
        "guidance for an unknown band",
        "    no_recent_use: >-\n      Thank you",
        "    no_use: >-\n      Thank you",
        "    no_use:",
        "no_use",
        "guidance for an unknown band 'no_use'",
    ),
    (
        "band condition in skip logic",
        'enable_when: {item: use_12m, equals: "yes"}\n        time_frame: past 3 months',
        "enable_when: {band: [low]}\n        time_frame: past 3 months",
        "enable_when: {band",
        "{band",
        "band: can only be used in guidance, not here",
    ),
]
CASES = [case for case in CASES if case[5]]


@pytest.mark.parametrize(
    ("name", "old", "new", "marker", "token", "message"), CASES, ids=[c[0] for c in CASES]
)
def test_schema_problem_is_reported_at_its_location(
    name: str, old: str, new: str, marker: str, token: str, message: str
) -> None:
    text = mutate(old, new)
    expected = f"q.yaml:{location(text, marker, token)}: {message}"
    assert expected in problems_of(text)


def test_duplicate_item_id_is_reported_at_the_second_item() -> None:
    text = mutate("      - id: time_spent\n", "      - id: craving\n")
    problems = problems_of(text)
    assert (
        f"q.yaml:{location(text, '- id: craving', '- id')}: duplicate item id 'craving'"
        not in problems
    )
    second = [n for n, line in enumerate(text.splitlines(), 1) if "- id: craving" in line][1]
    assert f"q.yaml:{second}:9: duplicate item id 'craving'" in problems
    # the score now names an item that no longer exists: reported too, in the same run
    assert any("score criteria_count names an unknown item 'time_spent'" in p for p in problems)


def test_unreachable_item_is_reported_at_the_item() -> None:
    text = mutate(
        'enable_when: {item: use_12m, equals: "yes"}\n        time_frame: past 3 months',
        'enable_when: {all: [{item: use_12m, equals: "yes"}, {item: use_12m, equals: "no"}]}\n'
        "        time_frame: past 3 months",
    )
    where = location(text, "- id: freq_3m", "id:")
    message = "item freq_3m can never be asked: its enable_when cannot be met"
    assert f"q.yaml:{where}: {message}" in problems_of(text)


FREQ_RULE = 'enable_when: {item: use_12m, equals: "yes"}\n        time_frame: past 3 months'
ROUTES_RULE = (
    '        enable_when: {item: use_12m, equals: "yes"}\n        short: How ketamine was taken'
)


def test_item_depending_on_an_unreachable_item_is_unreachable_too() -> None:
    text = mutate(
        FREQ_RULE,
        'enable_when: {all: [{item: use_12m, equals: "yes"}, {item: use_12m, equals: "no"}]}\n'
        "        time_frame: past 3 months",
    ).replace(
        ROUTES_RULE,
        ROUTES_RULE.replace('{item: use_12m, equals: "yes"}', "{item: freq_3m, equals: daily}"),
    )
    problems = problems_of(text)
    assert any(
        p.endswith("item freq_3m can never be asked: its enable_when cannot be met")
        for p in problems
    )
    assert any(
        p.endswith("item routes can never be asked: its enable_when cannot be met")
        for p in problems
    )


def test_chained_skip_logic_that_can_be_met_is_accepted() -> None:
    text = mutate(
        ROUTES_RULE,
        ROUTES_RULE.replace(
            '{item: use_12m, equals: "yes"}', "{item: freq_3m, in: [weekly, daily]}"
        ),
    )
    questionnaire = parse_questionnaire(text.encode(), "q.yaml")
    assert questionnaire.items["routes"].enable_when is not None


def test_yes_no_item_needs_yes_and_no_codes() -> None:
    text = mutate(
        "      - id: secrecy\n        type: yes_no\n",
        "      - id: secrecy\n        type: yes_no\n"
        "        choices: [{code: maybe, label: Maybe}]\n",
    )
    line = location(text, "choices: [{code: maybe", "[")
    assert f"q.yaml:{line}: item secrecy is yes_no, so its codes must be yes and no" in problems_of(
        text
    )


def test_every_problem_is_reported_in_one_run() -> None:
    text = mutate("range: [2, 3]", "range: [3, 3]").replace(
        "level: harm_reduction, item: k_hole", "level: mild, item: k_hole"
    )
    problems = problems_of(text)
    assert any("bands leave a gap" in p for p in problems)
    assert any("flag k_hole: level must be one of" in p for p in problems)


def test_example_that_disagrees_with_the_engine_fails_validate(tmp_path: Path) -> None:
    text = mutate(
        "    expect: {band: low, criteria_count: 1,",
        "    expect: {band: mild, criteria_count: 1,",
    )
    path = tmp_path / "q.yaml"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    line = [
        n
        for n, row in enumerate(text.splitlines(), 1)
        if "- name: low, weekly use, one sign" in row
    ][0]
    assert (
        f"{path}:{line}:1: example 'low, weekly use, one sign': "
        "expected band 'mild', the engine gives 'low'"
    ) in result.stderr


def test_example_with_invalid_answers_fails_validate(tmp_path: Path) -> None:
    text = mutate(
        'answers: {use_12m: "no", self_harm: "no"}', 'answers: {use_12m: "no", craving: "yes"}'
    )
    path = tmp_path / "q.yaml"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert (
        "answers are not valid: craving: answered craving, but use_12m is no, so craving is "
        "not asked" in result.stderr
    )


def test_missing_top_level_keys_are_named() -> None:
    problems = problems_of("id: x\nversion: '1'\ntitle: T\n")
    for key in ("sections", "scores", "bands", "levels", "flags"):
        assert f"q.yaml:1:1: the questionnaire is missing the key {key!r}" in problems


def test_builtin_questionnaire_is_valid_and_cached() -> None:
    assert load_questionnaire() is load_questionnaire()
    assert load_questionnaire().id == "ketamine"


def test_hash_ignores_comments_and_layout_but_not_content() -> None:
    base = parse_questionnaire(ORIGINAL.encode(), "a").sha256
    commented = parse_questionnaire(("# a comment\n" + ORIGINAL).encode(), "b").sha256
    changed = parse_questionnaire(
        mutate("Have you had strong cravings", "Have you had cravings").encode(), "c"
    ).sha256
    assert base == commented
    assert base != changed
    assert len(base) == 64
