"""Check a questionnaire against its own `examples:` (used by `validate` and the tests)."""

from __future__ import annotations

from typing import Any

from ketscreen.core.model import Example, Questionnaire
from ketscreen.core.scoring import Result, score
from ketscreen.errors import AnswerError, Problem


def _actual(result: Result, key: str) -> Any:
    if key == "band":
        return result.band
    if key == "lower_bound":
        return result.lower_bound
    if key == "missing":
        return list(result.missing)
    if key == "flags":
        return [flag.id for flag in result.flags]
    if key == "top_flag_level":
        return result.top_level
    if key == "not_assessed":
        return list(result.not_assessed)
    if key == "guidance":
        return list(result.guidance)
    return result.scores.get(key)


def check_example(questionnaire: Questionnaire, example: Example) -> list[str]:
    """The ways `example` disagrees with the engine (empty when it agrees)."""
    try:
        result = score(questionnaire, example.answers, scored_at="1970-01-01T00:00:00Z")
    except AnswerError as exc:
        return [f"answers are not valid: {exc}"]
    wrong = []
    for key, expected in example.expect.items():
        actual = _actual(result, key)
        if actual != expected:
            wrong.append(f"expected {key} {expected!r}, the engine gives {actual!r}")
    return wrong


def check_examples(questionnaire: Questionnaire) -> list[Problem]:
    problems = []
    for example in questionnaire.examples:
        for message in check_example(questionnaire, example):
            problems.append(
                Problem(
                    questionnaire.source_name,
                    example.line,
                    1,
                    f"example {example.name!r}: {message}",
                )
            )
    return problems
