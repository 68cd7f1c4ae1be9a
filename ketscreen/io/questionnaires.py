"""Load a questionnaire from a file (or the built-in one)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ketscreen.core.model import Questionnaire
from ketscreen.core.schema import build_questionnaire
from ketscreen.core.yamlsafe import DEFAULT_MAX_BYTES, load_yaml
from ketscreen.io.files import data_dir, read_limited

BUILTIN = "ketamine.yaml"


def builtin_path() -> Path:
    return data_dir() / BUILTIN


def parse_questionnaire(data: bytes, source: str) -> Questionnaire:
    """Bytes of a YAML questionnaire -> checked model, or QuestionnaireError."""
    return build_questionnaire(load_yaml(data, source), source)


@lru_cache(maxsize=1)
def _builtin() -> Questionnaire:
    path = builtin_path()
    return parse_questionnaire(read_limited(path, DEFAULT_MAX_BYTES, "questionnaire"), path.name)


def load_questionnaire(path: str | Path | None = None) -> Questionnaire:
    """Load and check a questionnaire; None loads the built-in ketamine questionnaire."""
    if path is None:
        return _builtin()
    path = Path(path)
    data = read_limited(path, DEFAULT_MAX_BYTES, "questionnaire")
    return parse_questionnaire(data, str(path))
