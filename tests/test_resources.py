"""Regions and helplines (CONTENT.md section 6)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ketscreen.cli import app
from ketscreen.errors import QuestionnaireError
from ketscreen.io.files import data_dir
from ketscreen.io.resources import (
    REGIONS,
    RegionError,
    choose_region,
    load_resources,
    parse_resources,
)

runner = CliRunner()

EXPECTED_NUMBERS = {
    "US": ["911", "988", "1-800-662-4357", "1-800-487-4889", "1-800-222-1222"],
    "UK": ["999", "111", "116 123", "0300 123 6600", "82111", "85258"],
    "CA": ["911", "988", "1-888-688-6677"],
    "AU": ["000", "13 11 14", "1800 250 015", "13 11 26"],
    "IE": ["112 or 999", "116 123", "1800 459 459", "50808"],
    "INTL": ["findahelpline.com"],
}


@pytest.mark.parametrize("code", REGIONS)
def test_every_region_has_its_checked_numbers(code: str) -> None:
    region = load_resources()[code]
    contacts = " ".join(s.contact for s in region.services)
    for number in EXPECTED_NUMBERS[code]:
        assert number in contacts
    assert region.crisis_line.kind == "crisis"
    assert region.of_kind("emergency")
    assert all(s.checked == "2026-11" for s in region.services)


@pytest.mark.parametrize(
    ("option", "env", "expected", "how"),
    [
        ("uk", {}, "UK", "option"),
        ("GB", {}, "UK", "option"),
        (" ie ", {"KETSCREEN_REGION": "US"}, "IE", "option"),
        (None, {"KETSCREEN_REGION": "au"}, "AU", "environment"),
        (None, {"KETSCREEN_REGION": "AU", "LANG": "en_GB.UTF-8"}, "AU", "environment"),
        (None, {"LANG": "en_GB.UTF-8"}, "UK", "locale"),
        (None, {"LC_ALL": "fr_CA.UTF-8", "LANG": "en_US.UTF-8"}, "CA", "locale"),
        (None, {"LANG": "en_IE@euro"}, "IE", "locale"),
        (None, {"LANG": "de_DE.UTF-8"}, "INTL", "fallback"),
        (None, {"LANG": "C"}, "INTL", "fallback"),
        (None, {}, "INTL", "fallback"),
    ],
)
def test_region_choice_order(
    option: str | None, env: dict[str, str], expected: str, how: str
) -> None:
    choice = choose_region(option, env)
    assert (choice.code, choice.how, choice.warning) == (expected, how, None)


def test_unknown_region_option_is_a_usage_error() -> None:
    with pytest.raises(
        RegionError, match="--region 'XX' is not known; use one of US, UK, CA, AU, IE, INTL"
    ):
        choose_region("XX", {})
    result = runner.invoke(app, ["resources", "--region", "XX"])
    assert result.exit_code == 2
    assert "Error: --region 'XX' is not known" in result.stderr


def test_unknown_region_in_environment_warns_and_falls_back() -> None:
    choice = choose_region(None, {"KETSCREEN_REGION": "Mars", "LANG": "en_AU.UTF-8"})
    assert (choice.code, choice.how) == ("AU", "locale")
    assert choice.warning is not None and "KETSCREEN_REGION='Mars' is not known" in choice.warning


def test_resources_command_shows_the_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KETSCREEN_REGION", "uk")
    result = runner.invoke(app, ["resources"], env={"COLUMNS": "100"})
    assert result.exit_code == 0
    assert "Services and helplines: United Kingdom (UK), from KETSCREEN_REGION" in result.stdout
    for text in ("Samaritans", "116 123", "FRANK", "NHS 111", "Call 999"):
        assert text in result.stdout


def test_resources_command_warns_on_a_bad_environment_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KETSCREEN_REGION", "nowhere")
    result = runner.invoke(app, ["resources"])
    assert result.exit_code == 0
    assert "Warning: KETSCREEN_REGION='nowhere' is not known" in result.stderr
    assert "Services and helplines: International (INTL), no region detected" in result.stdout


SHIPPED = (data_dir() / "resources.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("  INTL:\n", "  XX:\n", "unknown region 'XX'"),
        ("  INTL:\n", "  XX:\n", "region INTL is missing"),
        (
            "kind: poison",
            "kind: advert",
            "kind must be one of emergency, crisis, drugs, medical, poison",
        ),
        (
            "crisis_line: samaritans\n    urgent_care: NHS",
            "crisis_line: frank\n    urgent_care: NHS",
            "region UK: crisis_line must name one of its crisis services",
        ),
        ("        hours: 24/7, free\n", "        hour: 24/7, free\n", "unknown key 'hour'"),
    ],
)
def test_bad_resources_are_reported(old: str, new: str, message: str, tmp_path: Path) -> None:
    assert old in SHIPPED
    with pytest.raises(QuestionnaireError) as caught:
        parse_resources(SHIPPED.replace(old, new, 1).encode(), "r.yaml")
    assert any(message in str(p) for p in caught.value.problems)
    path = tmp_path / "r.yaml"
    path.write_text(SHIPPED.replace(old, new, 1), encoding="utf-8")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1 and message in result.stderr


def test_resources_top_level_must_be_regions() -> None:
    with pytest.raises(QuestionnaireError, match="one key, regions:"):
        parse_resources(b"regions: {}\nother: 1\n", "r.yaml")
