"""Does a client id look like a person's name, an email address or a phone number?

A client id is a pseudonym or case number the counselor chooses ("C-0042"); it is
written into the session file and every report. `ketscreen intake` warns and asks
before using one that looks personal. The checks are deliberately simple: a false
alarm costs one "y"; a real name in a file costs the client's privacy.
"""

from __future__ import annotations

import re

_WORD = r"[A-Z][a-z]*(?:['’-][A-Z]?[a-z]+)*"
_NAME = re.compile(rf"^\s*{_WORD}(?:\s+{_WORD})+\s*$")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"^\s*\+?[\d\s().-]+$")
_MIN_PHONE_DIGITS = 9


def personal_looking(client: str) -> str | None:
    """What `client` looks like ("a personal name", ...), or None when it looks like a
    pseudonym or case number."""
    if _EMAIL.search(client):
        return "an email address"
    if _PHONE.match(client) and sum(c.isdigit() for c in client) >= _MIN_PHONE_DIGITS:
        return "a phone number"
    if _NAME.match(client):
        return "a personal name (capitalised words)"
    return None
