"""A questionnaire as a FHIR R4 Questionnaire, in the style of Structured Data Capture (SDC).

- linkIds are our item ids; each section is a `group` (linkId `section.<id>`).
- Every item is a `choice` (yes/no too, so that it can carry weights and "prefer not to
  say"); answer options are codings in the code system `answer_system(q)`, with the
  weight both as `itemWeight` and as the older `ordinalValue`.
- "Prefer not to say" is one more answer option: the HL7 data-absent-reason code
  `asked-declined`, with no weight (it counts as unanswered), exclusive in multi-select
  items. A receiving system understands it without knowing our code system.
- Skip logic is `enableWhen` where FHIR's flat list can say exactly what we mean;
  anything else (nested all/any, "not answered") becomes an SDC `enableWhenExpression`.
  Our rule "declined counts as unanswered" is kept exactly: conditions are written as
  "the answer is one of these codes", never with `exists` or `!=`.
- A final group `result` holds the scores as read-only integer items with an SDC
  `calculatedExpression` (so an SDC form filler computes them itself), and the band,
  the lower-bound mark and the flags as read-only hidden items that ketscreen fills in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ketscreen.core.conditions import AllOf, AnyOf, Condition, ItemCondition
from ketscreen.core.model import DECLINED, Choice, Item, ItemType, Questionnaire, Score
from ketscreen.core.scoring import NOT_ASSESSED
from ketscreen.io.fhir.common import (
    ASKED_DECLINED,
    BAND_LINK,
    DATA_ABSENT_SYSTEM,
    DISCLAIMER,
    EXT_CALCULATED,
    EXT_ENABLE_WHEN_EXPRESSION,
    EXT_HIDDEN,
    EXT_ITEM_CONTROL,
    EXT_ITEM_WEIGHT,
    EXT_OPTION_EXCLUSIVE,
    EXT_ORDINAL_VALUE,
    EXT_SHORT_TEXT,
    FLAGS_LINK,
    ITEM_CONTROL_SYSTEM,
    LEVEL_SYSTEM,
    LOWER_BOUND_LINK,
    RESULT_GROUP,
    TOP_LEVEL_LINK,
    FhirError,
    alerts_first,
    answer_system,
    band_system,
    flag_system,
    questionnaire_url,
    score_link,
    section_link,
)

DECLINED_LABEL = "Prefer not to say"
RESULT_TITLE = "Result, worked out by ketscreen (not a diagnosis)"
LOWER_BOUND_TEXT = "The result is a lower bound: some warning-sign questions were not answered"
TOP_LEVEL_TEXT = "Most urgent alert"
NOT_ASSESSED_DISPLAY = "Not assessed: a safety question has no answer"
FLAGS_TEXT = "Alerts"
BAND_TEXT = "Result"


def declined_coding() -> dict[str, str]:
    return {"system": DATA_ABSENT_SYSTEM, "code": ASKED_DECLINED, "display": DECLINED_LABEL}


def coding(q: Questionnaire, item: Item, code: str) -> dict[str, str]:
    """The coding of one answer code of `item` (the declined code included)."""
    if code == DECLINED:
        return declined_coding()
    return {"system": answer_system(q), "code": code, "display": item.labels[code]}


def questionnaire_to_fhir(q: Questionnaire) -> dict[str, Any]:
    """The FHIR R4 Questionnaire resource for `q`, as plain JSON-ready data."""
    items: list[dict[str, Any]] = [
        {"linkId": "about.disclaimer", "text": DISCLAIMER, "type": "display"},
    ]
    for section in q.sections:
        children: list[dict[str, Any]] = []
        if section.intro:
            children.append(
                {
                    "linkId": f"{section_link(section.id)}.intro",
                    "text": section.intro,
                    "type": "display",
                }
            )
        # A skip rule that every item of the section shares goes on the group only.
        shared = {q.items[item_id].enable_when for item_id in section.items}
        common = shared.pop() if len(shared) == 1 else None
        children.extend(_question(q, q.items[item_id], common) for item_id in section.items)
        group: dict[str, Any] = {
            "linkId": section_link(section.id),
            "text": section.title,
            "type": "group",
        }
        group.update(enable_when(q, common))
        group["item"] = children
        items.append(group)
    items.append(_result_group(q))
    return {
        "resourceType": "Questionnaire",
        "id": q.id.replace("_", "-"),  # FHIR ids have no underscores
        "url": questionnaire_url(q),
        "version": q.version,
        "name": "".join(part.capitalize() for part in q.id.split("_")),
        "title": q.title,
        "status": "active",
        "subjectType": ["Patient"],
        "description": f"{q.description}\n\n{DISCLAIMER}",
        "item": items,
    }


def _question(q: Questionnaire, item: Item, on_group: Condition | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "linkId": item.id,
        "text": item.text,
        "type": "choice",
        "extension": [{"url": EXT_SHORT_TEXT, "valueString": item.short}],
    }
    if item.required:
        entry["required"] = True
    if item.type is ItemType.MULTI:
        entry["repeats"] = True
    if item.enable_when != on_group:
        entry.update(enable_when(q, item.enable_when))
    options = [_option(q, item, choice) for choice in item.choices]
    if item.allow_decline:
        declined: dict[str, Any] = {"valueCoding": declined_coding()}
        if item.type is ItemType.MULTI:
            declined["extension"] = [{"url": EXT_OPTION_EXCLUSIVE, "valueBoolean": True}]
        options.append(declined)
    entry["answerOption"] = options
    if item.help:
        entry["item"] = [
            {
                "linkId": f"{item.id}.help",
                "text": item.help,
                "type": "display",
                "extension": [
                    {
                        "url": EXT_ITEM_CONTROL,
                        "valueCodeableConcept": {
                            "coding": [{"system": ITEM_CONTROL_SYSTEM, "code": "help"}]
                        },
                    }
                ],
            }
        ]
    return entry


def _option(q: Questionnaire, item: Item, choice: Choice) -> dict[str, Any]:
    option: dict[str, Any] = {}
    if choice.weight is not None:
        option["extension"] = [
            {"url": EXT_ITEM_WEIGHT, "valueDecimal": choice.weight},
            {"url": EXT_ORDINAL_VALUE, "valueDecimal": choice.weight},
        ]
    option["valueCoding"] = coding(q, item, choice.code)
    return option


# -- skip logic -------------------------------------------------------------------------


def _true_codes(q: Questionnaire, cond: ItemCondition) -> tuple[str, ...] | None:
    """The codes for which `cond` holds, or None for `answered: false` (no code does)."""
    codes = q.items[cond.item].codes
    if cond.op == "answered":
        return codes if cond.answered else None
    if cond.op in ("not_equals", "not_in"):
        return tuple(c for c in codes if c not in cond.values)
    return cond.values  # equals, in, contains


def enable_when(q: Questionnaire, cond: Condition | None) -> dict[str, Any]:
    """The keys that put `cond` on a Questionnaire item: enableWhen or an expression."""
    if cond is None:
        return {}
    flat = _flat(q, cond)
    if flat is not None:
        atoms, behavior = flat
        keys: dict[str, Any] = {"enableWhen": atoms}
        if len(atoms) > 1:
            keys["enableBehavior"] = behavior
        return keys
    return {
        "extension": [
            {
                "url": EXT_ENABLE_WHEN_EXPRESSION,
                "valueExpression": {"language": "text/fhirpath", "expression": fhirpath(q, cond)},
            }
        ]
    }


def _atoms(q: Questionnaire, cond: ItemCondition) -> list[dict[str, Any]] | None:
    codes = _true_codes(q, cond)
    if codes is None:
        return None
    item = q.items[cond.item]
    return [
        {"question": cond.item, "operator": "=", "answerCoding": coding(q, item, code)}
        for code in codes
    ]


def _flat(q: Questionnaire, cond: Condition) -> tuple[list[dict[str, Any]], str] | None:
    """`cond` as one flat enableWhen list with a behaviour, when FHIR can say it exactly."""
    if isinstance(cond, ItemCondition):
        atoms = _atoms(q, cond)
        return None if atoms is None else (atoms, "any")
    if not isinstance(cond, (AllOf, AnyOf)):
        raise FhirError("band and flag conditions cannot be used for skip logic")
    if len(cond.parts) == 1:
        return _flat(q, cond.parts[0])
    parts = [_atoms(q, p) if isinstance(p, ItemCondition) else None for p in cond.parts]
    if any(p is None for p in parts):
        return None
    lists = [p for p in parts if p is not None]
    if isinstance(cond, AnyOf):
        return [atom for atoms in lists for atom in atoms], "any"
    if all(len(atoms) == 1 for atoms in lists):
        return [atoms[0] for atoms in lists], "all"
    return None


def _answers_path(item_id: str) -> str:
    return f"%resource.repeat(item).where(linkId = '{item_id}').answer.value"


def _code_set(codes: Sequence[str]) -> str:
    return " | ".join(f"'{code}'" for code in codes)


def fhirpath(q: Questionnaire, cond: Condition) -> str:
    """`cond` as a FHIRPath boolean over the QuestionnaireResponse (`%resource`).

    `repeat(item)` reaches answers at any depth, so grouping does not matter.
    """
    if isinstance(cond, ItemCondition):
        all_codes = _code_set(q.items[cond.item].codes)
        codes = _true_codes(q, cond)
        if codes is None:
            return f"{_answers_path(cond.item)}.where(code in ({all_codes})).exists().not()"
        if not codes:
            return "false"
        return f"{_answers_path(cond.item)}.where(code in ({_code_set(codes)})).exists()"
    if not isinstance(cond, (AllOf, AnyOf)):
        raise FhirError("band and flag conditions cannot be used for skip logic")
    joiner = " and " if isinstance(cond, AllOf) else " or "
    return "(" + joiner.join(fhirpath(q, part) for part in cond.parts) + ")"


# -- scores and result ----------------------------------------------------------------------


def score_expression(q: Questionnaire, sc: Score) -> str:
    """FHIRPath for a score: the sum of the weights of the chosen answers.

    Written with plain `count()`s of codes rather than the SDC `weight()`/`ordinal()`
    functions, which not every FHIRPath engine has. Each (code, weight) pair is one term
    over every member item that gives that code that weight.
    """
    by_pair: dict[tuple[str, int], list[str]] = {}
    for item_id in sc.items:
        for choice in q.items[item_id].choices:
            if choice.weight:
                by_pair.setdefault((choice.code, choice.weight), []).append(item_id)
    terms = []
    for (code, weight), members in by_pair.items():
        links = (
            f"linkId = '{members[0]}'" if len(members) == 1 else f"linkId in ({_code_set(members)})"
        )
        term = f"%resource.repeat(item).where({links}).answer.value.where(code = '{code}').count()"
        terms.append(term if weight == 1 else f"{term} * {weight}")
    return " + ".join(terms) or "0"


def _score_condition(q: Questionnaire, sc: Score) -> Condition | None:
    """When the score exists at all: when at least one of its items is asked."""
    conditions = []
    for item_id in sc.items:
        cond = q.items[item_id].enable_when
        if cond is None:
            return None
        if cond not in conditions:
            conditions.append(cond)
    return conditions[0] if len(conditions) == 1 else AnyOf(tuple(conditions))


def _result_group(q: Questionnaire) -> dict[str, Any]:
    children: list[dict[str, Any]] = []
    for sc in q.scores:
        entry: dict[str, Any] = {
            "linkId": score_link(sc.id),
            "text": sc.label,
            "type": "integer",
            "extension": [
                {
                    "url": EXT_CALCULATED,
                    "valueExpression": {
                        "description": f"{sc.label}: the sum of the answer weights",
                        "language": "text/fhirpath",
                        "expression": score_expression(q, sc),
                    },
                }
            ],
            "readOnly": True,
        }
        condition = _score_condition(q, sc)
        extra = enable_when(q, condition)
        entry["extension"] += extra.pop("extension", [])
        entry.update(extra)
        children.append(entry)
    hidden = [{"url": EXT_HIDDEN, "valueBoolean": True}]
    children.append(
        {
            "linkId": BAND_LINK,
            "text": BAND_TEXT,
            "type": "choice",
            "extension": hidden,
            "readOnly": True,
            "answerOption": [
                {"valueCoding": {"system": band_system(q), "code": b.id, "display": b.label}}
                for b in q.band_rule.bands
            ],
        }
    )
    children.append(
        {
            "linkId": LOWER_BOUND_LINK,
            "text": LOWER_BOUND_TEXT,
            "type": "boolean",
            "extension": hidden,
            "readOnly": True,
        }
    )
    children.append(
        {
            "linkId": TOP_LEVEL_LINK,
            "text": TOP_LEVEL_TEXT,
            "type": "choice",
            "extension": hidden,
            "readOnly": True,
            "answerOption": [
                *(
                    {
                        "valueCoding": {
                            "system": LEVEL_SYSTEM,
                            "code": lv.value,
                            "display": info.label,
                        }
                    }
                    for lv, info in q.levels.items()
                ),
                {
                    "valueCoding": {
                        "system": LEVEL_SYSTEM,
                        "code": NOT_ASSESSED,
                        "display": NOT_ASSESSED_DISPLAY,
                    }
                },
            ],
        }
    )
    if q.flags:  # FHIR JSON allows no empty lists, so no flags means no flags item
        children.append(
            {
                "linkId": FLAGS_LINK,
                "text": FLAGS_TEXT,
                "type": "choice",
                "extension": hidden,
                "readOnly": True,
                "repeats": True,
                "answerOption": [
                    {"valueCoding": {"system": flag_system(q), "code": f.id, "display": f.label}}
                    for f in q.flags
                ],
            }
        )
    return {
        "linkId": RESULT_GROUP,
        "text": RESULT_TITLE,
        "type": "group",
        "item": alerts_first(children),
    }
