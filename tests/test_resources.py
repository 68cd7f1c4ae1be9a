"""Regions and helplines (CONTENT.md section 6)."""

from __future__ import annotations

import re
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
    "UK": ["999", "111", "116 123", "0300 123 6600", "82111", "85258", "0800 1111"],
    "CA": ["911", "988", "1-888-688-6677", "1-800-668-6868", "686868", "1-844-764-7669"],
    "AU": ["000", "13 11 14", "1800 250 015", "13 11 26", "1800 55 1800", "13 92 76"],
    "IE": ["112 or 999", "116 123", "1800 459 459", "50808", "1800 247 247", "1800 66 66 66"],
    "INTL": ["findahelpline.com"],
}
ADDED_IN_1_1 = {
    "UK": {"nhs24", "ni_gp_ooh", "childline"},
    "CA": {"kids_help_phone", "poison", "nors"},
    "AU": {"yarn13", "kids_helpline"},
    "IE": {"pieta", "childline"},
}


@pytest.mark.parametrize("code", REGIONS)
def test_every_region_has_its_checked_numbers(code: str) -> None:
    region = load_resources()[code]
    contacts = " ".join(s.contact for s in region.services)
    for number in EXPECTED_NUMBERS[code]:
        assert number in contacts
    assert region.crisis_line.kind == "crisis"
    assert region.of_kind("emergency")
    for service in region.services:
        # when, and in what public source, each entry was confirmed
        assert re.fullmatch(r"20\d\d-\d\d, .{10,}", service.checked), service.id
        if service.id in ADDED_IN_1_1.get(code, set()):
            assert service.checked.startswith("2026-12, "), service.id
            assert "." in service.checked.split(", ", 1)[1]  # names a page


def test_uk_urgent_care_names_each_nation_and_nors_says_what_it_does() -> None:
    resources = load_resources()
    route = resources["UK"].urgent_care
    assert "England and Wales" in route and "NHS 24" in route and "Northern Ireland" in route
    nors = next(s for s in resources["CA"].services if s.id == "nors")
    assert "stays on the line" in nors.contact


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
            "crisis_line: samaritans\n    urgent_care: >-\n      NHS",
            "crisis_line: frank\n    urgent_care: >-\n      NHS",
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
    with pytest.raises(QuestionnaireError, match="top level must be a mapping with regions:"):
        parse_resources(b"regions: {}\nother: 1\n", "r.yaml")
