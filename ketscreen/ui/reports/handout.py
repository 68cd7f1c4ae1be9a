"""The client's take-home sheet (`ketscreen report ID --handout`): one printable page in
the client's words.

It says, in this order: where to turn now when an alert is urgent (the crisis line
first, as on every screen); what the client told us, in summary; their result and what
it does and does not mean; the next steps they chose (the counselor writes them at the
end of the intake); the region's helplines; the disclaimer. It holds no notes, nothing
meant only for the counselor, and no internal code: no session or client id, no item,
band or level id. Thoughts of suicide or self-harm are not named on paper that may be
found by someone else: the sheet gives the crisis support that goes with them instead.
"""

from __future__ import annotations

from ketscreen.core.model import DECLINED, FlagLevel
from ketscreen.core.texts import DISCLAIMER
from ketscreen.ui.reports.content import (
    Block,
    Bullets,
    Fields,
    Heading,
    Notice,
    Paragraph,
    SessionReport,
    help_blocks,
    when,
    where_to_turn,
)

PRIVATE_LEVELS = (FlagLevel.EMERGENCY, FlagLevel.CRISIS)
"""Alerts whose topic is not written on the sheet (only the help that goes with them)."""
NOT_A_DIAGNOSIS = (
    "This is a screening result, not a diagnosis. It shows what you told us today, and it "
    "can change. Only a doctor or a drug service can tell you more after a full check. A "
    "low result does not mean there is no risk."
)
NO_NEXT_STEPS = (
    "None were written down today. You can talk about next steps with your counselor, or "
    "with any of the services below, at any time."
)


def handout_title(report: SessionReport) -> str:
    return f"{report.questionnaire.title}: your take-home sheet"


def handout_document(report: SessionReport) -> list[Block]:
    q = report.questionnaire
    s = report.session
    result = report.result
    rows = [("Date", when(s.completed_at or s.updated)[:10])]
    if s.counselor:
        rows.append(("With", s.counselor))
    blocks: list[Block] = [Fields(tuple(rows))]

    urgent = [g for g in report.flag_groups if g.level in (*PRIVATE_LEVELS, FlagLevel.URGENT)]
    for group in urgent:  # most urgent first, as in the report
        blocks.append(Notice(group.advice))
        blocks += where_to_turn(group.level, report.region)

    blocks.append(Heading("What you told us"))
    told: list[str] = []
    if result is not None:
        main_score = q.band_rule.score  # the warning signs the result is read from
        counted = [c.item for c in result.contributions if c.points and main_score in c.counted_in]
        told += [q.items[item].short for item in counted]
        told += [
            flag
            for group in report.flag_groups
            if group.level not in PRIVATE_LEVELS
            for flag in group.flags
        ]
    told = list(dict.fromkeys(told))
    blocks.append(Bullets(tuple(told)) if told else Paragraph("No warning signs."))
    declined = [i for i, code in s.answers.items() if code == DECLINED]
    if declined:
        many = "questions" if len(declined) > 1 else "question"
        blocks.append(Paragraph(f"You chose not to answer {len(declined)} {many}: that is fine."))

    blocks.append(Heading("Your result"))
    if result is None:
        blocks.append(Paragraph("There is no result yet."))
    else:
        band = q.band_rule.band(result.band)
        prefix = "At least: " if result.lower_bound else ""
        blocks.append(Paragraph(f"{prefix}{band.label}. {band.headline}"))
        main = next((sc for sc in q.scores if sc.id == q.band_rule.score), None)
        value = result.scores.get(main.id) if main else None
        if main is not None and value is not None:
            blocks.append(Fields(((main.label, str(value)),)))
        if result.lower_bound:
            blocks.append(
                Paragraph("Some questions were not answered, so the true number may be higher.")
            )
        text = q.guidance.bands.get(result.band)
        if text:
            blocks.append(Paragraph(text))
    blocks.append(Paragraph(NOT_A_DIAGNOSIS))

    blocks.append(Heading("The next steps you chose"))
    blocks.append(Paragraph(s.next_steps.text if s.next_steps else NO_NEXT_STEPS))

    if report.region is not None:
        blocks += help_blocks(report.region, compact=True)
    blocks += [Heading("Please remember"), Paragraph(DISCLAIMER)]
    return blocks
