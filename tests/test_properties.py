"""Properties of the engine and loader (STYLE.md item 11)."""

from __future__ import annotations

import json
import random
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ketscreen import AnswerError, QuestionnaireError, load_questionnaire, score
from ketscreen.core.model import DECLINED
from ketscreen.core.yamlsafe import load_yaml
from ketscreen.io.questionnaires import builtin_path, parse_questionnaire
from tests.strategies import arbitrary_answers, valid_answers

Q = load_questionnaire()
SEVERITY = ["low", "mild", "moderate", "severe"]
CRITERIA = Q.scores[0].items
ORIGINAL = builtin_path().read_bytes()
FIXED = "2026-01-01T00:00:00Z"


def test_range_bands_cover_every_possible_count_exactly_once() -> None:
    ranged = [b for b in Q.band_rule.bands if b.low is not None]
    for count in range(0, len(CRITERIA) + 1):
        assert (
            sum(
                1
                for b in ranged
                if b.low is not None and b.high is not None and b.low <= count <= b.high
            )
            == 1
        )


@given(valid_answers(Q))
def test_valid_answers_always_score(answers: dict[str, Any]) -> None:
    result = score(Q, answers)
    assert result.band in {b.id for b in Q.band_rule.bands}
    assert set(result.missing) <= set(result.asked)
    if result.criteria_count is not None:
        assert 0 <= result.criteria_count <= result.warning_signs <= 11  # type: ignore[operator]


@given(valid_answers(Q), st.data())
def test_adding_a_warning_sign_never_lowers_the_band(
    answers: dict[str, Any], data: st.DataObject
) -> None:
    before = score(Q, answers)
    if before.band not in SEVERITY:
        return
    candidates = [c for c in CRITERIA if answers.get(c) != "yes"]
    if not candidates:
        return
    criterion = data.draw(st.sampled_from(candidates))
    after = score(Q, {**answers, criterion: "yes"})
    if after.band == "incomplete":  # cannot happen: answering never adds a missing item
        raise AssertionError("answering a criterion made the result incomplete")
    assert SEVERITY.index(after.band) >= SEVERITY.index(before.band)
    assert after.criteria_count == (before.criteria_count or 0) + 1


@given(valid_answers(Q), st.randoms(use_true_random=False))
def test_answer_order_never_matters(answers: dict[str, Any], rnd: random.Random) -> None:
    items = list(answers.items())
    rnd.shuffle(items)
    assert score(Q, dict(items), scored_at=FIXED) == score(Q, answers, scored_at=FIXED)


@given(valid_answers(Q))
def test_result_and_answers_survive_a_json_round_trip(answers: dict[str, Any]) -> None:
    result = score(Q, answers, scored_at=FIXED)
    answers_back = json.loads(
        json.dumps({k: list(v) if isinstance(v, tuple) else v for k, v in answers.items()})
    )
    again = score(Q, answers_back, scored_at=FIXED)
    assert again == result
    assert json.loads(json.dumps(result.to_dict(explain=True))) == result.to_dict(explain=True)


@given(valid_answers(Q))
def test_declining_is_the_same_as_leaving_blank(answers: dict[str, Any]) -> None:
    declined = {k: v for k, v in answers.items() if v != DECLINED}
    a = score(Q, answers, scored_at=FIXED)
    b = score(Q, declined, scored_at=FIXED)
    assert (a.band, a.scores, a.missing, a.flags, a.lower_bound) == (
        b.band,
        b.scores,
        b.missing,
        b.flags,
        b.lower_bound,
    )


@given(arbitrary_answers(Q))
def test_any_input_scores_or_raises_answer_error(answers: dict[str, Any]) -> None:
    try:
        score(Q, answers)
    except AnswerError as exc:
        assert str(exc)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_any_bytes_load_or_raise_our_error(data: bytes) -> None:
    try:
        parse_questionnaire(data, "fuzz.yaml")
    except QuestionnaireError as exc:
        assert exc.problems


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutilated_questionnaire_loads_or_raises_our_error(data: st.DataObject) -> None:
    lines = ORIGINAL.decode().splitlines(keepends=True)
    start = data.draw(st.integers(0, len(lines) - 1))
    length = data.draw(st.integers(1, 12))
    junk = data.draw(st.sampled_from(["", "  x: 1\n", "- y\n", "  ", "}\n", "[\n", "id: 5\n"]))
    text = "".join(lines[:start]) + junk + "".join(lines[start + length :])
    try:
        parse_questionnaire(text.encode(), "cut.yaml")
    except QuestionnaireError as exc:
        assert all(str(p).startswith("cut.yaml") for p in exc.problems)


@example("~")
@given(st.text(max_size=300))
def test_any_text_yaml_loads_or_raises_our_error(text: str) -> None:
    # Valid YAML (even a bare `~`, which is null) loads; anything else is our error.
    try:
        load_yaml(text.encode("utf-8", "surrogatepass"), "t.yaml")
    except QuestionnaireError as exc:
        assert exc.problems and all(p.source == "t.yaml" for p in exc.problems)
