"""Advice for questionnaire authors: not errors (a released file is never edited), but
what `ketscreen validate` warns about.

1. The answer-order rule: on every symptom-like question, choice 1 is the "no" answer.

A person answering thirty questions types `1` out of habit; if `1` meant "Yes" on some
questions and "No" on others, habit would record the wrong answer. So every item that
is symptom-like lists its `no` answer first: a `yes_no` item (whose default choices
are already "No", "Yes"), and any other item with a `no` code that counts in a score or
raises a flag (like `abdominal_pain`: No, Yes mild, Yes severe; `self_harm`: No, ...).
Context questions that decide which questions follow (`use_12m`) are not symptoms.

2. Words of one country in texts every region sees: "GP" means nothing to most US
readers, "A&E" and "NHS" only to the UK. Say "a doctor", "an emergency department";
each region's services and routes come from resources.yaml.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from ketscreen.core.model import ItemType, Questionnaire

NO_CODE = "no"


REGIONAL_WORDS = {
    "GP": '"a doctor"',
    "A&E": '"an emergency department"',
    "NHS": "what the region's services in resources.yaml say",
}
_REGIONAL = re.compile(r"(?<![\w&])(GP|A&E|NHS)(?![\w&])")


@dataclass(frozen=True)
class Advice:
    """`where` locates it in the file: ("items", item id) or ("guidance", key, ...)."""

    where: tuple[str, ...]
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


def advice(questionnaire: Questionnaire) -> list[Advice]:
    """Everything `validate` warns about, in file order of kind."""
    return [*answer_order_warnings(questionnaire), *regional_word_warnings(questionnaire)]


def _texts(questionnaire: Questionnaire) -> Iterator[tuple[tuple[str, ...], str]]:
    for item in questionnaire.items.values():
        for text in (item.text, item.help or "", *(c.label for c in item.choices)):
            yield ("items", item.id), text
    guidance = questionnaire.guidance
    for band, text in guidance.bands.items():
        yield ("guidance", "bands", band), text
    for code, text in guidance.readiness.items():
        yield ("guidance", "readiness", "by_code", code), text
    for topic in guidance.topics:
        yield ("guidance", "topics", topic.id), f"{topic.title} {topic.text}"


def regional_word_warnings(questionnaire: Questionnaire) -> list[Advice]:
    """One warning per text that uses a word of one country (see the module doc)."""
    found = []
    for where, text in _texts(questionnaire):
        for word in dict.fromkeys(_REGIONAL.findall(text)):
            found.append(
                Advice(
                    where,
                    f"{' '.join(where[1:]) if where[0] == 'items' else '.'.join(where)} says "
                    f"{word!r}, a word of one country, but every region sees it; say "
                    f"{REGIONAL_WORDS[word]} instead",
                )
            )
    return found


def answer_order_warnings(questionnaire: Questionnaire) -> list[Advice]:
    """One warning per symptom-like item whose first choice is not `no`."""
    warnings = []
    for item_id in symptom_like(questionnaire):
        item = questionnaire.items[item_id]
        if item.codes[0] != NO_CODE:
            position = item.codes.index(NO_CODE) + 1
            warnings.append(
                Advice(
                    ("items", item_id),
                    f"item {item_id} lists {NO_CODE!r} as choice {position}; list it first, "
                    "so that 1 means no on every symptom question (docs/questionnaire-format.md, "
                    "Answer order)",
                )
            )
    return warnings
