"""The answer-order rule: on every symptom-like question, choice 1 is the "no" answer.

A person answering thirty questions types `1` out of habit; if `1` meant "Yes" on some
questions and "No" on others, habit would record the wrong answer. So every item that
is symptom-like lists its `no` answer first: a `yes_no` item (whose default choices
are already "No", "Yes"), and any other item with a `no` code that counts in a score or
raises a flag (like `abdominal_pain`: No, Yes mild, Yes severe; `self_harm`: No, ...).
Context questions that decide which questions follow (`use_12m`) are not symptoms.

Breaking the rule is not an error (a released questionnaire is never edited), so
`ketscreen validate` warns about it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ketscreen.core.model import ItemType, Questionnaire

NO_CODE = "no"


@dataclass(frozen=True)
class OrderWarning:
    item: str
    message: str


def symptom_like(questionnaire: Questionnaire) -> list[str]:
    """Ids of the items the rule covers, in questionnaire order."""
    scored = {item for score in questionnaire.scores for item in score.items}
    flagged = {item for rule in questionnaire.flags for item in rule.when.items()}
    return [
        item.id
        for item in questionnaire.items.values()
        if NO_CODE in item.codes
        and (item.type is ItemType.YES_NO or item.id in scored or item.id in flagged)
    ]


def answer_order_warnings(questionnaire: Questionnaire) -> list[OrderWarning]:
    """One warning per symptom-like item whose first choice is not `no`."""
    warnings = []
    for item_id in symptom_like(questionnaire):
        item = questionnaire.items[item_id]
        if item.codes[0] != NO_CODE:
            position = item.codes.index(NO_CODE) + 1
            warnings.append(
                OrderWarning(
                    item_id,
                    f"item {item_id} lists {NO_CODE!r} as choice {position}; list it first, "
                    "so that 1 means no on every symptom question (docs/questionnaire-format.md, "
                    "Answer order)",
                )
            )
    return warnings
