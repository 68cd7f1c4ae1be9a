"""The exported result expressions, run by fhirpath.js (the FHIRPath engine inside
LHC-Forms) on hundreds of generated responses of every shipped version, give exactly
ketscreen's result: scores, band, the "at least" mark, the top flag level (with
not_assessed) and every alert, most urgent first (#13)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from ketscreen import load_questionnaire, score
from ketscreen.core.conditions import Context
from ketscreen.core.model import DECLINED, ItemType
from ketscreen.io.fhir import questionnaire_to_fhir, response_to_fhir, result_values
from tests.node_helpers import need, run_node

WHEN = "2026-12-01T10:00:00Z"


def _cases(version: str, count: int) -> list[dict[str, Any]]:
    """`count` people, drawn from a fixed seed: each walks the questions in order, as
    skip logic asks them, and leaves one unanswered, declines it, or picks answers; a
    per-person chance of "yes" in each section spreads them over every band and level."""
    q = load_questionnaire(version=version)
    rng = random.Random(f"ketscreen-{version}")
    found: list[dict[str, Any]] = []
    for _ in range(count):
        answers: dict[str, Any] = {}
        use = rng.choice(["yes", "yes", "yes", "prescribed_only", "no"])
        yes = {section.id: rng.random() ** 2 for section in q.sections}
        for item in q.items.values():
            given = {k: tuple(v) if isinstance(v, list) else v for k, v in answers.items()}
            given = {k: v for k, v in given.items() if v != DECLINED}
            if item.enable_when is not None and not item.enable_when.evaluate(Context(given)):
                continue
            roll = rng.random()
            if item.required:
                answers[item.id] = use if use in item.codes else rng.choice(item.codes)
            elif roll < 0.06:
                continue
            elif roll < 0.12 and item.allow_decline:
                answers[item.id] = DECLINED
            elif item.type is ItemType.MULTI:
                picked = [c for c in item.codes if rng.random() < 0.3] or [item.codes[0]]
                answers[item.id] = picked
            elif set(item.codes) == {"yes", "no"}:
                answers[item.id] = "yes" if rng.random() < yes[item.section] else "no"
            elif rng.random() < yes[item.section]:
                answers[item.id] = rng.choice(item.codes[1:])
            else:
                answers[item.id] = item.codes[0]
        found.append(answers)
    return found


def _shown_as_result(shown: dict[str, list[Any]]) -> dict[str, Any]:
    """What the expressions gave, by `result_values` key."""
    out: dict[str, Any] = {}
    for link, values in shown.items():
        key = link.removeprefix("result.")
        out[key] = values if key == "flags" else (values[0] if values else None)
    out["lower_bound"] = bool(out.get("lower_bound"))
    return out


@pytest.mark.parametrize("version", ["1.0.0", "1.1.0"])
def test_fhirpath_js_computes_ketscreens_result(version: str, tmp_path: Path) -> None:
    need()
    q = load_questionnaire(version=version)
    results = [score(q, answers, scored_at=WHEN) for answers in _cases(version, 250)]
    responses = []
    for result in results:
        response = response_to_fhir(q, result)
        response["item"] = [g for g in response["item"] if g["linkId"] != "result"]
        responses.append(response)
    shown = run_node(
        "expressions.cjs",
        {"questionnaire": questionnaire_to_fhir(q), "responses": responses},
        tmp_path,
    )
    assert len(shown) == len(results)
    bands = set()
    levels = set()
    for result, values in zip(results, shown, strict=True):
        assert _shown_as_result(values) == result_values(result), result.answers
        bands.add(result.band)
        levels.add(result.top_level)
    # the generated people reach every band and level, not only the easy ones
    assert bands == {b.id for b in q.band_rule.bands}
    assert levels >= {lv.value for lv in q.levels} | {"not_assessed", None}
