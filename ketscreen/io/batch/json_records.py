"""JSON text read strictly enough for health records, without slowing the common case.

Python's `json` keeps the last of two equal keys, so `{"self_harm": "now", "self_harm":
"no"}` would silently become "no"; and it refuses an integer of more than 4,300 digits
with a `ValueError` that says nothing about JSON. `RecordDecoder` parses as `json` does
and notes the first such problem instead, so the caller can make that one record
invalid and go on with the next (a JSON array cannot be cut into records any other way).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ketscreen.core.compiled import field_name

MAX_DIGITS = 4300
"""The longest integer read (Python's own limit for turning digits into a number)."""


@dataclass(frozen=True)
class Broken:
    """A record that was read but must not be used; `reason` says why (for its row)."""

    reason: str


class RecordDecoder:
    """`json.loads` and `raw_decode`, plus the first duplicate key or overlong number."""

    def __init__(self) -> None:
        self.problem: str | None = None
        self._decoder = json.JSONDecoder(object_pairs_hook=self._object, parse_int=self._int)

    def _object(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        record = dict(pairs)
        if len(record) != len(pairs) and self.problem is None:
            self.problem = f"the key {field_name(_first_repeated(pairs))} appears twice; keep one"
        return record

    def _int(self, digits: str) -> int:
        if len(digits.lstrip("-")) > MAX_DIGITS:
            if self.problem is None:
                self.problem = (
                    f"a number has {len(digits):,} digits (at most {MAX_DIGITS:,} are read)"
                )
            return 0
        return int(digits)

    def loads(self, text: str) -> object:
        """The value of `text`, or a `Broken` record; ValueError or RecursionError when
        it is not JSON at all."""
        self.problem = None
        value = self._decoder.decode(text)
        return value if self.problem is None else Broken(self.problem)

    def raw_decode(self, text: str, pos: int) -> tuple[object, int]:
        """The value that starts at `pos` (or a `Broken` one) and where it ends."""
        self.problem = None
        value, end = self._decoder.raw_decode(text, pos)
        return (value if self.problem is None else Broken(self.problem)), end


def _first_repeated(pairs: list[tuple[str, Any]]) -> str:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            return key
        seen.add(key)
    raise AssertionError("no key is repeated")  # pragma: no cover - called only when one is


def json_reason(exc: Exception) -> str:
    """Why text is not JSON, in words (the parser's own message for a syntax error)."""
    if isinstance(exc, json.JSONDecodeError):
        return exc.msg
    return "too deeply nested"
