"""`ketscreen template`: blank records to prepare data by hand, in every format."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ketscreen import load_questionnaire
from ketscreen.cli import app
from ketscreen.errors import ExitCode
from ketscreen.io.batch.formats import TemplateFormat
from ketscreen.io.batch.template import render_template
from tests.batch_helpers import ASSETS

Q = load_questionnaire()
IDS = ["respondent_id", *Q.items, "questionnaire_version"]
cli = CliRunner()


def template(*args: str) -> str:
    result = cli.invoke(app, ["template", *args])
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("fmt", list(TemplateFormat))
def test_every_format_names_every_item_in_order(fmt: TemplateFormat) -> None:
    text = template("--format", fmt.value)
    if fmt is TemplateFormat.CSV:
        header, blank = list(csv.reader(io.StringIO(text)))
        assert header == IDS and blank == [""] * (len(IDS) - 1) + ["1.1.0"]
    elif fmt is TemplateFormat.JSONL:
        record = json.loads(text)
        assert list(record) == IDS
        assert record["routes"] == [] and record["use_12m"] == ""
        assert record["questionnaire_version"] == "1.1.0"
    else:
        record = yaml.safe_load(text)
        assert list(record) == IDS
        assert record["routes"] == [] and record["use_12m"] is None
        assert record["questionnaire_version"] == "1.1.0"


def test_csv_is_the_default() -> None:
    assert template() == render_template(Q, TemplateFormat.CSV)


def test_yaml_lists_allowed_codes_and_skip_logic_as_comments() -> None:
    text = template("-f", "yaml")
    assert "# Ketamine use in the past 12 months (one code; required)\n" in text
    assert "#   allowed: yes, prescribed_only, no\nuse_12m:\n" in text
    assert (
        "# How ketamine was taken (a list of codes; asked when use_12m = yes)\n"
        "#   allowed: snort, swallow, inject, smoke, other, declined\nroutes: []\n"
    ) in text
    assert "#   allowed: no, past_month, now, declined\nself_harm:\n" in text


def test_a_filled_in_csv_template_scores(tmp_path: Path) -> None:
    header, _ = list(csv.reader(io.StringIO(template())))
    path = tmp_path / "filled.csv"
    row = dict.fromkeys(header, "")
    row.update(respondent_id="me", use_12m="no", self_harm="no", questionnaire_version="1.1.0")
    path.write_text(",".join(header) + "\n" + ",".join(row[h] for h in header) + "\n")
    result = cli.invoke(app, ["score", str(path)])
    assert result.exit_code == ExitCode.OK
    assert "no_recent_use" in result.stdout


def test_template_for_another_questionnaire() -> None:
    text = template("-f", "jsonl", "--questionnaire", str(ASSETS / "generic.yaml"))
    assert list(json.loads(text)) == [
        "respondent_id",
        "used",
        "kinds",
        "sign1",
        "sign2",
        "level",
        "note",
        "questionnaire_version",
    ]


def test_a_filled_in_template_of_an_older_version_is_scored_with_it(tmp_path: Path) -> None:
    path = tmp_path / "old.jsonl"
    record = json.loads(template("-f", "jsonl", "--version", "1.0.0"))
    record.update(respondent_id="me", use_12m="no", self_harm="no")
    path.write_text(json.dumps(record) + "\n")
    result = cli.invoke(app, ["score", str(path), "--format", "jsonl"])
    assert result.exit_code == ExitCode.OK, result.stdout
    assert json.loads(result.stdout)["questionnaire_version"] == "1.0.0"


def test_unknown_template_format_is_a_usage_error() -> None:
    assert cli.invoke(app, ["template", "-f", "xml"]).exit_code == ExitCode.USAGE
