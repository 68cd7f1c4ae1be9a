"""Text from a file or a keyboard, made safe to show: the one place that knows which
characters a terminal would act on instead of showing.

A session note, a respondent id, a file name or a JSON key can hold escape sequences
(colour, cursor movement, a changed window title, a fake prompt), a carriage return
that overwrites what was shown, right-to-left overrides that reorder a line, or half a
UTF-16 pair that cannot even be written out. `visible` turns each of those characters
into its escaped spelling (ESC becomes the four characters ``\\x1b``), so what is shown
is what is stored; `without_controls` removes them, for text typed at a terminal,
where they come from arrow keys pressed to fix a typo.

The output layers call `visible` at their boundary (the Rich consoles, the CLI's
messages, the human-readable reports), so no screen has to remember to.
"""

from __future__ import annotations

import re

_CONTROL_CLASS = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f"  # C0 (but tab and line feed), DEL, C1
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidirectional marks and overrides
    "\u2028\u2029"  # line and paragraph separators
    "\ud800-\udfff"  # lone surrogates (JSON can spell them; they cannot be written)
)
CONTROL = re.compile(f"[{_CONTROL_CLASS}]")
"""One character that a terminal acts on (or that cannot be encoded) rather than shows."""

_TERMINAL_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
"""A whole escape sequence as a terminal sends it for a key (ESC [ A is the up arrow)."""


def _spelled(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """`text` with every control character shown by its escaped spelling (``\\x1b``).

    Tabs and line breaks are kept; everything else printable is unchanged, so text
    without control characters comes back as it was.
    """
    if CONTROL.search(text) is None:
        return text
    return CONTROL.sub(_spelled, text)


def without_controls(text: str) -> str:
    """Typed text without the escape sequences and control characters a terminal sent
    along (tabs and line breaks are kept)."""
    return CONTROL.sub("", _TERMINAL_ESCAPE.sub("", text))


def _json_escaped(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def json_safe(text: str) -> str:
    """JSON text (as `json.dumps` wrote it) with every control character written as a
    `\\uXXXX` escape: the same data, safe on a terminal and always encodable.

    Control characters can only stand inside JSON strings (`json.dumps` writes no
    other whitespace than spaces and line feeds), where the escape means the same.
    """
    if CONTROL.search(text) is None:
        return text
    return CONTROL.sub(_json_escaped, text)
