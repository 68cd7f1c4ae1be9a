"""The result screen, in the order CONTENT.md section 4 fixes.

1. the crisis panel, when a crisis or emergency flag is raised (never a reassuring
   headline above it);
2. urgent health flags: "get medical advice today" and the region's route;
3. the band, in words and colour, with the count ("4 of 10", "at least 4 of 10");
4. the warning signs reported, in plain words;
5. the other health alerts by urgency, with what to do (harm-reduction steps for risk);
6. what to do next: guidance by band and readiness (section 5);
7. the region's services, the disclaimer, the provenance line, the crisis-line footer.

`render_result` draws it on any console (the screener, a saved copy, a counselor's
report); `result_text` and `result_html` make the saved copies.
"""

from __future__ import annotations

from dataclasses import replace
from io import StringIO
from typing import TYPE_CHECKING

from rich.console import Console, Group, RenderableType
from rich.text import Text

from ketscreen.core.model import DECLINED, FlagLevel, ItemType, Questionnaire
from ketscreen.core.scoring import Result
from ketscreen.core.texts import DISCLAIMER
from ketscreen.io.resources import Region
from ketscreen.ui.blocks import (
    Block,
    Bullet,
    Line,
    block_rows,
    block_title,
    bullet_list,
    render_block,
)
from ketscreen.ui.console import band_style, make_console
from ketscreen.ui.paging import Part, print_parts
from ketscreen.ui.resources_view import (
    KIND_LABELS,
    service_row,
    services_header,
    services_title,
    sorted_services,
)
from ketscreen.ui.safety import (
    crisis_block,
    crisis_level,
    declined_block,
    footer,
    footer_text,
    urgent_block,
)

if TYPE_CHECKING:  # the report's blocks are loaded only when a web page is saved
    from ketscreen.ui.reports import content

HARM_REDUCTION_TOPIC = "harm_reduction"
"""The guidance topic with the safer-use steps (shown with risk flags, and first for
someone not ready to change)."""

_ALERT_LEVELS = (FlagLevel.SEE_DOCTOR, FlagLevel.HARM_REDUCTION)


def _band_score_items(questionnaire: Questionnaire, result: Result) -> list[str]:
    rule = questionnaire.band_rule
    items = next(s.items for s in questionnaire.scores if s.id == rule.score)
    return [item for item in items if item in result.asked]


def counts_signs(questionnaire: Questionnaire) -> bool:
    """True when the band's score counts signs: every item is yes (1) or no (0), so the
    result says "4 of 10 warning signs". Any other score (weights 0 to 3, say) is a
    total, shown with its own label."""
    rule = questionnaire.band_rule
    items = next(s.items for s in questionnaire.scores if s.id == rule.score)
    return all(
        questionnaire.items[i].type is ItemType.YES_NO
        and dict(questionnaire.items[i].weights) == {"yes": 1, "no": 0}
        for i in items
    )


def count_line(questionnaire: Questionnaire, result: Result) -> str | None:
    """ "4 of 10 warning signs", "At least 4 of 10 ...", a total with its score's label,
    or why there is no result."""
    items = _band_score_items(questionnaire, result)
    count = result.scores.get(questionnaire.band_rule.score)
    if not items or count is None:
        return None
    total = len(items)
    unanswered = sum(1 for item in items if item in result.missing)
    band = questionnaire.band_rule.band(result.band)
    signs = counts_signs(questionnaire)
    if band.incomplete:
        needed = total - questionnaire.band_rule.max_missing
        asked = "warning-sign questions" if signs else "questions for this result"
        return (
            f"You answered {total - unanswered} of the {total} {asked}; "
            f"a result needs answers to at least {needed}."
        )
    verb = "was" if unanswered == 1 else "were"
    if not signs:
        score = next(s for s in questionnaire.scores if s.id == questionnaire.band_rule.score)
        if result.lower_bound:
            return (
                f"{score.label}: at least {count}. {unanswered} of its questions {verb} "
                "not answered, so the total could be higher."
            )
        return f"{score.label}: {count}."
    if result.lower_bound:
        return (
            f"At least {count} of {total} warning signs. {unanswered} of these questions {verb} "
            "not answered, so the number could be higher."
        )
    return f"{count} of {total} warning signs."


def band_block(questionnaire: Questionnaire, result: Result) -> Block:
    band = questionnaire.band_rule.band(result.band)
    style = band_style(questionnaire, band.id)
    label = Text(band.label, style=style)
    if result.lower_bound:
        label.append(" (at least)", style=style)
    lines: list[Line] = [label, band.headline]
    count = count_line(questionnaire, result)
    if count:
        lines.append(Text(count, style="heading"))
    return Block("Your result", tuple(lines), style=style, boxed=True)


def band_line_block(questionnaire: Questionnaire, result: Result) -> Block:
    """The band and its count in one line, unboxed: for a first page that must also
    hold the crisis panel and the urgent alerts."""
    full = band_block(questionnaire, result)
    label = full.lines[0]
    assert isinstance(label, Text)
    line = label.copy()
    count = count_line(questionnaire, result)
    if count:
        line.append(": ")
        line.append(count, style="heading")
    return Block(full.title, (line,), style=full.style)


def signs_block(questionnaire: Questionnaire, result: Result) -> Block | None:
    """The signs reported, in the words of each item's `short`.

    Counted: the band score's items answered yes. Also reported: any other yes/no item
    answered yes that raised no flag: they are signs, not alerts. None when the band's
    score is a total, not a count of signs.
    """
    counted_ids = _band_score_items(questionnaire, result)
    if not counted_ids or not counts_signs(questionnaire):
        return None
    flagged = {flag.item for flag in result.flags}
    answers = result.answers
    counted = [questionnaire.items[i].short for i in counted_ids if answers.get(i) == "yes"]
    also = [
        item.short
        for item in questionnaire.items.values()
        if item.type is ItemType.YES_NO
        and item.id not in counted_ids
        and item.id not in flagged
        and answers.get(item.id) == "yes"
    ]
    lines: list[Line] = []
    if counted:
        lines.extend(bullet_list(list[str | Text](counted)))
    else:
        lines.append(f"You did not report any of the {len(counted_ids)} warning signs.")
    if also:
        lines.append(Text("You also reported (not counted above):", style="heading"))
        lines.extend(bullet_list(list[str | Text](also)))
    return Block("Warning signs you reported", tuple(lines))


def _topic_text(questionnaire: Questionnaire, topic_id: str) -> tuple[str, str] | None:
    for topic in questionnaire.guidance.topics:
        if topic.id == topic_id:
            return topic.title, topic.text
    return None


def alert_blocks(
    questionnaire: Questionnaire, result: Result, region: Region | None = None
) -> list[Block]:
    """See-a-doctor and lower-your-risk alerts, most urgent first, each with what to do,
    and the region's services that go with those alerts (`shown_with`)."""
    labels = {rule.id: rule.label for rule in questionnaire.flags}
    blocks = []
    for level in _ALERT_LEVELS:
        reported = [labels[flag.id] for flag in result.flags if flag.level is level]
        if not reported:
            continue
        info = questionnaire.levels[level]
        lines: list[Line] = [info.advice, *bullet_list(list[str | Text](reported))]
        steps = _topic_text(questionnaire, HARM_REDUCTION_TOPIC)
        if level is FlagLevel.HARM_REDUCTION and steps and HARM_REDUCTION_TOPIC in result.guidance:
            lines.append(Text.assemble(("What helps: ", "heading"), steps[1]))
        raised = {flag.id for flag in result.flags if flag.level is level}
        for service in region.services if region is not None else ():
            if raised.intersection(service.shown_with):
                lines.append(Text.assemble((f"{service.name}: ", "heading"), service.contact))
        blocks.append(Block(info.label, tuple(lines), style=f"level.{level.value}"))
    return blocks


def not_assessed_text(questionnaire: Questionnaire, result: Result) -> str | None:
    """What an unfinished result says instead of "no flags" (CONTENT.md section 4)."""
    if not result.not_assessed:
        return None
    asked = "; ".join(questionnaire.items[i].short for i in result.not_assessed)
    return (
        "Not finished: the safety question was not asked or not answered yet "
        f"({asked}), so this result cannot say that no alerts apply."
    )


def not_assessed_block(questionnaire: Questionnaire, result: Result) -> Block | None:
    text = not_assessed_text(questionnaire, result)
    if text is None:
        return None
    return Block("Safety not assessed", (text,), style="level.not_assessed", boxed=True)


def declined_safety(questionnaire: Questionnaire, result: Result) -> bool:
    """True when the person chose "prefer not to say" for a safety question."""
    return any(result.answers.get(i) == DECLINED for i in questionnaire.safety_items)


def next_steps(questionnaire: Questionnaire, result: Result) -> list[tuple[str, str]]:
    """Guidance as (title, text) in the order CONTENT.md section 5 asks for.

    - `not_now`: safer-use steps first (even without a risk flag), then the open door;
    - otherwise "Where you are now" (the readiness answer's text: pros and cons for
      `thinking`, concrete next steps for `ready` and `already_trying`) always comes
      before "What we suggest" (the band's advice), so that the two never swap places
      from one result to another.
    Then every other guidance topic the result raised, in questionnaire order. The
    harm-reduction steps are left out here when the risk alerts already show them.
    """
    guidance = questionnaire.guidance
    band_text = guidance.bands.get(result.band)
    band_part = [("What we suggest", band_text)] if band_text else []
    readiness = result.answers.get(guidance.readiness_item) if guidance.readiness_item else None
    readiness_text = guidance.readiness.get(readiness) if isinstance(readiness, str) else None
    ready_part = [("Where you are now", readiness_text)] if readiness_text else []
    steps_with_alerts = HARM_REDUCTION_TOPIC in result.guidance and any(
        flag.level is FlagLevel.HARM_REDUCTION for flag in result.flags
    )
    topic_ids = [
        t for t in result.guidance if not (steps_with_alerts and t == HARM_REDUCTION_TOPIC)
    ]
    if readiness == "not_now":
        lead = [] if steps_with_alerts else [HARM_REDUCTION_TOPIC]
        rest = [t for t in topic_ids if t != HARM_REDUCTION_TOPIC]
        return [
            *_topics(questionnaire, lead),
            *ready_part,
            *band_part,
            *_topics(questionnaire, rest),
        ]
    return [*ready_part, *band_part, *_topics(questionnaire, topic_ids)]


def _topics(questionnaire: Questionnaire, ids: list[str]) -> list[tuple[str, str]]:
    return [t for t in (_topic_text(questionnaire, i) for i in ids) if t]


def next_steps_block(questionnaire: Questionnaire, result: Result) -> Block | None:
    steps = next_steps(questionnaire, result)
    if not steps:
        return None
    lines = tuple(Text.assemble((f"{title}: ", "heading"), text) for title, text in steps)
    return Block("What you can do next", lines)


def resources_part(region: Region, *, plain: bool) -> Part:
    """The region's services: a table in rich mode, one line each in plain mode. A page
    breaks between services, never inside one, and repeats the title and header."""
    title = Text(services_title(region), style="heading")
    if plain:
        lines = tuple(
            Bullet(f"{s.name} ({KIND_LABELS[s.kind].lower()}): {s.contact} ({s.hours})")
            for s in sorted_services(region)
        )
        return block_part(Block(title, lines), plain=True)
    header = services_header()
    rows = tuple(service_row(s) for s in sorted_services(region))
    return Part(Group(title, header, *rows), title=title, rows=rows, header=header)


def block_part(block: Block, *, plain: bool, lead: bool = False) -> Part:
    """A block as a part of a paged screen."""
    if block.boxed and not plain:
        flat = replace(block, boxed=False)
        return Part(
            render_block(block, plain=False),
            lead=lead,
            compact=render_block(flat, plain=False),
            boxed=True,
        )
    rows = block_rows(block, plain=plain)
    return Part(render_block(block, plain=plain), title=block_title(block), rows=rows, lead=lead)


def provenance_line(result: Result) -> str:
    p = result.provenance
    return (
        f"Questionnaire {p.questionnaire_id} version {p.questionnaire_version} "
        f"(sha256 {p.questionnaire_sha256[:12]}), ketscreen {p.tool_version}, "
        f"scored {p.scored_at}."
    )


def result_parts(
    questionnaire: Questionnaire,
    result: Result,
    region: Region,
    *,
    plain: bool,
    with_footer: bool = True,
    with_help: bool = True,
) -> list[Part]:
    """Every part of the result screen, in order. The crisis panel, the urgent alerts
    and the band lead: a paged screen keeps them together on its first page.
    `with_help=False` leaves out the list of services and the disclaimer (a battery
    shows them once, after the last instrument's result)."""
    lead: list[Block] = []
    level = crisis_level(result.flags)
    if level is not None:
        lead.append(crisis_block(level, region, questionnaire))
    if any(flag.level is FlagLevel.URGENT for flag in result.flags):
        lead.append(urgent_block(questionnaire, result.flags, region))
    not_assessed = not_assessed_block(questionnaire, result)
    if not_assessed is not None:  # an unfinished result says so before its band
        lead.append(not_assessed)
    parts = [block_part(b, plain=plain, lead=True) for b in lead]
    band = block_part(band_block(questionnaire, result), plain=plain, lead=True)
    if band.compact is not None:  # a first page short of room: the band in one line
        band = replace(
            band, compact=render_block(band_line_block(questionnaire, result), plain=False)
        )
    parts.append(band)
    rest: list[Block | None] = [signs_block(questionnaire, result)]
    rest.extend(alert_blocks(questionnaire, result, region))
    rest.append(next_steps_block(questionnaire, result))
    if level is None and declined_safety(questionnaire, result):
        rest.append(declined_block(region))
    parts.extend(block_part(b, plain=plain) for b in rest if b)
    if with_help:
        parts.append(resources_part(region, plain=plain))
        parts.append(Part(Text(DISCLAIMER)))
    parts.append(Part(Text(provenance_line(result), style="muted")))
    if with_footer:
        parts.append(Part(footer(region, plain=plain)))
    return parts


def result_renderables(
    questionnaire: Questionnaire,
    result: Result,
    region: Region,
    *,
    plain: bool,
    with_footer: bool = True,
) -> list[RenderableType]:
    """Every part of the result screen as one renderable each, in order."""
    parts = result_parts(questionnaire, result, region, plain=plain, with_footer=with_footer)
    return [part.body for part in parts]


def render_result(
    console: Console,
    questionnaire: Questionnaire,
    result: Result,
    region: Region,
    *,
    plain: bool,
    with_footer: bool = True,
) -> None:
    """Draw the result on `console` (rich or plain)."""
    print_parts(
        console,
        result_parts(questionnaire, result, region, plain=plain, with_footer=with_footer),
    )


def result_text(
    questionnaire: Questionnaire, result: Result, region: Region, *, width: int = 80
) -> str:
    """The result as plain text, for a saved copy."""
    buffer = StringIO()
    render_result(
        make_console(buffer, width=width, plain=True), questionnaire, result, region, plain=True
    )
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())


def _plain(value: str | Text) -> str:
    return value.plain if isinstance(value, Text) else value


def _content(block: Block, *, notice: bool = False) -> list[content.Block]:
    """A screen block as report blocks: a heading, paragraphs and lists, in order.
    `notice`: its first paragraph is one the reader must not miss."""
    from ketscreen.ui.reports import content

    out: list[content.Block] = [content.Heading(_plain(block.title))]
    bullets: list[str] = []
    for line in block.lines:
        if isinstance(line, Bullet):
            bullets.append(_plain(line.text))
            continue
        if bullets:
            out.append(content.Bullets(tuple(bullets)))
            bullets = []
        text = _plain(line)
        if text:
            first = notice and not any(isinstance(b, content.Notice) for b in out)
            out.append(content.Notice(text) if first else content.Paragraph(text))
    if bullets:
        out.append(content.Bullets(tuple(bullets)))
    return out


def result_document(
    questionnaire: Questionnaire, result: Result, region: Region
) -> list[content.Block]:
    """The result screen as the report's neutral blocks, in the screen's order."""
    from ketscreen.ui.reports import content

    blocks: list[content.Block] = []
    level = crisis_level(result.flags)
    if level is not None:
        blocks += _content(crisis_block(level, region, questionnaire), notice=True)
    if any(flag.level is FlagLevel.URGENT for flag in result.flags):
        blocks += _content(urgent_block(questionnaire, result.flags, region), notice=True)
    rest: list[Block | None] = [
        band_block(questionnaire, result),
        signs_block(questionnaire, result),
        *alert_blocks(questionnaire, result),
        next_steps_block(questionnaire, result),
    ]
    for block in rest:
        if block is not None:
            blocks += _content(block)
    blocks += [
        content.Heading(services_title(region)),
        content.Table(
            ("Service", "Kind", "How to reach it", "When"),
            tuple(
                (s.name, KIND_LABELS[s.kind], s.contact, s.hours) for s in sorted_services(region)
            ),
        ),
        content.Paragraph(DISCLAIMER),
        content.Paragraph(provenance_line(result)),
        content.Paragraph(footer_text(region).plain),
    ]
    return blocks


def result_html(questionnaire: Questionnaire, result: Result, region: Region) -> str:
    """The result as a self-contained, printable web page: the same page as the
    counselor's report (headings, lists, tables, `lang`, print styles, no scripts)."""
    from ketscreen.ui.reports.as_html import html_page

    name = f"{questionnaire.title}: your result"
    return html_page(name, name, result_document(questionnaire, result, region))
