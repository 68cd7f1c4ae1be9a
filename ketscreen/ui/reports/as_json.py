"""The report as JSON for programs: `format: ketscreen-report/1`, keys in a fixed order.

Codes stay codes (labels are for people); times stay ISO 8601 UTC. Fields are only ever
added, never renamed, within `ketscreen-report/1`.
"""

from __future__ import annotations

import json
from typing import Any

from ketscreen.core.conditions import Answer
from ketscreen.core.texts import DISCLAIMER
from ketscreen.ui.reports.content import CONFIDENTIAL, AnswerRow, SessionReport
from ketscreen.ui.reports.history import history_data

FORMAT = "ketscreen-report/1"


def _code(code: Answer | None) -> str | list[str] | None:
    return list(code) if isinstance(code, tuple) else code


def _answer(row: AnswerRow) -> dict[str, Any]:
    data: dict[str, Any] = {
        "item": row.item,
        "question": row.question,
        "answer": _code(row.code),
        "answer_label": row.answer,
    }
    if row.criterion:
        data["criterion"] = row.criterion
        data["counted"] = row.counted
    else:
        data["flag_level"] = row.flag.value if row.flag else None
    return data


def _region(report: SessionReport) -> dict[str, Any] | None:
    region = report.region
    if region is None:
        return None
    return {
        "code": region.code,
        "name": region.name,
        "emergency": region.emergency,
        "urgent_care": region.urgent_care,
        "services": [
            {
                "id": v.id,
                "name": v.name,
                "kind": v.kind,
                "contact": v.contact,
                "hours": v.hours,
                "checked": v.checked,
            }
            for v in region.services
        ],
    }


def report_data(report: SessionReport) -> dict[str, Any]:
    s = report.session
    q = report.questionnaire
    result = report.result
    data: dict[str, Any] = {
        "format": FORMAT,
        "session": {
            "id": s.id,
            "client": s.client,
            "counselor": s.counselor,
            "status": s.status.value,
            "started": s.started,
            "completed": s.completed_at,
            "updated": s.updated,
            "unanswered": [*s.unanswered()],
        },
        "questionnaire": {"id": q.id, "version": q.version, "sha256": q.sha256},
        "result": result.to_dict() if result else None,
        "flags": [
            {
                "level": group.level.value,
                "level_label": group.label,
                "advice": group.advice,
                "flags": [*group.flags],
            }
            for group in report.flag_groups
        ],
        "criteria": [_answer(r) for r in report.criteria.rows] if report.criteria else [],
        "sections": [
            {"id": part.id, "title": part.heading, "answers": [_answer(r) for r in part.rows]}
            for part in report.sections
        ],
        "notes": [{"item": n.item, "at": n.at, "text": n.text} for n in report.notes],
        "safety_notes": [note.to_dict() for note in s.safety_notes],
        "amendments": [
            {"at": a.at, "item": a.item, "old": a.old, "new": a.new, "reason": a.reason}
            for a in report.amendments
        ],
        "guidance": [{"id": g.id, "title": g.title, "text": g.text} for g in report.guidance],
        "region": _region(report),
        "confidential": CONFIDENTIAL,
        "disclaimer": DISCLAIMER,
    }
    if s.next_steps is not None:
        data["next_steps"] = s.next_steps.to_dict()
    if report.history is not None:  # the client's series, oldest first, this session last
        data["history"] = history_data(report.history)
    return data


class JsonFormat:
    suffix = ".json"

    def format(self, report: SessionReport) -> str:
        return json.dumps(report_data(report), indent=2, ensure_ascii=False) + "\n"
