"""The report as one self-contained HTML file that prints cleanly on A4 and Letter.

No scripts, fonts, images or links to load: the styles are inline, and a Content
Security Policy forbids fetching anything, so the file shows the same offline, in an
e-mail client or in a records system. Every value is HTML-escaped. Print styles use
the printer's paper size with margins that suit both A4 and Letter, keep table rows
and flag groups whole across pages, repeat table headers, and never rely on colour:
every level is also written in words.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from ketscreen.core.safe_text import visible
from ketscreen.ui.reports import assert_never
from ketscreen.ui.reports.content import (
    Block,
    Bullets,
    Chart,
    Fields,
    Heading,
    Notice,
    Paragraph,
    SessionReport,
    Subheading,
    Table,
    document,
    title,
)

STYLE = """
@page { margin: 18mm 16mm; }
* { box-sizing: border-box; }
html { font-family: "Helvetica Neue", Arial, sans-serif; font-size: 11pt; line-height: 1.4;
       color: #000; background: #fff; }
body { max-width: 48em; margin: 1.5em auto; padding: 0 1em; }
h1 { font-size: 16pt; margin: 0 0 0.6em; }
h2 { font-size: 13pt; margin: 1.4em 0 0.4em; border-bottom: 1px solid #444;
     break-after: avoid; page-break-after: avoid; }
h3 { font-size: 11pt; margin: 0.9em 0 0.2em; break-after: avoid; page-break-after: avoid; }
p, ul { margin: 0.3em 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.15em 1em; margin: 0; }
dt { font-weight: bold; }
dd { margin: 0; overflow-wrap: anywhere; }
table { width: 100%; border-collapse: collapse; margin: 0.4em 0; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
th, td { border: 1px solid #888; padding: 0.2em 0.4em; text-align: left;
         vertical-align: top; overflow-wrap: anywhere; }
th { background: #eee; }
figure.chart { margin: 0.6em 0; break-inside: avoid; page-break-inside: avoid; }
.notice { border: 3px solid #000; padding: 0.5em 0.8em; margin: 0.8em 0; font-weight: bold; }
@media print {
  body { max-width: none; margin: 0; padding: 0; }
  th { background: none; }
}
""".strip()

CSP = "default-src 'none'; style-src 'unsafe-inline'"
HANDOUT_STYLE = """
@page { margin: 12mm 14mm; }
html { font-size: 10pt; line-height: 1.3; }
@media print { body { margin: 0; } }
h2 { margin: 0.9em 0 0.3em; }
table { font-size: 9pt; }
""".strip()
"""The take-home sheet is one printed page: a little smaller, a little tighter."""


class HtmlFormat:
    suffix = ".html"

    def format(self, report: SessionReport) -> str:
        name = title(report)
        if report.handout:  # no session id: the sheet carries no internal code
            return html_page(name, name, document(report), extra_style=HANDOUT_STYLE)
        return html_page(name, f"{name}: {report.session.id}", document(report))


def html_page(
    heading: str,
    page_title: str,
    blocks: Sequence[Block],
    lang: str = "en",
    *,
    extra_style: str = "",
) -> str:
    """A whole self-contained page: `heading` as its h1, then `blocks`. Used by the
    counselor's report and by the self-check's saved copy, so both print the same way
    and carry the same Content-Security-Policy; every text is escaped here."""
    body = "\n".join(render_block(block) for block in blocks)
    page = (
        "<!DOCTYPE html>\n"
        f'<html lang="{escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="robots" content="noindex">\n'
        f"<title>{escape(page_title)}</title>\n"
        f"<style>\n{STYLE}\n{extra_style}\n</style>\n</head>\n<body>\n"
        f"<h1>{escape(heading)}</h1>\n"
        f"{body}\n</body>\n</html>\n"
    )
    return visible(page)  # control characters from a file, spelled out (\x1b)


def render_block(block: Block) -> str:
    match block:
        case Heading(text):
            return f"<h2>{escape(text)}</h2>"
        case Subheading(text):
            return f"<h3>{escape(text)}</h3>"
        case Paragraph(text):
            return f"<p>{_lines(text)}</p>"
        case Notice(text):
            return f'<p class="notice" role="alert">{_lines(text)}</p>'
        case Bullets(items):
            return "<ul>" + "".join(f"<li>{_lines(item)}</li>" for item in items) + "</ul>"
        case Fields(rows):
            pairs = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)
            return f"<dl>{pairs}</dl>"
        case Table(columns, rows):
            head = "".join(f'<th scope="col">{escape(c)}</th>' for c in columns)
            body = "".join(
                "<tr>" + "".join(f"<td>{_lines(cell)}</td>" for cell in row) + "</tr>"
                for row in rows
            )
            return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>{body}</tbody>\n</table>"
        case Chart(svg):  # made from data in history.py, every text in it escaped there
            return f'<figure class="chart">{svg}</figure>'
        case _:
            assert_never(block)


def _lines(text: str) -> str:
    """Escaped text; a note's own line breaks are kept."""
    return "<br>".join(escape(line) for line in text.splitlines())
