"""Properties: any valid response survives export to FHIR and import with identical
answers and scores, and the exported resources always parse and compute the same scores."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from hypothesis import given, settings
from hypothesis import strategies as st

from ketscreen import load_questionnaire, score
from ketscreen.core.normalize import normalize_answers
from ketscreen.io.fhir import (
    bundle,
    compare_scores,
    dumps,
    questionnaire_to_fhir,
    response_to_fhir,
    responses_from_fhir,
    result_values,
)
from tests.fhir_helpers import computed_result
from tests.strategies import valid_answers

Q = load_questionnaire()
WHEN = "2026-11-21T10:00:00Z"
STATUSES = st.sampled_from(["completed", "in-progress", "amended", "stopped"])
IDS = st.one_of(st.none(), st.text(min_size=1, max_size=20).filter(lambda s: s.strip() == s))


@settings(max_examples=150, deadline=None)
@given(answers=valid_answers(Q), respondent=IDS, status=STATUSES)
def test_export_then_import_keeps_answers_and_scores(
    answers: dict[str, Any], respondent: str | None, status: str
) -> None:
    original = score(Q, answers, scored_at=WHEN)
    resource = response_to_fhir(Q, original, respondent_id=respondent, status=status)
    data = json.loads(dumps(resource))
    QuestionnaireResponse.model_validate(data)
    [record] = list(responses_from_fhir(Q, data, "r.json"))
    assert record.error is None
    assert record.respondent_id == (respondent or None)
    assert record.answers == normalize_answers(Q, answers)
    again = score(Q, record.answers, scored_at=WHEN)
    assert again == original
    assert compare_scores(again, record.stored) == []


def _examples(version: str, count: int) -> list[Any]:
    """The first `count` of the questionnaire's own examples with different bands."""
    q = load_questionnaire(version=version)
    picked: dict[str, Any] = {}
    for example in q.examples:
        picked.setdefault(score(q, example.answers).band, example)
    return [(version, example.name) for example in list(picked.values())[:count]]


@pytest.mark.parametrize(("version", "name"), [*_examples("1.0.0", 2), *_examples("1.1.0", 3)])
def test_exported_expressions_compute_the_whole_result(version: str, name: str) -> None:
    """What an SDC form filler computes from the exported expressions (scores, band,
    lower bound, top flag level, alerts in order) is what ketscreen computes: here with
    fhirpathpy, a second FHIRPath engine (slow: a few cases); tests/test_fhir_lforms.py
    runs fhirpath.js, the engine of LHC-Forms, on hundreds."""
    q = load_questionnaire(version=version)
    answers = next(e.answers for e in q.examples if e.name == name)
    result = score(q, answers, scored_at=WHEN)
    response = response_to_fhir(q, result)
    response["item"] = [group for group in response["item"] if group["linkId"] != "result"]
    assert computed_result(questionnaire_to_fhir(q), response) == result_values(result)


@settings(max_examples=25, deadline=None)
@given(many=st.lists(valid_answers(Q), min_size=0, max_size=5))
def test_bundles_round_trip_in_order(many: list[dict[str, Any]]) -> None:
    results = [score(Q, answers, scored_at=WHEN) for answers in many]
    data = json.loads(
        dumps(bundle(response_to_fhir(Q, r, respondent_id=f"p{i}") for i, r in enumerate(results)))
    )
    Bundle.model_validate(data)
    records = list(responses_from_fhir(Q, data, "b.json"))
    assert [r.respondent_id for r in records] == [f"p{i}" for i in range(len(many))]
    assert [score(Q, r.answers, scored_at=WHEN) for r in records] == results
