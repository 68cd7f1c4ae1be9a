"""A publishable FHIR package for one questionnaire version: the Questionnaire, a
CodeSystem and a ValueSet for every code system of ours that it or its responses use,
and a StructureDefinition for each of our extensions.

Every resource is one publication of questionnaire `id|version`: it carries that
version, the release date (`releases.yaml`; none for a draft), `publisher`, `status`,
`experimental` (true for a file that is not a release), narrative and `meta.profile`
(HL7's shareable profiles for code systems and value sets). HL7's own systems
(data-absent-reason, questionnaire-item-control) are theirs to publish, not ours.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ketscreen.core.model import DECLINED, Questionnaire
from ketscreen.core.scoring import NOT_ASSESSED
from ketscreen.io.fhir.common import (
    BASE,
    EXT_PROVENANCE,
    LEVEL_SYSTEM,
    PUBLISHER,
    answer_system,
    band_system,
    flag_system,
    item_system,
    narrative,
)
from ketscreen.io.fhir.questionnaire import NOT_ASSESSED_DISPLAY, questionnaire_to_fhir

FHIR_VERSION = "4.0.1"
_CORE = "http://hl7.org/fhir/StructureDefinition/"
SHAREABLE_CODE_SYSTEM = _CORE + "shareablecodesystem"
SHAREABLE_VALUE_SET = _CORE + "shareablevalueset"
# R4 has no shareable profile for StructureDefinition; the resource's own is claimed.
STRUCTURE_DEFINITION_PROFILE = _CORE + "StructureDefinition"


@dataclass(frozen=True)
class Concept:
    code: str
    display: str
    definition: str


@dataclass(frozen=True)
class System:
    """One code system of ours: where it is used, and its concepts."""

    url: str
    name: str
    title: str
    description: str
    concepts: tuple[Concept, ...]


def _id(url: str) -> str:
    """The resource id of a canonical URL of ours: its last part, FHIR-safe."""
    return url.rsplit("/", 1)[1].replace("_", "-")


def _name(title: str) -> str:
    """A computable name (FHIR: starts upper case, letters and digits only)."""
    words = "".join(ch if ch.isalnum() else " " for ch in title).split()
    return "".join(word[:1].upper() + word[1:] for word in words)


def code_systems(q: Questionnaire) -> tuple[System, ...]:
    """Every code system of ours that `q`'s Questionnaire and responses use."""
    answers: dict[str, Concept] = {}
    for item in q.items.values():
        for choice in item.choices:
            if choice.code != DECLINED and choice.code not in answers:
                answers[choice.code] = Concept(choice.code, choice.label, f"Answer: {choice.label}")
    items = tuple(Concept(item.id, item.short, item.text) for item in q.items.values())
    bands = tuple(Concept(b.id, b.label, b.headline) for b in q.band_rule.bands)
    flags = tuple(
        Concept(rule.id, rule.label, f"{q.levels[rule.level].label}: {rule.label}")
        for rule in q.flags
    )
    levels = tuple(
        Concept(level.value, info.label, info.advice)
        for level, info in sorted(q.levels.items(), key=lambda pair: pair[0].rank)
    ) + (
        Concept(
            NOT_ASSESSED,
            NOT_ASSESSED_DISPLAY,
            "No alert was raised, but a safety question was asked and has no answer.",
        ),
    )
    title = q.title
    found = [
        System(
            answer_system(q),
            "Answers",
            f"{title}: answers",
            "The answer codes of the questions.",
            tuple(answers.values()),
        ),
        System(
            item_system(q),
            "Questions",
            f"{title}: questions",
            "One code per question (Questionnaire item.code).",
            items,
        ),
        System(
            band_system(q),
            "Bands",
            f"{title}: result bands",
            "The result bands, one per outcome.",
            bands,
        ),
        System(
            flag_system(q), "Alerts", f"{title}: alerts", "The alerts a response can raise.", flags
        ),
        System(
            LEVEL_SYSTEM,
            "AlertLevels",
            "ketscreen alert levels",
            "How urgent an alert is, most urgent first, and 'not assessed'.",
            levels,
        ),
    ]
    return tuple(s for s in found if s.concepts)  # FHIR JSON allows no empty lists


def _common(q: Questionnaire, date: str | None) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "version": q.version,
        "status": "active",
        "experimental": date is None,
    }
    if date is not None:
        fields["date"] = date
    fields["publisher"] = PUBLISHER
    return fields


def code_system_to_fhir(q: Questionnaire, system: System, date: str | None) -> dict[str, Any]:
    listed = [f"{c.code}: {c.display}" for c in system.concepts]
    return {
        "resourceType": "CodeSystem",
        "id": _id(system.url),
        "meta": {"profile": [SHAREABLE_CODE_SYSTEM]},
        "text": narrative([system.title, system.description, *listed]),
        "url": system.url,
        "name": _name(f"{q.id} {system.name}"),
        "title": system.title,
        **_common(q, date),
        "description": f"{system.description} Questionnaire {q.id} version {q.version}.",
        "caseSensitive": True,
        "valueSet": value_set_url(system),
        "content": "complete",
        "count": len(system.concepts),
        "concept": [
            {"code": c.code, "display": c.display, "definition": c.definition}
            for c in system.concepts
        ],
    }


def value_set_url(system: System) -> str:
    return system.url.replace("/CodeSystem/", "/ValueSet/", 1)


def value_set_to_fhir(q: Questionnaire, system: System, date: str | None) -> dict[str, Any]:
    return {
        "resourceType": "ValueSet",
        "id": _id(value_set_url(system)),
        "meta": {"profile": [SHAREABLE_VALUE_SET]},
        "text": narrative([f"{system.title}: every code of {system.url}, version {q.version}."]),
        "url": value_set_url(system),
        "name": _name(f"{q.id} {system.name}"),
        "title": system.title,
        **_common(q, date),
        "description": f"Every code of {system.title} ({system.url}).",
        "compose": {"include": [{"system": system.url, "version": q.version}]},
    }


_PROVENANCE_PARTS = (
    ("questionnaireSha256", "string", 1, "SHA-256 of the questionnaire file's bytes"),
    ("toolVersion", "string", 1, "The ketscreen version that scored the response"),
    ("scoredAt", "dateTime", 0, "When the response was scored"),
)


def provenance_definition(q: Questionnaire, date: str | None) -> dict[str, Any]:
    """The StructureDefinition of the `scoring-provenance` extension (a complex
    extension on QuestionnaireResponse, as `response_to_fhir` writes it)."""
    root = "Extension"
    elements: list[dict[str, Any]] = [
        {
            "id": root,
            "path": root,
            "short": "How ketscreen scored this response",
            "definition": "The questionnaire file (by hash), the tool version and the time "
            "that produced the stored result, so that it can be checked.",
            "min": 0,
            "max": "1",
        },
        {
            "id": f"{root}.extension",
            "path": f"{root}.extension",
            "slicing": {"discriminator": [{"type": "value", "path": "url"}], "rules": "closed"},
            "min": 2,
        },
    ]
    for name, kind, low, short in _PROVENANCE_PARTS:
        slice_id = f"{root}.extension:{name}"
        elements += [
            {
                "id": slice_id,
                "path": f"{root}.extension",
                "sliceName": name,
                "short": short,
                "definition": f"{short}.",
                "min": low,
                "max": "1",
            },
            {"id": f"{slice_id}.extension", "path": f"{root}.extension.extension", "max": "0"},
            {"id": f"{slice_id}.url", "path": f"{root}.extension.url", "fixedUri": name},
            {
                "id": f"{slice_id}.value[x]",
                "path": f"{root}.extension.value[x]",
                "min": 1,
                "type": [{"code": kind}],
            },
        ]
    elements += [
        {"id": f"{root}.url", "path": f"{root}.url", "fixedUri": EXT_PROVENANCE},
        {"id": f"{root}.value[x]", "path": f"{root}.value[x]", "max": "0"},
    ]
    parts = ", ".join(f"{name} ({kind})" for name, kind, _, _ in _PROVENANCE_PARTS)
    return {
        "resourceType": "StructureDefinition",
        "id": _id(EXT_PROVENANCE),
        "meta": {"profile": [STRUCTURE_DEFINITION_PROFILE]},
        "text": narrative(
            [
                "ketscreen scoring provenance: an extension on QuestionnaireResponse.",
                f"Parts: {parts}.",
            ]
        ),
        "url": EXT_PROVENANCE,
        "name": "ScoringProvenance",
        "title": "ketscreen scoring provenance",
        **_common(q, date),
        "description": "How ketscreen scored a QuestionnaireResponse: the questionnaire "
        "file's SHA-256, the tool version and when.",
        "fhirVersion": FHIR_VERSION,
        "kind": "complex-type",
        "abstract": False,
        "context": [{"type": "element", "expression": "QuestionnaireResponse"}],
        "type": "Extension",
        "baseDefinition": _CORE + "Extension",
        "derivation": "constraint",
        "differential": {"element": elements},
    }


def package(q: Questionnaire, date: str | None = None) -> list[dict[str, Any]]:
    """Every resource of the package, the Questionnaire first."""
    resources = [questionnaire_to_fhir(q, date=date)]
    systems = code_systems(q)
    resources += [code_system_to_fhir(q, s, date) for s in systems]
    resources += [value_set_to_fhir(q, s, date) for s in systems]
    resources.append(provenance_definition(q, date))
    return resources


def full_url(resource: dict[str, Any]) -> str:
    """The RESTful address of a resource under BASE: `BASE/Type/id`."""
    return f"{BASE}/{resource['resourceType']}/{resource['id']}"


def package_bundle(resources: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """A `collection` Bundle of the package, entries with their fullUrl."""
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": full_url(r), "resource": r} for r in resources],
    }


def file_name(resource: dict[str, Any]) -> str:
    """`Type-id.json`, the file name FHIR packages and the IG publisher use."""
    return f"{resource['resourceType']}-{resource['id']}.json"
