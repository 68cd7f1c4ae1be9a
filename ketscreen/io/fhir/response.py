"""A scored response as a FHIR R4 QuestionnaireResponse, and many of them as a Bundle.

The response mirrors the Questionnaire from `questionnaire_to_fhir`: the same groups,
linkIds and texts, answers as the same codings. The computed result goes in the
`result` group, as items the Questionnaire defines (so any viewer of
QuestionnaireResponses shows it, and a validator can check it against the
Questionnaire): each score as an integer, the band as a coding, the lower-bound mark as a
boolean, the most urgent alert level and every alert as codings. The provenance that is
not about the person (questionnaire SHA-256, tool version, time scored) is an extension,
and the disclaimer is the human-readable narrative.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ketscreen.core.model import Questionnaire
from ketscreen.core.scoring import NOT_ASSESSED, Result
from ketscreen.io.fhir.common import (
    BAND_LINK,
    DISCLAIMER,
    EXT_PROVENANCE,
    FLAGS_LINK,
    LEVEL_SYSTEM,
    LOWER_BOUND_LINK,
    RESPONDENT_SYSTEM,
    RESPONSE_STATUSES,
    RESULT_GROUP,
    TOP_LEVEL_LINK,
    FhirError,
    alerts_first,
    band_system,
    canonical,
    flag_system,
    narrative,
    score_link,
    section_link,
)
from ketscreen.io.fhir.questionnaire import (
    BAND_TEXT,
    FLAGS_TEXT,
    LOWER_BOUND_TEXT,
    NOT_ASSESSED_DISPLAY,
    RESULT_TITLE,
    TOP_LEVEL_TEXT,
    coding,
)


def response_to_fhir(
    q: Questionnaire,
    result: Result | None,
    *,
    respondent_id: str | None = None,
    author: str | None = None,
    status: str = "completed",
    authored: str | None = None,
    resource_id: str | None = None,
) -> dict[str, Any]:
    """The QuestionnaireResponse for one scored response.

    `status` is a FHIR QuestionnaireResponse status (ketscreen's session statuses are the
    same words); `authored` defaults to the time the result was scored. `author` is who
    recorded the answers (a counselor). `result` None is an intake with no answer yet:
    a response with no items.
    """
    if result is not None:
        prov = result.provenance
        if (prov.questionnaire_id, prov.questionnaire_version) != (q.id, q.version):
            raise FhirError(
                f"the result was scored with questionnaire {prov.questionnaire_id} "
                f"{prov.questionnaire_version}, not {q.id} {q.version}"
            )
    if status not in RESPONSE_STATUSES:
        raise FhirError(f"status {status!r} is not one of {', '.join(RESPONSE_STATUSES)}")
    resource: dict[str, Any] = {"resourceType": "QuestionnaireResponse"}
    if resource_id:
        resource["id"] = resource_id
    paragraphs = _summary(q, result) + [DISCLAIMER]
    resource["text"] = narrative(paragraphs)
    if result is not None:
        resource["extension"] = [_provenance(result)]
    resource["questionnaire"] = canonical(q)
    resource["status"] = status
    if respondent_id:
        resource["subject"] = {
            "identifier": {"system": RESPONDENT_SYSTEM, "value": respondent_id},
        }
    when = authored or (result.provenance.scored_at if result else None)
    if when:
        resource["authored"] = when
    if author:
        resource["author"] = {"display": author}
    if result is not None:
        resource["item"] = [*_answer_groups(q, result), _result_group(q, result)]
    return resource


def _provenance(result: Result) -> dict[str, Any]:
    prov = result.provenance
    parts: list[dict[str, Any]] = [
        {"url": "questionnaireSha256", "valueString": prov.questionnaire_sha256},
        {"url": "toolVersion", "valueString": prov.tool_version},
    ]
    if prov.scored_at:
        parts.append({"url": "scoredAt", "valueDateTime": prov.scored_at})
    return {"url": EXT_PROVENANCE, "extension": parts}


def _answer_groups(q: Questionnaire, result: Result) -> list[dict[str, Any]]:
    groups = []
    for section in q.sections:
        items = []
        for item_id in section.items:
            answer = result.answers.get(item_id)
            if answer is None:
                continue
            item = q.items[item_id]
            codes = answer if isinstance(answer, tuple) else (answer,)
            items.append(
                {
                    "linkId": item_id,
                    "text": item.text,
                    "answer": [{"valueCoding": coding(q, item, code)} for code in codes],
                }
            )
        if items:
            link = section_link(section.id)
            groups.append({"linkId": link, "text": section.title, "item": items})
    return groups


def _summary(q: Questionnaire, result: Result | None) -> list[str]:
    """The readable summary a record system shows first: the most urgent alert leads,
    never a reassuring band (CONTENT.md section 4)."""
    if result is None:
        return ["No result yet: no question has been answered."]
    lines = []
    top = result.top_flag_level
    if top is not None:
        labels = {rule.id: rule.label for rule in q.flags}
        alerts = "; ".join(labels[f.id] for f in result.flags if f.level is top)
        lines.append(
            f"Alert, {q.levels[top].label} ({top.value}): {alerts}. {q.levels[top].advice}"
        )
    if result.not_assessed:
        asked = "; ".join(q.items[i].short for i in result.not_assessed)
        lines.append(
            f"Not assessed: the safety question was not asked or not answered ({asked}); "
            "this response cannot show that no alert applies."
        )
    label = q.band_rule.band(result.band).label
    lines.append(f"Result: {'at least ' if result.lower_bound else ''}{label}.")
    return lines


def _result_group(q: Questionnaire, result: Result) -> dict[str, Any]:
    items: list[dict[str, Any]] = [
        {"linkId": score_link(sc.id), "text": sc.label, "answer": [{"valueInteger": value}]}
        for sc in q.scores
        if (value := result.scores.get(sc.id)) is not None
    ]
    band = q.band_rule.band(result.band)
    items.append(
        {
            "linkId": BAND_LINK,
            "text": BAND_TEXT,
            "answer": [
                {"valueCoding": {"system": band_system(q), "code": band.id, "display": band.label}}
            ],
        }
    )
    items.append(
        {
            "linkId": LOWER_BOUND_LINK,
            "text": LOWER_BOUND_TEXT,
            "answer": [{"valueBoolean": result.lower_bound}],
        }
    )
    top = result.top_flag_level
    if top is not None or result.top_level == NOT_ASSESSED:
        items.append(
            {
                "linkId": TOP_LEVEL_LINK,
                "text": TOP_LEVEL_TEXT,
                "answer": [
                    {
                        "valueCoding": {
                            "system": LEVEL_SYSTEM,
                            "code": top.value if top is not None else NOT_ASSESSED,
                            "display": q.levels[top].label
                            if top is not None
                            else NOT_ASSESSED_DISPLAY,
                        }
                    }
                ],
            }
        )
    if result.flags:
        labels = {rule.id: rule.label for rule in q.flags}
        items.append(
            {
                "linkId": FLAGS_LINK,
                "text": FLAGS_TEXT,
                "answer": [
                    {
                        "valueCoding": {
                            "system": flag_system(q),
                            "code": flag.id,
                            "display": labels[flag.id],
                        }
                    }
                    for flag in result.flags
                ],
            }
        )
    return {"linkId": RESULT_GROUP, "text": RESULT_TITLE, "item": alerts_first(items)}


def bundle(responses: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """A `collection` Bundle of resources (in the order given)."""
    entries = [{"resource": resource} for resource in responses]
    data: dict[str, Any] = {"resourceType": "Bundle", "type": "collection"}
    if entries:  # FHIR JSON allows no empty lists
        data["entry"] = entries
    return data
