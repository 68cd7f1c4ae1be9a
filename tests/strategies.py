"""Hypothesis strategies for valid (and arbitrary) responses, shared by the test modules."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from ketscreen.core.conditions import Context
from ketscreen.core.model import DECLINED, ItemType, Questionnaire


@st.composite
def valid_answers(
    draw: st.DrawFn, questionnaire: Questionnaire, *, allow_missing: bool = True
) -> dict[str, Any]:
    """A response that skip logic accepts: only asked items, each answered, declined or blank."""
    answers: dict[str, Any] = {}
    for item in questionnaire.items.values():
        given = {k: v for k, v in answers.items() if v != DECLINED}
        if item.enable_when is not None and not item.enable_when.evaluate(Context(given)):
            continue
        options: list[st.SearchStrategy[Any]] = []
        if item.type is ItemType.MULTI:
            options.append(
                st.lists(st.sampled_from(item.codes), min_size=1, unique=True).map(
                    lambda chosen, codes=item.codes: tuple(c for c in codes if c in chosen)
                )
            )
        else:
            options.append(st.sampled_from(item.codes))
        if item.allow_decline:
            options.append(st.just(DECLINED))
        if allow_missing and not item.required:
            options.append(st.none())
        value = draw(st.one_of(*options))
        if value is not None:
            answers[item.id] = value
    return answers


def arbitrary_answers(questionnaire: Questionnaire) -> st.SearchStrategy[dict[str, Any]]:
    """Anything at all: known and unknown keys, codes and junk values."""
    keys = st.one_of(st.sampled_from(list(questionnaire.items)), st.text(max_size=12))
    values = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-2, 5),
        st.floats(allow_nan=True),
        st.text(max_size=20),
        st.sampled_from(["yes", "no", "declined", "daily", "snort;inject", "now"]),
        st.lists(st.text(max_size=8), max_size=3),
    )
    return st.dictionaries(keys, values, max_size=40)
