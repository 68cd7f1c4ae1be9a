"""`ketscreen export sql --dialect spark`, run on a real Spark (PySpark, local mode).

The proof of the distributed path (issue #15): the same generated records as the DuckDB
and SQLite tests (tests/test_sql.py: every band, flag, skip path, spelling and kind of
invalid answer, for every questionnaire there) go into a DataFrame of string columns, a
temporary view named as the query's table, and every row of the exported query must say
what `score()` says. One Spark session serves the whole file (starting the JVM costs
seconds, each query about one), so the property test puts a batch of records in each
query; and the README's worked Spark example runs on it, as written.

Without pyspark or Java the tests fail when CI is set and are skipped, saying what to
install, otherwise (tests/helpers.unavailable).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import unavailable
from tests.test_batch_property import QUESTIONNAIRES, response
from tests.test_sql import Records, check, check_corpus
from tests.test_sql_cli import console, readme_blocks, run_commands

SETTINGS = settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "2",
    # The JIT's first tier only: in a run of a minute on two cores the second tier's
    # compiling costs more than it gains (this file ran in less than half the time).
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1",
}


def need_spark() -> None:
    """pyspark importable and a Java to run it, or fail (CI) or skip, saying what to do."""
    if importlib.util.find_spec("pyspark") is None:
        unavailable("pyspark is not installed: pip install -r requirements/test.lock")
    if not os.environ.get("JAVA_HOME") and shutil.which("java") is None:
        unavailable(
            "Java is not installed (Spark needs 17 or newer): "
            "apt-get install openjdk-17-jre-headless, or set JAVA_HOME"
        )


@pytest.fixture(scope="session")
def spark_cwd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The JVM's working folder: where Spark resolves a relative path."""
    return tmp_path_factory.mktemp("spark")


@pytest.fixture(scope="session")
def spark(spark_cwd: Path) -> Iterator[Any]:
    """One local SparkSession (2 cores) for the file; the JVM's own output (its start-up
    warnings and log lines) goes to a file, not into the test report, unless it fails."""
    need_spark()
    from pyspark import SparkConf, SparkContext
    from pyspark.java_gateway import launch_gateway
    from pyspark.sql import SparkSession

    conf = SparkConf().setMaster("local[2]").setAppName("ketscreen-tests")
    conf.setAll(list(CONF.items()))
    log = spark_cwd / "jvm.log"
    with log.open("wb") as out:
        try:
            gateway = launch_gateway(
                conf, popen_kwargs={"stdout": out, "stderr": out, "cwd": spark_cwd}
            )
        except Exception as exc:  # the JVM did not start: show why
            pytest.fail(f"Spark did not start ({exc}):\n{log.read_text(errors='replace')[-3000:]}")
    context = SparkContext(conf=conf, gateway=gateway)
    context.setLogLevel("ERROR")
    session = SparkSession(context)
    try:
        yield session
    finally:
        session.stop()
        gateway.shutdown()
        # The JVM exits when its standard input closes (PySpark's own way to end it).
        gateway.proc.stdin.close()
        gateway.proc.wait(timeout=60)
        SparkContext._gateway = None
        SparkContext._jvm = None


@pytest.mark.parametrize("name", QUESTIONNAIRES)
def test_every_row_equals_score_on_spark(spark: Any, name: str) -> None:
    rows = check_corpus(name, spark)
    assert rows and {type(row["lower_bound"]) for row in rows if row["error"] is None} == {bool}


@pytest.mark.parametrize("name", QUESTIONNAIRES)
def test_property_spark_sql_equals_score(spark: Any, name: str) -> None:
    """Any batch of records the batch property tests make, in one query per example."""

    @SETTINGS
    @given(st.lists(response(name), min_size=1, max_size=50))
    def prop(records: Records) -> None:
        check(name, spark, records)

    prop()


def test_the_readme_spark_example_runs_as_written(
    spark: Any, spark_cwd: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's commands, then its Python in this process: its `getOrCreate()` finds
    the session of these tests, so the example needs no second JVM."""
    blocks = readme_blocks("Spark")
    (spark_cwd / "responses.csv").write_text(readme_blocks("DuckDB")["csv"], encoding="utf-8")
    commands, printed = console(blocks["console"])
    assert run_commands(commands, spark_cwd) == printed
    monkeypatch.chdir(spark_cwd)
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(compile(blocks["python"], "README.md", "exec"), namespace)
    assert namespace["spark"] is spark
    # show() ends its table with a blank line, which the README leaves out.
    assert capsys.readouterr().out == blocks["text"] + "\n"


def test_without_java_ci_fails_and_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object())
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="Java is not installed"):
        need_spark()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="openjdk-17"):
        need_spark()
