"""The small declarative condition language used for skip logic, flags and guidance.

A condition is data, evaluated here by plain code (never `eval`, never templates):

    {item: use_12m, equals: "yes"}          the answer is this code
    {item: use_12m, not_equals: "no"}       answered, with a different code
    {item: self_harm, in: [past_month, now]}
    {item: self_harm, not_in: ["no"]}       answered, with none of these codes
    {item: routes, contains: inject}        a multi-select answer includes the code
    {item: freq_3m, answered: true}         answered at all (declined counts as not)
    {band: [low, mild]}                     the result's band (guidance only)
    {flag_level: [harm_reduction]}          any flag at these levels (guidance only)
    {all: [cond, ...]}   {any: [cond, ...]}

An unanswered or declined item never satisfies `equals`, `not_equals`, `in`,
`not_in` or `contains`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

Answer = str | tuple[str, ...]
"""A normalised answer: a code, or a tuple of codes for multi-select items."""

ITEM_OPERATORS = ("equals", "not_equals", "in", "not_in", "contains", "answered")


@dataclass(frozen=True)
class Context:
    """What a condition can look at. Answers hold only answered items (no declined)."""

    answers: Mapping[str, Answer]
    band: str | None = None
    flag_levels: Collection[str] = ()


@dataclass(frozen=True)
class ItemCondition:
    item: str
    op: str
    values: tuple[str, ...] = ()
    answered: bool = True

    def evaluate(self, ctx: Context) -> bool:
        answer = ctx.answers.get(self.item)
        if self.op == "answered":
            return (answer is not None) == self.answered
        if answer is None:
            return False
        if self.op == "contains":
            chosen = answer if isinstance(answer, tuple) else (answer,)
            return self.values[0] in chosen
        if self.op in ("equals", "in"):
            return answer in self.values
        # not_equals / not_in
        return answer not in self.values

    def items(self) -> frozenset[str]:
        return frozenset({self.item})


@dataclass(frozen=True)
class BandCondition:
    bands: tuple[str, ...]

    def evaluate(self, ctx: Context) -> bool:
        return ctx.band in self.bands

    def items(self) -> frozenset[str]:
        return frozenset()


@dataclass(frozen=True)
class FlagLevelCondition:
    levels: tuple[str, ...]

    def evaluate(self, ctx: Context) -> bool:
        return any(level in self.levels for level in ctx.flag_levels)

    def items(self) -> frozenset[str]:
        return frozenset()


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Condition, ...]

    def evaluate(self, ctx: Context) -> bool:
        return all(part.evaluate(ctx) for part in self.parts)

    def items(self) -> frozenset[str]:
        return frozenset().union(*(part.items() for part in self.parts))


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Condition, ...]

    def evaluate(self, ctx: Context) -> bool:
        return any(part.evaluate(ctx) for part in self.parts)

    def items(self) -> frozenset[str]:
        return frozenset().union(*(part.items() for part in self.parts))


Condition = ItemCondition | BandCondition | FlagLevelCondition | AllOf | AnyOf


def uses_result(condition: Condition) -> bool:
    """True when the condition looks at the band or flags, not only at answers."""
    if isinstance(condition, (BandCondition, FlagLevelCondition)):
        return True
    if isinstance(condition, (AllOf, AnyOf)):
        return any(uses_result(part) for part in condition.parts)
    return False


def describe(condition: Condition) -> str:
    """A short human-readable rendering, used by `ketscreen show`."""
    if isinstance(condition, ItemCondition):
        if condition.op == "answered":
            return f"{condition.item} is {'answered' if condition.answered else 'unanswered'}"
        if condition.op in ("in", "not_in"):
            word = "is one of" if condition.op == "in" else "is none of"
            return f"{condition.item} {word} {', '.join(condition.values)}"
        word = {"equals": "=", "not_equals": "!=", "contains": "includes"}[condition.op]
        return f"{condition.item} {word} {condition.values[0]}"
    if isinstance(condition, BandCondition):
        return f"band is {' or '.join(condition.bands)}"
    if isinstance(condition, FlagLevelCondition):
        return f"any flag at level {' or '.join(condition.levels)}"
    joiner = " and " if isinstance(condition, AllOf) else " or "
    inner = joiner.join(describe(part) for part in condition.parts)
    return f"({inner})" if len(condition.parts) > 1 else inner


def _said(item: str, answers: Mapping[str, Answer], declined: Collection[str]) -> str:
    """How `item` was actually answered, in words: "use_12m is no"."""
    if item in declined:
        return f"{item} is declined (prefer not to say)"
    answer = answers.get(item)
    if answer is None:
        return f"{item} is not answered"
    return f"{item} is {', '.join(answer) if isinstance(answer, tuple) else answer}"


def why_false(condition: Condition, ctx: Context, declined: Collection[str] = ()) -> str:
    """Why `condition` does not hold, in terms of the answers given: "use_12m is no".

    For `all`, the first part that fails; for `any`, every part (none holds).
    """
    if isinstance(condition, ItemCondition):
        return _said(condition.item, ctx.answers, declined)
    if isinstance(condition, AllOf):
        failing = next(p for p in condition.parts if not p.evaluate(ctx))
        return why_false(failing, ctx, declined)
    if isinstance(condition, AnyOf):
        reasons = dict.fromkeys(why_false(p, ctx, declined) for p in condition.parts)
        return " and ".join(reasons)
    return f"{describe(condition)} does not hold"
