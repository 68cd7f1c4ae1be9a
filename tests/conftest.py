"""Shared fixtures: isolated user folders, a deterministic environment, the questionnaire."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from ketscreen import load_questionnaire
from ketscreen.core.model import Questionnaire

ASSETS = Path(__file__).parent / "assets"

# CI is reproducible and a busy machine is not a failure: the same examples every run
# (derandomized, no example database) and no per-example deadline. For a wider, random
# search on your own machine: HYPOTHESIS_PROFILE=explore python -m pytest ...
settings.register_profile("ci", derandomize=True, database=None, deadline=None)
settings.register_profile("explore", deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


SDS_ANSWERS = {
    "sds_control": "often",
    "sds_anxious": "sometimes",
    "sds_worry": "often",
    "sds_wish_stop": "always",
    "sds_difficulty": "very_difficult",
}
"""A full SDS response (total 2 + 1 + 2 + 3 + 2 = 10)."""


@pytest.fixture(autouse=True)
def isolated_env(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Point KETSCREEN_HOME at a temp folder and remove settings that change output."""
    home = tmp_path_factory.mktemp("ketscreen-home")
    monkeypatch.setenv("KETSCREEN_HOME", str(home))
    for name in (
        "KETSCREEN_REGION",
        "NO_COLOR",
        "FORCE_COLOR",
        "LC_ALL",
        "LC_MESSAGES",
        "LANG",
        "KETSCREEN_DEBUG",
        "COLUMNS",
        "LINES",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    yield home


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 64 KiB tmpfs, where the system allows mounting one (root on Linux)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    if os.geteuid() != 0 or sys.platform != "linux":
        pytest.skip("mounting a tmpfs needs root on Linux")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


@pytest.fixture(scope="session")
def questionnaire() -> Questionnaire:
    return load_questionnaire()


NO_SIGNS: dict[str, str] = {
    "more_than_intended": "no",
    "cut_down_failed": "no",
    "time_spent": "no",
    "craving": "no",
    "neglect_obligations": "no",
    "social_problems": "no",
    "gave_up_activities": "no",
    "hazardous_use": "no",
    "despite_harm": "no",
    "tolerance": "no",
}
CRITERIA = tuple(NO_SIGNS)


@pytest.fixture(scope="session")
def questionnaire_100() -> Questionnaire:
    """The released 1.0.0, which still ships and keeps working."""
    return load_questionnaire(version="1.0.0")


def full_answers(**overrides: object) -> dict[str, object]:
    """A complete use_12m=yes response (1.1.0) with no signs, no flags; override any item."""
    answers: dict[str, object] = {
        "use_12m": "yes",
        "freq_3m": "monthly",
        "routes": ["snort"],
        **NO_SIGNS,
        "withdrawal": "no",
        "secrecy": "no",
        "cope_use": "no",
        "memory_problems": "no",
        "mood_problems": "no",
        "psychotic_symptoms": "no",
        "self_harm": "no",
        "bladder_frequency": "no",
        "bladder_pain": "no",
        "urine_blood": "no",
        "urine_retention": "no",
        "abdominal_pain": "no",
        "flank_pain": "no",
        "jaundice": "no",
        "mix_depressants": "no",
        "use_alone": "no",
        "k_hole": "no",
        "overdose_event": "no",
        "readiness": "thinking",
    }
    answers.update(overrides)
    return answers


def full_answers_100(**overrides: object) -> dict[str, object]:
    """A complete use_12m=yes response to questionnaire 1.0.0, in its order."""
    answers = full_answers(**overrides)
    for item in ("cope_use", "jaundice"):
        answers.pop(item, None)
    order = [
        *("use_12m", "freq_3m", "routes", *NO_SIGNS, "withdrawal", "secrecy"),
        *("bladder_frequency", "bladder_pain", "urine_blood", "urine_retention"),
        *("abdominal_pain", "flank_pain", "memory_problems", "mood_problems"),
        *("psychotic_symptoms", "mix_depressants", "use_alone", "k_hole", "overdose_event"),
        *("self_harm", "readiness"),
    ]
    return {key: answers[key] for key in order if key in answers}
