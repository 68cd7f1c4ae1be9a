"""`ketscreen export sql`: the query on stdout or in a file, its options, its errors, and
the README's worked DuckDB example, run as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from ketscreen.cli import app
from ketscreen.errors import ExitCode
from ketscreen.io.batch.formats import SqlDialect
from ketscreen.io.questionnaires import load_questionnaire
from ketscreen.io.sql import output_columns

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent
SDS = load_questionnaire(instrument="sds")


def sds_table(connection: duckdb.DuckDBPyConnection, name: str = "responses") -> None:
    columns = ", ".join(f'"{c}" TEXT' for c in ["respondent_id", *SDS.items])
    connection.execute(f"CREATE TABLE {name} ({columns})")
    connection.execute(
        f"INSERT INTO {name} VALUES ('a1', 'never', 'NEVER', ' often ', 'never', 'impossible')"
    )


def test_export_sql_prints_a_query_that_duckdb_runs() -> None:
    result = runner.invoke(app, ["export", "sql", "--instrument", "sds", "--dialect", "duckdb"])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith("WITH cleaned AS (")
    connection = duckdb.connect()
    sds_table(connection)
    cursor = connection.execute(result.stdout)
    names = [d[0] for d in cursor.description]
    assert names == list(output_columns(SDS))
    row = dict(zip(names, cursor.fetchone() or (), strict=True))
    assert (row["status"], row["sds_total"], row["error"]) == ("ok", 5, None)
    assert (row["questionnaire"], row["questionnaire_version"]) == ("sds", SDS.version)


def test_view_table_and_version_options() -> None:
    result = runner.invoke(
        app,
        ["export", "sql", "-d", "duckdb", "--view", "main.scored", "--table", "raw"]
        + ["--version", "1.0.0"],
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith('CREATE VIEW "main"."scored" AS')
    assert 'FROM "raw"' in result.stdout
    connection = duckdb.connect()
    old = load_questionnaire(version="1.0.0")
    columns = ", ".join(f'"{c}" TEXT' for c in ["respondent_id", *old.items])
    connection.execute(f"CREATE TABLE raw ({columns})")
    connection.execute(result.stdout)
    connection.execute("INSERT INTO raw (respondent_id, use_12m) VALUES ('k1', 'No')")
    got = connection.execute("SELECT band, questionnaire_version FROM main.scored").fetchall()
    assert got == [("no_recent_use", "1.0.0")]


@pytest.mark.parametrize("dialect", list(SqlDialect))
def test_each_dialect_speaks_its_own_quoting(dialect: SqlDialect) -> None:
    args = ["export", "sql", "--dialect", dialect.value, "--instrument", "sds"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    quoted = "`sds_control`" if dialect in ("spark", "bigquery") else '"sds_control"'
    assert quoted in result.stdout
    assert result.stdout.endswith(";\n")


def test_export_sql_to_a_file_is_never_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "score.sql"
    args = ["export", "sql", "-d", "sqlite", "-o", str(target)]
    result = runner.invoke(app, args)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", f"Wrote {target}\n")
    first = target.read_text(encoding="utf-8")
    assert "WITH cleaned AS" in first
    target.write_text("keep me", encoding="utf-8")
    result = runner.invoke(app, args)
    assert result.exit_code == ExitCode.ERROR
    assert result.stderr == f"Error: {target} already exists; use --force to overwrite it\n"
    assert target.read_text(encoding="utf-8") == "keep me"
    assert runner.invoke(app, [*args, "--force"]).exit_code == 0
    assert target.read_text(encoding="utf-8") == first


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "Error: --dialect is required: one of duckdb, sqlite, postgres, spark, bigquery"),
        (["-d", "oracle"], "'oracle' is not one of"),
        (["-d", "duckdb", "--table", "x; DROP TABLE y"], "table name 'x; DROP TABLE y' is not"),
        (["-d", "duckdb", "--view", "a b"], "view name 'a b' is not a SQL name"),
        (["-d", "duckdb", "--instrument", "nope"], "nope"),
    ],
)
def test_usage_errors(args: list[str], message: str) -> None:
    """Through the real entry point, where usage errors are one line."""
    done = subprocess.run(
        [sys.executable, "-m", "ketscreen", "export", "sql", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == ExitCode.USAGE, done.stderr
    assert done.stdout == ""
    assert message in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr


def readme_blocks(engine: str) -> dict[str, str]:
    """The fenced blocks of the README's worked example on `engine` ("DuckDB", "Spark"),
    by language (the first of each), from its paragraph to the next example's."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Scoring in your warehouse", 1)[1].split("\n## ", 1)[0]
    assert f"A worked example on {engine}" in section
    example = section.split(f"A worked example on {engine}", 1)[1]
    example = example.split("A worked example on ", 1)[0]
    blocks: dict[str, str] = {}
    for language, body in re.findall(r"```(\w+)\n(.*?)```", example, re.DOTALL):
        blocks.setdefault(language, body)
    return blocks


def console(block: str) -> tuple[list[str], str]:
    """A console block's commands (`$ `, continued by `> `) and what they print."""
    commands: list[str] = []
    output = []
    for line in block.splitlines():
        if line.startswith("$ "):
            commands.append(line[2:])
        elif line.startswith("> "):
            commands[-1] += "\n" + line[2:]
        else:
            output.append(line)
    return commands, "\n".join(output) + "\n"


def readme_example() -> tuple[str, list[str], str]:
    """The README's worked example: the CSV file, the commands and their output."""
    blocks = readme_blocks("DuckDB")
    return blocks["csv"], *console(blocks["console"])


def run_commands(commands: list[str], cwd: Path) -> str:
    """Run each command with bash in `cwd`, this interpreter's scripts first on PATH;
    what they print (stderr, then stdout, command by command)."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    out = ""
    for command in commands:
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        out += done.stderr + done.stdout
    return out


def test_the_readme_duckdb_example_runs_as_written(tmp_path: Path) -> None:
    data, commands, expected = readme_example()
    (tmp_path / "responses.csv").write_text(data, encoding="utf-8")
    assert run_commands(commands, tmp_path) == expected
