"""Names shared by the FHIR writers and the reader: canonical URLs, extension URLs, linkIds.

ketscreen has no web address of its own yet, so its canonical URLs live under
`BASE`, a host in the `.example` domain that RFC 2606 reserves: it can never belong to
anyone else, and it says plainly that nothing is published there.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import Any

from ketscreen.core.model import Questionnaire
from ketscreen.core.safe_text import json_safe
from ketscreen.core.texts import DISCLAIMER as _DISCLAIMER
from ketscreen.core.texts import STOP_ANY_TIME
from ketscreen.errors import KetscreenError

BASE = "https://ketscreen.example/fhir"

# Extensions from FHIR core (R4 registry / extensions pack) and from the SDC guide.
_CORE = "http://hl7.org/fhir/StructureDefinition/"
_SDC = "http://hl7.org/fhir/uv/sdc/StructureDefinition/"
EXT_ITEM_WEIGHT = _CORE + "itemWeight"
EXT_ORDINAL_VALUE = _CORE + "ordinalValue"
EXT_OPTION_EXCLUSIVE = _CORE + "questionnaire-optionExclusive"
EXT_HIDDEN = _CORE + "questionnaire-hidden"
EXT_ITEM_CONTROL = _CORE + "questionnaire-itemControl"
EXT_DATA_ABSENT = _CORE + "data-absent-reason"
EXT_CALCULATED = _SDC + "sdc-questionnaire-calculatedExpression"
EXT_ENABLE_WHEN_EXPRESSION = _SDC + "sdc-questionnaire-enableWhenExpression"
EXT_SHORT_TEXT = _SDC + "sdc-questionnaire-shortText"
EXT_VARIABLE = _CORE + "variable"
EXT_PROVENANCE = BASE + "/StructureDefinition/scoring-provenance"

ITEM_CONTROL_SYSTEM = "http://hl7.org/fhir/questionnaire-item-control"
DATA_ABSENT_SYSTEM = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
ASKED_DECLINED = "asked-declined"
RESPONDENT_SYSTEM = BASE + "/respondent-id"
LEVEL_SYSTEM = BASE + "/CodeSystem/flag-level"

# linkIds. Our ids match [a-z][a-z0-9_]*, so a linkId with a dot never collides with one.
SECTION_PREFIX = "section."
RESULT_GROUP = "result"
RESULT_PREFIX = "result."
BAND_LINK = "result.band"
LOWER_BOUND_LINK = "result.lower_bound"
TOP_LEVEL_LINK = "result.top_flag_level"
FLAGS_LINK = "result.flags"

PUBLISHER = "ketscreen project"
SDC_QUESTIONNAIRE_PROFILE = _SDC + "sdc-questionnaire"

RESPONSE_STATUSES = ("in-progress", "completed", "amended", "entered-in-error", "stopped")

DISCLAIMER = f"{_DISCLAIMER} {STOP_ANY_TIME}"


class FhirError(KetscreenError):
    """FHIR data that ketscreen cannot read, or cannot write as asked."""


def questionnaire_url(q: Questionnaire) -> str:
    return f"{BASE}/Questionnaire/{q.id}"


def canonical(q: Questionnaire) -> str:
    """The versioned canonical reference: `url|version`."""
    return f"{questionnaire_url(q)}|{q.version}"


def answer_system(q: Questionnaire) -> str:
    """The code system of the answer codes of questionnaire `q`."""
    return f"{BASE}/CodeSystem/{q.id}"


def item_system(q: Questionnaire) -> str:
    """The code system of the questions of `q` (item.code): one concept per item id."""
    return f"{BASE}/CodeSystem/{q.id}-item"


def band_system(q: Questionnaire) -> str:
    return f"{BASE}/CodeSystem/{q.id}-band"


def flag_system(q: Questionnaire) -> str:
    return f"{BASE}/CodeSystem/{q.id}-flag"


def section_link(section_id: str) -> str:
    return SECTION_PREFIX + section_id


def score_link(score_id: str) -> str:
    return RESULT_PREFIX + score_id


def dumps(resource: dict[str, Any]) -> str:
    """FHIR JSON as ketscreen writes it: UTF-8 text, two-space indent, final newline, and
    control characters escaped (`json_safe`), so it is safe on a terminal too."""
    return json_safe(json.dumps(resource, indent=2, ensure_ascii=False)) + "\n"


def alerts_first(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Result items with the alert level and alerts before the scores and band, so a
    reviewer meets a crisis flag before any reassuring band (CONTENT.md section 4)."""
    return sorted(items, key=lambda item: item["linkId"] not in (TOP_LEVEL_LINK, FLAGS_LINK))


def narrative(paragraphs: Sequence[str]) -> dict[str, str]:
    """A resource's `text`: generated XHTML, one escaped paragraph each."""
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{body}</div>'}
