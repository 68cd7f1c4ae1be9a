"""The questionnaire's rules as FHIRPath, so that an SDC form filler computes the result.

Everything here is generated from the questionnaire model; nothing names an item.
Expressions read the QuestionnaireResponse being filled (`%resource`) and, to give a
choice item its answer, the answer options of the Questionnaire (`%questionnaire`):
FHIRPath has no way to build a Coding, so it picks the option with the right code.

Our rule "declined counts as unanswered" holds throughout: an answer counts only when
it is a coding from the questionnaire's own code system (`answered`), so "prefer not to
say" (data-absent-reason `asked-declined`) never satisfies a condition and has no weight.
Every rule of the format can be stated exactly: skip conditions, the weight sums, the
band (fixed bands, the missing-answer limit, ranges), the lower-bound mark, the flags and
the top flag level with `not_assessed`. The scores use the SDC FHIRPath function
`weight()`, which reads the `itemWeight`/`ordinalValue` of the chosen option.

The result group holds these as SDC `variable`s, named after what they compute
(`VARIABLE_*`), so each result item's own expression stays one short line.
"""

from __future__ import annotations

from collections.abc import Sequence

from ketscreen.core.conditions import AllOf, AnyOf, Condition, ItemCondition
from ketscreen.core.model import Questionnaire, Score
from ketscreen.core.scoring import NOT_ASSESSED
from ketscreen.io.fhir.common import (
    BAND_LINK,
    FLAGS_LINK,
    TOP_LEVEL_LINK,
    FhirError,
    answer_system,
)

VARIABLE_UNANSWERED = "bandUnanswered"
VARIABLE_BAND = "bandCode"
VARIABLE_TOP_LEVEL = "topLevelCode"
VARIABLE_FLAGS = "raisedFlags"
"""Variable names are FHIR ids (letters, digits, `-`, `.`) and FHIRPath identifiers, so
camelCase: a score `criteria_count` is `%scoreCriteriaCount`."""


def true_codes(q: Questionnaire, cond: ItemCondition) -> tuple[str, ...] | None:
    """The codes for which `cond` holds, or None for `answered: false` (no code does)."""
    codes = q.items[cond.item].codes
    if cond.op == "answered":
        return codes if cond.answered else None
    if cond.op in ("not_equals", "not_in"):
        return tuple(c for c in codes if c not in cond.values)
    return cond.values  # equals, in, contains


def quoted(text: str) -> str:
    """A FHIRPath string literal. Our ids and codes are plain ASCII words, so this only
    guards against a quote or backslash in a questionnaire loaded from elsewhere."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def code_set(codes: Sequence[str]) -> str:
    return " | ".join(quoted(code) for code in codes)


def items_path(item_ids: Sequence[str]) -> str:
    """The response items with these linkIds, at any depth."""
    if len(item_ids) == 1:
        return f"%resource.repeat(item).where(linkId = {quoted(item_ids[0])})"
    return f"%resource.repeat(item).where(linkId in ({code_set(item_ids)}))"


def answers_path(item_id: str) -> str:
    return f"{items_path([item_id])}.answer.value"


def answered(q: Questionnaire) -> str:
    """Filter for answer values that are answers: codings from the answer code system."""
    return f"where(system = {quoted(answer_system(q))})"


def fhirpath(q: Questionnaire, cond: Condition) -> str:
    """`cond` as a FHIRPath boolean over the QuestionnaireResponse (`%resource`).

    `repeat(item)` reaches answers at any depth, so grouping does not matter.
    """
    if isinstance(cond, ItemCondition):
        all_codes = code_set(q.items[cond.item].codes)
        codes = true_codes(q, cond)
        if codes is None:
            return f"{answers_path(cond.item)}.where(code in ({all_codes})).exists().not()"
        if not codes:
            return "false"
        return f"{answers_path(cond.item)}.where(code in ({code_set(codes)})).exists()"
    if not isinstance(cond, (AllOf, AnyOf)):
        raise FhirError("band and flag conditions cannot be used for skip logic")
    joiner = " and " if isinstance(cond, AllOf) else " or "
    return "(" + joiner.join(fhirpath(q, part) for part in cond.parts) + ")"


def asked_condition(q: Questionnaire, item_ids: Sequence[str]) -> Condition | None:
    """When at least one of these items is asked (None: always)."""
    conditions: list[Condition] = []
    for item_id in item_ids:
        cond = q.items[item_id].enable_when
        if cond is None:
            return None
        if cond not in conditions:
            conditions.append(cond)
    return conditions[0] if len(conditions) == 1 else AnyOf(tuple(conditions))


def score_variable(sc: Score) -> str:
    return "score" + "".join(part.capitalize() for part in sc.id.split("_"))


def check_variables(q: Questionnaire) -> None:
    """Refuses score ids whose variable names would be the same (`a_1` and `a1`)."""
    names: dict[str, str] = {}
    for sc in q.scores:
        other = names.setdefault(score_variable(sc), sc.id)
        if other != sc.id:
            raise FhirError(
                f"scores {other} and {sc.id} would have the same FHIRPath variable "
                f"{score_variable(sc)}; rename one of them"
            )


def score_expression(q: Questionnaire, sc: Score) -> str:
    """A score: the sum of the weights (`weight()`) of the chosen answers of its items.

    Absent when none of its items is asked; a one-item score (an ordinal) is absent when
    its item is unanswered or declined too, as in `ketscreen.core.scoring.score`.
    """
    chosen = f"{items_path(sc.items)}.answer.value.{answered(q)}"
    if len(sc.items) == 1:
        return f"{chosen}.weight()"
    total = f"{chosen}.weight().aggregate($total + $this, 0)"  # sum(), but 0 when empty
    cond = asked_condition(q, sc.items)
    return total if cond is None else f"iif({fhirpath(q, cond)}, {total}, {{}})"


def unanswered_expression(q: Questionnaire) -> str:
    """How many items of the band's score are asked but not answered (declined included)."""
    members = next(s for s in q.scores if s.id == q.band_rule.score).items
    asked: list[str] = []
    by_condition: dict[Condition, int] = {}
    for item_id in members:
        cond = q.items[item_id].enable_when
        if cond is None:
            asked.append("1")
        else:
            by_condition[cond] = by_condition.get(cond, 0) + 1
    asked.extend(f"iif({fhirpath(q, cond)}, {n}, 0)" for cond, n in by_condition.items())
    done = f"{items_path(members)}.where(answer.value.{answered(q)}.exists()).count()"
    return f"({' + '.join(asked)}) - {done}"


def band_expression(q: Questionnaire) -> str:
    """The band's code, by the band rule: fixed bands in order, then "incomplete" when
    the score is absent or too many of its items are unanswered, then the ranges."""
    rule = q.band_rule
    value = "%" + score_variable(next(s for s in q.scores if s.id == rule.score))
    incomplete = next(b.id for b in rule.bands if b.incomplete)
    tests: list[tuple[str, str]] = [
        (fhirpath(q, band.when), band.id) for band in rule.bands if band.when is not None
    ]
    tests.append((f"{value}.empty() or %{VARIABLE_UNANSWERED} > {rule.max_missing}", incomplete))
    tests.extend(
        (f"{value} >= {band.low} and {value} <= {band.high}", band.id)
        for band in rule.bands
        if band.low is not None and band.high is not None
    )
    expression = quoted(incomplete)
    for test, code in reversed(tests):
        expression = f"iif({test}, {quoted(code)}, {expression})"
    return expression


def lower_bound_expression(q: Questionnaire) -> str:
    """True when the band comes from a range and some of its items are unanswered."""
    ranged = [b.id for b in q.band_rule.bands if b.low is not None and b.high is not None]
    return f"%{VARIABLE_UNANSWERED} > 0 and (%{VARIABLE_BAND} in ({code_set(ranged)}))"


def flag_order(q: Questionnaire) -> list[str]:
    """Flag ids as results list them: most urgent level first, then questionnaire order."""
    return [rule.id for rule in sorted(q.flags, key=lambda rule: rule.level.rank)]


def flags_expression(q: Questionnaire) -> str:
    """The ids of the flags raised, most urgent first (`flag_order`); each rule once."""
    rules = {rule.id: rule for rule in q.flags}
    terms = [f"iif({fhirpath(q, rules[fid].when)}, {quoted(fid)}, {{}})" for fid in flag_order(q)]
    if not terms:
        return "{}"
    return terms[0] + "".join(f".combine({term})" for term in terms[1:])


def top_level_expression(q: Questionnaire) -> str:
    """The most urgent level raised; else `not_assessed` when a safety question is asked
    and has no answer at all (neither a code nor declined); else nothing."""
    tests: list[tuple[str, str]] = []
    for level in sorted(q.levels, key=lambda lv: lv.rank):
        ids = [rule.id for rule in q.flags if rule.level is level]
        if ids:
            tests.append(
                (f"%{VARIABLE_FLAGS}.where($this in ({code_set(ids)})).exists()", level.value)
            )
    unassessed = []
    for item_id in q.safety_items:
        silent = f"{items_path([item_id])}.answer.exists().not()"
        cond = q.items[item_id].enable_when
        unassessed.append(silent if cond is None else f"({fhirpath(q, cond)} and {silent})")
    if unassessed:
        tests.append((" or ".join(unassessed), NOT_ASSESSED))
    expression = "{}"
    for test, code in reversed(tests):
        expression = f"iif({test}, {quoted(code)}, {expression})"
    return expression


def option_of(link: str, where: str) -> str:
    """The answer option codings of result item `link` that `where` selects."""
    return (
        f"%questionnaire.repeat(item).where(linkId = {quoted(link)})"
        f".answerOption.valueCoding.where({where})"
    )


def band_item_expression() -> str:
    return option_of(BAND_LINK, f"code = %{VARIABLE_BAND}")


def top_level_item_expression() -> str:
    return option_of(TOP_LEVEL_LINK, f"code = %{VARIABLE_TOP_LEVEL}")


def flags_item_expression() -> str:
    """Every raised flag, in the order of the options (`flag_order`): most urgent first."""
    return option_of(FLAGS_LINK, f"code in %{VARIABLE_FLAGS}")
