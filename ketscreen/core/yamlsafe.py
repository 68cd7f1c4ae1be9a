"""Load untrusted YAML into plain data that remembers where each value came from.

Questionnaire and resource files are data, never code. This loader:

- decodes strict UTF-8 (a BOM is allowed) and refuses anything larger than
  `max_bytes` before parsing it;
- walks the event stream first, without building anything, to refuse tags
  (`!!python/object` and friends), anchors and aliases (so alias bombs cost
  nothing) and nesting deeper than `MAX_DEPTH`;
- only then composes the node tree and turns it into `LocatedDict` /
  `LocatedList` / scalars, refusing duplicate keys and non-text keys;
- follows YAML 1.2 for booleans (only true/false), so answer codes such as
  `yes`, `no` and `on` stay text, and keeps dates as text.

Every problem becomes a `QuestionnaireError` whose message is
`file:line:column: message`.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import yaml

from ketscreen.errors import Problem, QuestionnaireError

MAX_DEPTH = 64
DEFAULT_MAX_BYTES = 1024 * 1024

_BOOL_TAG = "tag:yaml.org,2002:bool"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class Loc(NamedTuple):
    """A 1-based line and column in a named source.

    A NamedTuple, not a dataclass: one is made for every key and value of a file, and a
    1 MiB questionnaire has hundreds of thousands of them.
    """

    source: str
    line: int
    column: int

    def problem(self, message: str) -> Problem:
        return Problem(self.source, self.line, self.column, message)


class LocatedDict(dict[str, Any]):
    """A mapping that knows where it, each key and each value stand in the file."""

    loc: Loc
    key_locs: dict[str, Loc]
    value_locs: dict[str, Loc]

    def key_loc(self, key: str) -> Loc:
        return self.key_locs.get(key, self.loc)

    def value_loc(self, key: str) -> Loc:
        return self.value_locs.get(key, self.loc)


class LocatedList(list[Any]):
    """A sequence that knows where it and each of its items stand in the file."""

    loc: Loc
    item_locs: list[Loc]

    def item_loc(self, index: int) -> Loc:
        return self.item_locs[index] if 0 <= index < len(self.item_locs) else self.loc


def loc_of(value: Any, fallback: Loc) -> Loc:
    """The location of a container value, or `fallback` for scalars."""
    if isinstance(value, (LocatedDict, LocatedList)):
        return value.loc
    return fallback


def _base_loader() -> type[yaml.SafeLoader]:
    base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return base


class _Loader(_base_loader()):  # type: ignore[misc]
    """Safe loader with YAML 1.2 booleans and no timestamp conversion."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_BOOL_TAG, _TIMESTAMP_TAG)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _loc(source: str, mark: Any) -> Loc:
    if mark is None:
        return Loc(source, 0, 0)
    return Loc(source, mark.line + 1, mark.column + 1)


def decode_text(data: bytes, source: str) -> str:
    """Strict UTF-8 (with or without BOM); the error names the line and column."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise QuestionnaireError(
            [
                Problem(
                    source,
                    line,
                    column,
                    f"byte 0x{data[exc.start]:02x} is not valid UTF-8; save the file as UTF-8",
                )
            ]
        ) from None
    return text.removeprefix("\ufeff")


def _check_events(text: str, source: str) -> None:
    """Refuse tags, anchors, aliases and deep nesting without building anything."""
    depth = 0
    documents = 0
    for event in yaml.parse(text, Loader=_Loader):
        where = _loc(source, event.start_mark)
        if isinstance(event, yaml.AliasEvent):
            raise QuestionnaireError([where.problem("aliases (*name) are not allowed here")])
        if getattr(event, "anchor", None) is not None:
            raise QuestionnaireError([where.problem("anchors (&name) are not allowed here")])
        tag = getattr(event, "tag", None)
        if tag is not None:
            raise QuestionnaireError(
                [where.problem(f"tags such as {tag!r} are not allowed; write plain data")]
            )
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise QuestionnaireError(
                    [where.problem("more than one YAML document; keep one per file")]
                )
        elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise QuestionnaireError(
                    [where.problem(f"nesting is deeper than {MAX_DEPTH} levels")]
                )
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


MAX_NUMBER_DIGITS = 100
"""Longer numbers are refused: no questionnaire needs them, and Python refuses to turn
text of more than 4300 digits into a whole number."""


def _scalar(node: yaml.ScalarNode, source: str) -> Any:
    tag = node.tag
    value = node.value
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == _BOOL_TAG:
        return value.lower() == "true"
    if tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
        digits = sum(ch.isdigit() for ch in value)
        if digits > MAX_NUMBER_DIGITS:
            raise QuestionnaireError(
                [
                    _loc(source, node.start_mark).problem(
                        f"a number of {digits} digits is too long (at most "
                        f"{MAX_NUMBER_DIGITS}); write a smaller number, or quote it as text"
                    )
                ]
            )
        constructor = yaml.constructor.SafeConstructor()
        return constructor.construct_object(node)
    return value


def _build(node: yaml.Node, source: str) -> Any:
    # Depth is bounded by _check_events, so recursion here is bounded too.
    if isinstance(node, yaml.ScalarNode):
        return _scalar(node, source)
    if isinstance(node, yaml.SequenceNode):
        seq = LocatedList()
        seq.loc = _loc(source, node.start_mark)
        seq.item_locs = []
        for child in node.value:
            seq.append(_build(child, source))
            seq.item_locs.append(_loc(source, child.start_mark))
        return seq
    assert isinstance(node, yaml.MappingNode)
    mapping = LocatedDict()
    mapping.loc = _loc(source, node.start_mark)
    mapping.key_locs = {}
    mapping.value_locs = {}
    for key_node, value_node in node.value:
        key_loc = _loc(source, key_node.start_mark)
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
            raise QuestionnaireError([key_loc.problem("keys must be plain text")])
        key = key_node.value
        if key in mapping:
            first = mapping.key_locs[key]
            raise QuestionnaireError(
                [key_loc.problem(f"duplicate key {key!r} (first at line {first.line})")]
            )
        mapping[key] = _build(value_node, source)
        mapping.key_locs[key] = key_loc
        mapping.value_locs[key] = _loc(source, value_node.start_mark)
    return mapping


def load_yaml(data: bytes, source: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Any:
    """Parse untrusted YAML bytes into located plain data, or raise QuestionnaireError."""
    if len(data) > max_bytes:
        raise QuestionnaireError(
            [
                Problem(
                    source,
                    0,
                    0,
                    f"file is {len(data):,} bytes; the limit is {max_bytes:,} bytes",
                )
            ]
        )
    text = decode_text(data, source)
    if not text.strip():
        raise QuestionnaireError([Problem(source, 0, 0, "file is empty")])
    try:
        _check_events(text, source)
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = exc.problem or exc.context or "not valid YAML"
        if "nesting depth" in reason:  # libyaml's own limit, met while scanning ahead
            message = f"nesting is deeper than {MAX_DEPTH} levels"
        else:
            message = f"not valid YAML: {reason}"
        raise QuestionnaireError([_loc(source, mark).problem(message)]) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow
        before = text[: exc.position]
        line, column = before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise QuestionnaireError(
            [
                Problem(
                    source,
                    line,
                    column,
                    f"not valid YAML: the control character U+{code:04X} is not allowed; delete it",
                )
            ]
        ) from None
    except yaml.YAMLError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise QuestionnaireError([Problem(source, 0, 0, f"not valid YAML: {reason}")]) from None
    if node is None:
        raise QuestionnaireError([Problem(source, 0, 0, "file holds no data")])
    return _build(node, source)
