"""Schema rules on a minimal questionnaire: each broken value gets its own message."""

from __future__ import annotations

import pytest

from ketscreen import score
from ketscreen.core.examples import check_examples
from ketscreen.errors import QuestionnaireError
from ketscreen.io.questionnaires import parse_questionnaire
from tests.conftest import ASSETS

MINIMAL = (ASSETS / "questionnaires" / "minimal.yaml").read_text(encoding="utf-8")


def problems(text: str) -> str:
    with pytest.raises(QuestionnaireError) as caught:
        parse_questionnaire(text.encode(), "m.yaml")
    return "\n".join(str(p) for p in caught.value.problems)


def test_minimal_questionnaire_is_valid_and_its_example_agrees() -> None:
    q = parse_questionnaire(MINIMAL.encode(), "m.yaml")
    assert check_examples(q) == []
    assert q.section_of("mood").id == "main"
    assert q.band_rule.band("high").label == "High"
    with pytest.raises(KeyError):
        q.band_rule.band("nope")
    result = score(q, {"used": "yes", "sign": "no", "ways": "b", "mood": "ok"})
    assert (result.band, result.guidance) == ("low", ("t2",))


CASES = [
    (
        "sources:\n  - {id: s1, title: A source, ref: somewhere}",
        "sources: 5",
        "sources must be a non-empty list",
    ),
    (
        "  - id: main\n    title: Main\n",
        "  - 7\n  - id: main\n    title: Main\n",
        "a section must be a mapping of key: value",
    ),
    (
        "        type: multi\n",
        "        type: many\n",
        "item ways: type 'many' is not one of single, multi, yes_no",
    ),
    (
        "        required: true\n",
        "        required: 1\n",
        "item used.required must be true or false",
    ),
    (
        "        choices:\n"
        "          - {code: ok, label: OK}\n          - {code: low, label: Low}\n",
        "",
        "item mood needs choices",
    ),
    ("{code: a, label: A}", "{code: a, label: A, weight: 1.5}", "a weight must be a whole number"),
    ("items: [sign]}", "items: [ways]}", "score count: item ways needs a weight on every choice"),
    ("items: [sign]}", "items: [sign, sign]}", "score count lists an item twice"),
    ("items: [sign]}", "items: [nothing]}", "score count names an unknown item 'nothing'"),
    ("  max_missing: 0", "  max_missing: -1", "max_missing must be a whole number >= 0"),
    ("  score: count", "  score: total", "bands.score names an unknown score 'total'"),
    (
        "{id: low, range: [0, 0],",
        "{id: low, range: [0, 0], incomplete: true,",
        "a band needs exactly one of when:, incomplete: or range:",
    ),
    (
        "incomplete: true, label: Incomplete",
        "incomplete: yes, label: Incomplete",
        "incomplete: must be true",
    ),
    ("range: [1, 1]", "range: [1]", "range: must be [low, high] whole numbers"),
    (
        "    - {id: incomplete, incomplete: true, label: Incomplete, headline: Not enough.}\n",
        "",
        "bands need exactly one band with incomplete: true",
    ),
    ("  harm_reduction: {label: H, advice: h}\n", "", "levels is missing the key 'harm_reduction'"),
    (
        "when: {item: mood, equals: low}}",
        "when: {item: mood}}",
        "a condition is {item: ID, equals|not_equals",
    ),
    (
        "when: {item: mood, equals: low}}",
        "when: {any: []}}",
        "any: needs a non-empty list of conditions",
    ),
    (
        "when: {item: mood, equals: low}}",
        "when: {item: mood, answered: maybe}}",
        "answered: must be true or false",
    ),
    (
        "when: {item: mood, equals: low}}",
        "when: {item: mood, in: low}}",
        "in: needs a non-empty list of codes",
    ),
    (
        "when: {item: mood, equals: low}}",
        "when: {flag_level: [urgent]}}",
        "flag_level: can only be used in guidance, not here",
    ),
    ("{band: [high]}", "{band: [highest]}", "unknown band 'highest'"),
    ("{flag_level: [see_doctor]}", "{flag_level: [doctor]}", "unknown flag_level 'doctor'"),
    ("readiness: {item: mood,", "readiness: {item: moods,", "unknown item 'moods'"),
    ("by_code: {ok: Good.}", "by_code: {fine: Good.}", "mood has no code 'fine'"),
    (
        "    - {id: t2, title: T2, text: Always.}",
        "    - {id: t1, title: T2, text: Always.}",
        "duplicate topic id 't1'",
    ),
    (
        "  - {id: low_mood, level: see_doctor,",
        "  - {id: low_mood, level: see_doctor, colour: red,",
        "unknown key 'colour' in a flag",
    ),
    (
        "    expect: {band: high,",
        "    expect: {bands: high,",
        "unknown key 'bands' in example expect",
    ),
    ("examples:\n", "examples: {}\nold_examples:\n", "examples must be a non-empty list"),
    ("guidance:\n", "guidance: 3\nold_guidance:\n", "guidance must be a mapping of key: value"),
    ("id: mini", "id: 5", "questionnaire id 5 must be lower-case ASCII"),
    (
        "        source: [s1]",
        "        source: []",
        "item sign source must be an id or a non-empty list",
    ),
    (
        "  - {id: s1, title: A source, ref: somewhere}",
        "  - {id: s1, title: A source, ref: somewhere}\n  - {id: s1, title: Again, ref: x}",
        "duplicate source id 's1'",
    ),
]


@pytest.mark.parametrize(("old", "new", "message"), CASES, ids=[c[2][:40] for c in CASES])
def test_rule(old: str, new: str, message: str) -> None:
    assert old in MINIMAL, old
    found = problems(MINIMAL.replace(old, new, 1))
    assert message in found
    assert found.startswith("m.yaml:")
