"""ketscreen: a private, command-line self-check for ketamine use problems.

The library API is small::

    from ketscreen import load_questionnaire, score

    questionnaire = load_questionnaire()          # the built-in ketamine questionnaire
    result = score(questionnaire, {"use_12m": "yes", ...})
    result.band, result.scores["criteria_count"], result.flags
    result.criteria_count                         # any score id, as an attribute

Nothing here writes files, logs or talks to the network.
"""

from __future__ import annotations

# `typing` is not imported at run time: `import ketscreen` comes before the entry point
# installs its signal handlers (ketscreen.__main__), so it must take next to no time.
TYPE_CHECKING = False

__version__ = "0.1.0"

__all__ = [
    "AnswerError",
    "KetscreenError",
    "QuestionnaireError",
    "Result",
    "__version__",
    "load_questionnaire",
    "score",
]

if TYPE_CHECKING:
    from typing import Any

    from ketscreen.core.scoring import Result, score
    from ketscreen.errors import AnswerError, KetscreenError, QuestionnaireError
    from ketscreen.io.questionnaires import load_questionnaire

# Imports are resolved on first use so that `ketscreen --version` and the first
# question do not pay for modules they do not need.
_LAZY = {
    "score": "ketscreen.core.scoring",
    "Result": "ketscreen.core.scoring",
    "load_questionnaire": "ketscreen.io.questionnaires",
    "AnswerError": "ketscreen.errors",
    "KetscreenError": "ketscreen.errors",
    "QuestionnaireError": "ketscreen.errors",
}


def __getattr__(name: str) -> Any:  # noqa: F821 (a name for type checkers only)
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'ketscreen' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)
