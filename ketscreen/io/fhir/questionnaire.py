"""A questionnaire as a FHIR R4 Questionnaire, in the style of Structured Data Capture (SDC).

- linkIds are our item ids; each section is a `group` (linkId `section.<id>`).
- Every item is a `choice` (yes/no too, so that it can carry weights and "prefer not to
  say"), shown as radio buttons (check boxes when several answers are allowed), coded
  (`item.code`) in `item_system(q)`; answer options are codings in the code system
  `answer_system(q)`, with the weight both as `itemWeight` and as the older
  `ordinalValue` on the items a score uses, and on no other (a filler may show it).
- "Prefer not to say" is one more answer option: the HL7 data-absent-reason code
  `asked-declined`, with no weight (it counts as unanswered), exclusive in multi-select
  items. A receiving system understands it without knowing our code system.
- Skip logic is `enableWhen` where FHIR's flat list can say exactly what we mean;
  anything else (nested all/any, "not answered") becomes an SDC `enableWhenExpression`.
  Our rule "declined counts as unanswered" is kept exactly: conditions are written as
  "the answer is one of these codes", never with `exists` or `!=`.
- A final group `result` holds the whole result as read-only, visible items with SDC
  `calculatedExpression`s, so an SDC form filler computes and shows it live: the most
  urgent alert level and the alerts first, then the scores, the band and the
  lower-bound mark. The expressions are generated from the questionnaire's rules and
  state them exactly (`ketscreen.io.fhir.expressions`).
"""

from __future__ import annotations

from typing import Any

from ketscreen.core.conditions import AllOf, AnyOf, Condition, ItemCondition
from ketscreen.core.model import DECLINED, Choice, Item, ItemType, Questionnaire
from ketscreen.core.scoring import NOT_ASSESSED
from ketscreen.io.fhir.common import (
    ASKED_DECLINED,
    BAND_LINK,
    DATA_ABSENT_SYSTEM,
    DISCLAIMER,
    EXT_CALCULATED,
    EXT_ENABLE_WHEN_EXPRESSION,
    EXT_ITEM_CONTROL,
    EXT_ITEM_WEIGHT,
    EXT_OPTION_EXCLUSIVE,
    EXT_ORDINAL_VALUE,
    EXT_SHORT_TEXT,
    EXT_VARIABLE,
    FLAGS_LINK,
    ITEM_CONTROL_SYSTEM,
    LEVEL_SYSTEM,
    LOWER_BOUND_LINK,
    PUBLISHER,
    RESULT_GROUP,
    SDC_QUESTIONNAIRE_PROFILE,
    TOP_LEVEL_LINK,
    FhirError,
    alerts_first,
    answer_system,
    band_system,
    flag_system,
    item_system,
    narrative,
    questionnaire_url,
    score_link,
    section_link,
)
from ketscreen.io.fhir.expressions import (
    VARIABLE_BAND,
    VARIABLE_FLAGS,
    VARIABLE_TOP_LEVEL,
    VARIABLE_UNANSWERED,
    asked_condition,
    band_expression,
    band_item_expression,
    check_variables,
    fhirpath,
    flag_order,
    flags_expression,
    flags_item_expression,
    lower_bound_expression,
    score_expression,
    score_variable,
    top_level_expression,
    top_level_item_expression,
    true_codes,
    unanswered_expression,
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


def questionnaire_to_fhir(q: Questionnaire, *, date: str | None = None) -> dict[str, Any]:
    """The FHIR R4 Questionnaire resource for `q`, as plain JSON-ready data.

    `date` is the release date of `q` (`releases.yaml`); None marks a file that is not a
    release (a draft or an edited copy): it is exported as `experimental`, undated.
    """
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
    asked = len(q.items)
    return {
        "resourceType": "Questionnaire",
        "id": q.id.replace("_", "-"),  # FHIR ids have no underscores
        "meta": {"profile": [SDC_QUESTIONNAIRE_PROFILE]},
        "text": narrative(
            [
                f"{q.title}, version {q.version}: {asked} questions; the result is "
                "computed by the form (SDC calculated expressions).",
                q.description,
                DISCLAIMER,
            ]
        ),
        "url": questionnaire_url(q),
        "version": q.version,
        "name": "".join(part.capitalize() for part in q.id.split("_")),
        "title": q.title,
        "status": "active",
        "experimental": date is None,
        "subjectType": ["Patient"],
        **({"date": date} if date is not None else {}),
        "publisher": PUBLISHER,
        "description": f"{q.description}\n\n{DISCLAIMER}",
        "item": items,
    }


def _question(q: Questionnaire, item: Item, on_group: Condition | None) -> dict[str, Any]:
    control = "check-box" if item.type is ItemType.MULTI else "radio-button"
    entry: dict[str, Any] = {
        "linkId": item.id,
        "code": [{"system": item_system(q), "code": item.id, "display": item.short}],
        "text": item.text,
        "type": "choice",
        "extension": [
            {"url": EXT_SHORT_TEXT, "valueString": item.short},
            {
                "url": EXT_ITEM_CONTROL,
                "valueCodeableConcept": {
                    "coding": [{"system": ITEM_CONTROL_SYSTEM, "code": control}]
                },
            },
        ],
    }
    if item.required:
        entry["required"] = True
    if item.type is ItemType.MULTI:
        entry["repeats"] = True
    if item.enable_when != on_group:
        entry.update(enable_when(q, item.enable_when))
    scored = any(item.id in sc.items for sc in q.scores)
    options = [_option(q, item, choice, weighted=scored) for choice in item.choices]
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


def _option(q: Questionnaire, item: Item, choice: Choice, *, weighted: bool) -> dict[str, Any]:
    """An answer option; with its weight only when a score uses the item (a form filler
    may show weights to the person: "No - 0")."""
    option: dict[str, Any] = {}
    if weighted and choice.weight is not None:
        option["extension"] = [
            {"url": EXT_ITEM_WEIGHT, "valueDecimal": choice.weight},
            {"url": EXT_ORDINAL_VALUE, "valueDecimal": choice.weight},
        ]
    option["valueCoding"] = coding(q, item, choice.code)
    return option


# -- skip logic -------------------------------------------------------------------------


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
    codes = true_codes(q, cond)
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


# -- scores and result ----------------------------------------------------------------------


def _calculated(description: str, expression: str) -> dict[str, Any]:
    return {
        "url": EXT_CALCULATED,
        "valueExpression": {
            "description": description,
            "language": "text/fhirpath",
            "expression": expression,
        },
    }


def _variable(name: str, description: str, expression: str) -> dict[str, Any]:
    return {
        "url": EXT_VARIABLE,
        "valueExpression": {
            "name": name,
            "description": description,
            "language": "text/fhirpath",
            "expression": expression,
        },
    }


def _variables(q: Questionnaire) -> list[dict[str, Any]]:
    """The result's building blocks, in the order they depend on each other."""
    check_variables(q)
    rule = q.band_rule
    found = [
        _variable(
            score_variable(sc),
            f"{sc.label}: the sum of the weights of the chosen answers",
            score_expression(q, sc),
        )
        for sc in q.scores
    ]
    found.append(
        _variable(
            VARIABLE_UNANSWERED,
            f"How many questions of score {rule.score} were asked but not answered",
            unanswered_expression(q),
        )
    )
    found.append(_variable(VARIABLE_BAND, "The code of the result band", band_expression(q)))
    found.append(
        _variable(
            VARIABLE_FLAGS, "The ids of the alerts raised, most urgent first", flags_expression(q)
        )
    )
    found.append(
        _variable(
            VARIABLE_TOP_LEVEL,
            f"The most urgent alert level; {NOT_ASSESSED} when a safety question has no answer",
            top_level_expression(q),
        )
    )
    return found


def _result_group(q: Questionnaire) -> dict[str, Any]:
    """The result, computed by an SDC form filler with ketscreen's own rules (exactly:
    see `expressions`), shown read-only, alerts first."""
    children: list[dict[str, Any]] = []
    for sc in q.scores:
        entry: dict[str, Any] = {
            "linkId": score_link(sc.id),
            "text": sc.label,
            "type": "integer",
            "extension": [_calculated(sc.label, f"%{score_variable(sc)}")],
            "readOnly": True,
        }
        extra = enable_when(q, asked_condition(q, sc.items))
        entry["extension"] += extra.pop("extension", [])
        entry.update(extra)
        children.append(entry)
    children.append(
        {
            "linkId": BAND_LINK,
            "text": BAND_TEXT,
            "type": "choice",
            "extension": [_calculated("The result band", band_item_expression())],
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
            "extension": [
                _calculated(
                    "True when some questions of the band's score were not answered",
                    lower_bound_expression(q),
                )
            ],
            "readOnly": True,
        }
    )
    levels = sorted(q.levels.items(), key=lambda pair: pair[0].rank)
    children.append(
        {
            "linkId": TOP_LEVEL_LINK,
            "text": TOP_LEVEL_TEXT,
            "type": "choice",
            "extension": [_calculated("The most urgent alert level", top_level_item_expression())],
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
                    for lv, info in levels
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
        rules = {rule.id: rule for rule in q.flags}
        children.append(
            {
                "linkId": FLAGS_LINK,
                "text": FLAGS_TEXT,
                "type": "choice",
                "extension": [
                    _calculated("Every alert raised, most urgent first", flags_item_expression())
                ],
                "readOnly": True,
                "repeats": True,
                "answerOption": [
                    {
                        "valueCoding": {
                            "system": flag_system(q),
                            "code": fid,
                            "display": rules[fid].label,
                        }
                    }
                    for fid in flag_order(q)
                ],
            }
        )
    return {
        "linkId": RESULT_GROUP,
        "text": RESULT_TITLE,
        "type": "group",
        "extension": _variables(q),
        "item": alerts_first(children),
    }
