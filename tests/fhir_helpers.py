"""Helpers for the FHIR tests: walking items, FHIRPath with the R4 model, enableWhen."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fhirpathpy import evaluate as fhirpath_evaluate
from fhirpathpy.models import models


def evaluate(resource: dict[str, Any], expression: str) -> Any:
    """FHIRPath on a response, with the R4 model (needed to resolve `answer.value`)."""
    return fhirpath_evaluate(resource, expression, {"resource": resource}, models["r4"])


def walk(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for item in items:
        yield item
        yield from walk(item.get("item", []))
        for answer in item.get("answer", []):
            yield from walk(answer.get("item", []))


def by_link(resource: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["linkId"]: item for item in walk(resource["item"])}


def enable_when_holds(item: dict[str, Any], response: dict[str, Any]) -> bool:
    """Evaluate our kind of enableWhen (`=` on codings) against a response."""
    answers = by_link(response)
    results = []
    for rule in item.get("enableWhen", []):
        assert rule["operator"] == "="
        given = answers.get(rule["question"], {}).get("answer", [])
        results.append(any(a.get("valueCoding") == rule["answerCoding"] for a in given))
    if not results:
        return True
    return all(results) if item.get("enableBehavior") == "all" else any(results)
