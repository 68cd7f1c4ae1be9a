"""The one way ketscreen writes a web page: the counselor report and the screener's
saved copy both come from `page`.

A page is self-contained and inert: a Content Security Policy forbids scripts and
every fetch (fonts, images, links loaded in the background), so it shows the same
offline, in an e-mail client or in a records system, and nothing in it can run. The
title is escaped here; the body is given as HTML whose text the caller escaped (the
report escapes every value; Rich's HTML export escapes the text it draws).
"""

from __future__ import annotations

from html import escape

from ketscreen.core.safe_text import visible

CSP = "default-src 'none'; style-src 'unsafe-inline'"
"""Inline styles only: no scripts, no fonts, images or frames, nothing fetched."""


def page(title: str, body: str, *, style: str = "", lang: str = "en") -> str:
    """A whole HTML document: `title` (plain text, escaped here) and `body` (HTML)."""
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="robots" content="noindex">\n'
        f"<title>{escape(visible(title))}</title>\n"
        + (f"<style>\n{style}\n</style>\n" if style else "")
        + f"</head>\n<body>\n{body}\n</body>\n</html>\n"
    )
