"""Hostile and malformed YAML: one clean error each, bounded time, nothing executed."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ketscreen.cli import app
from ketscreen.core.yamlsafe import MAX_DEPTH, LocatedDict, LocatedList, load_yaml
from ketscreen.errors import QuestionnaireError

runner = CliRunner()

ALIAS_BOMB = "\n".join(
    ["a: &a [x, x, x, x, x, x, x, x, x]"]
    + [
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]"
        for i in range(9)
    ]
)

HOSTILE: dict[str, tuple[bytes, str]] = {
    "python object tag": (
        b"id: !!python/object/apply:os.system ['touch /tmp/ketscreen-pwned']\n",
        "1:5: tags such as 'tag:yaml.org,2002:python/object/apply:os.system' are not allowed",
    ),
    "custom tag": (b"id: !custom x\n", "1:5: tags such as '!custom' are not allowed"),
    "alias bomb": (ALIAS_BOMB.encode(), "1:4: anchors (&name) are not allowed here"),
    # Our own check, or PyYAML's own depth limit (6.0.4 and newer stop in the scanner
    # first): either way one located error of ours; the library's words are left free.
    "deep nesting": (
        b"a: " + b"[" * 50_000 + b"]" * 50_000 + b"\n",
        rf"hostile\.yaml:1:\d+: (nesting is deeper than {MAX_DEPTH}|not valid YAML: )",
    ),
    "huge scalar": (b"id: " + b"x" * (30 * 1024 * 1024) + b"\n", "the limit is 1,048,576 bytes"),
    "not utf-8": (b"id: ketamine\ntitle: caf\xe9\n", "2:11: byte 0xe9 is not valid UTF-8"),
    "empty": (b"", "file is empty"),
    "only spaces": (b"   \n\n", "file is empty"),
    "only a comment": (b"# nothing\n", "file holds no data"),
    "list at root": (b"- a\n- b\n", "the top level must be a mapping"),
    "scalar at root": (b"hello\n", "the top level must be a mapping"),
    "two documents": (b"a: 1\n---\nb: 2\n", "2:1: more than one YAML document"),
    "bad syntax": (b"id: [unclosed\n", "not valid YAML"),
    "duplicate key": (b"id: a\nversion: '1'\nid: b\n", "3:1: duplicate key 'id' (first at line 1)"),
    "complex key": (b"? [a, b]\n: c\n", "1:3: keys must be plain text"),
    "control character": (b"id: a\x07b\n", "1:6: not valid YAML: the control character U+0007"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_file_gets_one_clean_error(name: str, tmp_path: Path) -> None:
    data, expected = HOSTILE[name]
    path = tmp_path / "hostile.yaml"
    path.write_bytes(data)
    started = time.perf_counter()
    result = runner.invoke(app, ["validate", str(path)])
    elapsed = time.perf_counter() - started
    assert result.exit_code == 1, result.output
    if name == "deep nesting":
        assert re.search(expected, result.stderr), result.stderr[:300]
    else:
        assert expected in result.stderr
    assert result.stderr.count("\n") == 2, result.stderr[:300]  # the problem, the summary
    assert "Traceback" not in result.output + result.stderr
    assert result.stdout == ""
    assert elapsed < 15, f"{name} took {elapsed:.1f}s"  # bounded, with room for a busy machine
    assert not Path("/tmp/ketscreen-pwned").exists()


def test_yes_and_no_stay_text_and_dates_stay_text() -> None:
    data = load_yaml(b"a: yes\nb: no\nc: on\nd: true\ne: 2026-11-01\nf: 3\ng: 1.5\nh: null\n", "t")
    assert data == {
        "a": "yes",
        "b": "no",
        "c": "on",
        "d": True,
        "e": "2026-11-01",
        "f": 3,
        "g": 1.5,
        "h": None,
    }


def test_locations_are_one_based_for_keys_values_and_items() -> None:
    data = load_yaml(b"top:\n  - x\n  - key: value\n", "f.yaml")
    assert isinstance(data, LocatedDict)
    assert (data.loc.line, data.loc.column) == (1, 1)
    assert (data.key_loc("top").line, data.value_loc("top").line) == (1, 2)
    seq = data["top"]
    assert isinstance(seq, LocatedList)
    assert [(loc.line, loc.column) for loc in seq.item_locs] == [(2, 5), (3, 5)]
    assert seq.item_loc(5) == seq.loc  # out of range falls back to the list itself
    assert data.key_loc("missing") == data.loc


def test_bom_is_accepted() -> None:
    assert load_yaml("\ufeffa: 1\n".encode(), "bom.yaml") == {"a": 1}


def test_error_carries_every_problem_with_location() -> None:
    with pytest.raises(QuestionnaireError) as caught:
        load_yaml(b"a: 1\na: 2\n", "dup.yaml")
    (problem,) = caught.value.problems
    assert str(problem) == "dup.yaml:2:1: duplicate key 'a' (first at line 1)"
