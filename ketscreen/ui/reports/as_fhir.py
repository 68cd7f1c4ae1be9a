"""The report as an HL7 FHIR R4 QuestionnaireResponse, for a clinic's record system.

The session's answers and result, as `ketscreen.io.fhir` writes every response: the
client id as the subject's identifier, the counselor as author, the session's status
(the same words as FHIR's), and `authored` at the session's last change. Notes and the
event trail stay in the other formats: they are free text about the client.
"""

from __future__ import annotations

from ketscreen.io.fhir import dumps, response_to_fhir
from ketscreen.ui.reports.content import SessionReport


class FhirFormat:
    suffix = ".fhir.json"

    def format(self, report: SessionReport) -> str:
        session = report.session
        resource = response_to_fhir(
            report.questionnaire,
            report.result,
            respondent_id=session.client,
            author=session.counselor,
            status=session.status.value,
            authored=session.updated,
            resource_id=session.id,
        )
        return dumps(resource)
