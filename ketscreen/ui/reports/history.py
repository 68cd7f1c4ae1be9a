"""A client's results over time, for "Earlier results for this client" in a report.

Each point is one session of the client with a result: when, which instrument, the
band, every score, the most urgent alert level. A point is compared with the previous
comparable one, the last earlier session of the same instrument, score by score, in
words ("Warning signs 6 -> 4, fewer"). Scores are compared by their id, so
versions of one instrument compare where they share a score. Nothing here names an
instrument: it all comes from each session's own questionnaire.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from html import escape

from ketscreen.core.model import FlagLevel
from ketscreen.io.sessions import Session, Status

RESULT_STATUSES = (Status.COMPLETED, Status.AMENDED)
"""Sessions whose result is final; unfinished ones would compare a partial count."""


@dataclass(frozen=True)
class ScoreValue:
    id: str
    label: str
    value: int | None

    @property
    def short(self) -> str:
        """The label without its explanation in brackets: "Warning signs (of 10)" ->
        "Warning signs"."""
        return self.label.split(" (", 1)[0]


@dataclass(frozen=True)
class HistoryPoint:
    session_id: str
    at: str
    """When the session was completed (ISO 8601, UTC)."""
    instrument: str
    version: str
    band: str
    band_label: str
    lower_bound: bool
    scores: tuple[ScoreValue, ...]
    band_score: str
    """The id of the score the instrument's bands are read from (the one charted)."""
    top_level: str | None
    top_level_label: str
    current: bool
    changes: tuple[str, ...] = ()
    """Since the previous comparable point, in words; empty for the first of its kind."""


def _point(session: Session, current: bool) -> HistoryPoint | None:
    result = session.result()
    if result is None:
        return None
    q = session.questionnaire
    level = result.top_level
    if level is None:
        level_label = "none"
    else:
        try:
            level_label = q.levels[FlagLevel(level)].label
        except ValueError:  # not_assessed
            level_label = "not assessed (a safety question has no answer)"
    return HistoryPoint(
        session_id=session.id,
        at=session.completed_at or session.updated,
        instrument=q.id,
        version=q.version,
        band=result.band,
        band_label=q.band_rule.band(result.band).label,
        lower_bound=result.lower_bound,
        scores=tuple(ScoreValue(sc.id, sc.label, result.scores.get(sc.id)) for sc in q.scores),
        band_score=q.band_rule.score,
        top_level=level,
        top_level_label=level_label,
        current=current,
    )


def _changes(before: HistoryPoint, now: HistoryPoint) -> tuple[str, ...]:
    said: list[str] = []
    if before.band != now.band:
        said.append(f"result: {before.band_label} -> {now.band_label}")
    earlier = {s.id: s for s in before.scores}
    for sc in now.scores:
        old = earlier.get(sc.id)
        if old is None or old.value is None or sc.value is None:
            continue
        if sc.value != old.value:
            word = "fewer" if sc.value < old.value else "more"
            said.append(f"{sc.short} {old.value} -> {sc.value}, {word}")
    if before.top_level != now.top_level:
        said.append(f"most urgent alert: {before.top_level_label} -> {now.top_level_label}")
    return tuple(said) or ("no change",)


def client_history(sessions: Sequence[Session], current: Session) -> tuple[HistoryPoint, ...]:
    """The points of `current`'s client up to `current` (later sessions are left out),
    oldest first, `current` last; only sessions with a final result, and `current`."""
    chosen = [
        s
        for s in sorted(sessions, key=lambda s: (s.started, s.id))
        if s.id != current.id
        and s.client == current.client
        and (s.started, s.id) < (current.started, current.id)
        and s.status in RESULT_STATUSES
    ]
    points = [p for p in (_point(s, False) for s in chosen) if p is not None]
    mine = _point(current, True)
    if mine is not None:
        points.append(mine)
    last: dict[str, HistoryPoint] = {}
    compared: list[HistoryPoint] = []
    for point in points:
        before = last.get(point.instrument)
        if before is not None:
            point = replace(point, changes=_changes(before, point))
        last[point.instrument] = point
        compared.append(point)
    return tuple(compared)


def history_data(points: Sequence[HistoryPoint]) -> list[dict[str, object]]:
    """The series for `--format json`, one object per point, oldest first."""
    return [
        {
            "session": p.session_id,
            "at": p.at,
            "current": p.current,
            "questionnaire": {"id": p.instrument, "version": p.version},
            "band": p.band,
            "lower_bound": p.lower_bound,
            "scores": {s.id: s.value for s in p.scores},
            "top_flag_level": p.top_level,
            "changes": list(p.changes),
        }
        for p in points
    ]


# -- the chart: inline SVG drawn from the data, no script, no external asset ------------

_W, _H = 640, 220
_LEFT, _RIGHT, _TOP, _BOTTOM = 44, 44, 18, 46
_DASHES = ("", "6 3", "2 3", "8 3 2 3")
"""Each series has its own line style and its label: nothing relies on colour."""


def chart_series(points: Sequence[HistoryPoint]) -> list[tuple[str, list[tuple[int, int]]]]:
    """(label, [(point index, value)]) for each instrument's band score, in the order the
    instruments first appear: the score its bands are read from is the one that tracks
    change; the others are in the table."""
    series: dict[str, tuple[str, list[tuple[int, int]]]] = {}
    for index, p in enumerate(points):
        for score in p.scores:
            if score.value is None:
                continue
            if p.instrument not in series:
                series[p.instrument] = (f"{score.short} ({p.instrument})", [])
            series[p.instrument][1].append((index, score.value))
            break
    return list(series.values())


def chart_svg(points: Sequence[HistoryPoint]) -> str:
    """An accessible line chart of each instrument's band score over the sessions; ""
    with fewer than two points."""
    picked = [replace(p, scores=tuple(s for s in p.scores if s.id == p.band_score)) for p in points]
    series = chart_series(picked)
    values = [v for _, pts in series for _, v in pts]
    if not values or len(points) < 2:
        return ""
    top = max(max(values), 1)
    plot_w = _W - _LEFT - _RIGHT
    plot_h = _H - _TOP - _BOTTOM
    step = plot_w / max(len(points) - 1, 1)

    def x(i: int) -> float:
        return _LEFT + i * step

    def y(v: int) -> float:
        return _TOP + plot_h - (v / top) * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" width="100%" '
        f'role="img" aria-labelledby="history-title" class="history-chart">',
        '<title id="history-title">Scores over time, one line per instrument</title>',
        f'<line x1="{_LEFT}" y1="{_TOP + plot_h}" x2="{_W - _RIGHT}" y2="{_TOP + plot_h}" '
        'stroke="#000"/>',
        f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{_TOP + plot_h}" stroke="#000"/>',
    ]
    for tick in sorted({0, top // 2, top}):
        parts.append(
            f'<text x="{_LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" '
            f'font-size="11">{tick}</text>'
        )
    for i, p in enumerate(points):
        label = p.at[:10]
        parts.append(
            f'<text x="{x(i):.1f}" y="{_TOP + plot_h + 16}" text-anchor="middle" '
            f'font-size="11">{escape(label)}</text>'
        )
    legend_y = _H - 8
    for n, (name, pts) in enumerate(series):
        dash = _DASHES[n % len(_DASHES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        coords = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in pts)
        parts.append(
            f'<polyline points="{coords}" fill="none" stroke="#000" stroke-width="2"{dash_attr}>'
            f"<title>{escape(name)}</title></polyline>"
        )
        for i, v in pts:
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3.5" fill="#000">'
                f"<title>{escape(f'{name}: {v} on {points[i].at[:10]}')}</title></circle>"
                f'<text x="{x(i):.1f}" y="{y(v) - 7:.1f}" text-anchor="middle" '
                f'font-size="11">{v}</text>'
            )
        lx = _LEFT + n * (plot_w / max(len(series), 1))
        parts.append(
            f'<line x1="{lx:.1f}" y1="{legend_y - 4}" x2="{lx + 24:.1f}" y2="{legend_y - 4}" '
            f'stroke="#000" stroke-width="2"{dash_attr}/>'
            f'<text x="{lx + 30:.1f}" y="{legend_y}" font-size="11">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
