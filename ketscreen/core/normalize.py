"""The one place where raw answers become codes. Every input path goes through here.

Rules (DESIGN.md "Response records"):

- item ids are matched ignoring case and surrounding spaces;
- codes likewise; yes/no items also take y/n, true/false, 1/0 (and JSON booleans);
- multi-select answers are a list, or text separated by `;` or `|`; they are stored
  as a tuple in the questionnaire's own choice order, without repeats;
- empty text, an empty list and None mean "unanswered" and are left out;
- `declined` means "prefer not to say" (where the item allows it).

Messages name the item and the allowed codes. They quote a rejected value only when it
looks like a code (`errors.quote_value`), because a value can be personal.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping

from ketscreen.core.conditions import Answer
from ketscreen.core.model import DECLINED, Item, ItemType, Questionnaire
from ketscreen.errors import AnswerError, quote_value

Answers = dict[str, Answer]
"""Normalised answers: item id -> code, tuple of codes (multi-select), or `declined`."""


YES_SPELLINGS = ("yes", "y", "true", "1")
NO_SPELLINGS = ("no", "n", "false", "0")
_SPLIT = re.compile(r"[;|]")


def spellings(item: Item) -> dict[str, str]:
    """Every accepted lower-case spelling of an answer to `item`, mapped to its code."""
    table = {code: code for code in item.codes}
    if item.allow_decline:
        table[DECLINED] = DECLINED
    if item.type is ItemType.YES_NO:
        table.update(dict.fromkeys(YES_SPELLINGS, "yes"))
        table.update(dict.fromkeys(NO_SPELLINGS, "no"))
    return table


def _one(item: Item, table: Mapping[str, str], value: object) -> str | None:
    if isinstance(value, bool):
        if item.type is not ItemType.YES_NO:
            raise AnswerError(item.id, "true/false only fits yes/no questions", item.allowed_codes)
        return "yes" if value else "no"
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        raise AnswerError(
            item.id, f"expected a code, got {type(value).__name__}", item.allowed_codes
        )
    text = value.strip().lower()
    if not text:
        return None
    code = table.get(text)
    if code is None:
        raise AnswerError(
            item.id,
            f"{quote_value(value.strip())} is not an allowed answer{_did_you_mean(item, text)}",
            item.allowed_codes,
        )
    return code


def _did_you_mean(item: Item, text: str) -> str:
    """ " (did you mean 'weekly'?)" when one code is close to what was written."""
    close = difflib.get_close_matches(text, item.allowed_codes, n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def normalize_answer(
    item: Item, value: object, table: Mapping[str, str] | None = None
) -> Answer | None:
    """One raw answer -> its code(s), or None when unanswered."""
    table = spellings(item) if table is None else table
    if value is None:
        return None
    if item.type is not ItemType.MULTI:
        if isinstance(value, (list, tuple)):
            raise AnswerError(item.id, "takes one answer, not a list", item.allowed_codes)
        return _one(item, table, value)
    parts: Iterable[object]
    if isinstance(value, str):
        parts = _SPLIT.split(value)
    elif isinstance(value, (list, tuple)):
        parts = value
    else:
        parts = (value,)
    chosen = {code for code in (_one(item, table, part) for part in parts) if code is not None}
    if not chosen:
        return None
    if DECLINED in chosen:
        if len(chosen) > 1:
            raise AnswerError(item.id, f"{DECLINED!r} cannot be combined with other answers")
        return DECLINED
    return tuple(code for code in item.codes if code in chosen)


def normalize_answers(questionnaire: Questionnaire, raw: Mapping[str, object]) -> Answers:
    """Raw `{item: value}` -> normalised answers, or AnswerError naming the item."""
    result: Answers = {}
    items = questionnaire.items
    for key, value in raw.items():
        item_id = key.strip().lower() if isinstance(key, str) else key
        item = items.get(item_id)
        if item is None:
            raise AnswerError(str(key).strip(), "is not an item of this questionnaire")
        if item_id in result:
            raise AnswerError(item_id, "is answered twice (ids are matched ignoring case)")
        answer = normalize_answer(item, value)
        if answer is not None:
            result[item_id] = answer
    return result
