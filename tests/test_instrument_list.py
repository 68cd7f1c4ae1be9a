"""`ketscreen list`: the installed instruments and versions, the default marked (#14)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ketscreen import load_questionnaire
from ketscreen.cli import app, main
from ketscreen.errors import ExitCode
from ketscreen.io import questionnaires
from ketscreen.io.questionnaires import builtin_path, shipped

runner = CliRunner()


def synthetic(identity: str, version: str, title: str) -> str:
    """The default questionnaire's text as another instrument: its own id, version, title."""
    text = builtin_path().read_text(encoding="utf-8")
    for key, value in (("id", identity), ("version", version), ("title", title)):
        text = re.sub(rf"^{key}: .*$", f"{key}: {value}", text, count=1, flags=re.M)
    return text


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A questions folder of two made-up instruments; 1.10.0 is newer than 1.2.0."""
    for name, identity, version, title in (
        ("alpha-1.2.0.yaml", "alpha", "1.2.0", "Alpha check"),
        ("zz-alpha-newest.yaml", "alpha", "1.10.0", "Alpha check, revised"),
        ("alpha-1.0.0.yaml", "alpha", "1.0.0", "Alpha check"),
        ("beta.yaml", "beta", "2.0.0", "Beta scale"),
    ):
        (tmp_path / name).write_text(synthetic(identity, version, title), encoding="utf-8")
    (tmp_path / "resources.yaml").write_text("not: a questionnaire\n", encoding="utf-8")
    monkeypatch.setattr(questionnaires, "data_dir", lambda: tmp_path)
    questionnaires.shipped.cache_clear()
    yield tmp_path
    questionnaires.shipped.cache_clear()


def lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


def test_the_table_lists_every_version_with_its_title_and_marks_the_default(
    registry: Path,
) -> None:
    result = runner.invoke(app, ["list"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert lines(result.stdout) == [
        "",
        " Instrument   Version            Title",
        " " + "─" * 52,
        " alpha        1.0.0              Alpha check",
        " alpha        1.2.0              Alpha check",
        " alpha        1.10.0 (default)   Alpha check, revised",
        " beta         2.0.0 (default)    Beta scale",
        "",
        "2 instruments, 4 versions. (default): the newest version, used for new",
        "screenings. Saved sessions and records are scored with the version they were",
        "made with.",
    ]


def test_json_for_scripts(registry: Path) -> None:
    result = runner.invoke(app, ["list", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    listed = json.loads(result.stdout)
    assert [(e["instrument"], e["version"], e["default"]) for e in listed] == [
        ("alpha", "1.0.0", False),
        ("alpha", "1.2.0", False),
        ("alpha", "1.10.0", True),
        ("beta", "2.0.0", True),
    ]
    assert [e["title"] for e in listed][2:] == ["Alpha check, revised", "Beta scale"]
    for entry in listed:
        loaded = load_questionnaire(instrument=entry["instrument"], version=entry["version"])
        assert entry["sha256"] == loaded.sha256  # the hash sessions and batch rows record
    assert set(listed[0]) == {"instrument", "version", "title", "default", "sha256"}


def test_a_60_column_terminal_shows_every_title_whole(registry: Path) -> None:
    result = runner.invoke(app, ["list"], env={"COLUMNS": "60"})
    assert result.exit_code == 0
    assert all(len(line) <= 60 for line in result.stdout.splitlines())
    assert " alpha        1.10.0 (default)   Alpha check, revised" in lines(result.stdout)


def test_the_shipped_instruments_and_the_default_new_screenings_use() -> None:
    listed = json.loads(runner.invoke(app, ["list", "--format", "json"]).stdout)
    assert [(e["instrument"], e["version"]) for e in listed] == [
        (s.id, s.version) for s in shipped()
    ]
    for instrument in {e["instrument"] for e in listed}:
        defaults = [e for e in listed if e["instrument"] == instrument and e["default"]]
        newest = load_questionnaire(instrument=instrument)  # what a new screening loads
        assert [(e["version"], e["title"]) for e in defaults] == [(newest.version, newest.title)]
    table = runner.invoke(app, ["list"], env={"COLUMNS": "100"}).stdout
    for entry in listed:
        mark = " (default)" if entry["default"] else ""
        assert re.search(
            rf"^ {entry['instrument']} +{re.escape(entry['version'] + mark)} +"
            rf"{re.escape(entry['title'])}",
            table,
            re.M,
        ), entry


def test_a_bad_format_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--format", "csv"]) == ExitCode.USAGE
    assert capsys.readouterr() == (
        "",
        "Error: Invalid value for '--format': 'csv' is not one of 'table', 'json'; "
        "see ketscreen list --help\n",
    )


def test_no_shipped_questionnaire_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ketscreen.io import files

    monkeypatch.setattr(questionnaires, "data_dir", lambda: tmp_path)
    monkeypatch.setattr(files, "data_dir", lambda: tmp_path)
    questionnaires.shipped.cache_clear()
    try:
        result = runner.invoke(app, ["list"])
    finally:
        questionnaires.shipped.cache_clear()
    assert (result.exit_code, result.stdout) == (ExitCode.ERROR, "")
    assert result.stderr == (
        f"Error: no questionnaire ships with this ketscreen (looked in {tmp_path}); "
        "reinstall ketscreen\n"
    )


def test_a_broken_shipped_file_is_named_without_a_traceback(registry: Path) -> None:
    (registry / "gamma-1.0.0.yaml").write_text("id: gamma\nversion: 1.0.0\n", encoding="utf-8")
    result = runner.invoke(app, ["list"])
    assert (result.exit_code, result.stdout) == (ExitCode.ERROR, "")
    assert result.stderr.startswith("gamma-1.0.0.yaml:")
    assert result.stderr.splitlines()[-1].endswith("found; fix the file and try again")
    assert "Traceback" not in result.stderr
