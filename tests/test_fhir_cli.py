"""`ketscreen export fhir`: JSON on stdout, or a private file written only with --force."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from fhir.resources.R4B.questionnaire import Questionnaire as FhirQuestionnaire
from typer.testing import CliRunner

from ketscreen.cli import app
from ketscreen.errors import ExitCode
from ketscreen.io.questionnaires import builtin_path

runner = CliRunner()


def test_export_fhir_prints_the_questionnaire_to_stdout() -> None:
    result = runner.invoke(app, ["export", "fhir"])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    data = json.loads(result.stdout)
    FhirQuestionnaire.model_validate(data)
    assert (data["resourceType"], data["version"]) == ("Questionnaire", "1.1.0")


def test_export_fhir_to_a_file_is_private_and_never_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "ketamine.fhir.json"
    result = runner.invoke(app, ["export", "fhir", "-o", str(target)])
    assert result.exit_code == 0, result.stderr
    assert (result.stdout, result.stderr) == ("", f"Wrote {target}\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    first = target.read_text(encoding="utf-8")
    assert json.loads(first)["resourceType"] == "Questionnaire"

    target.write_text("keep me", encoding="utf-8")
    result = runner.invoke(app, ["export", "fhir", "--output", str(target)])
    assert result.exit_code == ExitCode.ERROR
    assert result.stderr == f"Error: {target} already exists; use --force to overwrite it\n"
    assert target.read_text(encoding="utf-8") == "keep me"

    result = runner.invoke(app, ["export", "fhir", "-o", str(target), "--force"])
    assert result.exit_code == 0
    assert target.read_text(encoding="utf-8") == first


def test_export_fhir_of_a_given_file_and_of_a_bad_one(tmp_path: Path) -> None:
    builtin = builtin_path()
    result = runner.invoke(app, ["export", "fhir", str(builtin)])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["url"].endswith("/Questionnaire/ketamine")

    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\n", encoding="utf-8")
    result = runner.invoke(app, ["export", "fhir", str(broken)])
    assert result.exit_code == ExitCode.ERROR
    assert result.stdout == ""
    assert "problem" in result.stderr


def test_export_without_a_format_shows_help() -> None:
    result = runner.invoke(app, ["export"])
    assert result.exit_code == ExitCode.USAGE
    assert "fhir" in result.stdout + result.stderr
