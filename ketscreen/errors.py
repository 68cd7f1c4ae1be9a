"""One exception family, written for the person who will read it.

Every error a user can cause is a `KetscreenError`. Its message says what went
wrong, where, and what to do. The command-line layer turns it into one line on
stderr and the exit code it carries; nothing below the CLI calls `sys.exit`.
Messages never contain answers: they name items, columns and codes, not values
a person typed about themselves, except a code that was not recognised.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

_CODE_LIKE = re.compile(r"[!-~]{1,24}")
"""Printable ASCII without spaces, at most 24 characters: a mistyped code or id."""


def quote_value(text: str) -> str:
    """A value for a message: quoted when it looks like a code or an id, otherwise only
    measured, because free text (a sentence, a name) may be personal."""
    if _CODE_LIKE.fullmatch(text):
        return repr(text)
    return f"a value of {len(text)} characters"


class ExitCode(IntEnum):
    """The process exit codes, documented in the README."""

    OK = 0
    ERROR = 1
    USAGE = 2
    INVALID_RECORDS = 3
    INTERRUPTED = 130


class KetscreenError(Exception):
    """Base class for errors whose message is meant for the user."""

    exit_code: ExitCode = ExitCode.ERROR


@dataclass(frozen=True)
class Problem:
    """One problem found in a file, with its position (1-based; 0 = unknown)."""

    source: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        if self.line:
            return f"{self.source}:{self.line}:{self.column}: {self.message}"
        return f"{self.source}: {self.message}"


class QuestionnaireError(KetscreenError):
    """A questionnaire or resources file that cannot be used, with every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class AnswerError(KetscreenError):
    """An answer that does not fit the questionnaire.

    `item` is the item id (or the unknown key), `allowed` the codes that would
    have been accepted (empty when the problem is not about a code).
    """

    def __init__(self, item: str, message: str, allowed: Sequence[str] = ()) -> None:
        self.item = item
        self.allowed = tuple(allowed)
        text = f"{item}: {message}"
        if self.allowed:
            text += f"; allowed: {', '.join(self.allowed)}"
        super().__init__(text)
