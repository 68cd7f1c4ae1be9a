"""What `validate` and `show` print for questionnaire authors and reviewers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ketscreen.core.conditions import describe
from ketscreen.core.examples import check_examples
from ketscreen.core.model import ItemType, Questionnaire
from ketscreen.core.schema import build_questionnaire
from ketscreen.core.yamlsafe import DEFAULT_MAX_BYTES, LocatedDict, load_yaml
from ketscreen.errors import QuestionnaireError
from ketscreen.io.files import data_dir, read_limited
from ketscreen.io.resources import parse_resources


def _summary(q: Questionnaire) -> str:
    return (
        f"questionnaire {q.id} {q.version}: {len(q.sections)} sections, {len(q.items)} items, "
        f"{len(q.band_rule.bands)} bands, {len(q.flags)} flags; "
        f"{len(q.examples)} examples agree with the engine; sha256 {q.sha256}"
    )


def validate_file(path: Path) -> str:
    """Check one questionnaire or resources file; one summary line, or QuestionnaireError."""
    data = read_limited(path, DEFAULT_MAX_BYTES, "questionnaire")
    source = str(path)
    root = load_yaml(data, source)
    if isinstance(root, LocatedDict) and "regions" in root and "sections" not in root:
        regions = parse_resources(data, source)
        services = sum(len(r.services) for r in regions.values())
        return f"{source}: OK, resources for {len(regions)} regions, {services} services"
    questionnaire = build_questionnaire(root, source)  # parsed once: big files cost once
    problems = check_examples(questionnaire)
    if problems:
        raise QuestionnaireError(problems)
    return f"{source}: OK, {_summary(questionnaire)}"


def validate_files(path: Path | None) -> Iterator[str]:
    if path is not None:
        yield validate_file(path)
        return
    for name in ("ketamine.yaml", "resources.yaml"):
        yield validate_file(data_dir() / name)


def _codes(q: Questionnaire, item_id: str) -> Text:
    item = q.items[item_id]
    text = Text()
    for index, choice in enumerate(item.choices):
        if index:
            text.append("\n")
        text.append(choice.code)
        if choice.weight is not None and item.id in _scored(q):
            text.append(f"={choice.weight}", style="muted")
    if item.allow_decline:
        text.append("\ndeclined", style="muted")
    return text


def _scored(q: Questionnaire) -> set[str]:
    return {i for s in q.scores for i in s.items}


def render_questionnaire(q: Questionnaire, console: Console) -> None:
    """A readable listing of everything that makes a result."""
    console.print(Text(f"{q.title} ({q.id} {q.version})", style="heading"))
    console.print(Text(f"sha256 {q.sha256}", style="muted"))
    if q.description:
        console.print(q.description)
    for section in q.sections:
        table = Table(title=None, show_lines=False, expand=True, pad_edge=False)
        table.add_column("item", overflow="fold")
        table.add_column("type", overflow="fold")
        table.add_column("codes (weight)", ratio=2, min_width=16, overflow="fold")
        table.add_column("asked when", ratio=2)
        for item_id in section.items:
            item = q.items[item_id]
            kind = item.type.value + ("\n(required)" if item.required else "")
            asked = describe(item.enable_when) if item.enable_when else "always"
            table.add_row(item.id, kind, _codes(q, item.id), asked)
        frame = f" - {section.time_frame}" if section.time_frame else ""
        console.print()
        console.print(Text(f"Section {section.id}: {section.title}{frame}", style="heading"))
        console.print(table)

    console.print()
    console.print(Text("Scores (sum of weights of answered items)", style="heading"))
    for sc in q.scores:
        console.print(f"  {sc.id}: {sc.label} = {' + '.join(sc.items)}")

    rule = q.band_rule
    bands = Table(expand=True, pad_edge=False)
    bands.add_column("band", overflow="fold")
    bands.add_column("when")
    bands.add_column("label")
    for band in rule.bands:
        if band.when is not None:
            when = describe(band.when)
        elif band.incomplete:
            when = f"more than {rule.max_missing} of the {rule.score} items unanswered"
        else:
            when = f"{rule.score} {band.low} to {band.high}"
        bands.add_row(band.id, when, band.label)
    console.print()
    console.print(Text("Bands (checked in this order)", style="heading"))
    console.print(bands)
    console.print(
        f"With 1 to {rule.max_missing} {rule.score} items unanswered, the band is computed "
        'from the answered ones and marked as a lower bound ("at least").'
    )

    flags = Table(expand=True, pad_edge=False)
    flags.add_column("flag", overflow="fold")
    flags.add_column("level", overflow="fold")
    flags.add_column("raised when")
    for flag in sorted(q.flags, key=lambda f: f.level.rank):
        flags.add_row(flag.id, flag.level.value, describe(flag.when))
    console.print()
    console.print(Text("Flags (raised whatever the band; most urgent first)", style="heading"))
    console.print(flags)

    if q.guidance.topics:
        console.print()
        console.print(Text("Guidance topics", style="heading"))
        for topic in q.guidance.topics:
            when = describe(topic.when) if topic.when else "always"
            console.print(f"  {topic.id}: when {when}")
    multi = [i.id for i in q.items.values() if i.type is ItemType.MULTI]
    notes = [
        "Every item except required ones can be answered 'declined' (prefer not to say), "
        "which counts as unanswered.",
    ]
    if multi:
        notes.append(f"Multi-select items ({', '.join(multi)}): codes separated by ; or |.")
    console.print()
    console.print(Panel(Group(*(Text(n) for n in notes)), title="Notes", expand=True))
