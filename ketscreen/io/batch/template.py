"""Blank response records (`ketscreen template`), so people can prepare data by hand."""

from __future__ import annotations

import csv
import io
import json

from ketscreen.core.conditions import describe
from ketscreen.core.model import Item, ItemType, Questionnaire
from ketscreen.io.batch.formats import RESPONDENT, TemplateFormat, assert_never
from ketscreen.io.batch.versions import VERSION_KEY


def render_template(questionnaire: Questionnaire, fmt: TemplateFormat) -> str:
    """One blank record with every item id, in the questionnaire's order, and the
    questionnaire version filled in, so the record is scored with it whatever ships
    later."""
    ids = [RESPONDENT, *questionnaire.items, VERSION_KEY]
    match fmt:
        case TemplateFormat.CSV:
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(ids)
            writer.writerow([""] * (len(ids) - 1) + [questionnaire.version])
            return buffer.getvalue()
        case TemplateFormat.JSONL:
            record: dict[str, str | list[str]] = dict.fromkeys(ids, "")
            for item in questionnaire.items.values():
                if item.type is ItemType.MULTI:
                    record[item.id] = []
            record[VERSION_KEY] = questionnaire.version
            return json.dumps(record) + "\n"
        case TemplateFormat.YAML:
            return _yaml(questionnaire)
        case _:
            assert_never(fmt)


def _yaml(questionnaire: Questionnaire) -> str:
    q = questionnaire
    lines = [
        f"# A blank response for questionnaire {q.id} {q.version} (sha256 {q.sha256[:12]}...).",
        "# One code per item; a list of codes for multi-select items. Leave an item empty",
        "# when it was not answered; `declined` means prefer not to say. Items that skip",
        "# logic does not ask must stay empty. yes/no items also take y/n, true/false, 1/0.",
        f"{RESPONDENT}:",
    ]
    for item in q.items.values():
        lines.extend(_item_comment(item))
        lines.append(f"{item.id}: []" if item.type is ItemType.MULTI else f"{item.id}:")
    lines += [
        "",
        "# The version these answers belong to; keep it.",
        f'{VERSION_KEY}: "{q.version}"',
    ]
    return "\n".join(lines) + "\n"


def _item_comment(item: Item) -> list[str]:
    kind = {
        ItemType.SINGLE: "one code",
        ItemType.MULTI: "a list of codes",
        ItemType.YES_NO: "yes or no",
    }[item.type]
    notes = [kind]
    if item.required:
        notes.append("required")
    if item.enable_when is not None:
        notes.append(f"asked when {describe(item.enable_when)}")
    return [
        "",
        f"# {item.short} ({'; '.join(notes)})",
        f"#   allowed: {', '.join(item.allowed_codes)}",
    ]
