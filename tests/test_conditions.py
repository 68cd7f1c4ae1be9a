"""The condition language: every operator, unanswered semantics, and its description."""

from __future__ import annotations

import pytest

from ketscreen.core.conditions import (
    AllOf,
    AnyOf,
    BandCondition,
    Context,
    FlagLevelCondition,
    ItemCondition,
    describe,
)

CTX = Context({"a": "x", "m": ("p", "q")}, band="low", flag_levels={"crisis"})


@pytest.mark.parametrize(
    ("condition", "expected", "text"),
    [
        (ItemCondition("a", "equals", ("x",)), True, "a = x"),
        (ItemCondition("a", "not_equals", ("x",)), False, "a != x"),
        (ItemCondition("a", "in", ("x", "y")), True, "a is one of x, y"),
        (ItemCondition("a", "not_in", ("y", "z")), True, "a is none of y, z"),
        (ItemCondition("m", "contains", ("q",)), True, "m includes q"),
        (ItemCondition("a", "contains", ("x",)), True, "a includes x"),
        (ItemCondition("a", "answered", (), True), True, "a is answered"),
        (ItemCondition("b", "answered", (), False), True, "b is unanswered"),
        (BandCondition(("low", "mild")), True, "band is low or mild"),
        (FlagLevelCondition(("urgent",)), False, "any flag at level urgent"),
        (
            AllOf((ItemCondition("a", "equals", ("x",)), BandCondition(("severe",)))),
            False,
            "(a = x and band is severe)",
        ),
        (
            AnyOf((ItemCondition("a", "equals", ("y",)), FlagLevelCondition(("crisis",)))),
            True,
            "(a = y or any flag at level crisis)",
        ),
        (AnyOf((ItemCondition("a", "equals", ("x",)),)), True, "a = x"),
    ],
)
def test_operators(condition: object, expected: bool, text: str) -> None:
    assert condition.evaluate(CTX) is expected  # type: ignore[attr-defined]
    assert describe(condition) == text  # type: ignore[arg-type]


@pytest.mark.parametrize("op", ["equals", "not_equals", "in", "not_in", "contains"])
def test_unanswered_satisfies_no_value_operator(op: str) -> None:
    assert ItemCondition("missing", op, ("x",)).evaluate(CTX) is False


def test_items_lists_every_referenced_item() -> None:
    condition = AllOf(
        (
            ItemCondition("a", "equals", ("x",)),
            AnyOf((ItemCondition("m", "contains", ("p",)), BandCondition(("low",)))),
        )
    )
    assert condition.items() == frozenset({"a", "m"})
    assert FlagLevelCondition(("crisis",)).items() == frozenset()
