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

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from ketscreen.core.conditions import Answer
from ketscreen.core.model import Questionnaire, Section
from ketscreen.core.safe_text import json_safe
from ketscreen.core.scoring import NOT_ASSESSED, Flag, Provenance, Result
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
    groups = (_section_group(q, section, result.answers) for section in q.sections)
    return [group for group in groups if group is not None]


def _section_group(
    q: Questionnaire, section: Section, answers: Mapping[str, Answer]
) -> dict[str, Any] | None:
    """The group of a section's answered items; None when none is answered."""
    items = []
    for item_id in section.items:
        answer = answers.get(item_id)
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
    if not items:
        return None
    return {"linkId": section_link(section.id), "text": section.title, "item": items}


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


class ResponseText:
    """`response_to_fhir` for many records of one questionnaire, straight to JSON text.

    A batch writes thousands of responses that differ only in a few parts: the respondent,
    each section's answers, each result item. Each part is built by the same code as
    `response_to_fhir` (so the resources are the same), written once with `json.dumps`
    (and `json_safe`) and remembered; a response is then a join of those strings. The
    text is exactly `json_safe(json.dumps(response_to_fhir(...), ensure_ascii=False))`
    for a completed response with no id or author, authored when it was scored.
    """

    LIMIT = 2048
    """Parts remembered per kind; more are rebuilt (the same text, only slower)."""

    def __init__(self, q: Questionnaire) -> None:
        from ketscreen import __version__

        self.q = q
        self._tool = __version__
        ids = list(q.items)
        self._sections = [
            (section, tuple(ids.index(item_id) for item_id in section.items))
            for section in q.sections
        ]
        self._safety = tuple((item_id, ids.index(item_id)) for item_id in q.safety_items)
        self._levels = {rule.id: rule.level for rule in q.flags}
        self._items = {rule.id: rule.item for rule in q.flags}
        self._score_links = {score_link(sc.id): k for k, sc in enumerate(q.scores)}
        self._groups: list[dict[tuple[Answer | None, ...], str]] = [{} for _ in self._sections]
        self._sections_getters = [
            (section, tuple_getter(indices), memo)
            for (section, indices), memo in zip(self._sections, self._groups, strict=True)
        ]
        self._texts: dict[tuple[Any, ...], str] = {}
        # The result group's items, by what decides each: (score index, value), band,
        # lower bound, top level (None: not shown), and each flag's answer.
        self._scores: dict[tuple[int, int], str] = {}
        self._bands: dict[str, str] = {}
        self._lower: dict[bool, str] = {}
        self._tops: dict[str | None, str] = {}
        self._flags: dict[str, str] = {}
        self._flag_sets: dict[tuple[str, ...], str] = {}
        self._when: tuple[str, str, str] = ("", "", "")
        result = self._result(q.band_rule.bands[0].id, False, [None] * len(q.scores), (), (), "")
        group = _result_group(q, result)
        self._group_start = _dumps({**group, "item": []})[:-2]
        flags = {"linkId": FLAGS_LINK, "text": FLAGS_TEXT, "answer": []}
        self._flags_start = _dumps(flags)[:-2]

    def _result(
        self,
        band: str,
        lower_bound: bool,
        scores: Sequence[int | None],
        flags: Sequence[str],
        not_assessed: tuple[str, ...],
        scored_at: str,
    ) -> Result:
        """A result with what the response shows of it (the rest is empty)."""
        q = self.q
        return Result(
            band=band,
            lower_bound=lower_bound,
            scores=dict(zip([sc.id for sc in q.scores], scores, strict=True)),
            missing=(),
            flags=tuple(Flag(f, self._levels[f], self._items[f]) for f in flags),
            guidance=(),
            answers={},
            asked=(),
            contributions=(),
            provenance=Provenance(q.id, q.version, q.sha256, self._tool, scored_at),
            not_assessed=not_assessed,
        )

    def _head(self, scored_at: str) -> tuple[str, str]:
        """The text between the narrative and the subject, and after the subject."""
        if self._when[0] != scored_at or not scored_at:
            q = self.q
            result = self._result(
                q.band_rule.bands[0].id, False, [None] * len(q.scores), (), (), scored_at
            )
            middle = _dumps(
                {
                    "extension": [_provenance(result)],
                    "questionnaire": canonical(q),
                    "status": "completed",
                }
            )[1:-1]
            after = _dumps({"authored": scored_at})[1:-1] + ", " if scored_at else ""
            self._when = (scored_at, ", " + middle, f", {after}" + '"item": [')
        return self._when[1], self._when[2]

    def _learn(self, result: Result) -> None:
        """Remember the parts of the result group of `result` (from `_result_group`)."""
        for item in _result_group(self.q, result)["item"]:
            link = item["linkId"]
            if link == FLAGS_LINK:
                for flag, answer in zip(result.flags, item["answer"], strict=True):
                    _keep(self._flags, flag.id, _dumps(answer))
            elif link == TOP_LEVEL_LINK:
                _keep(self._tops, result.top_level, _dumps(item))
            elif link == BAND_LINK:
                _keep(self._bands, result.band, _dumps(item))
            elif link == LOWER_BOUND_LINK:
                _keep(self._lower, result.lower_bound, _dumps(item))
            else:
                k = self._score_links[link]
                _keep(self._scores, (k, item["answer"][0]["valueInteger"]), _dumps(item))
        if result.top_level is None:
            self._tops[None] = ""

    def _result_text(
        self,
        band: str,
        lower_bound: bool,
        scores: tuple[int | None, ...],
        flags: tuple[str, ...],
        not_assessed: tuple[str, ...],
    ) -> str:
        top = self._levels[flags[0]].value if flags else NOT_ASSESSED if not_assessed else None
        try:
            parts = [self._tops[top]] if top is not None else []
            if flags:
                flag_text = self._flag_sets.get(flags)
                if flag_text is None:
                    flag_text = (
                        self._flags_start + ", ".join([self._flags[f] for f in flags]) + "]}"
                    )
                    _keep(self._flag_sets, flags, flag_text)
                parts.append(flag_text)
            for k, value in enumerate(scores):
                if value is not None:
                    parts.append(self._scores[k, value])
            parts.append(self._bands[band])
            parts.append(self._lower[lower_bound])
        except KeyError:
            result = self._result(band, lower_bound, scores, flags, not_assessed, "")
            self._learn(result)
            # What the memos could not keep (they are full) comes from `_result_group`.
            return (
                _dumps(_result_group(self.q, result))
                if self._full()
                else self._result_text(band, lower_bound, scores, flags, not_assessed)
            )
        return self._group_start + ", ".join(parts) + "]}"

    def _full(self) -> bool:
        memos = (self._scores, self._bands, self._lower, self._tops, self._flags)
        return any(len(memo) >= self.LIMIT for memo in memos)

    def _narrative(
        self, band: str, lower_bound: bool, flags: tuple[str, ...], not_assessed: tuple[str, ...]
    ) -> str:
        """The narrative text: it shows the alerts of the top level only."""
        if flags:
            level = self._levels[flags[0]]
            flags = tuple([f for f in flags if self._levels[f] is level])
        key = (band, lower_bound, flags, not_assessed)
        text = self._texts.get(key)
        if text is None:
            result = self._result(
                band, lower_bound, [None] * len(self.q.scores), flags, not_assessed, ""
            )
            text = _dumps(narrative(_summary(self.q, result) + [DISCLAIMER]))
            _keep(self._texts, key, text)
        return text

    def _sections_text(self, answers: Sequence[Answer | None]) -> list[str]:
        """The answer group of each section that has an answer, by its items' answers."""
        parts = []
        for section, get, memo in self._sections_getters:
            given = get(answers)
            group = memo.get(given)
            if group is None:
                found = _section_group(
                    self.q,
                    section,
                    {section.items[k]: a for k, a in enumerate(given) if a is not None},
                )
                group = "" if found is None else _dumps(found)
                _keep(memo, given, group)
            if group:
                parts.append(group)
        return parts

    def text(
        self,
        respondent_id: str,
        band: str,
        lower_bound: bool,
        scores: tuple[int | None, ...],
        flags: tuple[str, ...],
        answers: Sequence[Answer | None],
        asked: int,
        scored_at: str,
    ) -> str:
        """The JSON text of one completed response (`answers` in item order; bit i of
        `asked` set when item i is asked)."""
        middle, after = self._head(scored_at)
        not_assessed = tuple(
            item_id for item_id, i in self._safety if asked >> i & 1 and answers[i] is None
        )
        parts = self._sections_text(answers)
        parts.append(self._result_text(band, lower_bound, scores, flags, not_assessed))
        subject = (
            ', "subject": {"identifier": {"system": '
            f'"{RESPONDENT_SYSTEM}", "value": {_dumps(respondent_id)}}}}}'
            if respondent_id
            else ""
        )
        return (
            '{"resourceType": "QuestionnaireResponse", "text": '
            f"{self._narrative(band, lower_bound, flags, not_assessed)}{middle}{subject}"
            f"{after}{', '.join(parts)}]}}"
        )


def _dumps(data: object) -> str:
    """JSON text as the batch writes it: `json.dumps`, control characters escaped."""
    return json_safe(json.dumps(data, ensure_ascii=False))


def _keep(memo: dict[Any, str], key: Any, text: str) -> None:
    if len(memo) < ResponseText.LIMIT:
        memo[key] = text


def tuple_getter(positions: tuple[int, ...]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """What `itemgetter(*positions)` gets, always as a tuple."""
    if len(positions) == 1:
        return lambda values: (values[positions[0]],)
    if not positions:
        return lambda values: ()
    return itemgetter(*positions)
