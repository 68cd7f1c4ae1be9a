"""Helpers for the FHIR tests: walking items, FHIRPath with the R4 model, enableWhen."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fhirpathpy import compile as fhirpath_compile
from fhirpathpy import evaluate as fhirpath_evaluate
from fhirpathpy.models import models


def evaluate(resource: dict[str, Any], expression: str) -> Any:
    """FHIRPath on a response, with the R4 model (needed to resolve `answer.value`)."""
    return fhirpath_evaluate(resource, expression, {"resource": resource}, models["r4"])


_COMPILED: dict[tuple[str, int], Any] = {}


def _weights(questionnaire: dict[str, Any]) -> dict[str, float]:
    """Answer code -> weight, from the options that carry one (the codes of our scored
    items have one weight each, which this checks)."""
    found: dict[str, float] = {}
    for item in walk(questionnaire["item"]):
        for option in item.get("answerOption", []):
            for ext in option.get("extension", []):
                if ext["url"].endswith("/itemWeight"):
                    code = option["valueCoding"]["code"]
                    assert found.setdefault(code, ext["valueDecimal"]) == ext["valueDecimal"]
    return found


def computed_result(questionnaire: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    """What an SDC form filler computes for the `result` items of `questionnaire` from
    the answers in `response`: the group's variables in order, then each item's
    calculatedExpression where its enableWhen holds. By key, as `result_values` gives
    them. fhirpathpy has no SDC `weight()`, so it is given one here."""
    weights = _weights(questionnaire)
    table = {
        "weight": {
            "fn": lambda inputs: [weights[c["code"]] for c in inputs if c.get("code") in weights],
            "arity": {0: []},
        }
    }
    group = next(i for i in questionnaire["item"] if i["linkId"] == "result")
    env: dict[str, Any] = {"resource": response, "questionnaire": questionnaire}

    def run(expression: str) -> Any:
        key = (expression, id(questionnaire))
        if key not in _COMPILED:
            _COMPILED[key] = fhirpath_compile(
                expression, models["r4"], {"userInvocationTable": table}
            )
        return _COMPILED[key](response, env)

    for ext in group["extension"]:
        env[ext["valueExpression"]["name"]] = run(ext["valueExpression"]["expression"])
    out: dict[str, Any] = {}
    for item in group["item"]:
        key = item["linkId"].removeprefix("result.")
        expression = item["extension"][0]["valueExpression"]["expression"]
        value = run(expression) if enable_when_holds(item, response) else []
        if item["type"] == "choice":
            value = [coding["code"] for coding in value]
        out[key] = value if item.get("repeats") else (value[0] if value else None)
    if out.get("lower_bound") is None:
        out["lower_bound"] = False
    return out


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
