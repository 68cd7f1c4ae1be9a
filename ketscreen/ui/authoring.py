"""What `validate` and `show` print for questionnaire authors and reviewers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ketscreen.core.advice import advice
from ketscreen.core.conditions import describe
from ketscreen.core.examples import check_examples
from ketscreen.core.model import ItemType, Questionnaire
from ketscreen.core.schema import build_questionnaire
from ketscreen.core.yamlsafe import DEFAULT_MAX_BYTES, LocatedDict, load_yaml
from ketscreen.errors import Problem, QuestionnaireError
from ketscreen.io.files import data_dir, read_limited
from ketscreen.io.questionnaires import (
    DEFAULT_INSTRUMENT,
    RELEASES_FILE,
    find,
    parse_releases,
    shipped,
    unreleased_shipped,
)
from ketscreen.io.resources import parse_resources


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _summary(q: Questionnaire) -> str:
    counts = ", ".join(
        _count(n, word)
        for n, word in (
            (len(q.sections), "section"),
            (len(q.items), "item"),
            (len(q.band_rule.bands), "band"),
            (len(q.flags), "flag"),
        )
    )
    examples = _count(len(q.examples), "example")
    verb = "agrees" if len(q.examples) == 1 else "agree"
    return (
        f"questionnaire {q.id} {q.version}: {counts}; {examples} {verb} with the engine; "
        f"sha256 {q.sha256}"
    )


def _where(root: object, where: tuple[str, ...], source: str) -> str:
    """`file:line:column` of what a warning is about (an item, a guidance text)."""
    loc = None
    if where[0] == "items" and isinstance(root, LocatedDict):
        sections = root.get("sections")
        for section in sections if isinstance(sections, list) else []:
            items = section.get("items") if isinstance(section, LocatedDict) else None
            for item in items if isinstance(items, list) else []:
                if isinstance(item, LocatedDict) and item.get("id") == where[1]:
                    loc = item.value_loc("choices") if "choices" in item else item.loc
    elif where[0] == "guidance" and isinstance(root, LocatedDict):
        node: object = root
        for key in where[:-1]:
            node = node.get(key) if isinstance(node, LocatedDict) else None
        last = where[-1]
        if isinstance(node, LocatedDict):
            loc = node.value_loc(last)
        elif isinstance(node, list):  # topics: find the one with this id
            loc = next(
                (t.loc for t in node if isinstance(t, LocatedDict) and t.get("id") == last), None
            )
    return f"{loc.source}:{loc.line}:{loc.column}" if loc is not None else source


def validate_file(path: Path, warn: Callable[[str], None] | None = None) -> str:
    """Check one questionnaire, resources or releases file; one summary line, or QuestionnaireError.

    Advice that is not an error (the answer-order rule) goes to `warn`, one line each.
    """
    data = read_limited(path, DEFAULT_MAX_BYTES, "questionnaire")
    source = str(path)
    root = load_yaml(data, source)
    if isinstance(root, LocatedDict) and "regions" in root and "sections" not in root:
        regions = parse_resources(data, source)
        services = sum(len(r.services) for r in regions.values())
        return f"{source}: OK, resources for {len(regions)} regions, {services} services"
    if isinstance(root, LocatedDict) and "releases" in root and "sections" not in root:
        listed = parse_releases(data, source)
        missing = unreleased_shipped() if path.resolve() == _releases_path().resolve() else []
        if missing:
            raise QuestionnaireError([Problem(source, 0, 0, message) for message in missing])
        return f"{source}: OK, {len(listed)} released versions"
    questionnaire = build_questionnaire(root, source)  # parsed once: big files cost once
    problems = check_examples(questionnaire)
    if problems:
        raise QuestionnaireError(problems)
    for found in advice(questionnaire):
        if warn is not None:
            warn(f"{_where(root, found.where, source)}: {found.message}")
    return f"{source}: OK, {_summary(questionnaire)}"


def validate_files(
    path: Path | None,
    warn: Callable[[str], None] | None = None,
    *,
    instrument: str | None = None,
    version: str | None = None,
) -> Iterator[str]:
    """One line per file checked: `path`; else one shipped version; else every shipped
    questionnaire version and the resources."""
    if path is not None:
        yield validate_file(path, warn)
        return
    if version is not None or instrument is not None:
        yield validate_file(find(instrument or DEFAULT_INSTRUMENT, version).path, warn)
        return
    for entry in shipped():
        yield validate_file(entry.path, warn)
    yield validate_file(data_dir() / "resources.yaml", warn)
    yield validate_file(_releases_path(), warn)


def _releases_path() -> Path:
    return data_dir() / RELEASES_FILE


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
        table.add_column("asked when", ratio=2, overflow="fold")
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
        elif band.incomplete and rule.max_missing == 0:
            when = f"any of the {rule.score} items unanswered"
        elif band.incomplete:
            when = f"more than {rule.max_missing} of the {rule.score} items unanswered"
        else:
            when = f"{rule.score} {band.low} to {band.high}"
        bands.add_row(band.id, when, band.label)
    console.print()
    console.print(Text("Bands (checked in this order)", style="heading"))
    console.print(bands)
    if rule.max_missing:
        console.print(
            f"With 1 to {rule.max_missing} {rule.score} items unanswered, the band is computed "
            'from the answered ones and marked as a lower bound ("at least").'
        )

    flags = Table(expand=True, pad_edge=False)
    flags.add_column("flag", overflow="fold")
    flags.add_column("level", overflow="fold")
    flags.add_column("raised when", overflow="fold")
    for flag in sorted(q.flags, key=lambda f: f.level.rank):
        when = describe(flag.when) + (f"; says: {flag.advice}" if flag.advice else "")
        flags.add_row(flag.id, flag.level.value, when)
    console.print()
    console.print(Text("Flags (raised whatever the band; most urgent first)", style="heading"))
    console.print(flags if q.flags else "None: no answer raises a flag.")
    if q.safety_items:
        console.print(
            f"Safety questions: {', '.join(q.safety_items)}. A result in which one was "
            "asked but has no answer (not even 'declined') and no flag was raised has "
            "top flag level not_assessed."
        )

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
