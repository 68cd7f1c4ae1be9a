"""The publishable FHIR package (#13): `ketscreen export fhir --bundle` / `--folder`, and the
release dates it carries (questions/releases.yaml). Medplum validates the same package
in tests/test_fhir_lforms.py."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from typer.testing import CliRunner

from ketscreen import load_questionnaire, score
from ketscreen.cli import app
from ketscreen.errors import ExitCode, QuestionnaireError
from ketscreen.io.fhir import response_to_fhir
from ketscreen.io.fhir.common import BASE, EXT_PROVENANCE
from ketscreen.io.fhir.package import package, package_bundle
from ketscreen.io.questionnaires import (
    builtin_path,
    parse_releases,
    release_of,
    releases,
    shipped,
    unreleased_shipped,
)

runner = CliRunner()
VERSIONS = ("1.0.0", "1.1.0")
CANONICAL_FIELDS = ("url", "version", "name", "status", "experimental", "publisher", "date")


def _bundle(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["export", "fhir", "--bundle", *args])
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _codings(value: Any) -> Iterator[dict[str, Any]]:
    """Every {system, code} anywhere in a resource."""
    if isinstance(value, dict):
        if isinstance(value.get("system"), str) and isinstance(value.get("code"), str):
            yield value
        for inner in value.values():
            yield from _codings(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _codings(inner)


def _defined(resources: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """code system url -> {code: display}, from the package's CodeSystems."""
    return {
        r["url"]: {c["code"]: c["display"] for c in r["concept"]}
        for r in resources
        if r["resourceType"] == "CodeSystem"
    }


@pytest.mark.parametrize("version", VERSIONS)
def test_the_package_is_a_valid_r4_collection_questionnaire_first(version: str) -> None:
    data = _bundle("--version", version)
    Bundle.model_validate(data)
    assert data["type"] == "collection"
    resources = [entry["resource"] for entry in data["entry"]]
    assert resources[0]["resourceType"] == "Questionnaire"
    assert resources[0]["version"] == version
    for entry in data["entry"]:
        r = entry["resource"]
        assert entry["fullUrl"] == f"{BASE}/{r['resourceType']}/{r['id']}"
    assert len({entry["fullUrl"] for entry in data["entry"]}) == len(resources)
    assert sorted(r["resourceType"] for r in resources) == sorted(
        ["Questionnaire", "StructureDefinition"] + ["CodeSystem", "ValueSet"] * 5
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_every_resource_is_a_dated_release_with_narrative_and_profile(version: str) -> None:
    q = load_questionnaire(version=version)
    release = release_of(q)
    assert release is not None
    for r in package(q, release.date):
        where = f"{r['resourceType']}/{r['id']}"
        for key in CANONICAL_FIELDS:
            assert key in r, (where, key)
        assert (r["version"], r["date"], r["experimental"]) == (version, release.date, False)
        assert r["status"] == "active", where
        assert r["publisher"] == "ketscreen project", where
        assert r["meta"]["profile"], where
        assert r["text"]["status"] == "generated", where
        assert r["text"]["div"].startswith('<div xmlns="http://www.w3.org/1999/xhtml"><p>'), where


@pytest.mark.parametrize("version", VERSIONS)
def test_every_code_of_ours_is_defined_in_the_package_with_the_same_display(
    version: str,
) -> None:
    """Terminology-aware validators check codings against their CodeSystem: every
    coding in the Questionnaire and in a response to each of the questionnaire's own
    examples is defined in the package, under the same display."""
    q = load_questionnaire(version=version)
    resources = [e["resource"] for e in _bundle("--version", version)["entry"]]
    defined = _defined(resources)
    responses = [response_to_fhir(q, score(q, example.answers)) for example in q.examples]
    checked = 0
    for resource in [resources[0], *responses]:
        for c in _codings(resource):
            if not c["system"].startswith(BASE + "/CodeSystem/"):
                continue
            assert c["code"] in defined[c["system"]], (c["system"], c["code"])
            if "display" in c:
                assert c["display"] == defined[c["system"]][c["code"]], c
            checked += 1
    assert checked > 100  # the answers, questions, bands, alerts and levels of the form
    # every system is used, and every value set takes all of its system, this version
    value_sets = [r for r in resources if r["resourceType"] == "ValueSet"]
    assert sorted(vs["compose"]["include"][0]["system"] for vs in value_sets) == sorted(defined)
    for vs in value_sets:
        assert vs["compose"]["include"] == [
            {"system": vs["compose"]["include"][0]["system"], "version": version}
        ]
    for cs in resources:
        if cs["resourceType"] == "CodeSystem":
            assert cs["count"] == len(cs["concept"])
            assert cs["valueSet"] in {vs["url"] for vs in value_sets}


def test_the_extension_definition_describes_the_provenance_responses_carry() -> None:
    q = load_questionnaire()
    [definition] = [r for r in package(q) if r["resourceType"] == "StructureDefinition"]
    assert definition["url"] == EXT_PROVENANCE
    assert definition["context"] == [{"type": "element", "expression": "QuestionnaireResponse"}]
    elements = {e["id"]: e for e in definition["differential"]["element"]}
    response = response_to_fhir(q, score(q, {"use_12m": "no"}, scored_at="2026-12-03T10:00:00Z"))
    [written] = [e for e in response["extension"] if e["url"] == EXT_PROVENANCE]
    for part in written["extension"]:
        name = part["url"]
        [value_key] = [k for k in part if k.startswith("value")]
        element = elements[f"Extension.extension:{name}.value[x]"]
        kind = value_key[5].lower() + value_key[6:]  # valueDateTime -> dateTime
        assert element["type"] == [{"code": kind}]
        assert elements[f"Extension.extension:{name}.url"]["fixedUri"] == name
    slices = {e["sliceName"]: e["min"] for e in elements.values() if "sliceName" in e}
    assert slices == {"questionnaireSha256": 1, "toolVersion": 1, "scoredAt": 0}


def test_a_file_that_is_not_a_release_is_experimental_and_undated(tmp_path: Path) -> None:
    edited = tmp_path / "mine.yaml"
    text = builtin_path().read_text(encoding="utf-8")
    edited.write_text(
        text.replace("\ntitle: ", "\ntitle: A local copy of the ", 1), encoding="utf-8"
    )
    resources = [e["resource"] for e in _bundle(str(edited))["entry"]]
    for r in resources:
        assert r["experimental"] is True
        assert "date" not in r
    shipped_one = _bundle()["entry"][0]["resource"]
    assert (shipped_one["experimental"], shipped_one["date"]) == (False, "2026-12-01")


def test_the_folder_holds_one_file_per_resource_and_is_never_overwritten(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "package"
    result = runner.invoke(app, ["export", "fhir", "--folder", str(folder)])
    assert result.exit_code == 0, result.stderr
    assert f"Wrote 12 resources to {folder}" in result.stderr
    expected = {
        f"{e['resource']['resourceType']}-{e['resource']['id']}.json": e["resource"]
        for e in _bundle()["entry"]
    }
    assert sorted(p.name for p in folder.iterdir()) == sorted(expected)
    for name, resource in expected.items():
        assert json.loads((folder / name).read_text(encoding="utf-8")) == resource
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600
    before = (folder / "Questionnaire-ketamine.json").read_bytes()

    again = runner.invoke(app, ["export", "fhir", "--folder", str(folder), "--version", "1.0.0"])
    assert again.exit_code == ExitCode.ERROR
    assert "already exists; use --force to overwrite it" in again.stderr
    assert (folder / "Questionnaire-ketamine.json").read_bytes() == before

    forced = runner.invoke(
        app, ["export", "fhir", "--folder", str(folder), "--version", "1.0.0", "--force"]
    )
    assert forced.exit_code == 0, forced.stderr
    on_disk = json.loads((folder / "Questionnaire-ketamine.json").read_text(encoding="utf-8"))
    assert on_disk["version"] == "1.0.0"
    assert not [p for p in folder.iterdir() if p.suffix != ".json"]  # no temporary files


def test_folder_with_bundle_or_output_is_a_usage_error(tmp_path: Path) -> None:
    for extra in (["--bundle"], ["--output", str(tmp_path / "x.json")]):
        result = runner.invoke(app, ["export", "fhir", "--folder", str(tmp_path), *extra])
        assert result.exit_code == ExitCode.USAGE
        assert "--folder writes one file per resource" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_bundle_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "package.json"
    result = runner.invoke(app, ["export", "fhir", "--bundle", "-o", str(target)])
    assert result.exit_code == 0, result.stderr
    assert json.loads(target.read_text(encoding="utf-8")) == package_bundle(
        package(load_questionnaire(), "2026-12-01")
    )


def test_every_shipped_file_is_a_listed_release() -> None:
    assert unreleased_shipped() == []
    assert {(r.id, r.version) for r in releases()} == {(s.id, s.version) for s in shipped()}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("regions: {}\n", "the top level must be one key, releases:"),
        ("releases: {}\n", "releases: must be a list"),
        ("releases:\n  - id: k\n", "release 1: give exactly id, version, date, sha256"),
        (
            "releases:\n  - {id: k, version: 1.0.0, date: 2026-13-01, sha256: " + "a" * 64 + "}\n",
            "date: write it as YYYY-MM-DD",
        ),
        (
            "releases:\n  - {id: k, version: 1.0.0, date: 2026-12-01, sha256: ABC}\n",
            "sha256: 64 lowercase hexadecimal digits",
        ),
        (
            f"releases:\n  - {{id: k, version: 1.0.0, date: 2026-12-01, sha256: {'a' * 64}}}\n"
            f"  - {{id: k, version: 1.0.0, date: 2026-12-02, sha256: {'b' * 64}}}\n",
            "k 1.0.0 is listed twice",
        ),
    ],
)
def test_a_broken_release_list_names_the_problem(text: str, message: str) -> None:
    with pytest.raises(QuestionnaireError) as caught:
        parse_releases(text.encode(), "releases.yaml")
    assert message in str(caught.value)


def test_validate_checks_a_release_list_file(tmp_path: Path) -> None:
    broken = tmp_path / "releases.yaml"
    broken.write_text("releases:\n  - id: k\n", encoding="utf-8")
    result = runner.invoke(app, ["validate", str(broken)])
    assert result.exit_code == ExitCode.ERROR
    assert "release 1: give exactly id, version, date, sha256" in result.stderr
