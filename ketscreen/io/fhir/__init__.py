"""HL7 FHIR R4 interoperability: pure functions on JSON-ready dicts, no FHIR library.

- `questionnaire_to_fhir(q)`: the questionnaire as an SDC-style Questionnaire;
- `response_to_fhir(q, result, ...)`: one scored response as a QuestionnaireResponse;
- `bundle(resources)`: a collection Bundle;
- `package.package(q, date)`: the publishable package (code systems, value sets and
  extension definitions beside the Questionnaire), `package.package_bundle` as a Bundle;
- `responses_from_fhir(q, data, source)`: QuestionnaireResponses (one or a Bundle) read
  back as answers to re-score and the scores they stored; `compare_scores` lists where
  stored and recomputed results disagree.
"""

from __future__ import annotations

from ketscreen.io.fhir.common import DISCLAIMER, FhirError, canonical, dumps
from ketscreen.io.fhir.questionnaire import questionnaire_to_fhir
from ketscreen.io.fhir.read import (
    FhirRecord,
    compare_scores,
    is_fhir,
    read_response,
    responses_from_fhir,
    result_values,
    verify_scores,
)
from ketscreen.io.fhir.response import bundle, response_to_fhir

__all__ = [
    "DISCLAIMER",
    "FhirError",
    "FhirRecord",
    "bundle",
    "canonical",
    "compare_scores",
    "dumps",
    "is_fhir",
    "questionnaire_to_fhir",
    "read_response",
    "response_to_fhir",
    "responses_from_fhir",
    "result_values",
    "verify_scores",
]
