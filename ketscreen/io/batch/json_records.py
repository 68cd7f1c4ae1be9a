"""JSON text read strictly enough for health records, without slowing the common case.

Python's `json` keeps the last of two equal keys, so `{"self_harm": "now", "self_harm":
"no"}` would silently become "no"; and it refuses an integer of more than 4,300 digits
with a `ValueError` that says nothing about JSON. `RecordDecoder` parses as `json` does
and notes the first such problem instead, so the caller can make that one record
invalid and go on with the next (a JSON array cannot be cut into records any other way).

That decoder is slow (a Python hook per object and per integer), so a record is first
read with orjson, and that value is used only when it is provably the same as the
decoder's: orjson keeps the last of two equal keys and turns an integer beyond 64 bits
into a float, so a text that could hold a repeated key, or a value with a float, is read
again by the decoder (`quick`). Records as programs write them take the fast road.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from itertools import chain
from typing import Any, Final

import orjson

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

    def quick_loads(self, text: str) -> object:
        """`loads`, with orjson whenever that gives the same value."""
        value = quick(text)
        return self.loads(text) if value is UNSURE else value

    def quick_raw_decode(self, text: str, pos: int) -> tuple[object, int]:
        """`raw_decode` of an object element of an array, with orjson whenever that gives
        the same value: the text up to a `}` followed by `,` or `]` is tried first. When
        orjson reads that text as one whole value, the element ends there (a JSON value
        ends where it ends, whatever follows)."""
        found = _OBJECT_END.search(text, pos, pos + QUICK_LIMIT)
        if found is not None and text.startswith("{", pos):
            end = found.end()
            value = quick(text[pos:end])
            if value is not UNSURE:
                return value, end
        return self.raw_decode(text, pos)


class _Unsure:
    """The type of `UNSURE`."""


UNSURE: Final = _Unsure()
"""What `quick` gives when orjson's value may differ from `RecordDecoder`'s."""
QUICK_LIMIT = 1 << 16
"""Records longer than this are left to the exact decoder."""
_OBJECT_END = re.compile(r"\}(?=[ \t\r\n]*[,\]])")
_KEY_END = re.compile(r'"[ \t\r\n]*:')
_PLAIN = frozenset({str, int, bool, type(None)})
_is_list = list.__instancecheck__


def quick(text: str) -> object:
    """The value of `text` read by orjson, or UNSURE.

    The value is used only when no key can be repeated: `text` is one object (a flat
    record) with as many keys as `"` followed by
    `:` in the text (every key ends that way; more of them, inside strings, only send
    the text to the slow road); and when no value is a float (orjson reads a long
    integer as one), nor a list that holds one or a list. Anything orjson refuses goes
    the slow road too, so errors are the decoder's own.
    """
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return UNSURE
    if type(value) is dict:
        if text.count("{") != 1:
            return UNSURE
        if '" ' in text or '"\n' in text or '"\t' in text or '"\r' in text:
            keys = len(_KEY_END.findall(text))
        else:
            keys = text.count('":')
        if keys != len(value):
            return UNSURE
        kinds = set(map(type, value.values()))
        if kinds <= _PLAIN:
            return value
        if float in kinds:
            return UNSURE
        inner = set(map(type, chain.from_iterable(filter(_is_list, value.values()))))
        return value if inner <= _PLAIN else UNSURE
    return UNSURE  # not an object: an invalid record, rare; read exactly


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


def quick_array(text: str) -> list[object] | None:
    """The elements of the JSON array `[text]` read by orjson, or None when that may not
    be the decoder's value (then read it with `RecordDecoder`).

    Proof that it is: orjson writes the value back byte for byte (compact JSON as
    programs send it: no key was dropped, no number rewritten); else the value has as
    many keys as `"` followed by `:` in the text (every key ends that way) and no float.
    """
    whole = "[" + text + "]"
    try:
        value = orjson.loads(whole)
    except orjson.JSONDecodeError:
        return None
    if type(value) is not list:
        return None  # pragma: no cover - a "[...]" text that is not an array
    if orjson.dumps(value) == whole.encode("utf-8"):
        return value
    if _keys(value) == len(_KEY_END.findall(whole)):
        return value
    return None


def _keys(value: object) -> int:
    """How many keys the objects in `value` have together; very negative with a float."""
    if isinstance(value, dict):
        return len(value) + sum(map(_keys, value.values()))
    if isinstance(value, list):
        return sum(map(_keys, value))
    if isinstance(value, float):
        return -(1 << 62)
    return 0
