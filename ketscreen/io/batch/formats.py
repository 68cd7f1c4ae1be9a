"""The batch file formats, as enums; each member names one reader or writer."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import NoReturn

from ketscreen.errors import ExitCode, KetscreenError


class InputFormat(str, Enum):
    """How a batch input is read. Chosen by `--input-format`, else by the file name."""

    CSV = "csv"
    TSV = "tsv"
    JSONL = "jsonl"
    JSON = "json"
    SESSION = "session"
    FHIR = "fhir"
    PARQUET = "parquet"

    @classmethod
    def for_name(cls, name: str) -> InputFormat | None:
        """The format a file name implies, or None when its extension says nothing."""
        if name.lower().endswith(FHIR_SUFFIX):
            return InputFormat.FHIR
        return _BY_SUFFIX.get(Path(name).suffix.lower())


FHIR_SUFFIX = ".fhir.json"


_BY_SUFFIX = {
    ".csv": InputFormat.CSV,
    ".tsv": InputFormat.TSV,
    ".tab": InputFormat.TSV,
    ".jsonl": InputFormat.JSONL,
    ".ndjson": InputFormat.JSONL,
    ".json": InputFormat.JSON,
    ".fhir": InputFormat.FHIR,
    ".parquet": InputFormat.PARQUET,
}


RESPONDENT = "respondent_id"
"""The optional column (or key) naming the respondent."""


class TemplateFormat(str, Enum):
    """What `ketscreen template` prints."""

    CSV = "csv"
    JSONL = "jsonl"
    YAML = "yaml"


class SqlDialect(str, Enum):
    """The SQL dialects `ketscreen export sql` writes (sqlglot's names for them)."""

    DUCKDB = "duckdb"
    SQLITE = "sqlite"
    POSTGRES = "postgres"
    SPARK = "spark"
    BIGQUERY = "bigquery"


class OutputFormat(str, Enum):
    """How scored records are written. Chosen by `--format`, else by the `-o` file name."""

    CSV = "csv"
    JSONL = "jsonl"
    JSON = "json"
    FHIR = "fhir"
    PARQUET = "parquet"
    """Binary (Apache Parquet, needs pyarrow): only to a file (`-o`), never a terminal."""

    @classmethod
    def for_name(cls, name: str) -> OutputFormat | None:
        found = InputFormat.for_name(name)
        if found is InputFormat.TSV or found is None:
            return None
        return cls(found.value)


class Engine(str, Enum):
    """What scores the records of `ketscreen score`: ketscreen's own Python code, or
    DuckDB running the exported scoring query (`ketscreen.io.sql`), with the records it
    marks invalid scored again by the Python code for the exact message."""

    DEFAULT = "default"
    DUCKDB = "duckdb"


DELIMITERS = {",": ",", ";": ";", "|": "|", "tab": "\t", "\\t": "\t", "\t": "\t"}
"""Accepted spellings of `--delimiter`."""


def assert_never(value: NoReturn) -> NoReturn:  # typing.assert_never is Python 3.11+
    """Mark the end of an exhaustive `match`; mypy proves it cannot be reached."""
    raise AssertionError(f"unhandled format: {value!r}")


class InputError(KetscreenError):
    """A batch input that cannot be read at all (exit 1); bad records are not this."""


class UsageProblem(KetscreenError):
    """A command line that cannot work as given (exit 2)."""

    exit_code = ExitCode.USAGE


class MissingExtra(KetscreenError):
    """An optional dependency that this run needs is not installed (exit 1, an error of
    the installation rather than of the command line); the message says what to install."""


DUCKDB_MISSING = '--engine duckdb needs DuckDB: pip install "ketscreen[duckdb]"'
PYARROW_MISSING = 'Parquet needs pyarrow: pip install "ketscreen[parquet]"'
