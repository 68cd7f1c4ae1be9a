"""What a session report says, built once; the formats only decide how it looks.

`build_report(session)` gathers the facts (header, flags, result, answers by section,
notes, amendments, guidance). `document(report)` lays them out as a short list of
neutral blocks, in the order the issue asks for: header, flags first (most urgent
first), band and counts, the criteria table, withdrawal and secrecy, health, risk and
safety answers, readiness, notes, changes after completion, a guidance summary, and the
disclaimer. The text, Markdown and HTML formats each render those blocks; the JSON
format renders the facts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ketscreen.core.conditions import Answer
from ketscreen.core.model import DECLINED, FlagLevel, Questionnaire
from ketscreen.core.scoring import Result
from ketscreen.core.texts import DISCLAIMER
from ketscreen.io.resources import Region, report_headings
from ketscreen.io.sessions import BATTERY_FIELD, Session, Status
from ketscreen.ui.interview_screen import answer_label as item_answer_label
from ketscreen.ui.reports.history import HistoryPoint, chart_svg, client_history
from ketscreen.ui.resources_view import KIND_LABELS
from ketscreen.ui.result_view import counts_signs, not_assessed_text
from ketscreen.ui.safety import COUNSELOR_TITLE, counselor_lines, lower_first

CONFIDENTIAL = (
    "Confidential: this report holds health information about the client. Keep it secure "
    "and share it only as agreed with the client, within the limits of confidentiality "
    "explained at the start."
)
NOT_ANSWERED = "Not answered"


STATUS_NOTICES = {
    Status.IN_PROGRESS: (
        "IN PROGRESS: this session is not finished. The result covers only the answers "
        "given so far and may change."
    ),
    Status.STOPPED: (
        "STOPPED: this session was ended before the last question. The result covers only "
        "the answers given."
    ),
}


@dataclass(frozen=True)
class AnswerRow:
    item: str
    criterion: str | None
    question: str
    code: Answer | None
    answer: str
    counted: bool | None
    """For criteria: whether the answer counts as a warning sign (None: unanswered)."""
    flag: FlagLevel | None


@dataclass(frozen=True)
class SectionRows:
    id: str
    heading: str
    time_frame: str | None
    rows: tuple[AnswerRow, ...]


@dataclass(frozen=True)
class FlagGroup:
    level: FlagLevel
    label: str
    advice: str
    flags: tuple[str, ...]


@dataclass(frozen=True)
class NoteRow:
    item: str | None
    about: str
    at: str
    text: str


@dataclass(frozen=True)
class Amendment:
    at: str
    item: str
    question: str
    old: str
    new: str
    reason: str


@dataclass(frozen=True)
class GuidancePart:
    id: str
    title: str
    text: str


@dataclass(frozen=True)
class SessionReport:
    session: Session
    result: Result | None
    flag_groups: tuple[FlagGroup, ...]
    criteria: SectionRows | None
    sections: tuple[SectionRows, ...]
    unanswered: tuple[str, ...]
    notes: tuple[NoteRow, ...]
    amendments: tuple[Amendment, ...]
    guidance: tuple[GuidancePart, ...]
    region: Region | None = None
    history: tuple[HistoryPoint, ...] | None = None
    """The client's results up to this session (this one last); None: not looked up."""
    handout: bool = False
    """The client's take-home sheet instead of the counselor's report."""

    @property
    def questionnaire(self) -> Questionnaire:
        return self.session.questionnaire


def answer_label(q: Questionnaire, item_id: str, code: Answer | None) -> str:
    """An answer in the words the client saw, or "Not answered"."""
    return NOT_ANSWERED if code is None else item_answer_label(q.items[item_id], code)


def when(iso: str) -> str:
    """`2026-11-21T15:40:12Z` -> `2026-11-21 15:40 UTC` (for people; JSON keeps ISO)."""
    if len(iso) >= 16 and iso[10] == "T" and iso.endswith("Z"):
        return f"{iso[:10]} {iso[11:16]} UTC"
    return iso


def build_report(
    session: Session,
    region: Region | None = None,
    *,
    history: Sequence[Session] | None = None,
    handout: bool = False,
) -> SessionReport:
    """The facts of a report; `region` adds its help services (the guidance refers to
    them), `history` the client's other sessions (for "Earlier results"), `handout` makes
    it the client's take-home sheet."""
    q = session.questionnaire
    result = session.result()
    asked = result.asked if result else ()
    flags = result.flags if result else ()
    counted = {c.item: c for c in result.contributions} if result else {}
    flag_of: dict[str, FlagLevel] = {}
    for flag in reversed(flags):  # most urgent last, so it wins
        flag_of[flag.item] = flag.level

    def row(item_id: str) -> AnswerRow:
        item = q.items[item_id]
        code = session.answers.get(item_id)
        contribution = counted.get(item_id)
        is_counted = None
        if code not in (None, DECLINED) and contribution is not None:
            is_counted = bool(contribution.points) and bool(contribution.counted_in)
        return AnswerRow(
            item_id,
            item.criterion,
            item.short,
            code,
            answer_label(q, item_id, code),
            is_counted,
            flag_of.get(item_id),
        )

    # Counselor-facing headings (resources.yaml `report_headings:`); a section not listed
    # keeps its own title. The criteria table is the first section whose every item
    # names a criterion ("C1"), headed with their range.
    headings = report_headings().get(q.id, {})
    criteria: SectionRows | None = None
    sections: list[SectionRows] = []
    for section in q.sections:
        rows = tuple(row(i) for i in section.items if i in asked)
        if not rows:
            continue
        heading = headings.get(section.id, section.title)
        named = [q.items[i].criterion for i in section.items]
        is_criteria = criteria is None and all(named)
        if is_criteria:
            heading = f"{heading}, criteria {named[0]}-{named[-1]}"
        part = SectionRows(
            section.id,
            heading,
            section.time_frame or q.items[section.items[0]].time_frame,
            rows,
        )
        if is_criteria:
            criteria = part
        else:
            sections.append(part)

    groups = []
    for level in FlagLevel:
        labels = tuple(_flag_label(q, f.id) for f in flags if f.level is level)
        if labels:
            info = q.levels[level]
            groups.append(FlagGroup(level, info.label, info.advice, labels))

    notes = [
        NoteRow(item_id, q.items[item_id].short, note.at, note.text)
        for item_id in q.order
        for note in session.item_notes.get(item_id, ())
    ]
    notes += [NoteRow(None, "General", note.at, note.text) for note in session.general_notes]

    amendments = tuple(
        Amendment(
            e.at,
            e.item or "",
            q.items[e.item].short if e.item else "",
            answer_label(q, e.item, e.old) if e.item else "",
            answer_label(q, e.item, e.new) if e.item else "",
            e.reason or "",
        )
        for e in session.amendments
    )

    return SessionReport(
        session=session,
        result=result,
        flag_groups=tuple(groups),
        criteria=criteria,
        sections=tuple(sections),
        unanswered=tuple(session.unanswered()),
        notes=tuple(notes),
        amendments=amendments,
        guidance=_guidance(session, result),
        region=region,
        history=None if history is None else client_history(history, session),
        handout=handout,
    )


def _flag_label(q: Questionnaire, flag_id: str) -> str:
    return next(rule.label for rule in q.flags if rule.id == flag_id)


def _guidance(session: Session, result: Result | None) -> tuple[GuidancePart, ...]:
    if result is None:
        return ()
    guidance = session.questionnaire.guidance
    parts = []
    band_text = guidance.bands.get(result.band)
    if band_text:
        parts.append(GuidancePart(result.band, "For this result", band_text))
    readiness = session.answers.get(guidance.readiness_item or "")
    if isinstance(readiness, str) and readiness in guidance.readiness:
        parts.append(GuidancePart("readiness", "Readiness", guidance.readiness[readiness]))
    topics = {topic.id: topic for topic in guidance.topics}
    parts += [GuidancePart(t, topics[t].title, topics[t].text) for t in result.guidance]
    return tuple(parts)


# -- layout: neutral blocks the text, Markdown and HTML formats render -----------------


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Subheading:
    text: str


@dataclass(frozen=True)
class Fields:
    rows: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Notice:
    """Something the reader must not miss (an unfinished session, a crisis)."""

    text: str


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Chart:
    """A picture of data that a table beside it also gives (HTML draws it; the text
    formats leave it out, the table being the same facts)."""

    svg: str


Block = Heading | Subheading | Fields | Paragraph | Notice | Table | Bullets | Chart


def title(report: SessionReport) -> str:
    if report.handout:
        from ketscreen.ui.reports.handout import handout_title

        return handout_title(report)
    return f"{report.questionnaire.title}: intake report"


def document(report: SessionReport) -> list[Block]:
    """The report as blocks, in reading order (the take-home sheet's, with `handout`)."""
    if report.handout:
        from ketscreen.ui.reports.handout import handout_document

        return handout_document(report)
    blocks: list[Block] = [_header(report), Paragraph(CONFIDENTIAL)]
    s = report.session
    notice = STATUS_NOTICES.get(s.status)
    if notice:
        missing = len(report.unanswered)
        blocks.append(Notice(f"{notice} Questions not answered yet: {missing}."))

    blocks.append(Heading("Flags, most urgent first"))
    unassessed = not_assessed_text(report.questionnaire, report.result) if report.result else None
    if unassessed:
        blocks.append(Notice(f"NOT ASSESSED: {unassessed}"))
    elif report.result is None:
        blocks.append(Notice("NOT ASSESSED: no question has been answered yet."))
    elif not report.flag_groups:
        blocks.append(Paragraph("No flags were raised."))
    for group in report.flag_groups:
        blocks += [
            Subheading(f"{group.label} ({group.level.value})"),
            Paragraph(group.advice),
            Bullets(group.flags),
        ]
        blocks += where_to_turn(group.level, report.region)
        if group.level in (FlagLevel.EMERGENCY, FlagLevel.CRISIS):
            blocks += _safety_protocol(report, group.level)

    blocks += [Heading("Result"), *_result(report)]
    if report.history is not None:
        blocks += _history(report, report.history)
    if report.criteria is not None:
        blocks += [
            Heading(_section_heading(report.criteria, report.criteria.heading)),
            Table(
                ("Criterion", "Warning sign", "Answer", "Counted"),
                tuple(
                    (r.criterion or "", r.question, r.answer, _counted(r.counted))
                    for r in report.criteria.rows
                ),
            ),
        ]
    for part in report.sections:
        blocks += [
            Heading(_section_heading(part, part.heading)),
            Table(
                ("Question", "Answer", "Flag"),
                tuple((r.question, r.answer, _flag_text(report, r.flag)) for r in part.rows),
            ),
        ]

    blocks.append(Heading("Notes"))
    if report.notes:
        blocks.append(
            Table(
                ("About", "Time", "Note"),
                tuple((n.about, when(n.at), n.text) for n in report.notes),
            )
        )
    else:
        blocks.append(Paragraph("No notes."))

    if report.amendments:
        blocks += [
            Heading("Changes after completion"),
            Table(
                ("Time", "Question", "Was", "Now", "Reason"),
                tuple((when(a.at), a.question, a.old, a.new, a.reason) for a in report.amendments),
            ),
        ]

    blocks.append(Heading("Guidance summary"))
    if report.guidance:
        for advice in report.guidance:
            blocks += [Subheading(advice.title), Paragraph(advice.text)]
    elif report.result is None:
        blocks.append(Paragraph("No guidance yet: there is no result."))
    else:
        blocks.append(Paragraph("The questionnaire has no guidance for this result."))

    if report.region is not None:
        blocks += help_blocks(report.region)

    blocks += [Heading("Disclaimer"), Paragraph(DISCLAIMER)]
    return blocks


def help_blocks(region: Region, *, compact: bool = False) -> list[Block]:
    """The region's emergency number, urgent-care route and every service: a table, or
    with `compact` one short line per service (the take-home sheet's one page)."""
    order = list(KIND_LABELS)
    services = sorted(region.services, key=lambda service: order.index(service.kind))
    listed: Block = (
        Bullets(
            tuple(
                f"{v.name} ({KIND_LABELS[v.kind].lower()}): {v.contact}. {v.hours.rstrip('.')}."
                for v in services
            )
        )
        if compact
        else Table(
            ("Service", "Kind", "How to reach it", "When"),
            tuple((v.name, KIND_LABELS[v.kind], v.contact, v.hours) for v in services),
        )
    )
    return [
        Heading(f"Where to get help: {region.name} ({region.code})"),
        Paragraph(
            f"In an emergency: {region.emergency}. Urgent medical help: {region.urgent_care}."
        ),
        listed,
    ]


def _history(report: SessionReport, points: tuple[HistoryPoint, ...]) -> list[Block]:
    blocks: list[Block] = [Heading("Earlier results for this client")]
    if len(points) <= 1:
        return [
            *blocks,
            Paragraph(
                f"No earlier completed session for client {report.session.client} in this "
                "sessions folder."
            ),
        ]
    rows = []
    for p in points:
        scores = "; ".join(f"{s.short} {s.value}" for s in p.scores if s.value is not None)
        prefix = "At least: " if p.lower_bound else ""
        rows.append(
            (
                when(p.at)[:10] + (" (this session)" if p.current else ""),
                f"{p.instrument} {p.version}",
                prefix + p.band_label,
                scores or "none",
                p.top_level_label,
                "; ".join(p.changes) if p.changes else "first of this instrument",
            )
        )
    blocks.append(
        Table(
            ("Date", "Instrument", "Result", "Scores", "Most urgent alert", "Change"), tuple(rows)
        )
    )
    svg = chart_svg(points)
    if svg:
        blocks.append(Chart(svg))
    return blocks


def _safety_protocol(report: SessionReport, level: FlagLevel) -> list[Block]:
    """The counselor panel shown at the intake, and the safety notes with their times."""
    group = next(g for g in report.flag_groups if g.level is level)
    what = lower_first(group.flags[0])
    blocks: list[Block] = [Subheading(COUNSELOR_TITLE), Bullets(counselor_lines(level, what))]
    notes = report.session.safety_notes
    if not notes:
        return [*blocks, Paragraph("Safety note: none was recorded in this session.")]
    rows = tuple(
        (
            when(n.at),
            report.questionnaire.items[n.item].short
            if n.item in report.questionnaire.items
            else n.item,
            n.text or "Left empty by the counselor",
        )
        for n in notes
    )
    return [*blocks, Table(("Time", "About", "Safety note"), rows)]


def where_to_turn(level: FlagLevel, region: Region | None) -> list[Block]:
    """The region's route right under a crisis or urgent alert (CONTENT.md section 4),
    not only in the list of services at the end."""
    if region is None:
        return []
    if level in (FlagLevel.EMERGENCY, FlagLevel.CRISIS):
        crisis = "; ".join(f"{s.name}: {s.contact}" for s in region.of_kind("crisis"))
        return [Paragraph(f"Emergency: {region.emergency}. Crisis support: {crisis}.")]
    if level is FlagLevel.URGENT:
        return [Paragraph(f"Where to get medical advice today: {region.urgent_care}.")]
    return []


def _battery_row(session: Session) -> list[tuple[str, str]]:
    """ "Battery: 1 of 2, with 20261203-... (sds 1.0.0)" for one part of a battery."""
    link = session.extra.get(BATTERY_FIELD)
    if not isinstance(link, dict):
        return []
    ids, names = link.get("sessions"), link.get("instruments")
    if not (isinstance(ids, list) and isinstance(names, list) and session.id in ids):
        return []
    others = [f"{sid} ({name})" for sid, name in zip(ids, names, strict=False) if sid != session.id]
    where = f"{ids.index(session.id) + 1} of {len(ids)}"
    return [("Battery", f"{where}, with {', '.join(str(o) for o in others)}")]


def _header(report: SessionReport) -> Fields:
    s = report.session
    q = report.questionnaire
    rows = [
        ("Client", s.client),
        ("Counselor", s.counselor or "not recorded"),
        ("Session", s.id),
        *_battery_row(s),
        ("Status", s.status.value),
        ("Started", when(s.started)),
    ]
    if s.completed_at:
        rows.append(("Completed", when(s.completed_at)))
    rows += [
        ("Last change", when(s.updated)),
        ("Questionnaire", f"{q.id} {q.version}"),
        ("SHA-256", q.sha256),
    ]
    if report.result is not None:
        rows.append(("Scored by", f"ketscreen {report.result.provenance.tool_version}"))
    return Fields(tuple(rows))


def _result(report: SessionReport) -> list[Block]:
    result = report.result
    if result is None:
        return [Paragraph("No result yet: the first question has not been answered.")]
    q = report.questionnaire
    prefix = "At least: " if result.lower_bound else ""
    label = q.band_rule.band(result.band).label
    rows = [("Band", f"{prefix}{label} ({result.band})")]
    missing = set(result.missing)
    for sc in q.scores:
        value = result.scores.get(sc.id)
        if value is not None:
            partial = any(i in missing for i in sc.items)
            rows.append((sc.label, f"at least {value}" if partial else str(value)))
    blocks: list[Block] = [Fields(tuple(rows))]
    if result.lower_bound and counts_signs(q):
        blocks.append(
            Paragraph(
                "Some warning-sign questions were not answered, so the counts are a lower "
                "bound: the true counts may be higher."
            )
        )
    elif result.lower_bound:
        blocks.append(
            Paragraph(
                "Some of the questions scored for this result were not answered, so the "
                "totals are a lower bound: the true totals may be higher."
            )
        )
    return blocks


def _section_heading(part: SectionRows, heading: str) -> str:
    return f"{heading} ({part.time_frame})" if part.time_frame else heading


def _counted(counted: bool | None) -> str:
    if counted is None:
        return "no answer"
    return "counted" if counted else "not counted"


def _flag_text(report: SessionReport, level: FlagLevel | None) -> str:
    return report.questionnaire.levels[level].label if level else ""
